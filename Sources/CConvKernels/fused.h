/* The kernels' one multiply-add: `acc + a · b` rounded once (IEEE 754 fusedMultiplyAdd, C's fmaf), on 16 lanes.
 * Every copy of the kernels computes exactly this, so every level gives the same bits:
 * - the AVX2 and AVX-512 copies (and other architectures' one copy) use the FMA instruction;
 * - the portable x86-64 copy (a CPU without FMA) computes it exactly in double precision: the product of two
 *   floats is exact in a double (24 + 24 bits ≤ 53), and their sum rounded to double then to float is the fused
 *   result unless the double landed on a float midpoint (every midpoint is a double, so the exact sum and its
 *   double rounding lie on the same side of all the others). Vectors with such a lane take the exact path: the sum
 *   rounded to odd (rounded to nearest, then, where inexact and on an even significand, moved one step toward the
 *   exact sum, the error being exact by Knuth's TwoSum), which rounds to float as the exact sum would since
 *   53 ≥ 24 + 2 (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding
 *   to odd", IEEE Trans. Computers 57(4), 2008). NaN results stay NaN; which NaN's payload survives is unspecified.
 * Floating-point contraction stays off in the files that include this: every other operation rounds on its own. */
#ifndef CCK_FUSED_H
#define CCK_FUSED_H

#include <stdint.h>
#include <string.h>

typedef float lanes __attribute__((vector_size(64)));
/* A quarter of `lanes` in double precision (two SSE2 registers): the emulation works a quarter at a time. */
typedef float quarter __attribute__((vector_size(16)));
typedef double wide_lanes __attribute__((vector_size(32)));
typedef int64_t wide_mask __attribute__((vector_size(32)));
typedef int32_t low_words __attribute__((vector_size(16)));
typedef int32_t low_words_pair __attribute__((vector_size(32)));

/* *acc = *acc + *a · b, rounded once, on a quarter: the exact path (the sum rounded to odd, then to float). Out of
 * line: rare, and kept out of the kernels' loops. */
static __attribute__((noinline, cold)) void fused_quarter_exact(quarter *acc, const quarter *a, float b) {
    const wide_lanes p = __builtin_convertvector(*a, wide_lanes) * (double)b; /* exact */
    const wide_lanes z = __builtin_convertvector(*acc, wide_lanes);
    const wide_lanes s = p + z;
    const wide_mask bits = (wide_mask)s;
    const wide_lanes back = s - p;
    const wide_lanes error = (p - (s - back)) + (z - back); /* p + z = s + error exactly */
    const wide_mask exponent = (wide_mask){0} + 0x7ff0000000000000LL;
    /* Inexact, even, and finite (an infinite or NaN sum has a NaN error and stays as it is). */
    const wide_mask adjust = (error != 0) & ((bits & 1) == 0) & ((bits & exponent) != exponent);
    /* One step toward the exact sum: +1 on the bits (away from zero) when the error has s's sign, else -1. */
    const wide_mask same_sign = (error > 0) == (s > 0); /* -1 (true) or 0 */
    const wide_mask odd = bits - 1 - (same_sign << 1);
    const wide_mask rounded = (adjust & odd) | (~adjust & bits);
    *acc = __builtin_convertvector((wide_lanes)rounded, quarter);
}

/* *acc = *acc + *a · b, rounded once, on a quarter, without an FMA instruction: the double sum rounded to float,
 * unless a lane needs the exact path. */
static inline __attribute__((always_inline)) void fused_quarter(quarter *acc, const quarter *a, float b) {
    const wide_lanes p = __builtin_convertvector(*a, wide_lanes) * (double)b; /* exact */
    const wide_lanes s = p + __builtin_convertvector(*acc, wide_lanes);
    /* Rounding the double sum to float gives the fused result unless the sum landed on a float midpoint (half a float
     * step: the low 29 of its 52 significand bits are 1 then 28 zeros, all in its low 32-bit word), where a second
     * rounding could go the wrong way; below 2^-126 (float subnormals) every lane takes the exact path too. The tests
     * use 32-bit and double compares: SSE2 has no 64-bit integer compare. */
    const low_words low = __builtin_shufflevector((low_words_pair)s, (low_words_pair)s, 0, 2, 4, 6);
    const low_words midpoint = (low & 0x1fffffff) == 0x10000000;
    const wide_lanes magnitude = __builtin_elementwise_abs(s);
    const wide_mask tiny = (magnitude < 0x1p-126) & (magnitude != 0);
    const low_words tiny_low = __builtin_shufflevector((low_words_pair)tiny, (low_words_pair)tiny, 0, 2, 4, 6);
    if (__builtin_expect(__builtin_reduce_or(midpoint | tiny_low) != 0, 0)) {
        fused_quarter_exact(acc, a, b);
        return;
    }
    *acc = __builtin_convertvector(s, quarter);
}

/* *acc = *acc + *a · b, rounded once (see above), without an FMA instruction, a quarter at a time (16 doubles would
 * not fit SSE2's registers). Vectors pass by pointer: a vector argument's ABI would depend on the copy's target. */
static inline __attribute__((always_inline)) void fused_emulated(lanes *acc, const lanes *a, float b) {
    quarter x[4], y[4];
    memcpy(x, acc, sizeof x);
    memcpy(y, a, sizeof y);
    for (int q = 0; q < 4; q++) fused_quarter(&x[q], &y[q], b);
    memcpy(acc, x, sizeof x);
}

/* *acc = *acc + *a · b rounded once; `emulated` (a constant of the copy) picks the exact double-precision form. */
static inline __attribute__((always_inline)) void fused(lanes *acc, const lanes *a, float b, const int emulated) {
    if (emulated) {
        fused_emulated(acc, a, b);
    } else {
        const lanes splat = {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b};
        *acc = __builtin_elementwise_fma(*a, splat, *acc);
    }
}

#endif
