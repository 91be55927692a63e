/* Summary numbers of a feature map in one pass (`MapStatistics`), one source compiled for three x86-64 levels by
 * `target_clones` (the lanes are independent, so every copy gives the same numbers). */
#include "CConvKernels.h"
#include <math.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define CCK_STATS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CCK_STATS_CLONES
#endif

/* One pass over a map: min, max (float), Σv and Σv² (double), zeros and values outside [-0.5, 255.5).
 * NaN is skipped by min/max. */
CCK_STATS_CLONES
void cck_map_statistics(const float *values, size_t count, cck_statistics *out) {
    /* 16 independent lanes, so the loop vectorises without reordering any one lane's sums. */
    float lo[16], hi[16];
    double sum[16], squares[16];
    size_t zeros[16], clipped[16];
    for (int j = 0; j < 16; j++) {
        lo[j] = INFINITY; hi[j] = -INFINITY; sum[j] = 0; squares[j] = 0; zeros[j] = 0; clipped[j] = 0;
    }
    size_t k = 0;
    for (; k + 16 <= count; k += 16) {
        for (int j = 0; j < 16; j++) {
            float v = values[k + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
            double d = (double)v;
            sum[j] += d;
            squares[j] += d * d;
            zeros[j] += v == 0.0f;
            clipped[j] += (v < -0.5f) | (v >= 255.5f);
        }
    }
    for (; k < count; k++) {
        float v = values[k];
        lo[0] = v < lo[0] ? v : lo[0];
        hi[0] = v > hi[0] ? v : hi[0];
        sum[0] += (double)v;
        squares[0] += (double)v * (double)v;
        zeros[0] += v == 0.0f;
        clipped[0] += (v < -0.5f) | (v >= 255.5f);
    }
    out->minimum = lo[0];
    out->maximum = hi[0];
    out->sum = 0;
    out->sum_of_squares = 0;
    out->zeros = 0;
    out->clipped = 0;
    for (int j = 0; j < 16; j++) {
        out->minimum = lo[j] < out->minimum ? lo[j] : out->minimum;
        out->maximum = hi[j] > out->maximum ? hi[j] : out->maximum;
        out->sum += sum[j];
        out->sum_of_squares += squares[j];
        out->zeros += zeros[j];
        out->clipped += clipped[j];
    }
}
