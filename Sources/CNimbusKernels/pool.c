// Compute pool. Memory-ordering argument:
//  * The caller writes the job (fn, ctx, count, chunk, next, remaining) with plain/relaxed
//    stores, then publishes it by bumping `epoch` with a seq_cst store. A worker that observes
//    the new epoch (seq_cst load, which includes acquire) therefore sees the whole job.
//  * `next` only hands out disjoint index ranges, so relaxed fetch_add is enough.
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

struct nk_pool {
    int nthreads;
    int64_t spin_ns;
    pthread_t *threads;
    pthread_mutex_t run_lock;  // serialises callers
    pthread_mutex_t lock;      // guards sleeping
    pthread_cond_t wake;
    pthread_cond_t done;
    _Atomic int caller_waiting;
    _Atomic uint64_t epoch;
    _Atomic int sleepers;
    _Atomic int stop;
    _Atomic int64_t next;
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

static void nk_run_chunks(nk_pool *p) {
    const int64_t count = p->count, chunk = p->chunk;
    for (;;) {
        const int64_t b = atomic_fetch_add_explicit(&p->next, chunk, memory_order_relaxed);
        if (b >= count) break;
        const int64_t e = b + chunk < count ? b + chunk : count;
        p->fn(p->ctx, b, e);
    }
}

static void *nk_worker(void *arg) {
    nk_pool *p = arg;
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
        nk_run_chunks(p);
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
    atomic_init(&p->next, 0);
    atomic_init(&p->remaining, 0);
    p->threads = calloc((size_t)nthreads, sizeof(pthread_t));
    int started = 1;
    for (int i = 1; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, nk_worker, p) != 0) break;
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
    free(p);
}

void nk_pool_run(nk_pool *p, int64_t count, int64_t chunk, nk_task_fn fn, void *ctx) {
    if (count <= 0) return;
    if (chunk < 1) chunk = 1;
    // Inline when there is nothing to share or when called from inside a job of this pool.
    if (p->nthreads == 1 || count <= chunk || nk_current_pool == p) {
        for (int64_t b = 0; b < count; b += chunk) fn(ctx, b, b + chunk < count ? b + chunk : count);
        return;
    }
    pthread_mutex_lock(&p->run_lock);
    nk_current_pool = p;
    p->fn = fn;
    p->ctx = ctx;
    p->count = count;
    p->chunk = chunk;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->remaining, p->nthreads - 1, memory_order_relaxed);
    nk_publish(p);
    nk_run_chunks(p);
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
    nk_current_pool = NULL;
    pthread_mutex_unlock(&p->run_lock);
}
