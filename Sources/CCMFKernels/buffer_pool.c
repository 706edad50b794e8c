/* The network's buffer pool: large temporaries (activations, oneDNN's blocked copies) kept
 * for reuse while a forward pass, a segmentation or a training run is in progress.
 *
 * A 128^3 CMFF forward allocates and frees over a hundred buffers of 8-270 MB. glibc serves
 * blocks that large with mmap and returns them with munmap, so without reuse every layer
 * page-faults its output afresh (the kernel zeroes each page): measured up to 3x the CPU time
 * of the arithmetic. The pool keeps freed buffers by exact size while at least one scope is
 * open (cmfk_pool_enter/leave) and frees them all when the last scope closes, so nothing is
 * retained between calls and no process-wide allocator setting is needed. The same sizes
 * recur in every window and every training step, so exact-size matching finds them. */
#include "cmf_kernels.h"
#include <pthread.h>
#include <stdlib.h>

enum { POOL_SLOTS = 256 };
static const size_t POOL_MIN_BYTES = (size_t)1 << 20;   /* smaller ones: malloc does well */
static const size_t POOL_ALIGN = 64;                     /* a cache line; AVX-512 loads */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t g_scopes;                    /* open scopes, all threads */
static void *g_free_ptr[POOL_SLOTS];
static size_t g_free_bytes[POOL_SLOTS];
static int g_free_count;
static int64_t g_hits, g_misses;

static size_t rounded(size_t bytes) { return (bytes + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN; }

void *cmfk_pool_take(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t size = rounded(bytes);
    if (size < bytes) return NULL;   /* overflow */
    if (size >= POOL_MIN_BYTES) {
        pthread_mutex_lock(&g_lock);
        for (int i = g_free_count - 1; i >= 0; i--) {
            if (g_free_bytes[i] != size) continue;
            void *p = g_free_ptr[i];
            g_free_count--;
            g_free_ptr[i] = g_free_ptr[g_free_count];
            g_free_bytes[i] = g_free_bytes[g_free_count];
            g_hits++;
            pthread_mutex_unlock(&g_lock);
            return p;
        }
        g_misses++;
        pthread_mutex_unlock(&g_lock);
    }
    return aligned_alloc(POOL_ALIGN, size);
}

void cmfk_pool_give(void *p, size_t bytes) {
    if (!p) return;
    size_t size = rounded(bytes == 0 ? 1 : bytes);
    if (size >= POOL_MIN_BYTES) {
        pthread_mutex_lock(&g_lock);
        if (g_scopes > 0 && g_free_count < POOL_SLOTS) {
            g_free_ptr[g_free_count] = p;
            g_free_bytes[g_free_count] = size;
            g_free_count++;
            pthread_mutex_unlock(&g_lock);
            return;
        }
        pthread_mutex_unlock(&g_lock);
    }
    free(p);
}

void cmfk_pool_enter(void) {
    pthread_mutex_lock(&g_lock);
    g_scopes++;
    pthread_mutex_unlock(&g_lock);
}

void cmfk_pool_leave(void) {
    void *release[POOL_SLOTS];
    int n = 0;
    pthread_mutex_lock(&g_lock);
    if (g_scopes > 0) g_scopes--;
    if (g_scopes == 0) {
        for (int i = 0; i < g_free_count; i++) release[n++] = g_free_ptr[i];
        g_free_count = 0;
    }
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < n; i++) free(release[i]);   /* outside the lock: munmap can be slow */
}

void cmfk_pool_stats(int64_t *hits, int64_t *misses, int64_t *cached_bytes) {
    pthread_mutex_lock(&g_lock);
    int64_t cached = 0;
    for (int i = 0; i < g_free_count; i++) cached += (int64_t)g_free_bytes[i];
    if (hits) *hits = g_hits;
    if (misses) *misses = g_misses;
    if (cached_bytes) *cached_bytes = cached;
    pthread_mutex_unlock(&g_lock);
}
