// One 32-float block of ggml's Q8_0/Q8_1 activation quantization, 8 lanes at a time. Its scalar
// twin and test oracle is ActivationQuantizer.block (Swift); both compute, exactly as ggml's x86
// quantize_row_q8_x: amax = max|x|, d = amax / 127, id = amax != 0 ? 127 / amax : 0,
// q = clamp(roundToNearestEven(x * id), -127, 127), and the integer sum of q.
#include "CNimbusKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) void nk_quantize_q8_block_avx2(const float *x, int8_t *q, float *d, int32_t *sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; j++) {
        v[j] = _mm256_loadu_ps(x + 8 * j);
        // max_ps returns its second operand when the first is NaN: a NaN input is skipped, as
        // Swift.max(amax, NaN) keeps amax.
        amax = _mm256_max_ps(_mm256_andnot_ps(sign, v[j]), amax);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, amax);
    float m = 0.0f;
    for (int i = 0; i < 8; i++) m = lanes[i] > m ? lanes[i] : m;
    *d = m / 127.0f;
    const __m256 id = _mm256_set1_ps(m != 0.0f ? 127.0f / m : 0.0f);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    __m256i n[4];
    __m256i total = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        __m256 r = _mm256_round_ps(_mm256_mul_ps(v[j], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        // NaN becomes -127 (max_ps returns the second operand), as in the Swift clamp.
        r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
        n[j] = _mm256_cvtps_epi32(r);
        total = _mm256_add_epi32(total, n[j]);
    }
    // int32 x 32 -> int8 x 32: the packs interleave 128-bit lanes, the permute restores order.
    const __m256i p16a = _mm256_packs_epi32(n[0], n[1]), p16b = _mm256_packs_epi32(n[2], n[3]);
    const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p8);
    int32_t parts[8];
    _mm256_storeu_si256((__m256i *)parts, total);
    int32_t s = 0;
    for (int i = 0; i < 8; i++) s += parts[i];
    *sum = s;
}

// fp32 -> fp16 -> fp32, round to nearest even (what ggml stores for d and s).
__attribute__((target("avx2,fma,f16c"))) static inline float nk_f16_round(float x) {
    return _cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT));
}

__attribute__((target("avx2,fma,f16c"))) void nk_quantize_q8_record_avx2(const float *x, int64_t xstride, int ncols, uint8_t *rec) {
    float *ds = (float *)(rec + 256), *ss = (float *)(rec + 288);
    int32_t *isums = (int32_t *)(rec + 320);
    for (int c = 0; c < NK_ACT_GROUP; c++) {
        int8_t *q = (int8_t *)(rec + 32 * c);
        if (c < ncols) {
            float d;
            int32_t sum;
            nk_quantize_q8_block_avx2(x + c * xstride, q, &d, &sum);
            ds[c] = nk_f16_round(d);
            ss[c] = nk_f16_round(d * (float)sum);
            isums[c] = sum;
        } else {
            memset(q, 0, 32);
            ds[c] = 0.0f;
            ss[c] = 0.0f;
            isums[c] = 0;
        }
    }
}
// Q8_K records (292 bytes: fp32 d, 256 quants, 16 int16 sums of 16) for nblocks blocks of 256,
// exactly as ggml's quantize_row_q8_K_ref and its Swift twin ActivationQuantizer.q8KBlock:
// `max` is the first element of largest magnitude (NaN never wins), iscale = -127 / max,
// q = clamp(roundToNearestEven(iscale * x), -128, 127) (NaN to -128, as the Swift clamp),
// d = 1 / iscale; a block with no nonzero magnitude is all zeros.
__attribute__((target("avx2,fma"))) void nk_quantize_q8_K_avx2(const float *x, int64_t nblocks, uint8_t *dst) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
    for (int64_t b = 0; b < nblocks; b++, x += 256, dst += 292) {
        __m256 amax = _mm256_setzero_ps();
        // max_ps returns its second operand when the first is NaN, so NaN inputs are skipped.
        for (int j = 0; j < 256; j += 8) amax = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), amax);
        float lanes[8];
        _mm256_storeu_ps(lanes, amax);
        float m = 0.0f;
        for (int i = 0; i < 8; i++) m = lanes[i] > m ? lanes[i] : m;
        if (m == 0.0f) {
            memset(dst, 0, 292);
            continue;
        }
        // The scalar loop keeps the first element whose magnitude is m (its test is strict).
        const __m256 vm = _mm256_set1_ps(m);
        int first = 0;
        for (int j = 0; j < 256; j += 8) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), vm, _CMP_EQ_OQ));
            if (hit) {
                first = j + __builtin_ctz((unsigned)hit);
                break;
            }
        }
        const float iscale = -127.0f / x[first];
        const __m256 vs = _mm256_set1_ps(iscale);
        int8_t *qs = (int8_t *)(dst + 4);
        for (int g = 0; g < 16; g++) {
            __m256i n[2];
            for (int h = 0; h < 2; h++) {
                __m256 r = _mm256_round_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * g + 8 * h)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                n[h] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
            }
            // packs interleaves 128-bit lanes; the permute puts the 16 int16 back in order.
            const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(n[0], n[1]), 0xD8);
            _mm_storeu_si128((__m128i *)(qs + 16 * g),
                             _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1)));
            const __m256i s8 = _mm256_add_epi32(n[0], n[1]);
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            const int16_t sum = (int16_t)_mm_cvtsi128_si32(s4);
            memcpy(dst + 260 + 2 * g, &sum, sizeof sum);
        }
        const float d = 1.0f / iscale;
        memcpy(dst, &d, sizeof d);
    }
}
#else
void nk_quantize_q8_block_avx2(const float *x, int8_t *q, float *d, int32_t *sum) {
    (void)x; (void)q; (void)d; (void)sum;  // never called: the Swift path checks the CPU first
}
void nk_quantize_q8_record_avx2(const float *x, int64_t xstride, int ncols, uint8_t *rec) {
    (void)x; (void)xstride; (void)ncols; (void)rec;  // never called, as above
}
void nk_quantize_q8_K_avx2(const float *x, int64_t nblocks, uint8_t *dst) {
    (void)x; (void)nblocks; (void)dst;  // never called, as above
}
#endif
