// Q5_0/Q5_1 and K-quant kernels for AVX2 + FMA + F16C CPUs (ggml's own instruction choice).
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_TARGET "avx2,fma,f16c"
#define NK_SUFFIX _avx2
#define NK_DOT_US(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
#define NK_SCALE_ADD(acc, p16, sc16) _mm256_add_epi32((acc), _mm256_madd_epi16((sc16), (p16)))
#include "kquant256.inc"
#endif
