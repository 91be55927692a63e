/* A fast zlib encoder for filtered PNG rows: literals and runs only (matches at distance 1, as zlib's Z_RLE
 * strategy), dynamic Huffman blocks. Filtered feature maps are mostly runs of one byte, where this is several times
 * faster than a general match finder and about as small. See cio_zlib_rle in CImageIO.h. */
#include "CImageIO.h"
#include "deflate_rle.h"
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#define LITLEN_SYMBOLS 286
#define MAX_BITS 15
#define BLOCK_INPUT (1 << 18) /* input bytes per block: a fresh Huffman code every 256 KiB */
#define MIN_RUN 3

/* Length 3…258 → symbol 257…285, extra bits, extra value. */
static const uint16_t length_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                         67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static uint8_t length_symbol[259]; /* length → index into the tables above, filled before main */

__attribute__((constructor)) static void prepare_tables(void) {
    for (int s = 0; s < 29; s++) {
        int end = s == 28 ? 259 : length_base[s + 1];
        for (int l = length_base[s]; l < end && l < 259; l++) length_symbol[l] = (uint8_t)s;
    }
    length_symbol[258] = 28;
}

typedef struct {
    uint8_t *out;
    size_t at, capacity;
    uint64_t bits;
    int count;
    int overflow;
} bit_writer;

/* Appends `n` ≤ 32 bits. Branch-free: the whole buffer is stored every time (8 spare bytes at the end of `out`
 * are guaranteed by the caller's bound), and the pointer moves by the whole bytes written. */
static inline void put_bits(bit_writer *w, uint64_t value, int n) {
    w->bits |= value << w->count;
    w->count += n;
    memcpy(w->out + w->at, &w->bits, 8); /* little-endian host */
    const int bytes = w->count >> 3;
    w->at += (size_t)bytes;
    w->bits = bytes == 8 ? 0 : w->bits >> (bytes * 8);
    w->count &= 7;
}

static void flush_bits(bit_writer *w) {
    if (w->count > 0) {
        w->out[w->at++] = (uint8_t)w->bits;
        w->bits = 0;
        w->count = 0;
    }
}

/* Huffman code lengths for `n` symbols with frequencies `freq`, at most `limit` bits, every used symbol ≥ 1 bit.
 * Builds an ordinary Huffman tree (two-queue method on sorted leaves); while it is too deep, flattens the
 * frequencies (f → f/2 + 1 for used symbols) and builds again. At least two symbols must be used. */
static void code_lengths(const uint32_t *freq, int n, int limit, uint8_t *lengths) {
    uint32_t f[LITLEN_SYMBOLS];
    for (int i = 0; i < n; i++) f[i] = freq[i];
    for (;;) {
        int leaves[LITLEN_SYMBOLS], m = 0;
        for (int i = 0; i < n; i++) if (f[i]) leaves[m++] = i;
        /* sort leaves by frequency (insertion sort: n ≤ 286) */
        for (int i = 1; i < m; i++) {
            int s = leaves[i], j = i - 1;
            while (j >= 0 && (f[leaves[j]] > f[s] || (f[leaves[j]] == f[s] && leaves[j] > s))) { leaves[j + 1] = leaves[j]; j--; }
            leaves[j + 1] = s;
        }
        /* nodes: 0..m-1 leaves, m.. internal; parent links give depths */
        uint64_t weight[2 * LITLEN_SYMBOLS];
        int parent[2 * LITLEN_SYMBOLS];
        for (int i = 0; i < m; i++) weight[i] = f[leaves[i]];
        int next_leaf = 0, next_node = m, made = m;
        for (int k = 0; k < m - 1; k++) {
            int pick[2];
            for (int p = 0; p < 2; p++) {
                if (next_leaf < m && (next_node >= made || weight[next_leaf] <= weight[next_node])) pick[p] = next_leaf++;
                else pick[p] = next_node++;
            }
            weight[made] = weight[pick[0]] + weight[pick[1]];
            parent[pick[0]] = parent[pick[1]] = made;
            made++;
        }
        int depth[2 * LITLEN_SYMBOLS];
        depth[made - 1] = 0;
        int deepest = 0;
        for (int i = made - 2; i >= 0; i--) {
            depth[i] = depth[parent[i]] + 1;
            if (i < m && depth[i] > deepest) deepest = depth[i];
        }
        if (deepest <= limit) {
            memset(lengths, 0, (size_t)n);
            for (int i = 0; i < m; i++) lengths[leaves[i]] = (uint8_t)depth[i];
            return;
        }
        for (int i = 0; i < n; i++) if (f[i]) f[i] = f[i] / 2 + 1;
    }
}

/* Canonical codes for `lengths`, bit-reversed for deflate's LSB-first packing. */
static void canonical_codes(const uint8_t *lengths, int n, uint16_t *codes) {
    int count[MAX_BITS + 1] = {0};
    for (int i = 0; i < n; i++) count[lengths[i]]++;
    count[0] = 0;
    int next[MAX_BITS + 2];
    int code = 0;
    for (int bits = 1; bits <= MAX_BITS; bits++) {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (int i = 0; i < n; i++) {
        int len = lengths[i];
        if (!len) { codes[i] = 0; continue; }
        int c = next[len]++, r = 0;
        for (int b = 0; b < len; b++) { r = (r << 1) | (c & 1); c >>= 1; }
        codes[i] = (uint16_t)r;
    }
}

/* Literals and runs of `in[start..end)`, where `in[start - 1]` (if start > 0) may begin a run. Calls `emit` as
 * visit(literal) or visit(run length) through the two macros below. */
#define SCAN(in, start, end, LITERAL, RUN)                                                \
    do {                                                                                  \
        size_t i_ = (start);                                                              \
        if (i_ == 0 && i_ < (end)) { LITERAL((in)[0]); i_ = 1; }                          \
        while (i_ < (end)) {                                                              \
            const uint8_t c_ = (in)[i_];                                                  \
            if (c_ == (in)[i_ - 1] && i_ + 2 < (end) && (in)[i_ + 1] == c_ && (in)[i_ + 2] == c_) { \
                size_t r_ = 3, cap_ = (end) - i_ < 258 ? (end) - i_ : 258;                \
                while (r_ < cap_ && (in)[i_ + r_] == c_) r_++;                            \
                RUN(r_);                                                                  \
                i_ += r_;                                                                 \
                continue;                                                                 \
            }                                                                             \
            LITERAL(c_);                                                                  \
            i_++;                                                                         \
        }                                                                                 \
    } while (0)

/* One dynamic block of `in[start..end)`. */
static void write_block(bit_writer *w, const uint8_t *in, size_t start, size_t end, int final, uint16_t *tokens) {
    /* One scan: tokens (a literal byte, or 256 + a run's length) and their frequencies. */
    uint32_t freq[LITLEN_SYMBOLS] = {0};
    size_t nt = 0;
#define COUNT_LITERAL(b) (freq[(b)]++, tokens[nt++] = (uint16_t)(b))
#define COUNT_RUN(r) (freq[257 + length_symbol[(r)]]++, tokens[nt++] = (uint16_t)(256 + (r)))
    SCAN(in, start, end, COUNT_LITERAL, COUNT_RUN);
    freq[256] = 1;
    int used = 0;
    for (int i = 0; i < LITLEN_SYMBOLS; i++) used += freq[i] != 0;
    if (used < 2) freq[freq[0] ? 1 : 0] = 1; /* a Huffman code needs two symbols */
    uint8_t lit_len[LITLEN_SYMBOLS];
    code_lengths(freq, LITLEN_SYMBOLS, MAX_BITS, lit_len);
    uint16_t lit_code[LITLEN_SYMBOLS];
    canonical_codes(lit_len, LITLEN_SYMBOLS, lit_code);
    int hlit = LITLEN_SYMBOLS;
    while (hlit > 257 && lit_len[hlit - 1] == 0) hlit--;
    /* One distance code (distance 1), one bit long. */
    uint8_t lengths[LITLEN_SYMBOLS + 1];
    memcpy(lengths, lit_len, (size_t)hlit);
    lengths[hlit] = 1;
    int total = hlit + 1;
    /* Run-length code the code lengths (16: repeat previous 3–6, 17: zeros 3–10, 18: zeros 11–138). */
    uint8_t sym[LITLEN_SYMBOLS + 1], extra[LITLEN_SYMBOLS + 1];
    int ns = 0;
    for (int i = 0; i < total;) {
        int l = lengths[i], r = 1;
        while (i + r < total && lengths[i + r] == l) r++;
        if (l == 0 && r >= 3) {
            int take = r > 138 ? 138 : r;
            if (take >= 11) { sym[ns] = 18; extra[ns++] = (uint8_t)(take - 11); }
            else { sym[ns] = 17; extra[ns++] = (uint8_t)(take - 3); }
            i += take;
        } else if (l != 0 && r >= 4) {
            sym[ns] = (uint8_t)l; extra[ns++] = 0;
            int take = r - 1 > 6 ? 6 : r - 1;
            sym[ns] = 16; extra[ns++] = (uint8_t)(take - 3);
            i += 1 + take;
        } else {
            sym[ns] = (uint8_t)l; extra[ns++] = 0;
            i++;
        }
    }
    uint32_t cl_freq[19] = {0};
    for (int k = 0; k < ns; k++) cl_freq[sym[k]]++;
    int cl_used = 0;
    for (int k = 0; k < 19; k++) cl_used += cl_freq[k] != 0;
    if (cl_used < 2) cl_freq[sym[0] == 0 ? 1 : 0]++;
    uint8_t cl_len[19];
    code_lengths(cl_freq, 19, 7, cl_len);
    uint16_t cl_code[19];
    canonical_codes(cl_len, 19, cl_code);
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    int hclen = 19;
    while (hclen > 4 && cl_len[order[hclen - 1]] == 0) hclen--;

    put_bits(w, (uint64_t)(final ? 1 : 0), 1);
    put_bits(w, 2, 2); /* dynamic Huffman */
    put_bits(w, (uint64_t)(hlit - 257), 5);
    put_bits(w, 0, 5); /* HDIST − 1: one distance code */
    put_bits(w, (uint64_t)(hclen - 4), 4);
    for (int k = 0; k < hclen; k++) put_bits(w, cl_len[order[k]], 3);
    for (int k = 0; k < ns; k++) {
        put_bits(w, cl_code[sym[k]], cl_len[sym[k]]);
        if (sym[k] == 16) put_bits(w, extra[k], 2);
        else if (sym[k] == 17) put_bits(w, extra[k], 3);
        else if (sym[k] == 18) put_bits(w, extra[k], 7);
    }
    /* Each literal's code and length in one word; runs carry their length code, extra bits and the distance bit. */
    uint32_t lit[256];
    for (int b = 0; b < 256; b++) lit[b] = (uint32_t)lit_code[b] | ((uint32_t)lit_len[b] << 16);
    size_t k = 0;
    while (k < nt) {
        const uint16_t t = tokens[k];
        if (t < 256) {
            /* Two literals at once when the next token is one too: at most 30 bits in one store. */
            if (k + 1 < nt && tokens[k + 1] < 256) {
                const uint32_t a = lit[t], b = lit[tokens[k + 1]];
                const int la = (int)(a >> 16);
                put_bits(w, (uint64_t)(a & 0xFFFF) | ((uint64_t)(b & 0xFFFF) << la), la + (int)(b >> 16));
                k += 2;
            } else {
                put_bits(w, lit[t] & 0xFFFF, (int)(lit[t] >> 16));
                k++;
            }
        } else {
            const int r = t - 256, sy = length_symbol[r];
            uint64_t bits = lit_code[257 + sy];
            int n = lit_len[257 + sy];
            bits |= (uint64_t)(r - length_base[sy]) << n; /* extra bits (none: adds 0) */
            n += length_extra[sy];
            /* distance code 0 (distance 1): a 0 bit */
            put_bits(w, bits, n + 1);
            k++;
        }
    }
    put_bits(w, lit_code[256], lit_len[256]);
}

size_t cio_zlib_rle_bound(size_t count) {
    /* every byte a literal of at most 15 bits (< 2 bytes), plus per block headers, plus the 8 bytes put_bits
     * stores ahead */
    return 2 * count + (count / BLOCK_INPUT + 1) * 400 + 64;
}

size_t cio_zlib_rle(const uint8_t *in, size_t count, uint8_t *out, size_t capacity) {
    if (capacity < 8) return 0;
    bit_writer w = {out, 0, capacity, 0, 0, 0};
    (void)w.overflow;
    out[w.at++] = 0x78; /* deflate, 32 KiB window */
    out[w.at++] = 0x01; /* fastest; (0x78 · 256 + 0x01) % 31 == 0 */
    size_t start = 0;
    if (capacity < cio_zlib_rle_bound(count)) return 0; /* put_bits never checks: the bound is its guarantee */
    uint16_t *tokens = malloc(sizeof(uint16_t) * (BLOCK_INPUT < count ? BLOCK_INPUT : count + 1));
    if (!tokens) return 0;
    do {
        size_t end = count - start > BLOCK_INPUT ? start + BLOCK_INPUT : count;
        write_block(&w, in, start, end, end == count, tokens);
        start = end;
    } while (start < count);
    free(tokens);
    flush_bits(&w);
    uint32_t adler = libdeflate_adler32(1, in, count);
    out[w.at++] = (uint8_t)(adler >> 24);
    out[w.at++] = (uint8_t)(adler >> 16);
    out[w.at++] = (uint8_t)(adler >> 8);
    out[w.at++] = (uint8_t)adler;
    return w.at;
}
