// Q5_0/Q5_1 and K-quant kernels for AVX-512 VNNI CPUs: the 256-bit template with vpdpbusd for
// the unsigned x signed byte dots and vpdpwssd to apply the int16 sub-block scales, so the
// integer lanes are formed in fewer instructions but hold the same exact values.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"
#define NK_SUFFIX _avx512
#define NK_DOT_US(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#define NK_SCALE_ADD(acc, p16, sc16) _mm256_dpwssd_epi32((acc), (p16), (sc16))
#include "kquant256.inc"
#endif
