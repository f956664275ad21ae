// Attention over an fp16-rounded KV cache in the order llama.cpp's AVX-512 CPU build computes
// its non-flash path (kq = mul_mat(k, q); softmax; kqv = mul_mat(v, kq)):
//
//  * batched (a ubatch of >= 2 tokens): both mul_mats run llamafile's tinyBLAS for fp16, which
//    gives every output one 16-lane fp32 accumulator: lane l takes elements l, l+16, l+32, ...
//    by fma, then _mm512_reduce_add_ps.
//  * decode (one token): tinyBLAS declines n < 2 and ggml_vec_dot_f16 runs: 64 slots (four
//    16-lane accumulators over 64-element steps, fma), folded (0+2)+(1+3), then the 16-lane
//    reduction; elements past the last multiple of 64 are added in double.
//  * softmax: exp by ggml_v_expf in 16-wide blocks from position 0, each block reduced in fp32
//    and summed in double, then multiplied by (float)(1/sum).
//
// Positions llama.cpp masks or pads (its cache has a multiple of 256 cells) contribute exact
// zeros, so they are left out here; the lane of a position is still its index mod 16 (or 64).
// The value mix accumulates whole value rows per slot, which vectorizes across the head
// dimension without changing any rounding.
#include "ggml_order.h"

// Keys and values live in a paged cache: position p of a sequence is row p % block_size of block
// p / block_size, and a row's vector for one KV head starts `offset` floats in. Paging changes
// where a row is read from, never the order in which rows are combined.
#define NK_ROW(p) (blocks[(p) / block_size] + ((p) % block_size) * stride + offset)
#define NK_PAGED const float *const *blocks, int64_t block_size, int64_t stride, int64_t offset

// ---------------------------------------------------------------------------------------------
// Portable definitions: the scalar reference of each order, also compiled for AVX2 (where the
// compiler vectorizes the independent lanes; with fp-contract off that cannot change a result).
// ---------------------------------------------------------------------------------------------

#define NK_SCORES_BODY                                                                          \
    for (int64_t p = 0; p < count; p++) {                                                       \
        const float *k = NK_ROW(p);                                                     \
        if (batched && dim % 16 == 0) {                                                         \
            float lane[16] = {0};                                                               \
            for (int64_t d = 0; d < dim; d += 16)                                               \
                for (int l = 0; l < 16; l++) lane[l] = __builtin_fmaf(q[d + l], k[d + l], lane[l]); \
            scores[p] = nk_reduce16(lane);                                                      \
        } else {                                                                                \
            const int64_t whole = dim & ~(int64_t)63;                                           \
            float slot[64] = {0};                                                               \
            for (int64_t d = 0; d < whole; d += 64)                                             \
                for (int s = 0; s < 64; s++) slot[s] = __builtin_fmaf(q[d + s], k[d + s], slot[s]); \
            float lane[16];                                                                     \
            for (int l = 0; l < 16; l++) lane[l] = (slot[l] + slot[32 + l]) + (slot[16 + l] + slot[48 + l]); \
            double sum = whole ? nk_reduce16(lane) : 0.0f;                                      \
            for (int64_t d = whole; d < dim; d++) sum += (double)(q[d] * k[d]);                 \
            scores[p] = (float)sum;                                                             \
        }                                                                                       \
    }

#define NK_MIX_BODY                                                                             \
    const int64_t slots = batched ? 16 : 64;                                                    \
    const int64_t used = count < slots ? count : slots;                                         \
    for (int64_t i = 0; i < used * dim; i++) acc[i] = 0.0f;                                     \
    for (int64_t p = 0; p < count; p++) {                                                       \
        float *a = acc + (p % slots) * dim;                                                     \
        const float *v = NK_ROW(p), w = weights[p];                                   \
        for (int64_t d = 0; d < dim; d++) a[d] = __builtin_fmaf(w, v[d], a[d]);                 \
    }                                                                                           \
    /* Unused slots hold exact zeros in ggml; adding them changes nothing, so they are skipped. */ \
    if (!batched) { /* fold 64 slots to 16: (s + s+32) + (s+16 + s+48) */                       \
        for (int64_t l = 0; l < 16 && l < used; l++) {                                          \
            float *a0 = acc + l * dim;                                                          \
            for (int64_t d = 0; d < dim; d++) {                                                 \
                const float x2 = l + 32 < used ? acc[(l + 32) * dim + d] : 0.0f;                \
                const float x1 = l + 16 < used ? acc[(l + 16) * dim + d] : 0.0f;                \
                const float x3 = l + 48 < used ? acc[(l + 48) * dim + d] : 0.0f;                \
                a0[d] = (a0[d] + x2) + (x1 + x3);                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    const int64_t lanes = used < 16 ? used : 16;                                                \
    for (int64_t d = 0; d < dim; d++) {                                                         \
        float t[16];                                                                            \
        for (int64_t l = 0; l < 16; l++) t[l] = l < lanes ? acc[l * dim + d] : 0.0f;            \
        out[d] = nk_reduce16(t);                                                                \
    }

void nk_attn_scores_scalar(const float *q, NK_PAGED, int64_t count, int64_t dim,
                           int batched, float *scores) {
    NK_SCORES_BODY
}

void nk_attn_mix_scalar(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                        int batched, float *acc, float *out) {
    NK_MIX_BODY
}

#if defined(__x86_64__)
#define NK_T2 __attribute__((target("avx2,fma,f16c")))
#define NK_T5 __attribute__((target("avx2,fma,f16c,avx512f,avx512dq,avx512bw,avx512vl")))

NK_T2 void nk_attn_scores_avx2(const float *q, NK_PAGED, int64_t count, int64_t dim,
                               int batched, float *scores) {
    NK_SCORES_BODY
}

NK_T2 void nk_attn_mix_avx2(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                            int batched, float *acc, float *out) {
    NK_MIX_BODY
}

// GCC's _mm512_reduce_add_ps order, written out so that any compiler gives it.
NK_T5 static inline float nk_reduce512(__m512 v) {
    const __m256 a = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
    const __m128 b = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    const __m128 c = _mm_add_ps(b, _mm_shuffle_ps(b, b, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, _MM_SHUFFLE(1, 1, 1, 1))));
}

NK_T5 void nk_attn_scores_avx512(const float *q, NK_PAGED, int64_t count, int64_t dim,
                                 int batched, float *scores) {
    if (dim % 16 != 0 || (!batched && dim % 64 != 0)) {
        nk_attn_scores_avx2(q, blocks, block_size, stride, offset, count, dim, batched, scores);
        return;
    }
    for (int64_t p = 0; p < count; p++) {
        const float *k = NK_ROW(p);
        if (batched) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t d = 0; d < dim; d += 16)
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(k + d), acc);
            scores[p] = nk_reduce512(acc);
        } else {
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (int64_t d = 0; d < dim; d += 64) {
                s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(k + d), s0);
                s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d + 16), _mm512_loadu_ps(k + d + 16), s1);
                s2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d + 32), _mm512_loadu_ps(k + d + 32), s2);
                s3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d + 48), _mm512_loadu_ps(k + d + 48), s3);
            }
            scores[p] = nk_reduce512(_mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3)));
        }
    }
}

NK_T5 void nk_attn_mix_avx512(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                              int batched, float *acc, float *out) {
    if (dim % 16 != 0) {
        nk_attn_mix_avx2(weights, blocks, block_size, stride, offset, count, dim, batched, acc, out);
        return;
    }
    const int64_t slots = batched ? 16 : 64;
    const int64_t used = count < slots ? count : slots;
    const __m512 zero = _mm512_setzero_ps();
    // A slot's first position starts from ggml's zeroed accumulator: fma(w, v, 0) written
    // directly, with no memset and no load (bit-identical, -0 products included).
    for (int64_t p = 0; p < used; p++) {
        float *a = acc + p * dim;
        const float *v = NK_ROW(p);
        const __m512 w = _mm512_set1_ps(weights[p]);
        for (int64_t d = 0; d < dim; d += 16) _mm512_storeu_ps(a + d, _mm512_fmadd_ps(w, _mm512_loadu_ps(v + d), zero));
    }
    for (int64_t p = used; p < count; p++) {
        float *a = acc + (p % slots) * dim;
        const float *v = NK_ROW(p);
        const __m512 w = _mm512_set1_ps(weights[p]);
        for (int64_t d = 0; d < dim; d += 16)
            _mm512_storeu_ps(a + d, _mm512_fmadd_ps(w, _mm512_loadu_ps(v + d), _mm512_loadu_ps(a + d)));
    }
    for (int64_t d = 0; d < dim; d += 16) {
        // Row l of the slot table is lane l of ggml's accumulator(s) for these 16 outputs.
#define NK_SLOT(s) ((s) < used ? _mm512_loadu_ps(acc + (s) * dim + d) : zero)
        __m512 t[16];
        for (int l = 0; l < 16; l++)
            t[l] = batched ? NK_SLOT(l)
                           : _mm512_add_ps(_mm512_add_ps(NK_SLOT(l), NK_SLOT(l + 32)),
                                           _mm512_add_ps(NK_SLOT(l + 16), NK_SLOT(l + 48)));
#undef NK_SLOT
        for (int l = 0; l < 8; l++) t[l] = _mm512_add_ps(t[l + 8], t[l]);
        for (int l = 0; l < 4; l++) t[l] = _mm512_add_ps(t[l + 4], t[l]);
        _mm512_storeu_ps(out + d, _mm512_add_ps(_mm512_add_ps(t[0], t[2]), _mm512_add_ps(t[1], t[3])));
    }
}

// ggml_v_expf, AVX-512 build, for 16 lanes.
NK_T5 static inline __m512 nk_expf512(__m512 x) {
    const __m512 shift = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shift);
    const __m512 n = _mm512_sub_ps(z, shift);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 hi = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                                      _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f)));
    const __m512 j = _mm512_fmadd_ps(hi, u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    const __m512 r = _mm512_scalef_ps(j, n);
    if (!big) return r;
    const __m512 zero = _mm512_setzero_ps();
    const __m512 saturated = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(__builtin_inff()), zero);
    return _mm512_mask_blend_ps(big, r, saturated);
}

NK_T5 void nk_attn_softmax_avx512(float *x, int64_t count, float scale) {
    float m = -__builtin_inff();
    for (int64_t i = 0; i < count; i++) {
        x[i] *= scale;
        m = x[i] > m ? x[i] : m;
    }
    const __m512 vm = _mm512_set1_ps(m);
    double sum = 0;
    int64_t i = 0;
    for (; i < count; i += 16) {
        // The last block is partial: ggml's masked lanes are exp(-inf) = 0.
        const __mmask16 k = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        const __m512 e = _mm512_maskz_mov_ps(k, nk_expf512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm)));
        _mm512_mask_storeu_ps(x + i, k, e);
        sum += (double)nk_reduce512(e);
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < count; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i] * inv, _MM_FROUND_TO_NEAREST_INT));
}

NK_T5 void nk_swiglu_avx512(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        const __m512 g = _mm512_loadu_ps(gate + i);
        const __m512 e = nk_expf512(_mm512_sub_ps(_mm512_setzero_ps(), g));
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}
#else
void nk_attn_scores_avx2(const float *q, NK_PAGED, int64_t count, int64_t dim,
                         int batched, float *scores) { nk_attn_scores_scalar(q, blocks, block_size, stride, offset, count, dim, batched, scores); }
void nk_attn_mix_avx2(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                      int batched, float *acc, float *out) { nk_attn_mix_scalar(weights, blocks, block_size, stride, offset, count, dim, batched, acc, out); }
void nk_attn_scores_avx512(const float *q, NK_PAGED, int64_t count, int64_t dim,
                           int batched, float *scores) { nk_attn_scores_scalar(q, blocks, block_size, stride, offset, count, dim, batched, scores); }
void nk_attn_mix_avx512(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                        int batched, float *acc, float *out) { nk_attn_mix_scalar(weights, blocks, block_size, stride, offset, count, dim, batched, acc, out); }
void nk_attn_softmax_avx512(float *x, int64_t count, float scale) { nk_attn_softmax_scalar(x, count, scale); }
void nk_swiglu_avx512(float *gate, const float *up, int64_t n) { nk_swiglu_scalar(gate, up, n); }
#endif

// Portable twins of the two exp-based kernels (no vscalefps needed: ldexpf rounds once too).
void nk_attn_softmax_scalar(float *x, int64_t count, float scale) {
    float m = -__builtin_inff();
    for (int64_t i = 0; i < count; i++) {
        x[i] *= scale;
        m = x[i] > m ? x[i] : m;
    }
    double sum = 0;
    for (int64_t i = 0; i < count; i += 16) {
        float t[16];
        for (int64_t l = 0; l < 16; l++) t[l] = i + l < count ? nk_ggml_expf(x[i + l] - m) : 0.0f;
        for (int64_t l = 0; l < 16 && i + l < count; l++) x[i + l] = t[l];
        sum += (double)nk_reduce16(t);
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < count; i++) x[i] = (float)(_Float16)(x[i] * inv);
}

void nk_swiglu_scalar(float *gate, const float *up, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            const float g = gate[i + l];
            gate[i + l] = g / (1.0f + nk_ggml_expf(0.0f - g)) * up[i + l];
        }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}
