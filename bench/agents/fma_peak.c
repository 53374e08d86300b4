/* One core's FP32 FMA peak: 12 independent accumulator chains of 512-bit (AVX-512) or
 * 256-bit (AVX2) FMAs, kept in registers (named variables, not an array), timed with the
 * thread's CPU clock so that time the thread spends descheduled on a busy machine does not
 * count. Prints "peak GFLOP/s GHz-estimate". */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double cpu_now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#ifdef __AVX512F__
typedef __m512 V; enum { L = 16 };
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUM _mm512_reduce_add_ps
#else
typedef __m256 V; enum { L = 8 };
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
static float SUM(V v) { float o[8]; _mm256_storeu_ps(o, v); float s = 0; for (int i = 0; i < 8; i++) s += o[i]; return s; }
#endif
#define STEP a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c); \
    a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); \
    a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);
static double run(long iters) {
    V m = SET1(0.999999f), c = SET1(1e-7f);
    V a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5);
    V a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11);
    double t0 = cpu_now();
    for (long it = 0; it < iters; it++) {
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));
        STEP STEP
    }
    double dt = cpu_now() - t0;
    V s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));
    volatile float sink = SUM(s); (void)sink;
    return 2.0 * L * 24 * iters / dt / 1e9;
}
int main(void) {
    double best = 0;
    for (int r = 0; r < 5; r++) { double g = run(20000000); if (g > best) best = g; }
    printf("peak %.2f\n", best);
    return 0;
}
