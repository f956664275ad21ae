// Single-column (decode, B = 1) quantized matmul for AVX-512 VNNI CPUs.
//
// At B = 1 every weight byte is used once, so the kernel is bound by how fast weights stream
// in and by the per-block instruction count, not by arithmetic. Two things make it faster than
// running the batched 256-bit tile with one column:
//  * Scales of 4 rows are converted together: the 4-byte heads (d, and m for Q4_1) of 4 rows
//    go into one xmm, one vcvtph2ps gives d0 m0 d1 m1 ..., one vmulps gives every d_w * d_a and
//    one vfmadd advances all four Q4_1 `summs` chains (odd lanes). The even-lane products are
//    then broadcast per row. Each lane still computes exactly the scalar operation ggml does.
//  * Software prefetch a few KB ahead: with ~4 weight rows in flight the hardware prefetcher
//    alone left each core at ~6 GB/s from DRAM (latency bound), far below the machine's
//    bandwidth. Prefetch never faults, so running past the last row is harmless.
//
// Per output the float operations are those of ggml's AVX2 vec_dot (one 8-lane accumulator,
// acc = fma(d_w * d_a, float(int lane sums), acc) block after block, hsum_float_8, + summs);
// the integer lane sums are exact whichever instructions compute them, so results are
// bit-identical to the scalar oracle and to the batched kernels.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_TV __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define NK_INLINE static inline __attribute__((always_inline)) NK_TV

// Rows per tile; 8 accumulators plus temporaries fit the 32 vector registers.
#define NK_GEMV_RM 8
// Prefetch distance in bytes ahead of the tile being computed. Measured on Zen 4 decode:
// 4-6 KB best, 12 KB noticeably worse (prefetched lines evicted before use).
#define NK_GEMV_PREFETCH 6144

NK_INLINE uint32_t nk_ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

// Four rows' block heads (fp16 d, then fp16 m for Q4_1 or two quant bytes otherwise) as floats:
// lanes 2i and 2i+1 belong to row i. Rows past `n` read row 0 (their lanes are unused).
NK_INLINE __m256 nk_heads4(const uint8_t *b, size_t stride, int n) {
    __m128i h = _mm_cvtsi32_si128((int)nk_ld32(b));
    h = _mm_insert_epi32(h, (int)nk_ld32(b + (n > 1 ? stride : 0)), 1);
    h = _mm_insert_epi32(h, (int)nk_ld32(b + (n > 2 ? 2 * stride : 0)), 2);
    h = _mm_insert_epi32(h, (int)nk_ld32(b + (n > 3 ? 3 * stride : 0)), 3);
    return _mm256_cvtph_ps(h);
}

// Integer lane sums of one weight block against the activation block `a` (ggml's 8 lanes:
// lane j covers elements 4j..4j+3). `a8` = -dpbusd(8, a) for Q4_0 (sum((q - 8) a)).
NK_INLINE __m256i nk_block_lanes(int kind, const uint8_t *wb, __m256i a, __m256i a8) {
    if (kind == NK_Q8_0) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(wb + 2));
        return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
    }
    // 16 packed bytes in both halves; the upper half shifted to the high nibbles.
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(wb + (kind == NK_Q4_1 ? 4 : 2))));
    v = _mm256_mask_srli_epi16(v, (__mmask16)0xFF00, v, 4);
    v = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
    return _mm256_dpbusd_epi32(kind == NK_Q4_0 ? a8 : _mm256_setzero_si256(), v, a);
}

// Lane `i` of a 4-row product vector (even lanes) broadcast to 8 lanes.
NK_INLINE __m256 nk_row_scale(__m256 p, int i) {
    return _mm256_permutexvar_ps(_mm256_set1_epi32(2 * i), p);
}

// RM rows (RM = 8, 4 or 1) starting at r0.
NK_INLINE void nk_gemv_tile(int kind, int RM, const uint8_t *w, size_t wstride, int64_t r0, int64_t nb,
                            const uint8_t *act, float *y, int prefetch_lines) {
    const size_t bsz = nk_block_bytes(kind);
    const uint8_t *base = w + (size_t)r0 * wstride;
    const char *pf = (const char *)base + NK_GEMV_PREFETCH;
    __m256 acc[NK_GEMV_RM];
    __m256 summs[NK_GEMV_RM / 4 + 1];
    for (int i = 0; i < RM; i++) acc[i] = _mm256_setzero_ps();
    for (int g = 0; g < (RM + 3) / 4; g++) summs[g] = _mm256_setzero_ps();
    const __m256i eights = _mm256_set1_epi8(8);
    for (int64_t k = 0; k < nb; k++) {
        for (int j = 0; j < prefetch_lines; j++) _mm_prefetch(pf + ((size_t)k * prefetch_lines + j) * 64, _MM_HINT_T0);
        const uint8_t *rec = act + (size_t)k * NK_ACT_RECORD;
        const __m256i a = _mm256_load_si256((const __m256i *)rec);
        const __m256 da = _mm256_set1_ps(((const float *)(rec + 256))[0]);
        __m256i a8 = _mm256_setzero_si256();
        if (kind == NK_Q4_0) a8 = _mm256_sub_epi32(a8, _mm256_dpbusd_epi32(_mm256_setzero_si256(), eights, a));
        const uint8_t *bk = base + (size_t)k * bsz;
        for (int g = 0; g < (RM + 3) / 4; g++) {
            const int n = RM - 4 * g < 4 ? RM - 4 * g : 4;
            const __m256 heads = nk_heads4(bk + (size_t)(4 * g) * wstride, wstride, n);
            const __m256 p = _mm256_mul_ps(heads, da);  // even lanes: d_w * d_a
            if (kind == NK_Q4_1)                       // odd lanes: summs = fma(m_w, s_a, summs)
                summs[g] = _mm256_fmadd_ps(heads, _mm256_set1_ps(((const float *)(rec + 288))[0]), summs[g]);
            for (int i = 0; i < n; i++) {
                const int row = 4 * g + i;
                const __m256i lanes = nk_block_lanes(kind, bk + (size_t)row * wstride, a, a8);
                acc[row] = _mm256_fmadd_ps(nk_row_scale(p, i), _mm256_cvtepi32_ps(lanes), acc[row]);
            }
        }
    }
    for (int g = 0; g < (RM + 3) / 4; g++) {
        float sm[8];
        _mm256_storeu_ps(sm, summs[g]);
        const int n = RM - 4 * g < 4 ? RM - 4 * g : 4;
        for (int i = 0; i < n; i++) {
            float t[8];
            _mm256_storeu_ps(t, acc[4 * g + i]);
            const float s = nk_hsum8(t);
            // + 0 for Q4_0/Q8_0 too, as the batched kernels do (turns -0 into +0 identically).
            y[r0 + 4 * g + i] = s + (kind == NK_Q4_1 ? sm[2 * i + 1] : 0.0f);
        }
    }
}

NK_INLINE void nk_gemv(int kind, const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                       const uint8_t *act, float *y) {
    // Spread the prefetch of one tile's bytes (RM rows) over its nb block steps.
    const int64_t lines = ((int64_t)NK_GEMV_RM * (int64_t)wstride + 63) / 64;
    const int pl = (int)((lines + nb - 1) / nb);
    int64_t r = row0;
    for (; r + NK_GEMV_RM <= row1; r += NK_GEMV_RM) nk_gemv_tile(kind, NK_GEMV_RM, w, wstride, r, nb, act, y, pl);
    for (; r + 4 <= row1; r += 4) nk_gemv_tile(kind, 4, w, wstride, r, nb, act, y, 0);
    for (; r < row1; r++) nk_gemv_tile(kind, 1, w, wstride, r, nb, act, y, 0);
}

NK_TV void nk_gemv_q4_0_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                               const uint8_t *act, float *y) {
    nk_gemv(NK_Q4_0, w, wstride, row0, row1, nb, act, y);
}
NK_TV void nk_gemv_q4_1_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                               const uint8_t *act, float *y) {
    nk_gemv(NK_Q4_1, w, wstride, row0, row1, nb, act, y);
}
NK_TV void nk_gemv_q8_0_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                               const uint8_t *act, float *y) {
    nk_gemv(NK_Q8_0, w, wstride, row0, row1, nb, act, y);
}
#endif
