/* Kiln: the 784-128-64-32-10 network as a static library built by kiln. The library may
 * use a second thread (KILN_THREADS, default 2 on a machine with 2 or more cores), whose
 * time the calling thread's CPU clock would not see, so with two threads times are
 * wall-clock (CLOCK_MONOTONIC); with one (KILN_THREADS=1: everything on the calling
 * thread) they are that thread's CPU time, as for FANN and numpy, so time spent
 * descheduled on a shared machine does not count. Best of 40 trials. The first field says how many threads ran, the
 * last the kernel level (1, 3 = AVX2+FMA, 4 = AVX-512; KILN_KERNEL_LEVEL caps it). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench.h"

unsigned kiln_threads(void);
unsigned char kiln_kernel_level(void);

static clockid_t clk = CLOCK_MONOTONIC;
static double now(void) { struct timespec t; clock_gettime(clk, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    enum { N = 256 };
    float *x = malloc(sizeof(float) * 784 * N), *y = malloc(sizeof(float) * 10 * N);
    for (int i = 0; i < 784 * N; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f;
    for (int i = 0; i < 1000; i++) bench_predict(x, y);
    for (int i = 0; i < 20; i++) bench_predict_batch(x, y, N);
    if (kiln_threads() == 1) clk = CLOCK_THREAD_CPUTIME_ID;
    double lat = 1e9, rows = 0;
    for (int trial = 0; trial < 40; trial++) {
        int reps = 5000; double t0 = now();
        for (int i = 0; i < reps; i++) bench_predict(x + (i % N) * 784, y);
        double l = (now() - t0) / reps;
        if (l < lat) lat = l;
        int breps = 100; t0 = now();
        for (int i = 0; i < breps; i++) bench_predict_batch(x, y, N);
        double r = (double)breps * N / (now() - t0);
        if (r > rows) rows = r;
    }
    printf("%u %.3f %.0f %u\n", kiln_threads(), lat * 1e6, rows, (unsigned)kiln_kernel_level());
    return y[0] < 0;
}
