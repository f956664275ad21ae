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

// Keys and values live in a paged cache of fp16 bits (converting fp16 to fp32 is exact, so the
// format changes bytes read, not results): position p of a sequence is row p % block_size of block
// p / block_size, and a row's vector for one KV head starts `offset` floats in. Paging changes
// where a row is read from, never the order in which rows are combined.
#define NK_ROW(p) (blocks[(p) / block_size] + ((p) % block_size) * stride + offset)
#define NK_PAGED const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset

// ---------------------------------------------------------------------------------------------
// Portable definitions: the scalar reference of each order, also compiled for AVX2 (where the
// compiler vectorizes the independent lanes; with fp-contract off that cannot change a result).
// ---------------------------------------------------------------------------------------------

#define NK_SCORES_BODY                                                                          \
    for (int64_t p = 0; p < count; p++) {                                                       \
        const uint16_t *k = NK_ROW(p);                                                  \
        if (batched && dim % 16 == 0) {                                                         \
            float lane[16] = {0};                                                               \
            for (int64_t d = 0; d < dim; d += 16)                                               \
                for (int l = 0; l < 16; l++) lane[l] = __builtin_fmaf(q[d + l], NK_HALF(k[d + l]), lane[l]); \
            scores[p] = nk_reduce16(lane);                                                      \
        } else {                                                                                \
            const int64_t whole = dim & ~(int64_t)63;                                           \
            float slot[64] = {0};                                                               \
            for (int64_t d = 0; d < whole; d += 64)                                             \
                for (int s = 0; s < 64; s++) slot[s] = __builtin_fmaf(q[d + s], NK_HALF(k[d + s]), slot[s]); \
            float lane[16];                                                                     \
            for (int l = 0; l < 16; l++) lane[l] = (slot[l] + slot[32 + l]) + (slot[16 + l] + slot[48 + l]); \
            double sum = whole ? nk_reduce16(lane) : 0.0f;                                      \
            for (int64_t d = whole; d < dim; d++) sum += (double)(q[d] * NK_HALF(k[d]));        \
            scores[p] = (float)sum;                                                             \
        }                                                                                       \
    }

#define NK_MIX_BODY                                                                             \
    const int64_t slots = batched ? 16 : 64;                                                    \
    const int64_t used = count < slots ? count : slots;                                         \
    for (int64_t i = 0; i < used * dim; i++) acc[i] = 0.0f;                                     \
    for (int64_t p = 0; p < count; p++) {                                                       \
        float *a = acc + (p % slots) * dim;                                                     \
        const uint16_t *v = NK_ROW(p); const float w = weights[p];                     \
        for (int64_t d = 0; d < dim; d++) a[d] = __builtin_fmaf(w, NK_HALF(v[d]), a[d]);        \
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

// fp16 bits to float, exact: the portable conversion here, F16C in the AVX2 build below.
static inline float nk_half_bits(uint16_t h) { return nk_h2f((const uint8_t *)&h); }
#define NK_HALF(h) nk_half_bits(h)
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
#undef NK_HALF
#define NK_HALF(h) _cvtsh_ss(h)

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

// A walk over paged rows without a division per position: (block, row in block) advanced by
// `step` positions at a time.
typedef struct { const uint16_t *const *blocks; int64_t block_size, stride, offset, block, row; } nk_rows;

static inline nk_rows nk_rows_at(NK_PAGED, int64_t p) {
    nk_rows r = {blocks, block_size, stride, offset, p / block_size, p % block_size};
    return r;
}
static inline const uint16_t *nk_rows_ptr(const nk_rows *r) {
    return r->blocks[r->block] + r->row * r->stride + r->offset;
}
static inline void nk_rows_advance(nk_rows *r, int64_t step) {
    r->row += step;
    while (r->row >= r->block_size) { r->row -= r->block_size; r->block++; }
}

// 16 reductions at once in _mm512_reduce_add_ps's tree (lanes l + l+8, then l + l+4, then
// {0,1} + {2,3}, then 0 + 1): each stage adds the same pairs as nk_reduce512 does for one
// vector, only transposed across the 16 inputs, so every result has the same bits. Result p
// lands in lane p.
NK_T5 static inline __m512 nk_reduce512x16(const __m512 *v) {
    __m512 s1[8], s2[4], s3[2];
    for (int i = 0; i < 8; i++)
        s1[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int j = 0; j < 4; j++)  // quarters: inputs 4j .. 4j+3, 4 lanes each
        s2[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s1[2 * j], s1[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_shuffle_f32x4(s1[2 * j], s1[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    for (int m = 0; m < 2; m++)  // quarter q: [c0, c1] of input 8m+q, then of input 8m+4+q
        s3[m] = _mm512_add_ps(_mm512_shuffle_ps(s2[2 * m], s2[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_ps(s2[2 * m], s2[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    // Quarter q, lane k: input q + 4k.
    const __m512 r = _mm512_add_ps(_mm512_shuffle_ps(s3[0], s3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(s3[0], s3[1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), r);
}

// 16 fp16 values as floats (exact).
#define NK_LOADH(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))

// Query heads one kernel call serves together (grouped-query attention: the heads that share a
// KV head read each key and value row once); more heads run one at a time.
#define NK_GROUP_MAX NK_ATTN_GROUP_MAX
// The widest head the grouped kernels take (Gemma's 256); wider ones run one head at a time.
#define NK_DIM_MAX 256

// One position's pre-reduction vector from its key row `kv` (nv vectors of 16): tinyBLAS's
// single 16-lane chain (batched) or vec_dot_f16's four chains over 64-element steps folded
// (0+2)+(1+3) (decode, dim a multiple of 64).
NK_T5 static inline __m512 nk_score_lanes(const float *q, const __m512 *kv, int64_t nv, int batched) {
    if (batched) {
        __m512 acc = _mm512_setzero_ps();
        for (int64_t j = 0; j < nv; j++) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * j), kv[j], acc);
        return acc;
    }
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t j = 0; j < nv; j += 4) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * j), kv[j], s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * j + 16), kv[j + 1], s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * j + 32), kv[j + 2], s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * j + 48), kv[j + 3], s3);
    }
    return _mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3));
}

// The loops over heads and 16-wide chunks have compile-time bounds in the common shapes (see the
// dispatch below), so the accumulators stay in registers.
NK_T5 static inline __attribute__((always_inline)) void nk_scores_group(const float *q, const int64_t nq, const int64_t nv, NK_PAGED,
                                                                      int64_t count, int64_t dim, int batched, float *scores,
                                                                      int64_t sstride) {
    nk_rows rows = nk_rows_at(blocks, block_size, stride, offset, 0);
    int64_t p = 0;
    for (; p + 16 <= count; p += 16) {
        __m512 lanes[NK_GROUP_MAX][16];
        for (int i = 0; i < 16; i++) {
            const uint16_t *k = nk_rows_ptr(&rows);
            __m512 kv[NK_DIM_MAX / 16];
            for (int64_t j = 0; j < nv; j++) kv[j] = NK_LOADH(k + 16 * j);
            for (int64_t h = 0; h < nq; h++) lanes[h][i] = nk_score_lanes(q + h * dim, kv, nv, batched);
            nk_rows_advance(&rows, 1);
        }
        for (int64_t h = 0; h < nq; h++) _mm512_storeu_ps(scores + h * sstride + p, nk_reduce512x16(lanes[h]));
    }
    for (; p < count; p++) {
        const uint16_t *k = nk_rows_ptr(&rows);
        __m512 kv[NK_DIM_MAX / 16];
        for (int64_t j = 0; j < nv; j++) kv[j] = NK_LOADH(k + 16 * j);
        for (int64_t h = 0; h < nq; h++) scores[h * sstride + p] = nk_reduce512(nk_score_lanes(q + h * dim, kv, nv, batched));
        nk_rows_advance(&rows, 1);
    }
}

NK_T5 void nk_attn_scores_group_avx512(const float *q, int64_t nq, NK_PAGED, int64_t count, int64_t dim,
                                       int batched, float *scores, int64_t sstride) {
    if (dim % 16 != 0 || dim > NK_DIM_MAX || (!batched && dim % 64 != 0) || nq > NK_GROUP_MAX) {
        for (int64_t h = 0; h < nq; h++)
            nk_attn_scores_avx2(q + h * dim, blocks, block_size, stride, offset, count, dim, batched, scores + h * sstride);
        return;
    }
#define NK_SCORES(NQ, NV) nk_scores_group(q, NQ, NV, blocks, block_size, stride, offset, count, dim, batched, scores, sstride)
    if (dim == 64 && nq == 1) NK_SCORES(1, 4);
    else if (dim == 64 && nq == 2) NK_SCORES(2, 4);
    else if (dim == 64 && nq == 3) NK_SCORES(3, 4);
    else if (dim == 64 && nq == 4) NK_SCORES(4, 4);
    else if (dim == 128 && nq == 1) NK_SCORES(1, 8);
    else if (dim == 128 && nq == 2) NK_SCORES(2, 8);
    else if (dim == 128 && nq == 3) NK_SCORES(3, 8);
    else if (dim == 128 && nq == 4) NK_SCORES(4, 8);
    else if (dim == 256 && nq == 4) NK_SCORES(4, 16);
    else NK_SCORES(nq, dim / 16);
#undef NK_SCORES
}

NK_T5 void nk_attn_scores_avx512(const float *q, NK_PAGED, int64_t count, int64_t dim,
                                 int batched, float *scores) {
    nk_attn_scores_group_avx512(q, 1, blocks, block_size, stride, offset, count, dim, batched, scores, count);
}

// Folds one head's slot table (`used` rows of dim floats) into its output: 64 decode slots to 16
// as (s + s+32) + (s+16 + s+48), then the 16-lane reduction tree, per 16 outputs.
NK_T5 static void nk_mix_fold(const float *acc, int64_t used, int64_t dim, int batched, float *out) {
    const __m512 zero = _mm512_setzero_ps();
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

// Slot by slot, its positions s, s + slots, ... in increasing order, with the slot's
// accumulators in registers: the same fma chain per slot as ggml's position-major loop (a slot's
// first position starts from its zeroed accumulator: fma(w, v, 0)). Head h's slot table is
// acc + h * slots * dim. Compile-time nq and nv in the common shapes keep `a` in registers.
NK_T5 static inline __attribute__((always_inline)) void nk_mix_slots(const float *weights, int64_t wstride, const int64_t nq,
                                                                   const int64_t nv, NK_PAGED, int64_t count, int64_t slots,
                                                                   int64_t used, int64_t dim, int64_t d0, float *acc) {
    for (int64_t s = 0; s < used; s++) {
        __m512 a[NK_GROUP_MAX][8];
        for (int64_t h = 0; h < nq; h++)
            for (int64_t j = 0; j < nv; j++) a[h][j] = _mm512_setzero_ps();
        nk_rows rows = nk_rows_at(blocks, block_size, stride, offset + d0, s);
        for (int64_t p = s; p < count; p += slots) {
            const uint16_t *v = nk_rows_ptr(&rows);
            __m512 vv[8];
            for (int64_t j = 0; j < nv; j++) vv[j] = NK_LOADH(v + 16 * j);
            for (int64_t h = 0; h < nq; h++) {
                const __m512 w = _mm512_set1_ps(weights[h * wstride + p]);
                for (int64_t j = 0; j < nv; j++) a[h][j] = _mm512_fmadd_ps(w, vv[j], a[h][j]);
            }
            nk_rows_advance(&rows, slots);
        }
        for (int64_t h = 0; h < nq; h++)
            for (int64_t j = 0; j < nv; j++) _mm512_storeu_ps(acc + (h * slots + s) * dim + d0 + 16 * j, a[h][j]);
    }
}

NK_T5 void nk_attn_mix_group_avx512(const float *weights, int64_t wstride, int64_t nq, NK_PAGED, int64_t count,
                                    int64_t dim, int batched, float *acc, float *out) {
    if (dim % 16 != 0 || dim > NK_DIM_MAX || nq > NK_GROUP_MAX) {
        for (int64_t h = 0; h < nq; h++)
            nk_attn_mix_avx2(weights + h * wstride, blocks, block_size, stride, offset, count, dim, batched, acc, out + h * dim);
        return;
    }
    const int64_t slots = batched ? 16 : 64;
    const int64_t used = count < slots ? count : slots;
    // Each output element is its own fma chain, so the head dimension can be taken in chunks
    // that keep nq x chunk accumulators in registers (at most 16 vectors) without changing a bit.
    // Three or four heads take 64 columns at a time (12 or 16 accumulators), so the common head
    // sizes (64, 128, 256) run in the compiled-in shapes below.
    const int64_t chunk = 16 * (nq <= 2 ? 8 : 4);
#define NK_MIX(NQ, NV) nk_mix_slots(weights, wstride, NQ, NV, blocks, block_size, stride, offset, count, slots, used, dim, d0, acc)
    for (int64_t d0 = 0; d0 < dim; d0 += chunk) {
        const int64_t width = dim - d0 < chunk ? dim - d0 : chunk;
        if (width == 64 && nq == 1) NK_MIX(1, 4);
        else if (width == 64 && nq == 2) NK_MIX(2, 4);
        else if (width == 64 && nq == 3) NK_MIX(3, 4);
        else if (width == 64 && nq == 4) NK_MIX(4, 4);
        else if (width == 128 && nq == 1) NK_MIX(1, 8);
        else if (width == 128 && nq == 2) NK_MIX(2, 8);
        else NK_MIX(nq, width / 16);
    }
#undef NK_MIX
    for (int64_t h = 0; h < nq; h++) nk_mix_fold(acc + h * slots * dim, used, dim, batched, out + h * dim);
}

NK_T5 void nk_attn_mix_avx512(const float *weights, NK_PAGED, int64_t count, int64_t dim,
                              int batched, float *acc, float *out) {
    nk_attn_mix_group_avx512(weights, count, 1, blocks, block_size, stride, offset, count, dim, batched, acc, out);
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
void nk_attn_scores_group_avx512(const float *q, int64_t nq, NK_PAGED, int64_t count, int64_t dim,
                                 int batched, float *scores, int64_t sstride) {
    for (int64_t h = 0; h < nq; h++)
        nk_attn_scores_scalar(q + h * dim, blocks, block_size, stride, offset, count, dim, batched, scores + h * sstride);
}
void nk_attn_mix_group_avx512(const float *weights, int64_t wstride, int64_t nq, NK_PAGED, int64_t count,
                              int64_t dim, int batched, float *acc, float *out) {
    for (int64_t h = 0; h < nq; h++)
        nk_attn_mix_scalar(weights + h * wstride, blocks, block_size, stride, offset, count, dim, batched, acc, out + h * dim);
}
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
