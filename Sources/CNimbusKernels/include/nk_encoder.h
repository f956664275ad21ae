#ifndef NK_ENCODER_H
#define NK_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// fp32 GEMM for encoder models: y[i][n] = bias[n] + sum_k x[i][k] * W[n][k].
//
// W (n_out x k, PyTorch's Linear layout) is packed once at load into panels of NK_SGEMM_NR
// output columns: panel p holds k rows of NK_SGEMM_NR floats, packed[(p * k + kk) * NR + j] =
// W[p * NR + j][kk] (zero past n_out). Every output is one fma chain over kk in order, started
// from the bias (or 0), so the SIMD kernels and the scalar twin give identical bits.
// ---------------------------------------------------------------------------------------------
#define NK_SGEMM_NR 16

/// Computes rows [m0, m1) of x (row i at x + i * ldx, k floats) against panels [p0, p1), writing
/// y[i * ldy + n] for the columns n < n_out those panels cover. bias may be NULL.
typedef void (*nk_sgemm_fn)(const float *x, int64_t ldx, int64_t m0, int64_t m1,
                            const float *packed, int64_t k, int64_t p0, int64_t p1,
                            const float *bias, int64_t n_out, float *y, int64_t ldy);

void nk_sgemm_scalar(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                     int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy);
void nk_sgemm_avx2(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                   int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy);
void nk_sgemm_avx512(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                     int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy);

// ---------------------------------------------------------------------------------------------
// GELU, erf form: x[i] = 0.5 x (1 + erf(x / sqrt 2)) in place, with Eigen's rational erf (odd
// degree-13 over even degree-8 on [-4, 4]; within 5e-7 of the exact erf). The same operations in
// the same order on every path (no fma contraction), so all give identical bits.
// ---------------------------------------------------------------------------------------------
void nk_gelu_scalar(float *x, int64_t n);
void nk_gelu_avx2(float *x, int64_t n);
void nk_gelu_avx512(float *x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
