// GELU (erf form) for encoder feed-forward layers; see nk_encoder.h. One plain loop compiled
// three times: clang vectorizes it for AVX2 and AVX-512, and with fp contraction off every
// lane computes exactly what the scalar build computes.
#include "nk_encoder.h"

static inline __attribute__((always_inline)) float nk_gelu1(float v) {
    float x = v * 0.70710678118654752f;
    x = x > 4.0f ? 4.0f : x;
    x = x < -4.0f ? -4.0f : x;
    float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    p = x * p;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return 0.5f * v * (1.0f + p / q);
}

void nk_gelu_scalar(float *x, int64_t n) {
#pragma clang loop vectorize(disable)
    for (int64_t i = 0; i < n; i++) x[i] = nk_gelu1(x[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
void nk_gelu_avx2(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = nk_gelu1(x[i]);
}

__attribute__((target("avx2,fma,avx512f")))
void nk_gelu_avx512(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = nk_gelu1(x[i]);
}
#else
void nk_gelu_avx2(float *x, int64_t n) { nk_gelu_scalar(x, n); }
void nk_gelu_avx512(float *x, int64_t n) { nk_gelu_scalar(x, n); }
#endif
