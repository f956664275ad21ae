// Compute pool. Memory-ordering argument:
//  * The caller writes the job (fn, ctx, count, chunk, ranges, remaining) with plain/relaxed
//    stores, then publishes it by bumping `epoch` with a seq_cst store. A worker that observes
//    the new epoch (seq_cst load, which includes acquire) therefore sees the whole job.
//  * Work is handed out from per-thread ranges (see "Ranges" below). A range is one atomic
//    word and a claim is a compare-and-swap on it, so every index is claimed exactly once and
//    relaxed ordering is enough: the ranges are stored before `epoch` publishes the job.
//  * Each worker's writes to the outputs happen before its release decrement of `remaining`;
//    the caller's acquire load that sees 0 therefore sees every output. A worker touches no
//    job field after that decrement, so the caller may overwrite the job afterwards.
//  * Sleeping uses the Dekker pattern on (epoch, sleepers), both seq_cst: a worker increments
//    `sleepers` under the mutex and re-checks `epoch` before waiting; the caller stores
//    `epoch` and then reads `sleepers`. Either the worker sees the new epoch or the caller sees
//    the sleeper and broadcasts under the mutex, so no wake-up is lost.
//  * The caller waits for completion the same way in reverse: it spins for a bounded time,
//    then sets `caller_waiting` (seq_cst) and re-checks `remaining` under the mutex; the worker
//    that brings `remaining` to 0 (seq_cst RMW) then reads `caller_waiting` and signals under
//    the mutex. Blocking matters when a worker shares a core with the caller (an oversubscribed
//    machine): a spinning caller would keep the worker off the core for a scheduler tick.
//  * Spin limits are in microseconds of wall time, not iterations: PAUSE costs 10-150 cycles
//    depending on the microarchitecture.
#include "CNimbusKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NK_PAUSE() _mm_pause()
#else
#define NK_PAUSE() ((void)0)
#endif

// How long the caller spins for stragglers before it blocks: about one chunk of work.
#define NK_CALLER_SPIN_NS 200000

// Ranges. Each thread owns a contiguous share of a job's [0, count) and takes it from the
// front, one chunk at a time; a thread whose share is done takes chunks from the back of the
// largest share left. So every thread streams through one contiguous run of weight rows (the
// hardware and software prefetchers stay ahead of it; interleaved chunks from one shared
// counter restarted both at every chunk and cost a fifth of a SmolLM2 decode step), while a
// thread the OS preempts still has its share finished by the others.
#define NK_LINE 64
typedef struct {
    _Alignas(NK_LINE) _Atomic uint64_t span;  // (end << 32) | begin
    char pad[NK_LINE - sizeof(uint64_t)];
} nk_range;

static inline uint64_t nk_span(uint64_t begin, uint64_t end) { return end << 32 | begin; }

typedef struct {
    struct nk_pool *pool;
    int index;
} nk_worker_arg;

struct nk_pool {
    int nthreads;
    int64_t spin_ns;
    pthread_t *threads;
    nk_worker_arg *args;
    nk_range *ranges;  // one per thread, the caller's first
    pthread_mutex_t run_lock;  // serialises callers
    pthread_mutex_t lock;      // guards sleeping
    pthread_cond_t wake;
    pthread_cond_t done;
    _Atomic int caller_waiting;
    _Atomic uint64_t epoch;
    _Atomic int sleepers;
    _Atomic int stop;
    _Atomic int remaining;
    // job, published by `epoch`
    nk_task_fn fn;
    void *ctx;
    int64_t count;
    int64_t chunk;
};

static __thread nk_pool *nk_current_pool = NULL;  // detects nested calls

static int64_t nk_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Takes one chunk from the front of the thread's own range, or else from the back of the
// largest range left; returns 0 when every range is empty.
static int nk_claim(nk_pool *p, int self, uint64_t chunk, uint64_t *begin, uint64_t *end) {
    _Atomic uint64_t *own = &p->ranges[self].span;
    uint64_t s = atomic_load_explicit(own, memory_order_relaxed);
    while ((uint32_t)s < (s >> 32)) {
        const uint64_t b = (uint32_t)s, e = s >> 32, take = e - b < chunk ? e : b + chunk;
        if (atomic_compare_exchange_weak_explicit(own, &s, nk_span(take, e), memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *begin = b;
            *end = take;
            return 1;
        }
    }
    for (;;) {
        int victim = -1;
        uint64_t most = 0, vs = 0;
        for (int t = 0; t < p->nthreads; t++) {
            const uint64_t v = atomic_load_explicit(&p->ranges[t].span, memory_order_relaxed);
            const uint64_t b = (uint32_t)v, e = v >> 32;
            if (e > b && e - b > most) most = e - b, victim = t, vs = v;
        }
        if (victim < 0) return 0;
        const uint64_t b = (uint32_t)vs, e = vs >> 32, take = e - b < chunk ? b : e - chunk;
        if (atomic_compare_exchange_strong_explicit(&p->ranges[victim].span, &vs, nk_span(b, take),
                                                    memory_order_relaxed, memory_order_relaxed)) {
            *begin = take;
            *end = e;
            return 1;
        }
    }
}

static void nk_run_chunks(nk_pool *p, int self) {
    const uint64_t chunk = (uint64_t)p->chunk;
    uint64_t b, e;
    while (nk_claim(p, self, chunk, &b, &e)) p->fn(p->ctx, (int64_t)b, (int64_t)e);
}

static void *nk_worker(void *arg) {
    nk_pool *p = ((nk_worker_arg *)arg)->pool;
    const int self = ((nk_worker_arg *)arg)->index;
    nk_current_pool = p;
    uint64_t seen = 0;
    for (;;) {
        uint64_t e = atomic_load(&p->epoch);
        if (e == seen && p->spin_ns > 0) {
            const int64_t deadline = nk_now_ns() + p->spin_ns;
            for (int i = 1; e == seen; i++) {
                NK_PAUSE();
                e = atomic_load(&p->epoch);
                if ((i & 63) == 0 && nk_now_ns() > deadline) break;
            }
        }
        if (e == seen) {
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleepers, 1);
            while ((e = atomic_load(&p->epoch)) == seen) pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->lock);
        }
        seen = e;
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        nk_run_chunks(p, self);
        if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
    return NULL;
}

nk_pool *nk_pool_create(int nthreads, int spin_us) {
    if (nthreads < 1) nthreads = 1;
    nk_pool *p = calloc(1, sizeof(nk_pool));
    if (!p) return NULL;
    p->ranges = aligned_alloc(NK_LINE, (size_t)nthreads * sizeof(nk_range));
    p->args = calloc((size_t)nthreads, sizeof(nk_worker_arg));
    p->threads = calloc((size_t)nthreads, sizeof(pthread_t));
    if (!p->ranges || !p->args || !p->threads) {
        free(p->ranges);
        free(p->args);
        free(p->threads);
        free(p);
        return NULL;
    }
    for (int i = 0; i < nthreads; i++) atomic_init(&p->ranges[i].span, 0);
    p->nthreads = nthreads;
    p->spin_ns = spin_us < 0 ? 0 : (int64_t)spin_us * 1000;
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->caller_waiting, 0);
    atomic_init(&p->epoch, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->remaining, 0);
    int started = 1;
    for (int i = 1; i < nthreads; i++) {
        p->args[i] = (nk_worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, nk_worker, &p->args[i]) != 0) break;
        started++;
    }
    p->nthreads = started;  // run with fewer workers rather than fail
    return p;
}

int nk_pool_threads(const nk_pool *p) { return p->nthreads; }

static void nk_publish(nk_pool *p) {
    atomic_fetch_add(&p->epoch, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

void nk_pool_destroy(nk_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->run_lock);
    atomic_store_explicit(&p->stop, 1, memory_order_release);
    nk_publish(p);
    for (int i = 1; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_unlock(&p->run_lock);
    pthread_mutex_destroy(&p->run_lock);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p->args);
    free(p->ranges);
    free(p);
}

void nk_pool_run(nk_pool *p, int64_t count, int64_t chunk, nk_task_fn fn, void *ctx) {
    if (count <= 0) return;
    if (chunk < 1) chunk = 1;
    // Inline when there is nothing to share or when called from inside a job of this pool.
    if (p->nthreads == 1 || count <= chunk || nk_current_pool == p || count > (int64_t)UINT32_MAX) {
        for (int64_t b = 0; b < count; b += chunk) fn(ctx, b, b + chunk < count ? b + chunk : count);
        return;
    }
    pthread_mutex_lock(&p->run_lock);
    // Restored at the end: a worker of another pool calling in here stays marked as that pool's.
    nk_pool *const outer = nk_current_pool;
    nk_current_pool = p;
    p->fn = fn;
    p->ctx = ctx;
    p->count = count;
    p->chunk = chunk;
    for (int t = 0; t < p->nthreads; t++) {
        const uint64_t b = (uint64_t)count * (uint64_t)t / (uint64_t)p->nthreads;
        const uint64_t e = (uint64_t)count * (uint64_t)(t + 1) / (uint64_t)p->nthreads;
        atomic_store_explicit(&p->ranges[t].span, nk_span(b, e), memory_order_relaxed);
    }
    atomic_store_explicit(&p->remaining, p->nthreads - 1, memory_order_relaxed);
    nk_publish(p);
    nk_run_chunks(p, 0);
    // Spin briefly while the workers finish their last chunk, then block (see top of file).
    if (atomic_load_explicit(&p->remaining, memory_order_acquire) != 0) {
        const int64_t deadline = nk_now_ns() + NK_CALLER_SPIN_NS;
        for (int i = 1; atomic_load_explicit(&p->remaining, memory_order_acquire) != 0; i++) {
            NK_PAUSE();
            if ((i & 63) == 0 && nk_now_ns() > deadline) {
                pthread_mutex_lock(&p->lock);
                atomic_store(&p->caller_waiting, 1);
                while (atomic_load(&p->remaining) != 0) pthread_cond_wait(&p->done, &p->lock);
                atomic_store(&p->caller_waiting, 0);
                pthread_mutex_unlock(&p->lock);
                break;
            }
        }
    }
    nk_current_pool = outer;
    pthread_mutex_unlock(&p->run_lock);
}
