// Memory for the weight copies made at load (interleaved layouts, widened or requantized rows):
// 2 MiB-aligned anonymous mappings the kernel is asked to back with transparent huge pages. A
// decode step streams every weight once; with 4 KiB pages that is a TLB miss per 4 KiB (270,000
// per step on a 1.1 GB model). Measured gain: about 5% on the B=1 stream
// (nimbus-kernels-bench --stream). Where the kernel has THP in "madvise" mode (the common
// default) this is what turns huge pages on; with "never" the mapping stays in 4 KiB pages.
// NIMBUS_HUGEPAGES=0 keeps copies on the C heap (for comparisons).
#include "CNimbusKernels.h"

#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define NK_HUGE (2u << 20)

static int nk_hugepages_wanted(void) {
    const char *e = getenv("NIMBUS_HUGEPAGES");
    if (e == NULL) return 1;
    while (*e == ' ' || *e == '\t') e++;
    return *e != '0';
}

// Whole 4 KiB pages: the 2 MiB-aligned part of a mapping gets huge pages, its tail small ones.
static size_t nk_weight_span(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

void *nk_weight_alloc(size_t bytes, int *mapped) {
    if (bytes == 0) bytes = 1;
    *mapped = 0;
#if defined(__linux__)
    // Below one huge page a mapping would only add a system call per matrix.
    if (bytes >= NK_HUGE && nk_hugepages_wanted()) {
        const size_t span = nk_weight_span(bytes);
        // Over-map by one huge page and trim, so the kept range starts on a 2 MiB boundary.
        uint8_t *raw = mmap(NULL, span + NK_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw != MAP_FAILED) {
            const uintptr_t start = ((uintptr_t)raw + NK_HUGE - 1) & ~(uintptr_t)(NK_HUGE - 1);
            uint8_t *p = (uint8_t *)start;
            if (p > raw) munmap(raw, (size_t)(p - raw));
            const size_t tail = (size_t)(raw + span + NK_HUGE - (p + span));
            if (tail > 0) munmap(p + span, tail);
            madvise(p, span, MADV_HUGEPAGE);
            *mapped = 1;
            return p;
        }
    }
#endif
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void nk_weight_free(void *p, size_t bytes, int mapped) {
    if (p == NULL) return;
#if defined(__linux__)
    if (mapped) {
        munmap(p, nk_weight_span(bytes == 0 ? 1 : bytes));
        return;
    }
#endif
    free(p);
}
