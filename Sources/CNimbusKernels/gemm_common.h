// Private helpers shared by the kernel files.
#ifndef NK_GEMM_COMMON_H
#define NK_GEMM_COMMON_H

#include "CNimbusKernels.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

enum { NK_Q4_0 = 0, NK_Q4_1 = 1, NK_Q8_0 = 2 };

static inline size_t nk_block_bytes(int kind) {
    return kind == NK_Q4_0 ? 18 : kind == NK_Q4_1 ? 20 : 34;
}

// Exact IEEE half -> float without F16C, so it can be used from any target.
static inline float nk_h2f(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {  // subnormal: normalise
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000 | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// ggml's hsum_float_8 order: ((t0+t4)+(t2+t6)) + ((t1+t5)+(t3+t7)). The C target is compiled
// with -ffp-contract=off and without fast-math, so this is evaluated exactly as written.
static inline float nk_hsum8(const float *t) {
    const float r0 = t[0] + t[4], r1 = t[1] + t[5], r2 = t[2] + t[6], r3 = t[3] + t[7];
    return (r0 + r2) + (r1 + r3);
}

// ggml's `summs += m * s` is contracted to an FMA by the compilers llama.cpp is built with.
static inline float nk_fmaf(float a, float b, float c) { return __builtin_fmaf(a, b, c); }

// Single-column kernels (gemv_avx512.c): y[r] for rows [row0, row1), activation column 0.
void nk_gemv_q4_0_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                         const uint8_t *act, float *y);
void nk_gemv_q4_1_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                         const uint8_t *act, float *y);
void nk_gemv_q8_0_avx512(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1, int64_t nb,
                         const uint8_t *act, float *y);

#endif
