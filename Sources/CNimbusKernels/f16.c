// fp16 helpers for attention over an fp16 KV cache, in ggml's AVX-512 vec_dot_f16 order:
// four 16-lane fp32 accumulators over 64-element steps (fma), folded as (0+2),(1+3), then
// (0+1), then a halving tree over the 16 lanes; leftover elements are added in double.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_T2 __attribute__((target("avx2,fma,f16c")))
#define NK_T5 __attribute__((target("avx2,fma,f16c,avx512f")))

static inline float nk_tree16(const float *t) {
    float a[8], b[4];
    for (int i = 0; i < 8; i++) a[i] = t[i + 8] + t[i];
    for (int i = 0; i < 4; i++) b[i] = a[i + 4] + a[i];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

static inline float nk_f16_tail(float head, const uint16_t *x, const uint16_t *y, int64_t i, int64_t n) {
    double sum = head;
    for (; i < n; i++) {
        float xf, yf;
        const uint8_t *px = (const uint8_t *)(x + i), *py = (const uint8_t *)(y + i);
        xf = nk_h2f(px);
        yf = nk_h2f(py);
        sum += (double)(xf * yf);
    }
    return (float)sum;
}

NK_T5 float nk_dot_f16_avx512(const uint16_t *x, const uint16_t *y, int64_t n) {
    const int64_t np = n & ~(int64_t)63;
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) {
            const __m512 ax = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i + 16 * j)));
            const __m512 ay = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(y + i + 16 * j)));
            s[j] = _mm512_fmadd_ps(ax, ay, s[j]);
        }
    s[0] = _mm512_add_ps(s[0], s[2]);
    s[1] = _mm512_add_ps(s[1], s[3]);
    s[0] = _mm512_add_ps(s[0], s[1]);
    float t[16];
    _mm512_storeu_ps(t, s[0]);
    return nk_f16_tail(np ? nk_tree16(t) : 0.0f, x, y, np, n);
}

NK_T2 float nk_dot_f16_avx2(const uint16_t *x, const uint16_t *y, int64_t n) {
    const int64_t np = n & ~(int64_t)63;
    __m256 s[8];
    for (int j = 0; j < 8; j++) s[j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 8; j++) {
            const __m256 ax = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8 * j)));
            const __m256 ay = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i + 8 * j)));
            s[j] = _mm256_fmadd_ps(ax, ay, s[j]);
        }
    // s[2j], s[2j+1] are the low/high halves of the 16-lane accumulator j.
    for (int h = 0; h < 2; h++) {
        s[h] = _mm256_add_ps(s[h], s[4 + h]);
        s[2 + h] = _mm256_add_ps(s[2 + h], s[6 + h]);
        s[h] = _mm256_add_ps(s[h], s[2 + h]);
    }
    float t[16];
    _mm256_storeu_ps(t, s[0]);
    _mm256_storeu_ps(t + 8, s[1]);
    return nk_f16_tail(np ? nk_tree16(t) : 0.0f, x, y, np, n);
}

NK_T2 void nk_axpy_f16_avx2(uint16_t *y, const uint16_t *x, float v, int64_t n) {
    const __m256 vv = _mm256_set1_ps(v);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 ax = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        const __m256 ay = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(y + i)));
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_fmadd_ps(ax, vv, ay), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) {
        const float r = __builtin_fmaf(_cvtsh_ss(x[i]), v, _cvtsh_ss(y[i]));
        y[i] = _cvtss_sh(r, _MM_FROUND_TO_NEAREST_INT);
    }
}

NK_T2 void nk_f32_to_f16_avx2(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

NK_T2 void nk_f16_to_f32_avx2(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) y[i] = _cvtsh_ss(x[i]);
}
#else
float nk_dot_f16_avx512(const uint16_t *x, const uint16_t *y, int64_t n) { (void)x; (void)y; (void)n; return 0; }
float nk_dot_f16_avx2(const uint16_t *x, const uint16_t *y, int64_t n) { (void)x; (void)y; (void)n; return 0; }
void nk_axpy_f16_avx2(uint16_t *y, const uint16_t *x, float v, int64_t n) { (void)y; (void)x; (void)v; (void)n; }
void nk_f32_to_f16_avx2(const float *x, uint16_t *y, int64_t n) { (void)x; (void)y; (void)n; }
void nk_f16_to_f32_avx2(const uint16_t *x, float *y, int64_t n) { (void)x; (void)y; (void)n; }
#endif
