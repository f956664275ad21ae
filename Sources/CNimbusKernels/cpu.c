#include "CNimbusKernels.h"

#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// Zen 3 and Zen 4 (family 19h), whose hardware prefetcher streams the blocked layouts faster
// without software prefetch; Zen 5 (1Ah) is not one of them.
static int nk_cpu_is_amd_zen4(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    if (!(b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163)) return 0;  // "Auth" "enti" "cAMD"
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned base = (a >> 8) & 0xF, extended = (a >> 20) & 0xFF;
    return (base == 0xF ? base + extended : base) == 0x19;
}

// xgetbv without requiring -mxsave: the OS must have enabled the register state we use.
static uint64_t nk_xgetbv(uint32_t index) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(index));
    return ((uint64_t)edx << 32) | eax;
}

int nk_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = nk_xgetbv(0);
    if ((xcr0 & 0x6) != 0x6) return 0;  // XMM + YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1;
    int features = 0;
    if (avx2 && fma && f16c) features |= NK_CPU_AVX2;
    const int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1;
    const int avx512vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    const int zmm_state = (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
    if ((features & NK_CPU_AVX2) && zmm_state && avx512f && avx512dq && avx512bw && avx512vl && vnni)
        features |= NK_CPU_AVX512VNNI;
    return features;
}
#else
int nk_cpu_features(void) { return 0; }
static int nk_cpu_is_amd_zen4(void) { return 0; }
#endif

// -1: not yet read. Two threads racing to read it compute the same value.
static _Atomic long nk_prefetch_cached = -1;

void nk_set_stream_prefetch_bytes(size_t bytes) {
    atomic_store_explicit(&nk_prefetch_cached, (long)(bytes / 64 * 64), memory_order_relaxed);
}

size_t nk_stream_prefetch_bytes(void) {
    _Atomic long *const cached = &nk_prefetch_cached;
    long v = atomic_load_explicit(cached, memory_order_relaxed);
    if (v >= 0) return (size_t)v;
    const char *env = getenv("NIMBUS_PREFETCH_BYTES");
    char *end = NULL;
    const long parsed = env ? strtol(env, &end, 10) : -1;
    // Leading/trailing blanks are allowed, as the server's start-up check allows them.
    while (end && (*end == ' ' || *end == '\t')) end++;
    if (env && end != env && *end == '\0' && parsed >= 0 && parsed <= (1L << 20)) v = parsed / 64 * 64;
    else v = nk_cpu_is_amd_zen4() ? 0 : 4096;
    atomic_store_explicit(cached, v, memory_order_relaxed);
    return (size_t)v;
}
