/* The direct-convolution kernel, written once (`direct_rows`, always inlined) and compiled three times by
 * the entry points' target attributes: baseline x86-64 (SSE2), x86-64-v3 (AVX2) and x86-64-v4 (AVX-512).
 * The feature lists match `cck_cpu_level` (cpu.c), which says which copy this CPU may run.
 *
 * Bit-identity across the copies rests on three things: each tap is one fused multiply-add, written out (fused.h:
 * the FMA instruction, or its exact emulation in the portable x86-64 copy) while FP contraction stays off for
 * everything else, every lane computed independently (vectors only span output pixels and filters, never a
 * pixel's tap sum), and the same order of additions in every copy, whatever its vector width. */
#include "CConvKernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

/* `lanes`: 16 neighbouring output pixels of one filter. With AVX-512 one zmm register, with AVX2 two ymm, with SSE2
 * four xmm: the source is the same, the compiler splits the operations. */
#include "fused.h"
typedef int32_t mask_lanes __attribute__((vector_size(64)));

#define LANES 16
#define MAX_BLOCK 8

/* Computes output rows [y0, y1) of a block of `B` weight slots per tap, `S` filters at a time: for each group of
 * 16 output pixels, the block's filters are taken in sub-blocks of S, each running the whole channel and tap sum
 * with its partial and total accumulators in registers (the 16 input pixels of a tap are loaded once per
 * sub-block). S is what suits the copy's registers (measured): 8 with AVX-512 (8 partials + 8 totals + the
 * load: 17 of 32 zmm); 4 with AVX2 (a 16-float vector is 2 ymm: the 8 partial ymm, the load and the broadcast
 * stay in registers, the totals spill between channels; S = 8 spilled partials in the tap loop and ran 1.4×
 * slower); 2 with SSE2 (4 xmm each; 1.4× faster than S = 8 or 1). S changes only which filters' sums are
 * computed first, never a pixel's order of additions.
 *
 * Always inlined with constant `B` and `S` into each entry point, so the loops over `g` unroll, the
 * accumulators are registers, and the vector code takes the entry point's target features. It takes no vector
 * arguments (a vector argument's ABI would depend on those features). */
static inline __attribute__((always_inline)) void direct_rows(const cck_direct_job *job, ptrdiff_t y0, ptrdiff_t y1, const int B,
                                                              const int S, const int G, const int E) {
    const float *const input = job->input;
    const ptrdiff_t *const offsets = job->tap_offsets;
    const ptrdiff_t taps = job->taps_per_channel, channels = job->channels, channel_stride = job->channel_stride;
    const ptrdiff_t width = job->out_width, filters = job->filters;
    const int relu = job->activation == CCK_ACTIVATION_RELU;
    /* One filter (B = 1: low-rank row and column passes, partial maps): its tap sum is one chain of dependent adds
     * per 16 pixels, so G neighbouring groups run together, each with its own accumulators (measured: the passes of a
     * 13×13 Gaussian were bound by that chain's latency). Each lane still adds its taps in the same order. G is 1
     * for wider blocks (their S filters are the independent chains). */
    for (ptrdiff_t y = y0; y < y1; y++) {
        const ptrdiff_t row_base = job->origin + y * job->row_step;
        ptrdiff_t start = 0;
        if (G > 1) {
            for (; start + G * LANES <= width; start += G * LANES) {
                lanes total[4];
                for (ptrdiff_t c = 0; c < channels; c++) {
                    lanes partial[4];
                    for (int g = 0; g < G; g++) partial[g] = (lanes){0};
                    const float *const channel_base = input + (c * channel_stride + row_base + start);
                    const float *const weights = job->weights + c * taps;
                    for (ptrdiff_t t = 0; t < taps; t++) {
                        const float *const source = channel_base + offsets[t];
                        const float w = weights[t];
                        for (int g = 0; g < G; g++) {
                            lanes v;
                            memcpy(&v, source + g * LANES, sizeof v);
                            fused(&partial[g], &v, w, E);
                        }
                    }
                    if (c == 0) {
                        for (int g = 0; g < G; g++) total[g] = partial[g];
                    } else {
                        for (int g = 0; g < G; g++) total[g] = total[g] + partial[g];
                    }
                }
                const ptrdiff_t at = y * job->out_stride + start;
                for (int g = 0; g < G; g++) {
                    lanes r = total[g] + job->biases[0];
                    if (relu) r = (lanes)((mask_lanes)r & (r > 0)); /* x > 0 ? x : +0 (NaN and -0 → +0) */
                    memcpy(job->outputs[0] + at + g * LANES, &r, sizeof r);
                }
            }
        }
        for (ptrdiff_t x0 = start; x0 < width; x0 += LANES) {
            const ptrdiff_t count = width - x0 < LANES ? width - x0 : LANES;
            for (int first = 0; first < B; first += S) {
                if (first >= filters) break;
                lanes total[MAX_BLOCK];
                for (ptrdiff_t c = 0; c < channels; c++) {
                    lanes partial[MAX_BLOCK];
                    for (int g = 0; g < S; g++) partial[g] = (lanes){0};
                    const float *const channel_base = input + (c * channel_stride + row_base + x0);
                    const float *const weights = job->weights + c * taps * B + first;
                    for (ptrdiff_t t = 0; t < taps; t++) {
                        lanes v;
                        memcpy(&v, channel_base + offsets[t], sizeof v); /* unaligned load of 16 floats */
                        const float *const w = weights + t * B;
                        for (int g = 0; g < S; g++) fused(&partial[g], &v, w[g], E);
                    }
                    if (c == 0) {
                        for (int g = 0; g < S; g++) total[g] = partial[g];
                    } else {
                        for (int g = 0; g < S; g++) total[g] = total[g] + partial[g];
                    }
                }
                const float *const biases = job->biases + first;
                float *const *const outputs = job->outputs + first;
                const ptrdiff_t at = y * job->out_stride + x0;
                /* The common case unrolled with the totals in registers and the activation test hoisted (a loop
                 * over g with a run-time bound kept the totals on the stack and cost W1 8 %). */
                if (count == LANES && first + S <= filters) {
                    if (relu) {
                        for (int g = 0; g < S; g++) {
                            lanes r = total[g] + biases[g];
                            r = (lanes)((mask_lanes)r & (r > 0)); /* x > 0 ? x : +0 (NaN and -0 → +0) */
                            memcpy(outputs[g] + at, &r, sizeof r);
                        }
                    } else {
                        for (int g = 0; g < S; g++) {
                            lanes r = total[g] + biases[g];
                            memcpy(outputs[g] + at, &r, sizeof r);
                        }
                    }
                } else { /* a row's last, partial group (the loads read past it; the stores must not) or unused slots */
                    for (int g = 0; g < S; g++) {
                        if (first + g >= filters) continue;
                        lanes r = total[g] + biases[g];
                        if (relu) r = (lanes)((mask_lanes)r & (r > 0));
                        for (ptrdiff_t k = 0; k < count; k++) outputs[g][at + k] = r[k];
                    }
                }
            }
        }
    }
}

/* One entry point per level: the block width picks B, the level picks S (at most B). */
#define DEFINE_ENTRY(name, attributes, S, G, E)                                                                \
    attributes void name(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) { \
        switch (block_width) {                                                                                \
        case 8: direct_rows(&job, first_row, end_row, 8, S, 1, E); break;                                     \
        case 4: direct_rows(&job, first_row, end_row, 4, (S) < 4 ? (S) : 4, 1, E); break;                     \
        default: direct_rows(&job, first_row, end_row, 1, 1, G, E); break;                                   \
        }                                                                                                     \
    }

#if defined(__x86_64__)
DEFINE_ENTRY(cck_direct_portable, , 2, 1, 1)
DEFINE_ENTRY(cck_direct_avx2, __attribute__((target("avx2,fma,bmi2"))), 4, 2, 0)
DEFINE_ENTRY(cck_direct_avx512, __attribute__((target("avx2,fma,bmi2,avx512f,avx512bw,avx512cd,avx512dq,avx512vl"))), 8, 4, 0)
#else
DEFINE_ENTRY(cck_direct_portable, , 2, 1, 0)
/* Other architectures have one copy; the level probe never picks the others there. */
void cck_direct_avx2(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) {
    cck_direct_portable(job, first_row, end_row, block_width);
}
void cck_direct_avx512(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) {
    cck_direct_portable(job, first_row, end_row, block_width);
}
#endif
