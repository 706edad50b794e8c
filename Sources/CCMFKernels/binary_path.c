/* Process glue the Swift side cannot express: where the library was loaded from (dladdr
 * needs _GNU_SOURCE, which Swift's Glibc lacks) and atomic reads of a host's flag. */
#define _GNU_SOURCE
#include "cmf_kernels.h"
#include <dlfcn.h>
#include <string.h>

int cmfk_binary_path(char *buffer, size_t size) {
    Dl_info info;
    if (!buffer || size == 0 || !dladdr((void *)&cmfk_binary_path, &info) || !info.dli_fname) return 0;
    size_t n = strlen(info.dli_fname);
    if (n == 0 || n + 1 > size) return 0;
    memcpy(buffer, info.dli_fname, n + 1);
    return 1;
}

int cmfk_flag_is_set(const int32_t *flag) {
    return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}
