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

/* ---- cmf_components.c: dilation and connected components (segmentation post-processing) */

/* Binary dilation of (in != 0) by the 6-connected cross, `iterations` times (= the L1 ball of
 * radius `iterations`), as scipy.ndimage.binary_dilation(in, iterations=k) with its default
 * structure; voxels outside the grid count as 0. out receives 0/1 and must not alias in.
 * Returns 0, -1 (allocation failed), -2 (bad arguments). */
int cmfk_dilate_cross_u8(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                         int iterations, int threads);
int cmfk_dilate_cross_u8_naive(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                               int iterations);

/* Connected components of (mask != 0) with 6-, 18- or 26-connectivity. labels (nx*ny*nz)
 * receives 0 for background and 1...count numbered in raster order (x fastest) of each
 * component's first voxel; *count the number of components. Needs nx*ny*nz < 2^31.
 * Returns 0, -1 (allocation failed), -2 (bad arguments). */
int cmfk_components_u8(const uint8_t *mask, int32_t *labels, int64_t nx, int64_t ny, int64_t nz,
                       int connectivity, int64_t *count);
int cmfk_components_u8_naive(const uint8_t *mask, int32_t *labels, int64_t nx, int64_t ny, int64_t nz,
                             int connectivity, int64_t *count);

#endif
