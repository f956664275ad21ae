// Blocked-order quantized matmul on 16-row interleaved weights (AVX-512 VNNI).
//
// ggml's order keeps 8 float lanes per output and block, so every 32 multiply-adds cost four
// vector float operations per output; on two cores that caps batched decode and prefill at
// about a fifth of the int8 peak. The blocked order sums each block's 32 products exactly in
// int32 and scales once:
//
//     acc = 0;  for each block k:  acc = fma(float(isum_k), d_w * d_a, acc)
//                                 [Q4_1: acc = fma(m_w, s_a, acc)]
//
// which is the same real number as ggml's result rounded differently (a few ulp apart). Every
// output follows these operations whatever the tile, column count or thread split, so a
// column's result never depends on its neighbours: batch invariance holds as long as every
// call for a weight uses this order (the engine picks one order per process).
//
// Layout (nk_repack_x16): rows are taken 16 at a time; for row group g and block k the record
// at (g * nb + k) * nk_x16_record_bytes(kind) holds the 16 rows' fp16 d (32 bytes), for Q4_1
// their fp16 m (32 bytes), then the quants arranged so that one 64-byte vector holds 4
// consecutive elements of each of the 16 rows (lane r = row r), which is exactly what one
// vpdpbusd with a broadcast 4-byte activation chunk consumes:
//   Q4_0/Q4_1: 4 vectors; vector j's low nibbles are elements 4j..4j+3, high nibbles
//              elements 16+4j..16+4j+3 (ggml's own nibble split), values 0..15 unsigned.
//   Q8_0:      8 vectors of w + 128 (unsigned), element chunk t in vector t.
// The unsigned offsets are undone exactly in int32 before the float step:
//   Q4_0: isum = dpbusd(q, a) - 8 * sum(a);  Q8_0: isum = dpbusd(w + 128, a) - 128 * sum(a),
// with sum(a) the activation block's integer sum from the packed activation record.
// The scalar twin and oracle is ScalarDot.blocked (Swift), which reads plain ggml rows.
#include "gemm_common.h"

size_t nk_x16_record_bytes(int kind) {
    return kind == NK_Q8_0 ? 32 + 512 : kind == NK_Q4_1 ? 64 + 256 : 32 + 256;
}

void nk_repack_x16(int kind, const uint8_t *src, size_t wstride, int64_t rows, int64_t nb, uint8_t *dst) {
    const size_t bsz = nk_block_bytes(kind), rec = nk_x16_record_bytes(kind);
    for (int64_t g = 0; g < rows / 16; g++) {
        for (int64_t k = 0; k < nb; k++) {
            uint8_t *out = dst + (size_t)(g * nb + k) * rec;
            for (int r = 0; r < 16; r++) {
                const uint8_t *b = src + (size_t)(g * 16 + r) * wstride + (size_t)k * bsz;
                memcpy(out + 2 * r, b, 2);                               // d
                if (kind == NK_Q4_1) memcpy(out + 32 + 2 * r, b + 2, 2);  // m
                uint8_t *q = out + (kind == NK_Q4_1 ? 64 : 32);
                if (kind == NK_Q8_0) {
                    for (int t = 0; t < 8; t++)
                        for (int e = 0; e < 4; e++) q[64 * t + 4 * r + e] = (uint8_t)(b[2 + 4 * t + e] ^ 0x80);
                } else {
                    const uint8_t *qs = b + (kind == NK_Q4_1 ? 4 : 2);  // byte i: element i | element i+16 << 4
                    for (int j = 0; j < 4; j++)
                        for (int e = 0; e < 4; e++) q[64 * j + 4 * r + e] = qs[4 * j + e];
                }
            }
        }
    }
}

#if defined(__x86_64__)
#define NK_TX __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define NK_XINLINE static inline __attribute__((always_inline)) NK_TX

// One 16-row group against NC columns (NC <= 8) of one packed activation group.
NK_XINLINE void nk_x16_tile(int kind, int NC, const uint8_t *wg, int64_t nb, const uint8_t *grp,
                            float *y, int64_t ldy, int64_t r0, int64_t c0, size_t pf) {
    const size_t rb = nk_x16_record_bytes(kind);
    __m512 acc[8];
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *wr = wg + (size_t)k * rb;
        const uint8_t *rec = grp + (size_t)k * NK_ACT_RECORD;
        const float *da = (const float *)(rec + 256);
        const float *sa = (const float *)(rec + 288);
        const int32_t *ia = (const int32_t *)(rec + 320);
        // Records of consecutive row groups are contiguous, so one linear stream covers the whole
        // matrix; prefetch it pf bytes ahead where that helps (nk_stream_prefetch_bytes; past the
        // end is harmless).
        if (pf) for (size_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)(wr + pf + o), _MM_HINT_T0);
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)wr));
        __m512 mw = _mm512_setzero_ps();
        __m512i q[8];
        if (kind == NK_Q8_0) {
            for (int t = 0; t < 8; t++) q[t] = _mm512_loadu_si512((const void *)(wr + 32 + 64 * t));
        } else {
            const uint8_t *qs = wr + (kind == NK_Q4_1 ? 64 : 32);
            if (kind == NK_Q4_1) mw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr + 32)));
            for (int j = 0; j < 4; j++) {
                const __m512i v = _mm512_loadu_si512((const void *)(qs + 64 * j));
                q[j] = _mm512_and_si512(v, low);
                q[j + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
            }
        }
        for (int c = 0; c < NC; c++) {
            const int32_t *ac = (const int32_t *)(rec + 32 * c);
            __m512i s0 = kind == NK_Q4_1 ? _mm512_setzero_si512()
                                         : _mm512_set1_epi32(-(kind == NK_Q8_0 ? 128 : 8) * ia[c]);
            __m512i s1 = _mm512_setzero_si512();
            // Two chains for latency; integer adds are exact, so the split does not change isum.
            s0 = _mm512_dpbusd_epi32(s0, q[0], _mm512_set1_epi32(ac[0]));
            s1 = _mm512_dpbusd_epi32(s1, q[1], _mm512_set1_epi32(ac[1]));
            s0 = _mm512_dpbusd_epi32(s0, q[2], _mm512_set1_epi32(ac[2]));
            s1 = _mm512_dpbusd_epi32(s1, q[3], _mm512_set1_epi32(ac[3]));
            s0 = _mm512_dpbusd_epi32(s0, q[4], _mm512_set1_epi32(ac[4]));
            s1 = _mm512_dpbusd_epi32(s1, q[5], _mm512_set1_epi32(ac[5]));
            s0 = _mm512_dpbusd_epi32(s0, q[6], _mm512_set1_epi32(ac[6]));
            s1 = _mm512_dpbusd_epi32(s1, q[7], _mm512_set1_epi32(ac[7]));
            const __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[c] = _mm512_fmadd_ps(f, _mm512_mul_ps(dw, _mm512_set1_ps(da[c])), acc[c]);
            if (kind == NK_Q4_1) acc[c] = _mm512_fmadd_ps(mw, _mm512_set1_ps(sa[c]), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) _mm512_storeu_ps(y + (c0 + c) * ldy + r0, acc[c]);
}

#define NK_X16_CASES(KIND)                                                                          \
    switch (nc) {                                                                                   \
    case 1: nk_x16_tile(KIND, 1, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 2: nk_x16_tile(KIND, 2, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 3: nk_x16_tile(KIND, 3, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 4: nk_x16_tile(KIND, 4, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 5: nk_x16_tile(KIND, 5, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 6: nk_x16_tile(KIND, 6, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    case 7: nk_x16_tile(KIND, 7, wg, nb, grp, y, ldy, r, c0, pf); break;                            \
    default: nk_x16_tile(KIND, 8, wg, nb, grp, y, ldy, r, c0, pf); break;                           \
    }

// Column groups in chunks so a chunk of activations stays in L2 while a row group's weights
// (nb records) stay in L1/L2 across the chunk.
#define NK_X16_COL_CHUNK 8

// w: repacked weights; wstride: ignored (records are found from nb); rows [row0, row1) must be
// multiples of 16.
#define NK_DEFINE_X16(KIND, NAME)                                                                   \
    NK_TX void NAME(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,       \
                    const uint8_t *act, int64_t ncols, float *y, int64_t ldy) {                     \
        (void)wstride;                                                                              \
        const size_t pf = nk_stream_prefetch_bytes();                                               \
        const size_t gbytes = (size_t)nb * nk_x16_record_bytes(KIND);                               \
        const int64_t ngroups = (ncols + NK_ACT_GROUP - 1) / NK_ACT_GROUP;                          \
        for (int64_t g0 = 0; g0 < ngroups; g0 += NK_X16_COL_CHUNK) {                                \
            const int64_t g1 = g0 + NK_X16_COL_CHUNK < ngroups ? g0 + NK_X16_COL_CHUNK : ngroups;   \
            for (int64_t r = row0; r < row1; r += 16) {                                             \
                const uint8_t *wg = w + (size_t)(r / 16) * gbytes;                                  \
                for (int64_t g = g0; g < g1; g++) {                                                 \
                    const int64_t c0 = g * NK_ACT_GROUP;                                            \
                    const int nc = (int)(ncols - c0 < NK_ACT_GROUP ? ncols - c0 : NK_ACT_GROUP);    \
                    const uint8_t *grp = act + (size_t)g * (size_t)nb * NK_ACT_RECORD;              \
                    NK_X16_CASES(KIND)                                                              \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

NK_DEFINE_X16(NK_Q4_0, nk_gemm_x16_q4_0_avx512)
NK_DEFINE_X16(NK_Q4_1, nk_gemm_x16_q4_1_avx512)
NK_DEFINE_X16(NK_Q8_0, nk_gemm_x16_q8_0_avx512)

nk_gemm_fn nk_gemm_x16_kernel(int kind) {
    switch (kind) {
    case NK_Q4_0: return nk_gemm_x16_q4_0_avx512;
    case NK_Q4_1: return nk_gemm_x16_q4_1_avx512;
    case NK_Q8_0: return nk_gemm_x16_q8_0_avx512;
    default: return NULL;
    }
}
#else
nk_gemm_fn nk_gemm_x16_kernel(int kind) { (void)kind; return NULL; }
#endif
