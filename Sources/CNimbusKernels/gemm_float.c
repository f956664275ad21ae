// Blocked-order matmul for float weights (F32, F16, BF16) against fp32 activations.
//
// ggml's order rounds the activations to the weight's type first (fp16 for F16, bf16 for BF16)
// and sums in that type's vec_dot order; that is what llama.cpp computes, and NIMBUS_MATMUL_ORDER
// =ggml keeps it. Checkpoints are fine-tunes whose reference is transformers in float32, which
// widens the weights and keeps activations in fp32: rounding activations to bf16 costs ~3
// significant digits per product and flips greedy tokens at gaps transformers would not. So the
// blocked order widens each weight exactly and keeps the activations fp32:
//
//     lane l (0..15):  acc_l = fma(w[16 i + l], x[16 i + l], acc_l)   for i = 0, 1, ...
//     (the last, partial chunk reads zeros past n: fma(0, 0, acc) = acc)
//     then lanes fold in halves: acc_l += acc_{l+8}, += acc_{l+4}, += acc_{l+2}, += acc_{l+1}
//
// Every output follows exactly these operations whatever the tile, the column count or the
// thread split, so batch invariance holds and the scalar twin (ScalarDot.floatBlocked) gives the
// same bits. Tiles are 4 rows x 4 columns: each widened weight vector is used by 4 columns and
// each activation vector by 4 rows.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_FT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define NK_FINLINE static inline __attribute__((always_inline)) NK_FT

enum { NK_FLOAT_F32, NK_FLOAT_F16, NK_FLOAT_BF16 };

// 16 weights from element i of a row (fewer, zero-filled, under mask m), widened exactly.
NK_FINLINE __m512 nk_float_load(int type, const uint8_t *row, int64_t i, __mmask16 m) {
    switch (type) {
    case NK_FLOAT_F32:
        return _mm512_maskz_loadu_ps(m, (const float *)row + i);
    case NK_FLOAT_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i));
    default: {
        const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
    }
    }
}

// The fold the scalar twin repeats: halves, then quarters, eighths and the last pair.
NK_FINLINE float nk_float_fold(__m512 v) {
    float t[16];
    _mm512_storeu_ps(t, v);
    for (int s = 8; s >= 1; s /= 2)
        for (int l = 0; l < s; l++) t[l] = t[l] + t[l + s];
    return t[0];
}

// NR rows (from r) x NC columns (from c) of y.
NK_FINLINE void nk_float_tile(int type, int NR, int NC, const uint8_t *w, size_t wstride, int64_t r, int64_t n,
                              const float *x, int64_t c, float *y, int64_t ldy) {
    __m512 acc[4][4];
    for (int i = 0; i < NR; i++)
        for (int j = 0; j < NC; j++) acc[i][j] = _mm512_setzero_ps();
    const uint8_t *rows[4];
    const float *cols[4];
    for (int i = 0; i < NR; i++) rows[i] = w + (size_t)(r + i) * wstride;
    for (int j = 0; j < NC; j++) cols[j] = x + (c + j) * n;
    for (int64_t k = 0; k < n; k += 16) {
        const __mmask16 m = n - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - k)) - 1);
        __m512 a[4], b[4];
        for (int j = 0; j < NC; j++) a[j] = _mm512_maskz_loadu_ps(m, cols[j] + k);
        for (int i = 0; i < NR; i++) b[i] = nk_float_load(type, rows[i], k, m);
        for (int i = 0; i < NR; i++)
            for (int j = 0; j < NC; j++) acc[i][j] = _mm512_fmadd_ps(b[i], a[j], acc[i][j]);
    }
    for (int i = 0; i < NR; i++)
        for (int j = 0; j < NC; j++) y[(c + j) * ldy + r + i] = nk_float_fold(acc[i][j]);
}

#define NK_FLOAT_COLUMNS(TYPE, NR)                                                                \
    do {                                                                                          \
        int64_t c = 0;                                                                            \
        for (; c + 4 <= ncols; c += 4) nk_float_tile(TYPE, NR, 4, w, wstride, r, n, x, c, y, ldy); \
        for (; c < ncols; c++) nk_float_tile(TYPE, NR, 1, w, wstride, r, n, x, c, y, ldy);        \
    } while (0)

// nk_gemm_fn over rows [row0, row1): `nb` is the column count (a float "block" is one element),
// `act` holds ncols fp32 rows of nb floats.
#define NK_DEFINE_FLOAT(TYPE, NAME)                                                               \
    NK_FT void NAME(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb, \
                          const uint8_t *act, int64_t ncols, float *y, int64_t ldy) {             \
        const float *x = (const float *)act;                                                      \
        const int64_t n = nb;                                                                     \
        int64_t r = row0;                                                                         \
        for (; r + 4 <= row1; r += 4) NK_FLOAT_COLUMNS(TYPE, 4);                                  \
        for (; r < row1; r++) NK_FLOAT_COLUMNS(TYPE, 1);                                          \
    }

NK_DEFINE_FLOAT(NK_FLOAT_F32, nk_gemm_float_f32)
NK_DEFINE_FLOAT(NK_FLOAT_F16, nk_gemm_float_f16)
NK_DEFINE_FLOAT(NK_FLOAT_BF16, nk_gemm_float_bf16)

nk_gemm_fn nk_gemm_float_kernel(int ggml_type) {
    if (!(nk_cpu_features() & NK_CPU_AVX512VNNI)) return NULL;
    switch (ggml_type) {
    case 0: return nk_gemm_float_f32;
    case 1: return nk_gemm_float_f16;
    case 30: return nk_gemm_float_bf16;
    default: return NULL;
    }
}

#else
nk_gemm_fn nk_gemm_float_kernel(int ggml_type) {
    (void)ggml_type;
    return NULL;
}
#endif
