// GeGLU as ggml-cpu computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16): gelu(x) is looked up
// in a table of every fp16 value, so the input is rounded to fp16 and the result is an fp16
// value, then multiplied by the up projection in fp32. The table entries are ggml_gelu_f32 as
// GCC compiles it on an FMA machine: `1 + GELU_COEF_A*x*x` becomes one fma (it changes one
// entry of the 65,536 against the uncontracted expression).
#include "CNimbusKernels.h"
#include <math.h>
#include <pthread.h>
#include <string.h>

// Indexed by the fp16 bits of the input; entries are the fp16 results, widened to float once.
static float nk_gelu_table[1 << 16];
static pthread_once_t nk_gelu_once = PTHREAD_ONCE_INIT;

static void nk_gelu_table_init(void) {
    const float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    const float coef_a = 0.044715f;
    for (uint32_t i = 0; i < (1u << 16); i++) {
        const uint16_t bits = (uint16_t)i;
        _Float16 h;
        memcpy(&h, &bits, sizeof h);
        const float x = (float)h;
        const float inner = fmaf(coef_a * x, x, 1.0f);
        const float g = 0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * x * inner));
        nk_gelu_table[i] = (float)(_Float16)g;
    }
}

// gelu of one value; `half` rounds a float to fp16 bits (to nearest even) as the caller's CPU can.
#define NK_GELU(x, half) ((x) <= -10.0f ? 0.0f : (x) >= 10.0f ? (x) : nk_gelu_table[half(x)])
#define NK_GEGLU_BODY(half)                              \
    for (int64_t i = 0; i < n; i++) {                  \
        const float x = gate[i];                        \
        gate[i] = NK_GELU(x, half) * up[i];             \
    }
#define NK_GELU_BODY(half)                               \
    for (int64_t i = 0; i < n; i++) {                  \
        const float v = x[i];                           \
        x[i] = NK_GELU(v, half);                        \
    }

static inline uint16_t nk_half_portable(float x) {
    const _Float16 h = (_Float16)x;
    uint16_t bits;
    memcpy(&bits, &h, sizeof bits);
    return bits;
}

static void nk_geglu_portable(float *gate, const float *up, int64_t n) { NK_GEGLU_BODY(nk_half_portable) }
static void nk_gelu_portable(float *x, int64_t n) { NK_GELU_BODY(nk_half_portable) }

#if defined(__x86_64__)
#include <immintrin.h>
#define NK_HALF_F16C(x) ((uint16_t)_cvtss_sh((x), _MM_FROUND_TO_NEAREST_INT))
// Without F16C the compiler converts through a library call per element.
__attribute__((target("f16c"))) static void nk_geglu_f16c(float *gate, const float *up, int64_t n) {
    NK_GEGLU_BODY(NK_HALF_F16C)
}
__attribute__((target("f16c"))) static void nk_gelu_f16c(float *x, int64_t n) { NK_GELU_BODY(NK_HALF_F16C) }
#endif

void nk_geglu(float *gate, const float *up, int64_t n) {
    pthread_once(&nk_gelu_once, nk_gelu_table_init);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("f16c")) {
        nk_geglu_f16c(gate, up, n);
        return;
    }
#endif
    nk_geglu_portable(gate, up, n);
}

void nk_gelu_tanh(float *x, int64_t n) {
    pthread_once(&nk_gelu_once, nk_gelu_table_init);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("f16c")) {
        nk_gelu_f16c(x, n);
        return;
    }
#endif
    nk_gelu_portable(x, n);
}
