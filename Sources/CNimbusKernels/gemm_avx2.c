// AVX2 + FMA + F16C kernels (Haswell and later, Zen 1 and later).
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_TARGET "avx2,fma,f16c"
#define NK_SUFFIX _avx2
// maddubs gives pairwise int16 sums (no saturation: |u| <= 15 or u = |w| <= 128 against
// |s| <= 127 keeps each pair within 2 * 128 * 127 < 32767), madd with ones widens to int32.
#define NK_DOT_US(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
#include "gemm256.inc"

NK_DEFINE_GEMM256(NK_Q4_0, nk_gemm_q4_0)
NK_DEFINE_GEMM256(NK_Q4_1, nk_gemm_q4_1)
NK_DEFINE_GEMM256(NK_Q8_0, nk_gemm_q8_0)
#endif
