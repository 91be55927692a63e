/* CConvKernels: the inner loop of direct convolution, compiled for three x86-64 levels in one C file.
 *
 * No Swift API of its own: `ConvBank/Convolution.swift` builds the jobs and picks the level
 * (`cck_cpu_level`, lowered by `CONVBANK_KERNELS`). Each level's copy is selected with
 * `__attribute__((target(...)))` on its functions, not with compiler flags, so the package needs no
 * `unsafeFlags` and builds as a versioned dependency.
 *
 * Vectorised across 16 neighbouring output pixels and register-blocked over up to 8 filters that share a
 * kernel size and origin. Each pixel adds its taps in the same order as a scalar loop — per channel, taps in
 * row-major order from zero, each tap one fused multiply-add `acc = fma(v, w, acc)` (fused.h: the FMA instruction,
 * or an exact emulation in the portable x86-64 copy; FP contraction is off otherwise); the channel partials in
 * channel order; then the bias — so results are bit-identical for every level, block width and thread count.
 */
#ifndef CCONVKERNELS_H
#define CCONVKERNELS_H

#include <stddef.h>

#pragma clang assume_nonnull begin

/* What the kernels apply after the bias. */
enum { CCK_ACTIVATION_NONE = 0, CCK_ACTIVATION_RELU = 1 };

/* Pointers and sizes for one block of filters. Invariant: every pointer stays valid while the job runs;
 * workers given disjoint row ranges write disjoint output rows, and nobody reads the outputs meanwhile
 * (which is why Swift may share a job between threads: it is imported as Sendable). */
typedef struct __attribute__((swift_attr("@Sendable"))) {
    /* Padded input, per channel `phases` planes (columns p, p + sw, …) of `row_stride`-float rows. Loads
     * read 16 floats from each tap of an output group: up to 15 floats past a row's last output, which the
     * planes' spare floats (16 at the end) keep inside the allocation. */
    const float *input;
    ptrdiff_t channel_stride, row_stride;
    /* Per channel tap (row-major), its offset within a channel's planes. */
    const ptrdiff_t *tap_offsets;
    ptrdiff_t taps_per_channel, channels;
    /* Weights [c][tap][g] with g over block_width slots (unused slots zero); one bias per filter. */
    const float *weights;
    const float *biases;
    ptrdiff_t filters;
    /* Output maps of the block's filters: out_width values per row, rows out_stride floats apart (out_width for
     * a map; wider for the low-rank row passes' scratch rows). */
    float *_Nonnull const *_Nonnull outputs;
    ptrdiff_t out_width, out_stride;
    /* Offset of output row 0's first tap, and the step per output row (stride · row_stride). */
    ptrdiff_t origin, row_step;
    /* CCK_ACTIVATION_NONE, or CCK_ACTIVATION_RELU (applied here: x > 0 ? x : +0, NaN → 0); any other activation is
     * the caller's, after the kernel. */
    ptrdiff_t activation;
    /* Non-zero: the wide kernels write whole aligned 16-float groups with non-temporal stores (outputs far larger
     * than the caches, not read again soon). Never changes a value. direct.c ignores it. */
    ptrdiff_t nontemporal;
} cck_direct_job;

/* Output rows [first_row, end_row) of the job's filters, with block_width (8, 4 or 1) weight slots per tap
 * (filters <= block_width). The three copies give bit-identical results. */
void cck_direct_portable(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);
/* x86-64-v3 (AVX2 and FMA). Call only when the CPU has AVX2, FMA, BMI2. */
void cck_direct_avx2(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);
/* x86-64-v4 (AVX-512 F/BW/CD/DQ/VL, zmm registers). Call only when the CPU has them. */
void cck_direct_avx512(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);

/* Filters in the vector lanes (wide.c), for blocks of 32 or 64 filters (block_width 64 or 32; weights [c][tap][g]
 * with g over block_width slots, biases block_width long). Bit-identical to the kernels above for the same filters:
 * the same order of additions per output value. */
void cck_wide_portable(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);
void cck_wide_avx2(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);
void cck_wide_avx512(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width);

/* even[i] = source[2i], odd[i] = source[2i + 1] for i < pairs (phases.c). */
void cck_deinterleave2(const float *source, ptrdiff_t pairs, float *even, float *odd);

#pragma clang assume_nonnull end

/* The widest copy this CPU runs: 2 AVX-512 (x86-64-v4: avx512f/bw/cd/dq/vl with AVX2, FMA, BMI2), 1 AVX2
 * (x86-64-v3: avx2, fma, bmi2, avx), 0 portable. The entry points' target attributes list the same features. */
int cck_cpu_level(void);

/* Summary numbers of a feature map in one pass. */
typedef struct {
    float minimum, maximum;
    double sum, sum_of_squares;
    size_t zeros, clipped;
} cck_statistics;
void cck_map_statistics(const float *_Nonnull values, size_t count, cck_statistics *_Nonnull out);

#endif
