#include "gemm_common.h"

#if defined(__x86_64__)
#define NK_KQ_DECLARE(S)                                                                                  \
    void nk_gemm_q5_0##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q5_1##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q2_K##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q3_K##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q4_K##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q5_K##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t); \
    void nk_gemm_q6_K##S(const uint8_t *, size_t, int64_t, int64_t, int64_t, const uint8_t *, int64_t, float *, int64_t);
NK_KQ_DECLARE(_avx2)
NK_KQ_DECLARE(_avx512)
#endif

nk_gemm_fn nk_gemm_kernel_ext(int ggml_type, int isa) {
#if defined(__x86_64__)
    if (isa != 1 && isa != 2) return NULL;
    const int v = isa == 2;
    switch (ggml_type) {
    case 6: return v ? nk_gemm_q5_0_avx512 : nk_gemm_q5_0_avx2;
    case 7: return v ? nk_gemm_q5_1_avx512 : nk_gemm_q5_1_avx2;
    case 10: return v ? nk_gemm_q2_K_avx512 : nk_gemm_q2_K_avx2;
    case 11: return v ? nk_gemm_q3_K_avx512 : nk_gemm_q3_K_avx2;
    case 12: return v ? nk_gemm_q4_K_avx512 : nk_gemm_q4_K_avx2;
    case 13: return v ? nk_gemm_q5_K_avx512 : nk_gemm_q5_K_avx2;
    case 14: return v ? nk_gemm_q6_K_avx512 : nk_gemm_q6_K_avx2;
    default: return NULL;
    }
#else
    (void)ggml_type; (void)isa;
    return NULL;
#endif
}
