/* One core's FP32 FMA peak: 12 independent chains of 512-bit (or 256-bit) FMAs. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
#ifdef __AVX512F__
    typedef __m512 V; enum { L = 16 };
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#else
    typedef __m256 V; enum { L = 8 };
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#endif
    V a[12]; V m = SET1(0.999999f), c = SET1(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = SET1((float)i);
    long iters = 100000000; double t0 = now();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) a[i] = FMA(a[i], m, c);
    double dt = now() - t0;
    V s = a[0]; for (int i = 1; i < 12; i++) s = ADD(s, a[i]);
    float out[L]; memcpy(out, &s, sizeof out);
    printf("peak %.2f %d\n", 2.0 * L * 12 * iters / dt / 1e9, (int)out[0]);
    return 0;
}
