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

/* ---- NIfTI voxel conversion (convert.c) ------------------------------------------- */
/* NIfTI datatype codes the converters accept. */
enum {
    CMFK_DT_UINT8 = 2, CMFK_DT_INT16 = 4, CMFK_DT_INT32 = 8, CMFK_DT_FLOAT32 = 16,
    CMFK_DT_FLOAT64 = 64, CMFK_DT_INT8 = 256, CMFK_DT_UINT16 = 512, CMFK_DT_UINT32 = 768,
    CMFK_DT_INT64 = 1024, CMFK_DT_UINT64 = 1280
};

/* Bytes per voxel of a datatype, 0 if the converters do not accept it. */
int cmfk_datatype_size(int32_t datatype);

/* Element i of `src` as a double (byte-swapped when `swap`); NaN for an unknown datatype. */
double cmfk_load_double(const void *src, int32_t datatype, int64_t i, int swap);

/* dst[i] = (float)(src[i] * slope + inter) for n voxels (src byte-swapped when `swap`).
 * Returns 0, or -2 for an unsupported datatype. src need not be aligned to its type only
 * when swap is set; otherwise it must be. */
int cmfk_convert_f32(const void *src, int32_t datatype, int64_t n, int swap,
                     double slope, double inter, float *dst);
int cmfk_convert_f32_naive(const void *src, int32_t datatype, int64_t n, int swap,
                           double slope, double inter, float *dst);

/* dst[i] = src[i] * slope + inter as uint8 labels. Returns -1 when every value is an
 * integer in 0...255, else the index of the first voxel that is not (dst then partly
 * written), or -2 for an unsupported datatype. */
int64_t cmfk_convert_u8(const void *src, int32_t datatype, int64_t n, int swap,
                        double slope, double inter, uint8_t *dst);
int64_t cmfk_convert_u8_naive(const void *src, int32_t datatype, int64_t n, int swap,
                              double slope, double inter, uint8_t *dst);

/* Smallest and largest finite value of n floats (+inf/-inf when none) and the number of
 * non-finite values. */
void cmfk_minmax_f32(const float *src, int64_t n, float *min_out, float *max_out,
                     int64_t *nonfinite_out);

/* The same over raw NIfTI data in double precision (after value * slope + inter), so
 * int32/int64 extremes are exact. */
void cmfk_minmax_raw(const void *src, int32_t datatype, int64_t n, int swap, double slope,
                     double inter, double *min_out, double *max_out, int64_t *nonfinite_out);

/* ---- Network layers (cmf_nn.h: convolution, normalisation, pooling, ...) -------------- */
#include "cmf_nn.h"

#endif
