// Blocked-order K-quant matmul (Q4_K, Q5_K, Q6_K) on 16-row interleaved weights (AVX-512 VNNI),
// against plain ggml block_q8_K activation rows (nb * 292 bytes per column).
//
// As in gemm_x16.c, every integer product is summed exactly in int32 and each output then takes
// as few float steps as possible, the same whatever the tile, column count or thread split:
//
//   Q4_K, per super-block:  imin = sum_v min_v * (bsum[2v] + bsum[2v+1])
//                           acc  = fma(-float(imin), dmin_w * d_a, acc)
//                           isum = sum_v sc_v * sum_{e in v} q_e * a_e       (v: 8 blocks of 32)
//                           acc  = fma(float(isum), d_w * d_a, acc)
//   Q5_K: as Q4_K, with q_e the 5-bit quant (low nibble | fifth bit << 4).
//   Q6_K, per super-block:  isum = sum_s sc_s * (sum_{e in s} q_e * a_e) - 32 * sum_s sc_s * bsum_s
//                           acc  = fma(float(isum), d_w * d_a, acc)          (s: 16 blocks of 16,
//                                                                             q unsigned 0..63)
// Bounds: |isum| < 8 * 63 * 32 * 31 * 128 (Q4_K, Q5_K) and < 16 * 128 * (16 * 63 + 32) * 128 (Q6_K),
// both below 2^31. float(isum) rounds to nearest even (cvtdq2ps), as Swift's Float(Int32).
// The scalar twin and oracle is ScalarDot.blockedK (Swift), which reads plain ggml rows.
//
// Layout (nk_repack_kx16): rows 16 at a time; for row group g and super-block k the record at
// (g * nb + k) * nk_kx16_record_bytes(type) holds, lane r = row r throughout, with "vector"
// meaning 64 bytes whose bytes 4r..4r+3 are 4 consecutive elements' quants of row r (what one
// vpdpbusd with a broadcast 4-byte activation chunk consumes):
//   Q4_K (2368 bytes): d fp16[16], dmin fp16[16], scales u8[8][16], mins u8[8][16], then 32
//        vectors: vector 8j + t holds qs[32j + 4t .. +3] of each row (low nibbles: elements
//        64j + 4t.., sub-block 2j; high nibbles: elements 64j + 32 + 4t.., sub-block 2j + 1).
//   Q5_K (2880 bytes): the Q4_K record, then 8 vectors: vector t holds qh[4t .. +3] of each
//        row (bit v: the fifth bit of element 32v + 4t.., sub-block v).
//   Q6_K (3392 bytes): d fp16[16], scales int8[8][16][2] (pair m = scales 2m, 2m+1 of row r),
//        then for each half n = 0, 1 of the super-block 24 vectors: 8 qh vectors (vector t
//        holds qh[32n + 4t .. +3]) and 8 + 8 ql vectors (half h: ql[64n + 32h + 4t .. +3]);
//        32 bytes of padding to a 64-byte multiple.
#include "gemm_common.h"

enum { NK_GGML_Q4_K = 12, NK_GGML_Q5_K = 13, NK_GGML_Q6_K = 14 };

size_t nk_kx16_record_bytes(int ggml_type) {
    switch (ggml_type) {
    case NK_GGML_Q4_K: return 64 + 256 + 2048;
    case NK_GGML_Q5_K: return 64 + 256 + 2048 + 512;
    case NK_GGML_Q6_K: return 32 + 256 + 2048 + 1024 + 32;
    default: return 0;
    }
}

// Q4_K's 8 six-bit scales and mins from its 12 bytes (ggml's get_scale_min_k4).
static void nk_q4k_scale_min(const uint8_t *p, uint8_t *sc, uint8_t *mn) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            sc[j] = p[j] & 63;
            mn[j] = p[j + 4] & 63;
        } else {
            sc[j] = (uint8_t)((p[j + 4] & 0xF) | ((p[j - 4] >> 6) << 4));
            mn[j] = (uint8_t)((p[j + 4] >> 4) | ((p[j] >> 6) << 4));
        }
    }
}

// Q4_K, and Q5_K (five = 1: 176-byte blocks, qh[32] before qs, 8 more vectors of qh at 2368).
static void nk_repack_q45k_record(const uint8_t *src, size_t wstride, int64_t k, int five, uint8_t *out) {
    for (int r = 0; r < 16; r++) {
        const uint8_t *b = src + (size_t)r * wstride + (size_t)k * (five ? 176 : 144);
        memcpy(out + 2 * r, b, 2);
        memcpy(out + 32 + 2 * r, b + 2, 2);
        uint8_t sc[8], mn[8];
        nk_q4k_scale_min(b + 4, sc, mn);
        for (int v = 0; v < 8; v++) {
            out[64 + 16 * v + r] = sc[v];
            out[192 + 16 * v + r] = mn[v];
        }
        const uint8_t *qs = b + (five ? 48 : 16);
        for (int j = 0; j < 4; j++)
            for (int t = 0; t < 8; t++) memcpy(out + 320 + 64 * (8 * j + t) + 4 * r, qs + 32 * j + 4 * t, 4);
        if (five)
            for (int t = 0; t < 8; t++) memcpy(out + 2368 + 64 * t + 4 * r, b + 16 + 4 * t, 4);
    }
}

static void nk_repack_q6k_record(const uint8_t *src, size_t wstride, int64_t k, uint8_t *out) {
    memset(out + 3360, 0, 32);
    for (int r = 0; r < 16; r++) {
        const uint8_t *b = src + (size_t)r * wstride + (size_t)k * 210;
        memcpy(out + 2 * r, b + 208, 2);
        for (int m = 0; m < 8; m++) memcpy(out + 32 + 32 * m + 2 * r, b + 192 + 2 * m, 2);
        for (int n = 0; n < 2; n++) {
            uint8_t *qn = out + 288 + 1536 * n;
            for (int t = 0; t < 8; t++) {
                memcpy(qn + 64 * t + 4 * r, b + 128 + 32 * n + 4 * t, 4);                // qh
                for (int h = 0; h < 2; h++)
                    memcpy(qn + 512 * (1 + h) + 64 * t + 4 * r, b + 64 * n + 32 * h + 4 * t, 4);  // ql
            }
        }
    }
}

void nk_repack_kx16(int ggml_type, const uint8_t *src, size_t wstride, int64_t rows, int64_t nb, uint8_t *dst) {
    const size_t rec = nk_kx16_record_bytes(ggml_type);
    if (rec == 0) return;
    for (int64_t g = 0; g < rows / 16; g++) {
        const uint8_t *gs = src + (size_t)(g * 16) * wstride;
        for (int64_t k = 0; k < nb; k++) {
            uint8_t *out = dst + (size_t)(g * nb + k) * rec;
            if (ggml_type == NK_GGML_Q6_K) nk_repack_q6k_record(gs, wstride, k, out);
            else nk_repack_q45k_record(gs, wstride, k, ggml_type == NK_GGML_Q5_K, out);
        }
    }
}

#if defined(__x86_64__)
#define NK_TX __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define NK_XINLINE static inline __attribute__((always_inline)) NK_TX

NK_XINLINE __m512i nk_kx16_bcast(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

NK_XINLINE float nk_kx16_da(const uint8_t *yb) {
    float d;
    memcpy(&d, yb, 4);
    return d;
}

// Products of 8 quant vectors with the 32 activations at a (chunk t at a + 4t), two chains.
NK_XINLINE __m512i nk_kx16_dot8(const __m512i *q, const uint8_t *a) {
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[0], nk_kx16_bcast(a));
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[1], nk_kx16_bcast(a + 4));
    s0 = _mm512_dpbusd_epi32(s0, q[2], nk_kx16_bcast(a + 8));
    s1 = _mm512_dpbusd_epi32(s1, q[3], nk_kx16_bcast(a + 12));
    s0 = _mm512_dpbusd_epi32(s0, q[4], nk_kx16_bcast(a + 16));
    s1 = _mm512_dpbusd_epi32(s1, q[5], nk_kx16_bcast(a + 20));
    s0 = _mm512_dpbusd_epi32(s0, q[6], nk_kx16_bcast(a + 24));
    s1 = _mm512_dpbusd_epi32(s1, q[7], nk_kx16_bcast(a + 28));
    return _mm512_add_epi32(s0, s1);
}

NK_XINLINE __m512i nk_kx16_dot4(const __m512i *q, const uint8_t *a) {
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[0], nk_kx16_bcast(a));
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[1], nk_kx16_bcast(a + 4));
    s0 = _mm512_dpbusd_epi32(s0, q[2], nk_kx16_bcast(a + 8));
    s1 = _mm512_dpbusd_epi32(s1, q[3], nk_kx16_bcast(a + 12));
    return _mm512_add_epi32(s0, s1);
}

// Sub-block v (32 elements; v and nibble h = v % 2 are compile-time constants at every call) of
// a Q4_K record, or of a Q5_K record (five) whose fifth bits (bit v of the qh vectors) go to
// bit 4, into isum[c] += sc_v * dot.
NK_XINLINE void nk_kx16_q45k_sub(int NC, int five, const uint8_t *wr, int v, int h, const uint8_t *const *ab, __m512i *isum) {
    const __m512i low = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10);
    const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wr + 64 + 16 * v)));
    const uint8_t *qv = wr + 320 + 512 * (v / 2);
    __m512i q[8];
    for (int t = 0; t < 8; t++) {
        const __m512i raw = _mm512_loadu_si512((const void *)(qv + 64 * t));
        q[t] = _mm512_and_si512(h ? _mm512_srli_epi16(raw, 4) : raw, low);
        if (five) {
            // 16-bit shifts by at most 4 keep bit v of each byte inside its byte at bit 4, and
            // what crosses from the neighbouring byte never lands on bit 4.
            const __m512i qh = _mm512_loadu_si512((const void *)(wr + 2368 + 64 * t));
            const __m512i hs = v <= 4 ? _mm512_slli_epi16(qh, 4 - v) : _mm512_srli_epi16(qh, v - 4);
            q[t] = _mm512_ternarylogic_epi32(q[t], hs, bit4, 0xF8);  // q | (hs & bit4)
        }
    }
    for (int c = 0; c < NC; c++)
        isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(nk_kx16_dot8(q, ab[c] + 4 + 32 * v), sc));
}

// One 16-row group of Q4_K (five = 0) or Q5_K (five = 1) against NC (<= 8) activation columns
// from c0.
NK_XINLINE void nk_kx16_q45k_tile(int NC, int five, const uint8_t *wg, int64_t nb, const uint8_t *act, float *y,
                                  int64_t ldy, int64_t r0, int64_t c0, size_t pf) {
    const size_t rb = five ? 2880 : 2368, astride = (size_t)nb * 292;
    __m512 acc[8];
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *wr = wg + (size_t)k * rb;
        if (pf) for (size_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)(wr + pf + o), _MM_HINT_T0);
        const uint8_t *ab[8];
        for (int c = 0; c < NC; c++) ab[c] = act + (size_t)(c0 + c) * astride + (size_t)k * 292;
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)wr));
        const __m512 dm = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr + 32)));
        // Mins: lane r = (min_v, min_v) as int16 against the word (bsum[2v], bsum[2v+1]).
        __m512i mp[8];
        for (int v = 0; v < 8; v++) {
            const __m512i m32 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(wr + 192 + 16 * v)));
            mp[v] = _mm512_or_si512(m32, _mm512_slli_epi32(m32, 16));
        }
        __m512i isum[8];
        for (int c = 0; c < NC; c++) {
            __m512i imin = _mm512_setzero_si512();
            for (int v = 0; v < 8; v++) imin = _mm512_dpwssd_epi32(imin, mp[v], nk_kx16_bcast(ab[c] + 260 + 4 * v));
            const __m512 da = _mm512_set1_ps(nk_kx16_da(ab[c]));
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(imin), _mm512_mul_ps(dm, da), acc[c]);
            isum[c] = _mm512_setzero_si512();
        }
        for (int j = 0; j < 4; j++) {
            nk_kx16_q45k_sub(NC, five, wr, 2 * j, 0, ab, isum);
            nk_kx16_q45k_sub(NC, five, wr, 2 * j + 1, 1, ab, isum);
        }
        for (int c = 0; c < NC; c++) {
            const __m512 da = _mm512_set1_ps(nk_kx16_da(ab[c]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(dw, da), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) _mm512_storeu_ps(y + (c0 + c) * ldy + r0, acc[c]);
}

// Elements 128n + 32i .. +31 (sub-blocks 8n + 2i and 8n + 2i + 1; i is a compile-time constant
// at every call) of a Q6_K record into isum[c] += sc_s * dot_s.
NK_XINLINE void nk_kx16_q6k_sub(int NC, const uint8_t *wr, int n, int i, const uint8_t *const *ab, __m512i *isum) {
    const __m512i low = _mm512_set1_epi8(0x0F), hi2 = _mm512_set1_epi8(0x30);
    const int m = 4 * n + i;
    const __m512i sp = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(wr + 32 + 32 * m)));
    const __m512i se = _mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16), so = _mm512_srai_epi32(sp, 16);
    const uint8_t *qh = wr + 288 + 1536 * n, *ql = qh + 512 * (1 + (i & 1));
    __m512i q[8];
    for (int t = 0; t < 8; t++) {
        const __m512i l = _mm512_loadu_si512((const void *)(ql + 64 * t));
        const __m512i h = _mm512_loadu_si512((const void *)(qh + 64 * t));
        const __m512i lo = _mm512_and_si512(i < 2 ? l : _mm512_srli_epi16(l, 4), low);
        // Bits 2i, 2i+1 of qh to bits 4, 5.
        const __m512i hs = i == 0 ? _mm512_slli_epi16(h, 4) : i == 1 ? _mm512_slli_epi16(h, 2)
                         : i == 2 ? h : _mm512_srli_epi16(h, 2);
        q[t] = _mm512_ternarylogic_epi32(lo, hs, hi2, 0xF8);  // lo | (hs & hi2)
    }
    for (int c = 0; c < NC; c++) {
        const uint8_t *a = ab[c] + 4 + 32 * m;
        const __m512i pe = _mm512_mullo_epi32(nk_kx16_dot4(q, a), se);
        const __m512i po = _mm512_mullo_epi32(nk_kx16_dot4(q + 4, a + 16), so);
        isum[c] = _mm512_add_epi32(isum[c], _mm512_add_epi32(pe, po));
    }
}

// One 16-row group of Q6_K against NC (<= 8) activation columns from c0.
NK_XINLINE void nk_kx16_q6k_tile(int NC, const uint8_t *wg, int64_t nb, const uint8_t *act, float *y,
                                 int64_t ldy, int64_t r0, int64_t c0, size_t pf) {
    const size_t rb = 3392, astride = (size_t)nb * 292;
    __m512 acc[8];
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t *wr = wg + (size_t)k * rb;
        if (pf) for (size_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)(wr + pf + o), _MM_HINT_T0);
        const uint8_t *ab[8];
        for (int c = 0; c < NC; c++) ab[c] = act + (size_t)(c0 + c) * astride + (size_t)k * 292;
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)wr));
        __m512i isum[8];
        // The -32 offset: sum_s sc_s * bsum_s, pairs (sc_2m, sc_2m+1) against (bsum[2m], bsum[2m+1]).
        for (int c = 0; c < NC; c++) {
            __m512i corr = _mm512_setzero_si512();
            for (int m = 0; m < 8; m++) {
                const __m512i sp = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(wr + 32 + 32 * m)));
                corr = _mm512_dpwssd_epi32(corr, sp, nk_kx16_bcast(ab[c] + 260 + 4 * m));
            }
            isum[c] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(corr, 5));
        }
        for (int n = 0; n < 2; n++) {
            // i = 0, 2 read ql half 0, i = 1, 3 half 1: the record is read almost in order.
            nk_kx16_q6k_sub(NC, wr, n, 0, ab, isum);
            nk_kx16_q6k_sub(NC, wr, n, 2, ab, isum);
            nk_kx16_q6k_sub(NC, wr, n, 1, ab, isum);
            nk_kx16_q6k_sub(NC, wr, n, 3, ab, isum);
        }
        for (int c = 0; c < NC; c++) {
            const __m512 da = _mm512_set1_ps(nk_kx16_da(ab[c]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(dw, da), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) _mm512_storeu_ps(y + (c0 + c) * ldy + r0, acc[c]);
}

#define NK_KX16_CASES(TILE)                                                                         \
    switch (nc) {                                                                                   \
    case 1: TILE(1, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 2: TILE(2, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 3: TILE(3, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 4: TILE(4, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 5: TILE(5, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 6: TILE(6, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    case 7: TILE(7, wg, nb, act, y, ldy, r, c0, pf); break;                                         \
    default: TILE(8, wg, nb, act, y, ldy, r, c0, pf); break;                                        \
    }

// Columns in chunks of NK_KX16_COL_CHUNK so a chunk's activations stay in L2 while a row
// group's records stay in L1/L2 across the chunk.
#define NK_KX16_COL_CHUNK 64

// w: repacked weights; wstride: ignored; rows [row0, row1) must be multiples of 16.
#define NK_DEFINE_KX16(TILE, RB, NAME)                                                              \
    NK_TX void NAME(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,       \
                    const uint8_t *act, int64_t ncols, float *y, int64_t ldy) {                     \
        (void)wstride;                                                                              \
        const size_t pf = nk_stream_prefetch_bytes();                                               \
        const size_t gbytes = (size_t)nb * (RB);                                                    \
        for (int64_t cc = 0; cc < ncols; cc += NK_KX16_COL_CHUNK) {                                 \
            const int64_t cend = cc + NK_KX16_COL_CHUNK < ncols ? cc + NK_KX16_COL_CHUNK : ncols;   \
            for (int64_t r = row0; r < row1; r += 16) {                                             \
                const uint8_t *wg = w + (size_t)(r / 16) * gbytes;                                  \
                for (int64_t c0 = cc; c0 < cend; c0 += 8) {                                         \
                    const int nc = (int)(cend - c0 < 8 ? cend - c0 : 8);                            \
                    NK_KX16_CASES(TILE)                                                             \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

#define nk_kx16_q4k_tile(NC, ...) nk_kx16_q45k_tile(NC, 0, __VA_ARGS__)
#define nk_kx16_q5k_tile(NC, ...) nk_kx16_q45k_tile(NC, 1, __VA_ARGS__)
NK_DEFINE_KX16(nk_kx16_q4k_tile, 2368, nk_gemm_kx16_q4_K_avx512)
NK_DEFINE_KX16(nk_kx16_q5k_tile, 2880, nk_gemm_kx16_q5_K_avx512)
NK_DEFINE_KX16(nk_kx16_q6k_tile, 3392, nk_gemm_kx16_q6_K_avx512)

nk_gemm_fn nk_gemm_kx16_kernel(int ggml_type) {
    switch (ggml_type) {
    case NK_GGML_Q4_K: return nk_gemm_kx16_q4_K_avx512;
    case NK_GGML_Q5_K: return nk_gemm_kx16_q5_K_avx512;
    case NK_GGML_Q6_K: return nk_gemm_kx16_q6_K_avx512;
    default: return NULL;
    }
}
#else
nk_gemm_fn nk_gemm_kx16_kernel(int ggml_type) { (void)ggml_type; return NULL; }
#endif
