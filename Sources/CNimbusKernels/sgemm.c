// fp32 GEMM over packed weight panels (see nk_sgemm.h). Each output is an fma chain over k in
// order, so the AVX2 and AVX-512 tiles and the scalar twin produce the same bits; they differ in
// how many outputs they keep in registers at once.
#include "nk_encoder.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define NR NK_SGEMM_NR

// Columns of panel p that exist (the last panel may be partial).
static inline int64_t nk_panel_width(int64_t p, int64_t n_out) {
    int64_t w = n_out - p * NR;
    return w < NR ? w : NR;
}

void nk_sgemm_scalar(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                     int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy) {
    for (int64_t p = p0; p < p1; p++) {
        const float *panel = packed + p * k * NR;
        int64_t width = nk_panel_width(p, n_out);
        for (int64_t i = m0; i < m1; i++) {
            const float *xi = x + i * ldx;
            for (int64_t j = 0; j < width; j++) {
                float acc = bias ? bias[p * NR + j] : 0.0f;
                for (int64_t kk = 0; kk < k; kk++) acc = fmaf(xi[kk], panel[kk * NR + j], acc);
                y[i * ldy + p * NR + j] = acc;
            }
        }
    }
}

#if defined(__x86_64__)

// ---- AVX-512: tiles of up to 8 rows x 2 panels (16 accumulators of 16 lanes). -------------
#define T512 __attribute__((target("avx2,fma,avx512f"), always_inline)) static inline

T512 void nk_tile512(int rows, int panels, const float *x, int64_t ldx, const float *pa, const float *pb,
                     int64_t k, const float *bias, float *y, int64_t ldy, __mmask16 ma, __mmask16 mb) {
    __m512 acc[8][2];
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(ma, bias) : _mm512_setzero_ps();
    __m512 b1 = (bias && panels == 2) ? _mm512_maskz_loadu_ps(mb, bias + NR) : _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) { acc[r][0] = b0; acc[r][1] = b1; }
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 w0 = _mm512_loadu_ps(pa + kk * NR);
        __m512 w1 = panels == 2 ? _mm512_loadu_ps(pb + kk * NR) : w0;
        for (int r = 0; r < rows; r++) {
            __m512 xv = _mm512_set1_ps(x[r * ldx + kk]);
            acc[r][0] = _mm512_fmadd_ps(xv, w0, acc[r][0]);
            if (panels == 2) acc[r][1] = _mm512_fmadd_ps(xv, w1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(y + r * ldy, ma, acc[r][0]);
        if (panels == 2) _mm512_mask_storeu_ps(y + r * ldy + NR, mb, acc[r][1]);
    }
}

// Row counts as constants, so each tile is fully unrolled.
T512 void nk_rows512(int rows, int panels, const float *x, int64_t ldx, const float *pa, const float *pb,
                     int64_t k, const float *bias, float *y, int64_t ldy, __mmask16 ma, __mmask16 mb) {
    switch (rows) {
#define NK_CASE(R) case R: if (panels == 2) nk_tile512(R, 2, x, ldx, pa, pb, k, bias, y, ldy, ma, mb); \
                           else nk_tile512(R, 1, x, ldx, pa, pb, k, bias, y, ldy, ma, mb); break;
        NK_CASE(1) NK_CASE(2) NK_CASE(3) NK_CASE(4) NK_CASE(5) NK_CASE(6) NK_CASE(7) NK_CASE(8)
#undef NK_CASE
    }
}

__attribute__((target("avx2,fma,avx512f")))
void nk_sgemm_avx512(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                     int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy) {
    for (int64_t p = p0; p < p1; p += 2) {
        int panels = p + 1 < p1 ? 2 : 1;
        __mmask16 ma = (__mmask16)((1u << nk_panel_width(p, n_out)) - 1);
        __mmask16 mb = panels == 2 ? (__mmask16)((1u << nk_panel_width(p + 1, n_out)) - 1) : 0;
        const float *pa = packed + p * k * NR, *pb = pa + k * NR;
        const float *b = bias ? bias + p * NR : 0;
        for (int64_t i = m0; i < m1; i += 8) {
            int rows = m1 - i < 8 ? (int)(m1 - i) : 8;
            nk_rows512(rows, panels, x + i * ldx, ldx, pa, pb, k, b, y + i * ldy + p * NR, ldy, ma, mb);
        }
    }
}

// ---- AVX2: tiles of up to 6 rows x 1 panel (12 accumulators of 8 lanes). -------------------
#define T256 __attribute__((target("avx2,fma"), always_inline)) static inline

T256 void nk_tile256(int rows, const float *x, int64_t ldx, const float *pa, int64_t k, const float *bias,
                     int width, float *y, int64_t ldy) {
    __m256 acc[6][2];
    float b[NR] = {0};
    if (bias) for (int j = 0; j < width; j++) b[j] = bias[j];
    for (int r = 0; r < rows; r++) { acc[r][0] = _mm256_loadu_ps(b); acc[r][1] = _mm256_loadu_ps(b + 8); }
    for (int64_t kk = 0; kk < k; kk++) {
        __m256 w0 = _mm256_loadu_ps(pa + kk * NR), w1 = _mm256_loadu_ps(pa + kk * NR + 8);
        for (int r = 0; r < rows; r++) {
            __m256 xv = _mm256_broadcast_ss(x + r * ldx + kk);
            acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        if (width == NR) {
            _mm256_storeu_ps(y + r * ldy, acc[r][0]);
            _mm256_storeu_ps(y + r * ldy + 8, acc[r][1]);
        } else {
            float out[NR];
            _mm256_storeu_ps(out, acc[r][0]);
            _mm256_storeu_ps(out + 8, acc[r][1]);
            for (int j = 0; j < width; j++) y[r * ldy + j] = out[j];
        }
    }
}

__attribute__((target("avx2,fma")))
void nk_sgemm_avx2(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                   int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy) {
    for (int64_t p = p0; p < p1; p++) {
        int width = (int)nk_panel_width(p, n_out);
        const float *pa = packed + p * k * NR;
        const float *b = bias ? bias + p * NR : 0;
        for (int64_t i = m0; i < m1; i += 6) {
            int rows = m1 - i < 6 ? (int)(m1 - i) : 6;
            switch (rows) {
#define NK_CASE(R) case R: nk_tile256(R, x + i * ldx, ldx, pa, k, b, width, y + i * ldy + p * NR, ldy); break;
                NK_CASE(1) NK_CASE(2) NK_CASE(3) NK_CASE(4) NK_CASE(5) NK_CASE(6)
#undef NK_CASE
            }
        }
    }
}

#else

void nk_sgemm_avx2(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                   int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy) {
    nk_sgemm_scalar(x, ldx, m0, m1, packed, k, p0, p1, bias, n_out, y, ldy);
}
void nk_sgemm_avx512(const float *x, int64_t ldx, int64_t m0, int64_t m1, const float *packed, int64_t k,
                     int64_t p0, int64_t p1, const float *bias, int64_t n_out, float *y, int64_t ldy) {
    nk_sgemm_scalar(x, ldx, m0, m1, packed, k, p0, p1, bias, n_out, y, ldy);
}

#endif
