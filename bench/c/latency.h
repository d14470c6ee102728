/* Timing and percentiles shared by the C bench programs (stan-bench.c, loopback-echo.c), so that
 * W2's loopback floor ranks its latencies exactly as W2 does. */
#ifndef TSTAN_BENCH_LATENCY_H
#define TSTAN_BENCH_LATENCY_H

#include <stdint.h>
#include <time.h>

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int compare_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* The same rank as the TypeScript clients: sorted[min(n-1, floor(p/100*n))]. */
static inline double percentile(const double *sorted, int n, double p) {
    if (n == 0) return 0;
    int i = (int) (p / 100.0 * n);
    return sorted[i < n ? i : n - 1];
}

#endif
