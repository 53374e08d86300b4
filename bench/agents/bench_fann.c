/* FANN: the same shape (relu-like FANN_LINEAR_PIECE hidden, sigmoid output). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <fann.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    enum { N = 256 };
    struct fann *ann = fann_create_standard(5, 784, 128, 64, 32, 10);
    fann_set_activation_function_hidden(ann, FANN_LINEAR_PIECE);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_randomize_weights(ann, -0.05f, 0.05f);
    fann_type *x = malloc(sizeof(fann_type) * 784 * N);
    for (int i = 0; i < 784 * N; i++) x[i] = (fann_type)((i * 7919) % 1000) / 1000.0f;
    volatile fann_type sink = 0;
    for (int i = 0; i < 200; i++) sink += fann_run(ann, x)[0];
    /* Best of 40 trials (as the Kiln side), each timed with the thread's CPU clock (see RESULTS.md). */
    double lat = 1e9, rows = 0;
    for (int trial = 0; trial < 40; trial++) {
        int reps = 2000; double t0 = now();
        for (int i = 0; i < reps; i++) sink += fann_run(ann, x + (i % N) * 784)[0];
        double l = (now() - t0) / reps;
        if (l < lat) lat = l;
        int breps = 4; t0 = now();
        for (int r = 0; r < breps; r++) for (int i = 0; i < N; i++) sink += fann_run(ann, x + i * 784)[0];
        double rw = (double)breps * N / (now() - t0);
        if (rw > rows) rows = rw;
    }
    printf("fann %.3f %.0f\n", lat * 1e6, rows);
    return 0;
}
