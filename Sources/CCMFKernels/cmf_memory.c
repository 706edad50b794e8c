/* Process-wide allocator settings for executables (never called by the library itself). */
#include "cmf_kernels.h"
#include <malloc.h>

int cmfk_malloc_keep_freed(void) {
    /* Serve big blocks from the heap and never trim it, so freed tensors are reused instead
     * of being unmapped and page-faulted again. Returns 1 when glibc accepted both. */
    int a = mallopt(M_MMAP_THRESHOLD, 0x7fffffff);
    int b = mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
    return a == 1 && b == 1;
}
