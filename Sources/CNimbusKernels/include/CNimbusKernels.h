#ifndef CNIMBUS_KERNELS_H
#define CNIMBUS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "nk_encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// CPU features (cpuid + xgetbv, so a feature the OS does not save is reported as missing).
// ---------------------------------------------------------------------------------------------

/// Bit set of the feature levels this CPU and OS support.
enum {
    NK_CPU_AVX2 = 1,        ///< AVX2 + FMA + F16C
    NK_CPU_AVX512VNNI = 2,  ///< AVX-512 F/BW/VL/DQ + VNNI (plus AVX2 level)
};
int nk_cpu_features(void);

/// How far ahead (bytes) the blocked kernels software-prefetch their one linear weight stream:
/// NIMBUS_PREFETCH_BYTES when set (0 turns it off), else by CPU. On AMD Zen 4 (family 19h) the
/// hardware prefetcher alone streams the blocked layouts 1.4x (2 threads) to 1.9x (1 thread)
/// faster than with software prefetch (nimbus-kernels-bench --stream), so it gets 0; on Zen 5
/// (1Ah) it is the other way round (Q4_K 1.13x at 2 threads, 1.5x at 1 thread with 4096), and
/// Intel keeps the 4096 the kernels were tuned with. Read once.
size_t nk_stream_prefetch_bytes(void);
/// Overrides it (benchmarks comparing distances in one process).
void nk_set_stream_prefetch_bytes(size_t bytes);

// ---------------------------------------------------------------------------------------------
// Packed activations: the layout every SIMD matmul kernel reads.
//
// Columns (activation rows) are grouped by 8. For group g and block k the record at
// (g * nb + k) * NK_ACT_RECORD holds: qs of the 8 columns (8 x 32 int8, column-major by
// column), then 8 float scales d, then 8 float sums s (fp16-rounded d * sum, Q8_1's s), then
// 8 int32 integer sums of the quants (the blocked kernels' offset correction), then 32 bytes
// of padding to a 64-byte multiple. Missing columns of the last group are zero (d = 0), so
// they contribute exact zeros.
// ---------------------------------------------------------------------------------------------
#define NK_ACT_GROUP 8
#define NK_ACT_RECORD 384


/// Quantized-weight matmul over rows [row0, row1) and ncols activation columns.
/// y[c * ldy + r] = dot(W[r], act column c), in ggml's x86 order (see Swift docs).
typedef void (*nk_gemm_fn)(const uint8_t *w, size_t wstride, int64_t row0, int64_t row1,
                           int64_t nb, const uint8_t *act, int64_t ncols,
                           float *y, int64_t ldy);

// kind: 0 = Q4_0 x Q8_0, 1 = Q4_1 x Q8_1, 2 = Q8_0 x Q8_0
// isa: 1 = AVX2, 2 = AVX-512 VNNI. Returns NULL for an unknown pair.
nk_gemm_fn nk_gemm_kernel(int kind, int isa);

/// Blocked-order kernels on 16-row interleaved weights (gemm_x16.c): kind as for nk_gemm_kernel,
/// AVX-512 VNNI only (NULL elsewhere). `w` is nk_repack_x16's output, rows multiples of 16.
nk_gemm_fn nk_gemm_x16_kernel(int kind);
/// Bytes of one (16-row group, block) record of the interleaved layout.
size_t nk_x16_record_bytes(int kind);
/// Interleaves `rows` (a multiple of 16) ggml rows of nb blocks into dst
/// (rows / 16 * nb * nk_x16_record_bytes(kind) bytes).
void nk_repack_x16(int kind, const uint8_t *src, size_t wstride, int64_t rows, int64_t nb, uint8_t *dst);

/// Blocked-order K-quant kernels on 16-row interleaved weights (gemm_kx16.c), by ggml type id:
/// Q4_K (12) and Q6_K (14), AVX-512 VNNI only (NULL elsewhere). Activations are plain ggml
/// block_q8_K rows (nb * 292 bytes per column); `w` is nk_repack_kx16's output.
nk_gemm_fn nk_gemm_kx16_kernel(int ggml_type);
/// Bytes of one (16-row group, super-block) record; 0 for a type without the layout.
size_t nk_kx16_record_bytes(int ggml_type);
/// Interleaves `rows` (a multiple of 16) ggml rows of nb super-blocks into dst
/// (rows / 16 * nb * nk_kx16_record_bytes(ggml_type) bytes).
void nk_repack_kx16(int ggml_type, const uint8_t *src, size_t wstride, int64_t rows, int64_t nb, uint8_t *dst);

/// Blocked-order kernels for float weights against fp32 activations (gemm_float.c), by ggml type
/// id: F32 (0), F16 (1), BF16 (30); plain ggml rows, `nb` = columns, `act` = ncols fp32 rows.
/// AVX-512 only (NULL elsewhere). The scalar twin is ScalarDot.floatBlocked.
nk_gemm_fn nk_gemm_float_kernel(int ggml_type);

/// Memory for weight copies made at load, 64-byte aligned: a 2 MiB-aligned anonymous mapping
/// advised for transparent huge pages where the OS has them (`*mapped` = 1;
/// NIMBUS_HUGEPAGES=0 turns this off), else the C heap (`*mapped` = 0). NULL when
/// out of memory. Free with nk_weight_free and the same byte count and flag.
void *nk_weight_alloc(size_t bytes, int *mapped);
void nk_weight_free(void *p, size_t bytes, int mapped);

/// Kernels for the weight types added with the K-quants, by ggml type id: Q5_0 (6) and Q5_1 (7)
/// read the packed Q8_0/Q8_1 layout above; Q2_K..Q6_K (10..14) read plain ggml block_q8_K rows
/// (nb * 292 bytes per activation column). nb counts weight blocks (32 or 256 elements).
/// isa as above; NULL for an unknown pair (kquant_dispatch.c).
nk_gemm_fn nk_gemm_kernel_ext(int ggml_type, int isa);

/// fp16 dot in ggml's AVX-512 vec_dot_f16 order. isa as above (AVX2 level uses F16C + FMA and
/// emulates the same 16-lane order, so both give identical results).
float nk_dot_f16_avx2(const uint16_t *x, const uint16_t *y, int64_t n);
float nk_dot_f16_avx512(const uint16_t *x, const uint16_t *y, int64_t n);
/// y[i] = fp16(fp32(y[i]) + fp32(x[i]) * v), ggml_vec_mad_f16 (fma, then round to fp16).
void nk_axpy_f16_avx2(uint16_t *y, const uint16_t *x, float v, int64_t n);
/// LoRA updates with fp16-stored matrices (lora.c): sum_i fp32(a[i]) * x[i], and
/// y[o] += sum_j t[j] * fp32(bt[j * outputs + o]).
float nk_lora_dot_avx512(const uint16_t *a, const float *x, int64_t n);
float nk_lora_dot_avx2(const uint16_t *a, const float *x, int64_t n);
void nk_lora_expand_avx512(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y);
void nk_lora_expand_avx2(const float *t, int64_t rank, const uint16_t *bt, int64_t outputs, float *y);
/// The same for `rows` rows sharing each load of A / B: out[r] = dot(a, x[r]) and
/// y[r][o] += sum_j t[r][j] * fp32(bt[j * outputs + o]); each row's bits equal the one-row
/// AVX-512 kernels'.
void nk_lora_dot_rows_avx512(const uint16_t *a, const float *const *x, int64_t rows, int64_t n, float *out);
void nk_lora_expand_rows_avx512(const float *const *t, int64_t rows, int64_t rank, const uint16_t *bt, int64_t outputs,
                                float *const *y);
/// fp32 -> fp16 (round to nearest even) and back, F16C.
void nk_f32_to_f16_avx2(const float *x, uint16_t *y, int64_t n);
void nk_f16_to_f32_avx2(const uint16_t *x, float *y, int64_t n);
/// y[i] = fp32(fp16(x[i])), round to nearest even (x and y may alias).
void nk_round_f16_avx2(const float *x, float *y, int64_t n);
// One block of 32 floats to Q8 quants, ggml's x86 rounding (quantize_q8.c); AVX2 CPUs only.
void nk_quantize_q8_block_avx2(const float *x, int8_t *q, float *d, int32_t *sum);
/// One packed activation record (see above) for block k of ncols <= 8 columns: column c's 32
/// floats at x + c * xstride; d and s rounded through fp16 as ggml stores them; missing columns
/// zeroed. AVX2 CPUs only; its twin is the Swift loop in MatMul.quantize's scalar-record path.
void nk_quantize_q8_record_avx2(const float *x, int64_t xstride, int ncols, uint8_t *rec);
/// Q8_K activation records for nblocks blocks of 256 floats, bit for bit ggml's
/// quantize_row_q8_K_ref on finite input (quantize_q8.c; ggml asserts on NaN and inf); AVX2
/// CPUs only. Its twin, on every input, is ActivationQuantizer.q8KBlock.
void nk_quantize_q8_K_avx2(const float *x, int64_t nblocks, uint8_t *dst);

// ---------------------------------------------------------------------------------------------
// Attention and activation steps in llama.cpp's AVX-512 CPU order (see attention.c). Keys and
// values are fp16 (the cache's format, read at half the bytes of fp32), q and the weights are
// fp32 holding fp16-rounded values. `_scalar` runs anywhere and gives the same
// bits as the SIMD versions; `batched` selects tinyBLAS order (ubatch >= 2) over vec_dot_f16.
// ---------------------------------------------------------------------------------------------
/// Keys/values are fp16 bits, paged: position p is at blocks[p / block_size] + (p % block_size) * stride + offset.
/// scores[p] = q . key(p), p < count, dim elements each.
void nk_attn_scores_scalar(const float *q, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *scores);
void nk_attn_scores_avx2(const float *q, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *scores);
void nk_attn_scores_avx512(const float *q, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *scores);
/// out[d] = sum_p weights[p] * value(p)[d]; acc: scratch of 64 * dim floats.
void nk_attn_mix_scalar(const float *weights, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *acc, float *out);
void nk_attn_mix_avx2(const float *weights, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *acc, float *out);
void nk_attn_mix_avx512(const float *weights, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *acc, float *out);
/// The most query heads one grouped call reads each key and value row once for; more run one
/// head at a time (the same bits, slower).
#define NK_ATTN_GROUP_MAX 4
/// Grouped-query forms: nq query heads that share one KV head (q + h * dim, weights + h * wstride,
/// scores + h * sstride, out + h * dim), each head's bits those of the one-head call; acc holds
/// nq * 64 * dim floats. Each key and value row is read once for all nq heads (other paths
/// call the one-head functions per head, AttentionKernels).
void nk_attn_scores_group_avx512(const float *q, int64_t nq, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *scores, int64_t sstride);
void nk_attn_mix_group_avx512(const float *weights, int64_t wstride, int64_t nq, const uint16_t *const *blocks, int64_t block_size, int64_t stride, int64_t offset, int64_t count, int64_t dim, int batched, float *acc, float *out);
/// In place: x = fp16(softmax(x * scale)) over count scores (ggml_v_expf, blocked double sum).
void nk_attn_softmax_scalar(float *x, int64_t count, float scale);
void nk_attn_softmax_avx512(float *x, int64_t count, float scale);
/// gate[i] = silu(gate[i]) * up[i] (ggml_vec_swiglu_f32: ggml_v_expf on 16-wide blocks, libm expf on the tail).
void nk_swiglu_scalar(float *gate, const float *up, int64_t n);
void nk_swiglu_avx512(float *gate, const float *up, int64_t n);
/// In place: x = softmax(x) over n values in ggml_vec_soft_max_f32's AVX-512 order (no fp16 rounding).
void nk_softmax_ggml(float *x, int64_t n);
/// gate[i] = gelu_tanh(gate[i]) * up[i] (ggml_vec_geglu_f32: gelu looked up in ggml's fp16 table).
void nk_geglu(float *gate, const float *up, int64_t n);
// In place: x[i] = gelu_tanh(x[i]) as ggml_vec_gelu_f32 (the same fp16 table; Phi-2's MLP).
void nk_gelu_tanh(float *x, int64_t n);

// ---------------------------------------------------------------------------------------------
// Compute pool: dedicated pthreads, the caller participates as worker 0.
// ---------------------------------------------------------------------------------------------
typedef struct nk_pool nk_pool;
typedef void (*nk_task_fn)(void *ctx, int64_t begin, int64_t end);

/// Creates a pool of nthreads workers in total (nthreads - 1 pthreads plus the caller).
/// spin_us: microseconds an idle worker spins before it blocks on a condvar.
nk_pool *nk_pool_create(int nthreads, int spin_us);
void nk_pool_destroy(nk_pool *pool);
int nk_pool_threads(const nk_pool *pool);
/// Runs fn(ctx, b, e) over [0, count) in chunks of `chunk` items; returns when all are done.
/// Calls from several threads are serialised; a nested call runs inline on the calling thread.
void nk_pool_run(nk_pool *pool, int64_t count, int64_t chunk, nk_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
