/* The network's buffer pool: large temporaries (activations, oneDNN's blocked copies) placed
 * in one reserved address range while a forward pass, a segmentation or a training run is in
 * progress, so memory freed by one layer is reused by the next.
 *
 * A 128^3 CMFF forward allocates and frees over a hundred buffers of 8-270 MB. glibc serves
 * blocks that large with mmap and returns them with munmap, so without reuse every layer
 * page-faults its output afresh (the kernel zeroes each page): measured up to 3x the CPU time
 * of the arithmetic. A cache of freed blocks by size avoids the faults but holds blocks of
 * sizes not asked for again (a whole case peaked 1.6 GiB above its live data). Here every
 * block of 1 MiB or more taken while a scope is open (cmfk_pool_enter/leave) is carved from
 * one arena: freed ranges merge with their neighbours and the best-fitting free range serves
 * the next take, whatever its size, so the arena grows only to the peak of the blocks in use
 * (plus fragmentation) and its pages are touched once. When the last scope closes, the free
 * ranges' pages go back to the system (madvise), so nothing is retained between calls and no
 * process-wide allocator setting is needed.
 *
 * Under AddressSanitizer blocks come from malloc one by one, so overflows stay detectable. */
#include "cmf_kernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_USE_ARENA 0
#endif
#endif
#ifndef POOL_USE_ARENA
#define POOL_USE_ARENA 1
#endif

enum { MAX_FREE_RANGES = 4096 };
static const size_t POOL_MIN_BYTES = (size_t)1 << 20;   /* smaller ones: malloc does well */
static const size_t POOL_ALIGN = 64;                     /* a cache line; AVX-512 loads */

typedef struct { size_t offset, bytes; } Range;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t g_scopes;                    /* open scopes, all threads */
static char *g_arena;                       /* reserved, not committed; NULL until first use */
static size_t g_arena_bytes;
static size_t g_top;                        /* offsets from here up have never been handed out */
static Range g_free[MAX_FREE_RANGES];       /* below g_top, sorted by offset, never adjacent */
static int g_free_count;
static size_t g_free_bytes_resident;        /* free bytes whose pages may still be resident */
static int g_arena_failed;
static int64_t g_hits, g_misses;

static size_t rounded(size_t bytes) { return (bytes + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN; }

/* Reserves address space the size of physical memory (no memory is committed until a page
 * is touched), less if the address space is limited; a take the arena cannot hold is
 * malloc'ed. Caller holds the lock. */
static int arena_ready(void) {
    if (g_arena) return 1;
    if (g_arena_failed || !POOL_USE_ARENA) return 0;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t bytes = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)16 << 30;
    void *p = MAP_FAILED;
    while (bytes >= POOL_MIN_BYTES << 10) {   /* down to 1 GiB when ulimit -v refuses more */
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) break;
        bytes /= 2;
    }
    if (p == MAP_FAILED) {
        g_arena_failed = 1;
        return 0;
    }
    g_arena = p;
    g_arena_bytes = bytes;
    return 1;
}

static int in_arena(const void *p) {
    return g_arena && (const char *)p >= g_arena && (const char *)p < g_arena + g_arena_bytes;
}

static void remove_range(int i) {
    for (int j = i + 1; j < g_free_count; j++) g_free[j - 1] = g_free[j];
    g_free_count--;
}

/* Offset of `size` bytes from the arena, or SIZE_MAX when it is full. Caller holds the lock. */
static size_t arena_carve(size_t size) {
    int best = -1;
    for (int i = 0; i < g_free_count; i++)
        if (g_free[i].bytes >= size && (best < 0 || g_free[i].bytes < g_free[best].bytes)) best = i;
    if (best >= 0) {
        size_t offset = g_free[best].offset;
        g_free[best].offset += size;
        g_free[best].bytes -= size;
        if (g_free[best].bytes == 0) remove_range(best);
        g_free_bytes_resident = g_free_bytes_resident > size ? g_free_bytes_resident - size : 0;
        g_hits++;
        return offset;
    }
    /* No free range fits: grow at the top, starting inside a free range that ends there. */
    size_t offset = g_top;
    if (g_free_count > 0 && g_free[g_free_count - 1].offset + g_free[g_free_count - 1].bytes == g_top) {
        Range last = g_free[g_free_count - 1];
        if (last.offset + size > g_arena_bytes) return SIZE_MAX;
        offset = last.offset;
        g_free_bytes_resident = g_free_bytes_resident > last.bytes ? g_free_bytes_resident - last.bytes : 0;
        g_free_count--;
    } else if (g_top + size > g_arena_bytes) {
        return SIZE_MAX;
    }
    g_top = offset + size;
    g_misses++;
    return offset;
}

/* Returns [offset, offset + size) to the free ranges, merged with its neighbours; false when
 * the table of ranges is full. Caller holds the lock. */
static int arena_release(size_t offset, size_t size) {
    int i = 0;
    while (i < g_free_count && g_free[i].offset < offset) i++;
    int joins_left = i > 0 && g_free[i - 1].offset + g_free[i - 1].bytes == offset;
    int joins_right = i < g_free_count && offset + size == g_free[i].offset;
    if (joins_left && joins_right) {
        g_free[i - 1].bytes += size + g_free[i].bytes;
        remove_range(i);
    } else if (joins_left) {
        g_free[i - 1].bytes += size;
    } else if (joins_right) {
        g_free[i].offset = offset;
        g_free[i].bytes += size;
    } else {
        if (g_free_count == MAX_FREE_RANGES) return 0;
        for (int j = g_free_count; j > i; j--) g_free[j] = g_free[j - 1];
        g_free[i] = (Range){offset, size};
        g_free_count++;
    }
    g_free_bytes_resident += size;
    return 1;
}

/* Gives the whole pages inside [offset, offset + bytes) back to the system. */
static void release_pages(size_t offset, size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t begin = (offset + page - 1) / page * page, end = (offset + bytes) / page * page;
    if (end > begin) madvise(g_arena + begin, end - begin, MADV_DONTNEED);
}

/* Gives the free ranges' pages back to the system; with no block left in use the arena
 * starts afresh. Caller holds the lock. */
static void arena_trim(void) {
    if (!g_arena) return;
    for (int i = 0; i < g_free_count; i++) release_pages(g_free[i].offset, g_free[i].bytes);
    if (g_free_count == 1 && g_free[0].offset == 0 && g_free[0].bytes == g_top) {
        g_free_count = 0;
        g_top = 0;
    }
    g_free_bytes_resident = 0;
}

void *cmfk_pool_take(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t size = rounded(bytes);
    if (size < bytes) return NULL;   /* overflow */
    if (size >= POOL_MIN_BYTES) {
        pthread_mutex_lock(&g_lock);
        size_t offset = g_scopes > 0 && arena_ready() ? arena_carve(size) : SIZE_MAX;
        pthread_mutex_unlock(&g_lock);
        if (offset != SIZE_MAX) return g_arena + offset;
    }
    return aligned_alloc(POOL_ALIGN, size);
}

void cmfk_pool_give(void *p, size_t bytes) {
    if (!p) return;
    size_t size = rounded(bytes == 0 ? 1 : bytes);
    if (size < POOL_MIN_BYTES) {   /* never from the arena: no lock on the common small free */
        free(p);
        return;
    }
    pthread_mutex_lock(&g_lock);
    if (in_arena(p)) {
        size_t offset = (size_t)((char *)p - g_arena);
        if (!arena_release(offset, size)) {
            release_pages(offset, size);   /* 4096 separate holes: this range stays unused */
        } else if (g_scopes == 0) {
            arena_trim();   /* a block that outlived its scope */
        }
        pthread_mutex_unlock(&g_lock);
        return;
    }
    pthread_mutex_unlock(&g_lock);
    free(p);
}

void cmfk_pool_enter(void) {
    pthread_mutex_lock(&g_lock);
    g_scopes++;
    pthread_mutex_unlock(&g_lock);
}

void cmfk_pool_leave(void) {
    pthread_mutex_lock(&g_lock);
    if (g_scopes > 0) g_scopes--;
    if (g_scopes == 0) arena_trim();
    pthread_mutex_unlock(&g_lock);
}

void cmfk_pool_stats(int64_t *hits, int64_t *misses, int64_t *cached_bytes) {
    pthread_mutex_lock(&g_lock);
    if (hits) *hits = g_hits;
    if (misses) *misses = g_misses;
    if (cached_bytes) *cached_bytes = (int64_t)g_free_bytes_resident;
    pthread_mutex_unlock(&g_lock);
}

int cmfk_pool_uses_arena(void) { return POOL_USE_ARENA; }
