// The softmax of a mixture-of-experts router as ggml-cpu computes a plain ggml_soft_max row on
// an AVX-512 build (ggml_vec_soft_max_f32): 16-lane blocks through ggml_v_expf, each block
// reduced like _mm512_reduce_add_ps and added to a double sum, the tail through libm's expf one
// element at a time, then every value multiplied by the float of 1/sum. Unlike attention's
// softmax, nothing is rounded to fp16 and the tail is not a masked block.
#include "CNimbusKernels.h"
#include "ggml_order.h"
#include <math.h>

void nk_softmax_ggml(float *x, int64_t n) {
    float m = -__builtin_inff();
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    double sum = 0;
    int64_t i = 0;
    for (; i + 15 < n; i += 16) {
        float t[16];
        for (int l = 0; l < 16; l++) t[l] = nk_ggml_expf(x[i + l] - m);
        for (int l = 0; l < 16; l++) x[i + l] = t[l];
        sum += (double)nk_reduce16(t);
    }
    for (; i < n; i++) {
        const float v = expf(x[i] - m);
        sum += (double)v;
        x[i] = v;
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < n; i++) x[i] *= inv;
}
