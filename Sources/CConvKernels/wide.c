/* The wide direct-convolution kernel: filters in the vector lanes. For blocks of 32 or 64 filters that share a
 * kernel size and origin, with many taps per filter (a CNN's first layer: 64 × 7×7×3). Written once
 * (`wide_rows`, always inlined) and compiled three times by the entry points' target attributes, like direct.c.
 *
 * Where direct.c puts 16 neighbouring output pixels in a vector and broadcasts each weight, this kernel puts 16
 * filters in a vector and broadcasts each input value: per tap it loads the block's weight vectors (aligned,
 * shared by every pixel of the micro-tile) and one float per pixel, never an unaligned 64-byte input load. The
 * sums land pixel-major in a tile (`[pixel][filter]`), which is transposed 16×16 into the filters' maps.
 *
 * Bit-identity with direct.c: each lane is one filter of one pixel, and adds in the same order — per channel a
 * partial from zero, taps in row-major order, `fma(v, w, acc)` (fused.h; FP contraction off otherwise); the channel
 * partials in channel order; then the bias; then relu as `x > 0 ? x : +0`. So any block width, level or thread
 * count gives the same bits.
 *
 * Large outputs are written with non-temporal stores when the job asks (`nontemporal`): a 64-filter map set
 * larger than the caches would otherwise be read into the cache before every write (measured: one thread on
 * 64 × 7×7×3, stride 2, 1024², 157 → 204 GFLOP/s). */
#include "CConvKernels.h"

#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

#include "fused.h"
typedef int32_t mask_lanes __attribute__((vector_size(64)));

#define LANES 16
/* Output pixels per tile: a multiple of 16 (the transpose) and of the micro-tiles' 6 (AVX-512) and 3 (AVX2). */
#define GROUP 48
#define MAX_VECTORS 4
#define MAX_PIXELS 6

/* The 16×16 transpose as four butterfly stages: stage K swaps the off-diagonal K×K sub-blocks of each 2K×2K one. */
#define LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31

/* Rows r[0..15] become columns, in place. */
static inline __attribute__((always_inline)) void transpose16(lanes *r) {
#define STAGE(K, LO, HI)                                \
    _Pragma("clang loop unroll(full)")                  \
    for (int i = 0; i < 16; i++) {                      \
        if (i & K) continue;                            \
        const lanes a = r[i], b = r[i + K];             \
        r[i] = __builtin_shufflevector(a, b, LO);       \
        r[i + K] = __builtin_shufflevector(a, b, HI);   \
    }
    STAGE(1, LO1, HI1)
    STAGE(2, LO2, HI2)
    STAGE(4, LO4, HI4)
    STAGE(8, LO8, HI8)
#undef STAGE
}

/* Lanes k … k + 15 of the 32-lane concatenation a ++ b (0 < k < 16): the aligned 16-float block that starts k lanes
 * into `a`. A switch of constant shuffles (the vector extensions have no variable two-source shuffle); k is the same
 * for every group of a map row, so the branch is predicted. */
static inline __attribute__((always_inline)) void concat_from(const lanes *a_, const lanes *b_, ptrdiff_t k, lanes *out) {
    const lanes a = *a_, b = *b_;
    switch (k) {
    case 1: *out = __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16); return;
    case 2: *out = __builtin_shufflevector(a, b, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17); return;
    case 3: *out = __builtin_shufflevector(a, b, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18); return;
    case 4: *out = __builtin_shufflevector(a, b, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19); return;
    case 5: *out = __builtin_shufflevector(a, b, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20); return;
    case 6: *out = __builtin_shufflevector(a, b, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21); return;
    case 7: *out = __builtin_shufflevector(a, b, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22); return;
    case 8: *out = __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23); return;
    case 9: *out = __builtin_shufflevector(a, b, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24); return;
    case 10: *out = __builtin_shufflevector(a, b, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25); return;
    case 11: *out = __builtin_shufflevector(a, b, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26); return;
    case 12: *out = __builtin_shufflevector(a, b, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27); return;
    case 13: *out = __builtin_shufflevector(a, b, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28); return;
    case 14: *out = __builtin_shufflevector(a, b, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29); return;
    case 15: *out = __builtin_shufflevector(a, b, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30); return;
    default: *out = a; return;
    }
}

/* `P` pixels from `base` (consecutive floats of a phase plane) × filter vectors [first, first + V): each channel's
 * partial in registers, then added into the tile rows (`tile[p · B + filter]`). */
static inline __attribute__((always_inline)) void micro_tile(const cck_direct_job *job, const float *base, float *tile,
                                                             const ptrdiff_t B, const int first, const int P, const int V, const int E) {
    const ptrdiff_t taps = job->taps_per_channel, channels = job->channels, channel_stride = job->channel_stride;
    const ptrdiff_t *const offsets = job->tap_offsets;
    for (ptrdiff_t c = 0; c < channels; c++) {
        lanes partial[MAX_PIXELS][MAX_VECTORS];
        for (int p = 0; p < P; p++)
            for (int v = 0; v < V; v++) partial[p][v] = (lanes){0};
        const float *const channel_base = base + c * channel_stride;
        const float *const weights = job->weights + c * taps * B + first * LANES;
        for (ptrdiff_t t = 0; t < taps; t++) {
            const float *const source = channel_base + offsets[t];
            lanes w[MAX_VECTORS];
            for (int v = 0; v < V; v++) memcpy(&w[v], weights + t * B + v * LANES, sizeof(lanes));
            for (int p = 0; p < P; p++) {
                const float x = source[p];
                for (int v = 0; v < V; v++) fused(&partial[p][v], &w[v], x, E);
            }
        }
        for (int p = 0; p < P; p++) {
            for (int v = 0; v < V; v++) {
                float *const at = tile + p * B + (first + v) * LANES;
                lanes total = partial[p][v];
                if (c != 0) {
                    lanes before;
                    memcpy(&before, at, sizeof before);
                    total = before + total;
                }
                memcpy(at, &total, sizeof total);
            }
        }
    }
}

/* Output rows [y0, y1) of a block of `VECTORS` · 16 filter slots; micro-tiles of `P` pixels × `V` vectors (what
 * suits the copy's registers: 6 × 4 with AVX-512 is 24 accumulators, the 4 weights and the broadcast in 32 zmm). */
static inline __attribute__((always_inline)) void wide_rows(const cck_direct_job *job, ptrdiff_t y0, ptrdiff_t y1,
                                                            const int VECTORS, const int P, const int V, const int E) {
    const ptrdiff_t B = VECTORS * LANES;
    const ptrdiff_t width = job->out_width, filters = job->filters;
    const int relu = job->activation == CCK_ACTIVATION_RELU, nontemporal = job->nontemporal != 0;
    float tile[GROUP * MAX_VECTORS * LANES] __attribute__((aligned(64)));
    lanes carry[MAX_VECTORS * LANES]; /* per filter, its previous group of this row (non-temporal stores) */
    const ptrdiff_t full_groups = width / LANES;
    for (ptrdiff_t y = y0; y < y1; y++) {
        const float *const row = job->input + job->origin + y * job->row_step;
        for (ptrdiff_t x0 = 0; x0 < width; x0 += GROUP) {
            const ptrdiff_t count = width - x0 < GROUP ? width - x0 : GROUP;
            for (int first = 0; first < VECTORS; first += V) {
                ptrdiff_t p = 0;
                for (; p + P <= count; p += P) micro_tile(job, row + x0 + p, tile + p * B, B, first, P, V, E);
                switch (count - p) { /* the row's last, narrower micro-tile (constant widths: registers, not memory) */
                case 5: micro_tile(job, row + x0 + p, tile + p * B, B, first, 5, V, E); break;
                case 4: micro_tile(job, row + x0 + p, tile + p * B, B, first, 4, V, E); break;
                case 3: micro_tile(job, row + x0 + p, tile + p * B, B, first, 3, V, E); break;
                case 2: micro_tile(job, row + x0 + p, tile + p * B, B, first, 2, V, E); break;
                case 1: micro_tile(job, row + x0 + p, tile + p * B, B, first, 1, V, E); break;
                default: break;
                }
            }
            for (ptrdiff_t q0 = 0; q0 < count; q0 += LANES) {
                const ptrdiff_t n = count - q0 < LANES ? count - q0 : LANES;
                for (int v = 0; v < VECTORS && v * LANES < filters; v++) {
                    lanes bias, r[LANES];
                    memcpy(&bias, job->biases + v * LANES, sizeof bias);
                    /* Unrolled, so r stays in registers through the transpose (a loop kept it on the stack: -30 %). */
#pragma clang loop unroll(full)
                    for (int p = 0; p < LANES; p++) {
                        if (p >= n) {
                            r[p] = (lanes){0};
                            continue;
                        }
                        memcpy(&r[p], tile + (q0 + p) * B + v * LANES, sizeof(lanes));
                        r[p] = r[p] + bias;
                        if (relu) r[p] = (lanes)((mask_lanes)r[p] & (r[p] > 0)); /* x > 0 ? x : +0 (NaN, -0 → +0) */
                    }
                    transpose16(r);
                    const ptrdiff_t at = x0 + q0;
#pragma clang loop unroll(full)
                    for (int f = 0; f < LANES && v * LANES + f < filters; f++) {
                        const ptrdiff_t g = v * LANES + f;
                        float *const out = job->outputs[g] + y * job->out_stride;
                        if (!nontemporal || n < LANES) {
                            if (n == LANES) memcpy(out + at, &r[f], sizeof(lanes));
                            else for (ptrdiff_t k = 0; k < n; k++) out[at + k] = r[f][k];
                            continue;
                        }
                        /* Non-temporal stores need 64-byte-aligned blocks; a map row starts anywhere. With the row's
                         * first value `m` floats past an aligned address, the block at out + at − m takes the last m
                         * values of the previous group (carried) and the first 16 − m of this one; the row's first
                         * 16 − m and last m values are ordinary stores (their cache lines hold the neighbouring rows,
                         * which other workers write). */
                        const ptrdiff_t m = (ptrdiff_t)(((uintptr_t)out >> 2) & (LANES - 1));
                        if (((uintptr_t)out & 3) != 0) {
                            memcpy(out + at, &r[f], sizeof(lanes));
                        } else if (m == 0) {
                            __builtin_nontemporal_store(r[f], (lanes *)(out + at));
                        } else if (at == 0) {
                            for (ptrdiff_t k = 0; k < LANES - m; k++) out[k] = r[f][k];
                        } else {
                            lanes block;
                            concat_from(&carry[g], &r[f], LANES - m, &block);
                            __builtin_nontemporal_store(block, (lanes *)(out + at - m));
                        }
                        carry[g] = r[f];
                    }
                }
            }
        }
        if (nontemporal && full_groups > 0) { /* the carried values of each map row's last whole group */
            const ptrdiff_t last = (full_groups - 1) * LANES;
            for (ptrdiff_t g = 0; g < filters; g++) {
                float *const out = job->outputs[g] + y * job->out_stride;
                const ptrdiff_t m = (ptrdiff_t)(((uintptr_t)out >> 2) & (LANES - 1));
                if (((uintptr_t)out & 3) != 0 || m == 0) continue;
                for (ptrdiff_t k = LANES - m; k < LANES; k++) out[last + k] = carry[g][k];
            }
        }
    }
#if defined(__x86_64__)
    if (nontemporal) __builtin_ia32_sfence(); /* the maps' stores are visible before the caller's join */
#endif
}

/* One entry point per level: the block width picks VECTORS, the level picks the micro-tile. */
#define DEFINE_WIDE(name, attributes, P, V, E)                                                                \
    attributes void name(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) { \
        switch (block_width) {                                                                                \
        case 64: wide_rows(&job, first_row, end_row, 4, P, V, E); break;                                      \
        case 32: wide_rows(&job, first_row, end_row, 2, P, (V) < 2 ? (V) : 2, E); break;                      \
        default: wide_rows(&job, first_row, end_row, 1, P, 1, E); break;                                      \
        }                                                                                                     \
    }

#if defined(__x86_64__)
DEFINE_WIDE(cck_wide_portable, , 2, 1, 1)
DEFINE_WIDE(cck_wide_avx2, __attribute__((target("avx2,fma,bmi2"))), 3, 1, 0)
DEFINE_WIDE(cck_wide_avx512, __attribute__((target("avx2,fma,bmi2,avx512f,avx512bw,avx512cd,avx512dq,avx512vl"))), 6, 4, 0)
#else
DEFINE_WIDE(cck_wide_portable, , 2, 1, 0)
void cck_wide_avx2(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) {
    cck_wide_portable(job, first_row, end_row, block_width);
}
void cck_wide_avx512(cck_direct_job job, ptrdiff_t first_row, ptrdiff_t end_row, ptrdiff_t block_width) {
    cck_wide_portable(job, first_row, end_row, block_width);
}
#endif
