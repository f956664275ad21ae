#include "gemm_common.h"

#if defined(__x86_64__)
void nk_gemm_q4_0_avx2(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
void nk_gemm_q4_1_avx2(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
void nk_gemm_q8_0_avx2(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
void nk_gemm_q4_0_avx512(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
void nk_gemm_q4_1_avx512(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
void nk_gemm_q8_0_avx512(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
#endif

nk_gemm_fn nk_gemm_kernel(int kind, int isa) {
#if defined(__x86_64__)
    static const nk_gemm_fn table[2][3] = {
        {nk_gemm_q4_0_avx2, nk_gemm_q4_1_avx2, nk_gemm_q8_0_avx2},
        {nk_gemm_q4_0_avx512, nk_gemm_q4_1_avx512, nk_gemm_q8_0_avx512},
    };
    if (kind < 0 || kind > 2 || isa < 1 || isa > 2) return NULL;
    return table[isa - 1][kind];
#else
    (void)kind; (void)isa;
    return NULL;
#endif
}
