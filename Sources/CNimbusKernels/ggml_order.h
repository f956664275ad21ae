// Private helpers that spell out the rounding steps of ggml-cpu's AVX-512 build, shared by the
// attention and activation kernels. The C target is compiled with -ffp-contract=off, so every
// expression below rounds exactly where it is written.
#ifndef NK_GGML_ORDER_H
#define NK_GGML_ORDER_H

#include "gemm_common.h"

// GCC's _mm512_reduce_add_ps (llama.cpp's x86 builds use GCC): add the 256-bit halves, then the
// 128-bit halves, then lanes {0,1}+{2,3}, then lane 0 + lane 1.
static inline float nk_reduce16(const float *t) {
    float a[8], b[4];
    for (int i = 0; i < 8; i++) a[i] = t[i + 8] + t[i];
    for (int i = 0; i < 4; i++) b[i] = a[i + 4] + a[i];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

// ggml_v_expf (AVX-512 build) for one lane: Arm's optimized-routines polynomial, scaled by
// 2^n with vscalefps (one rounding, gradual underflow). Inputs with |n| > 192 saturate to 0 or
// inf; NaN never reaches it in our use.
static inline float nk_ggml_expf(float x) {
    const float shift = 0x1.8p23f;
    const float z = __builtin_fmaf(x, 0x1.715476p+0f, shift);
    const float n = z - shift;
    const float b = __builtin_fmaf(-n, 0x1.7f7d1cp-20f, __builtin_fmaf(-n, 0x1.62e4p-1f, x));
    if (__builtin_fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : __builtin_inff();
    const float u = b * b;
    const float hi = __builtin_fmaf(__builtin_fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    __builtin_fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f));
    const float j = __builtin_fmaf(hi, u, __builtin_fmaf(0x1.ffffecp-1f, b, 1.0f));
    return __builtin_ldexpf(j, (int)n);
}

#endif
