// Rounding fp32 values to the nearest fp16 and back (the KV cache's and the attention query's
// precision), 16 at a time with F16C; the tail and non-x86 builds use the compiler's _Float16,
// which rounds the same way (to nearest, ties to even).
#include "CNimbusKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma,f16c"))) void nk_round_f16_avx2(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) y[i] = (float)(_Float16)x[i];
}
#else
void nk_round_f16_avx2(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)(_Float16)x[i];
}
#endif
