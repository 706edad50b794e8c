/*
 * cmf_kernels.h — C + OpenMP voxel kernels behind the Swift core (internal, not installed).
 *
 * Why C: tight voxel loops parallelised with OpenMP (LLVM libomp). Conventions:
 * - names cmfk_<op>_<dtype>; a `_naive` twin of each optimised kernel serves as test oracle;
 * - grids are (nx, ny, nz) int64_t, x fastest: index = x + nx*(y + ny*z);
 * - `threads` <= 0 means OpenMP's default; the serial path is correct on its own;
 * - kernels never allocate unbounded memory silently: they return 0 on success, -1 when an
 *   allocation fails.
 */
#ifndef CMF_KERNELS_H
#define CMF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Number of threads OpenMP would use for `threads` (<= 0: the default). */
int cmfk_thread_count(int threads);

/* Network layers (convolution, normalisation, pooling, ...). */
#include "cmf_nn.h"

#endif
