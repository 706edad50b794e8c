/* See cmfk_malloc_keep_freed_memory in cmf_nn.h. */
#include "cmf_nn.h"
#include <malloc.h>

int cmfk_malloc_keep_freed_memory(void) {
    int ok = mallopt(M_MMAP_MAX, 0);
    ok &= mallopt(M_TRIM_THRESHOLD, -1);  /* -1: never trim (stored as the maximum) */
    return ok ? 0 : -1;
}
