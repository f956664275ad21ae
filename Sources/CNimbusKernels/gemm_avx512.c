// AVX-512 VNNI kernels (Ice Lake, Sapphire Rapids, Zen 4 and later).
//
// A 512-bit register holds two outputs' 8-lane ggml accumulators side by side: lanes 0-7 for
// activation column 2p, lanes 8-15 for column 2p+1, both against the same weight row. The
// weight block is duplicated into both halves once and reused for every column pair, the
// activation pair is one aligned 64-byte load from the packed layout. Every lane computes
// exactly what ggml's AVX2 code computes for that output, so results are bit-identical.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define NK_SUFFIX _vnni256
#define NK_DOT_US(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#include "gemm256.inc"
#undef NK_SUFFIX

#define NK_T512 __attribute__((target(NK_TARGET)))
#define NK_RM 4   // weight rows per tile
#define NK_NP 4   // column pairs per tile (one packed group of 8 columns)

// Weight block duplicated into both 256-bit halves: bytes 0..31 and 32..63 = elements 0..31.
static inline __attribute__((always_inline)) NK_T512
__m512i nk_weights512(int kind, const uint8_t *wb) {
    // Q8_0 as unsigned w + 128 (see the correction in nk_tile512).
    if (kind == NK_Q8_0)
        return _mm512_xor_si512(_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wb + 2))), _mm512_set1_epi8((char)0x80));
    const uint8_t *q = wb + (kind == NK_Q4_1 ? 4 : 2);
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)q));
    v = _mm512_mask_srli_epi16(v, (__mmask32)0xFF00FF00u, v, 4);  // 128-bit lanes 1, 3: high nibbles
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

static inline __attribute__((always_inline)) NK_T512
void nk_tile512(int kind, int RM, int NP, const uint8_t *w, size_t wstride, int64_t r0, int64_t nb,
                const uint8_t *grp, int ncols, float *y, int64_t ldy, int64_t c0) {
    const size_t bsz = nk_block_bytes(kind);
    __m512 acc[NK_RM][NK_NP];
    __m256 summs[NK_RM];
    for (int i = 0; i < RM; i++) {
        summs[i] = _mm256_setzero_ps();
        for (int p = 0; p < NP; p++) acc[i][p] = _mm512_setzero_ps();
    }
    const __m512i zero = _mm512_setzero_si512();
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *rec = grp + (size_t)k * NK_ACT_RECORD;
        const float *da = (const float *)(rec + 256);
        __m512i a[NK_NP];
        __m512 dap[NK_NP];
        __m512i corr[NK_NP];
        for (int p = 0; p < NP; p++) {
            a[p] = _mm512_load_si512((const void *)(rec + 64 * p));
            dap[p] = _mm512_mask_broadcastss_ps(_mm512_set1_ps(da[2 * p]), (__mmask16)0xFF00,
                                                _mm_set_ss(da[2 * p + 1]));
            // Q4_0: sum((q - 8) * a) = dpbusd(q, a) - dpbusd(8, a); start the accumulator at -8*sum(a).
            // Q8_0: sum(w * a) = dpbusd(w + 128, a) - dpbusd(128, a), the same exact lane sums as
            // a signed product, with one correction per column pair instead of a sign fix per row.
            if (kind == NK_Q4_0)
                corr[p] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(8), a[p]));
            if (kind == NK_Q8_0)
                corr[p] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, _mm512_set1_epi8((char)0x80), a[p]));
        }
        __m256 sa = _mm256_setzero_ps();
        if (kind == NK_Q4_1) sa = _mm256_load_ps((const float *)(rec + 288));
        for (int i = 0; i < RM; i++) {
            const uint8_t *wb = w + (size_t)(r0 + i) * wstride + (size_t)k * bsz;
            uint16_t h[2];
            memcpy(h, wb, 4);
            const __m512 dw = _mm512_set1_ps(_cvtsh_ss(h[0]));
            const __m512i wv = nk_weights512(kind, wb);
            if (kind == NK_Q4_1) summs[i] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(h[1])), sa, summs[i]);
            {
                for (int p = 0; p < NP; p++) {
                    const __m512i init = kind == NK_Q4_1 ? zero : corr[p];
                    const __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, wv, a[p]));
                    acc[i][p] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dap[p]), f, acc[i][p]);
                }
            }
        }
    }
    for (int i = 0; i < RM; i++) {
        float sm[8];
        _mm256_storeu_ps(sm, summs[i]);
        for (int p = 0; p < NP; p++) {
            float t[16];
            _mm512_storeu_ps(t, acc[i][p]);
            const int c = 2 * p;
            if (c < ncols) y[(c0 + c) * ldy + r0 + i] = nk_hsum8(t) + sm[c];
            if (c + 1 < ncols) y[(c0 + c + 1) * ldy + r0 + i] = nk_hsum8(t + 8) + sm[c + 1];
        }
    }
}

// Dispatch on compile-time RM/NP so every tile loop is fully unrolled into registers.
#define NK_TILE_CASES(KIND, RM)                                                                 \
    switch (np) {                                                                               \
    case 1: nk_tile512(KIND, RM, 1, w, wstride, r, nb, grp, nc, y, ldy, c0); break;             \
    case 2: nk_tile512(KIND, RM, 2, w, wstride, r, nb, grp, nc, y, ldy, c0); break;             \
    case 3: nk_tile512(KIND, RM, 3, w, wstride, r, nb, grp, nc, y, ldy, c0); break;             \
    default: nk_tile512(KIND, RM, 4, w, wstride, r, nb, grp, nc, y, ldy, c0); break;            \
    }

// Column groups are processed in chunks so a chunk of activations stays in L2 while the
// weight rows of a tile stay in L1.
#define NK_COL_CHUNK_GROUPS 8

#define NK_DEFINE_GEMM512(KIND, NAME, GEMV)                                                         \
    NK_T512 void NAME(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb, \
                      const uint8_t *act, int64_t ncols, float *y, int64_t ldy) {               \
        if (ncols == 1) {                                                                       \
            GEMV(w, wstride, row0, row1, nb, act, y);                                           \
            return;                                                                             \
        }                                                                                       \
        const int64_t ngroups = (ncols + NK_ACT_GROUP - 1) / NK_ACT_GROUP;                       \
        for (int64_t g0 = 0; g0 < ngroups; g0 += NK_COL_CHUNK_GROUPS) {                         \
            const int64_t g1 = g0 + NK_COL_CHUNK_GROUPS < ngroups ? g0 + NK_COL_CHUNK_GROUPS : ngroups; \
            for (int64_t r = row0; r < row1;) {                                                 \
                const int rm = row1 - r >= NK_RM ? NK_RM : 1;                                   \
                for (int64_t g = g0; g < g1; g++) {                                             \
                    const int64_t c0 = g * NK_ACT_GROUP;                                        \
                    const int nc = (int)(ncols - c0 < NK_ACT_GROUP ? ncols - c0 : NK_ACT_GROUP); \
                    const int np = (nc + 1) / 2;                                                \
                    const uint8_t *grp = act + (size_t)g * (size_t)nb * NK_ACT_RECORD;          \
                    if (rm == NK_RM) { NK_TILE_CASES(KIND, 4) } else { NK_TILE_CASES(KIND, 1) } \
                }                                                                               \
                r += rm;                                                                        \
            }                                                                                   \
        }                                                                                       \
    }

NK_DEFINE_GEMM512(NK_Q4_0, nk_gemm_q4_0_avx512, nk_gemv_q4_0_avx512)
NK_DEFINE_GEMM512(NK_Q4_1, nk_gemm_q4_1_avx512, nk_gemv_q4_1_avx512)
NK_DEFINE_GEMM512(NK_Q8_0, nk_gemm_q8_0_avx512, nk_gemv_q8_0_avx512)
#endif
