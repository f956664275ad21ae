// LoRA update kernels: fp16-stored low-rank matrices against fp32 activations.
// dot:    sum_i fp32(a[i]) * x[i]                       (A's rows times the input row)
// expand: y[o] += sum_j t[j] * fp32(bt[j * outputs + o]) (B, stored transposed, times A x)
// Each output is computed whole by one call in a fixed order, so results never depend on the
// batch; the Swift twins in LoRAKernels are the oracle.
#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_T2 __attribute__((target("avx2,fma,f16c")))
#define NK_T5 __attribute__((target("avx2,fma,f16c,avx512f")))

NK_T5 float nk_lora_dot_avx512(const uint16_t *a, const float *x, int64_t n) {
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 4; j++) {
            const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16 * j)));
            s[j] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + i + 16 * j), s[j]);
        }
    for (; i + 16 <= n; i += 16) {
        const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i)));
        s[0] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + i), s[0]);
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3])));
    for (; i < n; i++) sum += nk_h2f((const uint8_t *)(a + i)) * x[i];
    return sum;
}

NK_T5 void nk_lora_expand_avx512(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y) {
    int64_t o = 0;
    for (; o + 16 <= outputs; o += 16) {
        __m512 acc = _mm512_loadu_ps(y + o);
        for (int64_t j = 0; j < rank; j++) {
            const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(bt + j * outputs + o)));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(t[j]), w, acc);
        }
        _mm512_storeu_ps(y + o, acc);
    }
    for (; o < outputs; o++) {
        float sum = y[o];
        for (int64_t j = 0; j < rank; j++) sum += t[j] * nk_h2f((const uint8_t *)(bt + j * outputs + o));
        y[o] = sum;
    }
}

// Several rows of one adapter at once (Punica/S-LoRA's gathered form): each A or B vector is
// loaded and widened once for all the rows, and every row goes through exactly the operations
// of the one-row kernels above, so its result is the same bits whatever rows share the call.
#define NK_LORA_ROWS 4
static inline __attribute__((always_inline)) NK_T5 void nk_lora_dot_tile(int NR, const uint16_t *a, const float *const *x,
                                                                          int64_t n, float *out) {
    __m512 s[NK_LORA_ROWS][4];
    for (int r = 0; r < NR; r++)
        for (int j = 0; j < 4; j++) s[r][j] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 4; j++) {
            const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16 * j)));
            for (int r = 0; r < NR; r++) s[r][j] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x[r] + i + 16 * j), s[r][j]);
        }
    for (; i + 16 <= n; i += 16) {
        const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i)));
        for (int r = 0; r < NR; r++) s[r][0] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x[r] + i), s[r][0]);
    }
    for (int r = 0; r < NR; r++) {
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), _mm512_add_ps(s[r][2], s[r][3])));
        for (int64_t k = i; k < n; k++) sum += nk_h2f((const uint8_t *)(a + k)) * x[r][k];
        out[r] = sum;
    }
}

NK_T5 void nk_lora_dot_rows_avx512(const uint16_t *a, const float *const *x, int64_t rows, int64_t n, float *out) {
    for (int64_t r = 0; r < rows; r += NK_LORA_ROWS) {
        switch (rows - r < NK_LORA_ROWS ? rows - r : NK_LORA_ROWS) {
        case 1: nk_lora_dot_tile(1, a, x + r, n, out + r); break;
        case 2: nk_lora_dot_tile(2, a, x + r, n, out + r); break;
        case 3: nk_lora_dot_tile(3, a, x + r, n, out + r); break;
        default: nk_lora_dot_tile(4, a, x + r, n, out + r); break;
        }
    }
}

static inline __attribute__((always_inline)) NK_T5 void nk_lora_expand_tile(int NR, const float *const *t, int64_t rank,
                                                                             const uint16_t *bt, int64_t outputs,
                                                                             float *const *y) {
    int64_t o = 0;
    for (; o + 16 <= outputs; o += 16) {
        __m512 acc[NK_LORA_ROWS];
        for (int r = 0; r < NR; r++) acc[r] = _mm512_loadu_ps(y[r] + o);
        for (int64_t j = 0; j < rank; j++) {
            const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(bt + j * outputs + o)));
            for (int r = 0; r < NR; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(t[r][j]), w, acc[r]);
        }
        for (int r = 0; r < NR; r++) _mm512_storeu_ps(y[r] + o, acc[r]);
    }
    for (; o < outputs; o++)
        for (int r = 0; r < NR; r++) {
            float sum = y[r][o];
            for (int64_t j = 0; j < rank; j++) sum += t[r][j] * nk_h2f((const uint8_t *)(bt + j * outputs + o));
            y[r][o] = sum;
        }
}

NK_T5 void nk_lora_expand_rows_avx512(const float *const *t, int64_t rows, int64_t rank, const uint16_t *bt,
                                      int64_t outputs, float *const *y) {
    for (int64_t r = 0; r < rows; r += NK_LORA_ROWS) {
        switch (rows - r < NK_LORA_ROWS ? rows - r : NK_LORA_ROWS) {
        case 1: nk_lora_expand_tile(1, t + r, rank, bt, outputs, y + r); break;
        case 2: nk_lora_expand_tile(2, t + r, rank, bt, outputs, y + r); break;
        case 3: nk_lora_expand_tile(3, t + r, rank, bt, outputs, y + r); break;
        default: nk_lora_expand_tile(4, t + r, rank, bt, outputs, y + r); break;
        }
    }
}

NK_T2 float nk_lora_dot_avx2(const uint16_t *a, const float *x, int64_t n) {
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++) {
            const __m256 w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8 * j)));
            s[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + i + 8 * j), s[j]);
        }
    for (; i + 8 <= n; i += 8) {
        const __m256 w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        s[0] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + i), s[0]);
    }
    const __m256 v = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    float sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (; i < n; i++) sum += nk_h2f((const uint8_t *)(a + i)) * x[i];
    return sum;
}

NK_T2 void nk_lora_expand_avx2(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y) {
    int64_t o = 0;
    for (; o + 8 <= outputs; o += 8) {
        __m256 acc = _mm256_loadu_ps(y + o);
        for (int64_t j = 0; j < rank; j++) {
            const __m256 w = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(bt + j * outputs + o)));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(t[j]), w, acc);
        }
        _mm256_storeu_ps(y + o, acc);
    }
    for (; o < outputs; o++) {
        float sum = y[o];
        for (int64_t j = 0; j < rank; j++) sum += t[j] * nk_h2f((const uint8_t *)(bt + j * outputs + o));
        y[o] = sum;
    }
}
#else
// Other architectures never select these paths (KernelPath is scalar there); plain loops keep
// the symbols defined so the package links.
static float nk_lora_dot_plain(const uint16_t *a, const float *x, int64_t n) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += nk_h2f((const uint8_t *)(a + i)) * x[i];
    return sum;
}
static void nk_lora_expand_plain(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y) {
    for (int64_t o = 0; o < outputs; o++)
        for (int64_t j = 0; j < rank; j++) y[o] += t[j] * nk_h2f((const uint8_t *)(bt + j * outputs + o));
}
float nk_lora_dot_avx512(const uint16_t *a, const float *x, int64_t n) { return nk_lora_dot_plain(a, x, n); }
float nk_lora_dot_avx2(const uint16_t *a, const float *x, int64_t n) { return nk_lora_dot_plain(a, x, n); }
void nk_lora_expand_avx512(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y) { nk_lora_expand_plain(t, rank, bt, outputs, y); }
void nk_lora_expand_avx2(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y) { nk_lora_expand_plain(t, rank, bt, outputs, y); }
void nk_lora_dot_rows_avx512(const uint16_t *a, const float *const *x, int64_t rows, int64_t n, float *out) {
    for (int64_t r = 0; r < rows; r++) out[r] = nk_lora_dot_plain(a, x[r], n);
}
void nk_lora_expand_rows_avx512(const float *const *t, int64_t rows, int64_t rank, const uint16_t *bt, int64_t outputs,
                                float *const *y) {
    for (int64_t r = 0; r < rows; r++) nk_lora_expand_plain(t[r], rank, bt, outputs, y[r]);
}
#endif
