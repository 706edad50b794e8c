#include "cmf_kernels.h"
#include <omp.h>

int cmfk_thread_count(int threads) {
    return threads > 0 ? threads : omp_get_max_threads();
}
