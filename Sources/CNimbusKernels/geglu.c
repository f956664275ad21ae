// GeGLU as ggml-cpu computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16): gelu(x) is looked up
// in a table of every fp16 value, so the input is rounded to fp16 and the result is an fp16
// value, then multiplied by the up projection in fp32. The table entries are ggml_gelu_f32 as
// GCC compiles it on an FMA machine: `1 + GELU_COEF_A*x*x` becomes one fma (it changes one
// entry of the 65,536 against the uncontracted expression).
#include "CNimbusKernels.h"
#include <math.h>
#include <pthread.h>
#include <string.h>

static uint16_t nk_gelu_table[1 << 16];
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
        const _Float16 r = (_Float16)g;
        memcpy(&nk_gelu_table[i], &r, sizeof r);
    }
}

void nk_geglu(float *gate, const float *up, int64_t n) {
    pthread_once(&nk_gelu_once, nk_gelu_table_init);
    for (int64_t i = 0; i < n; i++) {
        const float x = gate[i];
        if (x <= -10.0f) {
            gate[i] = 0.0f;
        } else if (x >= 10.0f) {
            gate[i] = x * up[i];
        } else {
            const _Float16 h = (_Float16)x;
            uint16_t bits;
            memcpy(&bits, &h, sizeof bits);
            _Float16 g;
            memcpy(&g, &nk_gelu_table[bits], sizeof g);
            gate[i] = (float)g * up[i];
        }
    }
}
