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

/* Writes the path of the binary holding this code (libcmfseg.so, or a program it is linked
 * into statically) into buffer, NUL-terminated; returns 1, or 0 when unknown or longer than
 * size - 1 (binary_path.c). Data installed beside the library is found from it. */
int cmfk_binary_path(char *buffer, size_t size);

/* 1 when the caller's cancel flag is non-zero: an atomic (acquire) load, since another
 * thread sets it while the computation runs (binary_path.c keeps the process glue). */
int cmfk_flag_is_set(const int32_t *flag);

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

/* ------------------------------------------------------------------------------------ */
/* Evaluation kernels (BraTS metrics; composed by Sources/CMFSeg/Evaluate)               */
/* ------------------------------------------------------------------------------------ */
/* Boxes are inclusive voxel ranges int64_t box[6] = {x0, x1, y0, y1, z0, z1}; an empty
 * box has x0 > x1. A "mask" is a uint8_t grid where nonzero means inside. */

/* One pass over two label maps of the same grid. `lut` maps every label value to a bit set
 * of regions (bit k = region k, k < nregions <= 8), or to 0xFF for a value outside the label
 * convention; lut[0] must be 0. Writes, per region k:
 *   counts[3k+0] = |A_k| (reference), counts[3k+1] = |B_k| (prediction), counts[3k+2] = |A_k & B_k|,
 *   boxes[6k..6k+5] = bounding box of A_k | B_k (empty box if both are empty);
 * bad[0], bad[1] = smallest flat index of a voxel whose value maps to 0xFF in ref / pred, or -1. */
void cmfk_label_stats_u8(const uint8_t *ref, const uint8_t *pred, int64_t nx, int64_t ny,
                         int64_t nz, const uint8_t lut[256], int nregions, int64_t *counts,
                         int64_t *boxes, int64_t bad[2], int threads);
void cmfk_label_stats_u8_naive(const uint8_t *ref, const uint8_t *pred, int64_t nx, int64_t ny,
                               int64_t nz, const uint8_t lut[256], int nregions, int64_t *counts,
                               int64_t *boxes, int64_t bad[2]);

/* Copies box `box` of the grid into `out` (dims x1-x0+1, y1-y0+1, z1-z0+1, x fastest) as a
 * 0/1 mask: out = (lut[labels] & bits) != 0. */
void cmfk_crop_bits_u8(const uint8_t *labels, int64_t nx, int64_t ny, int64_t nz,
                       const uint8_t lut[256], uint8_t bits, const int64_t box[6], uint8_t *out);

/* Same for an instance map: out = (labels == id). */
void cmfk_crop_id_i32(const int32_t *labels, int64_t nx, int64_t ny, int64_t nz, int32_t id,
                      const int64_t box[6], uint8_t *out);

/* Border (surface) voxels as MedPy and panoptica define them: mask minus its binary erosion by
 * the 6-connected cross, voxels outside the grid counting as outside the mask (so mask voxels
 * on the grid edge are border voxels). border[i] = 1 or 0. Returns the number of border voxels. */
int64_t cmfk_border_u8(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz, uint8_t *border,
                       int threads);
int64_t cmfk_border_u8_naive(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                             uint8_t *border);

/* Exact squared Euclidean distance transform with anisotropic spacing: out[i] = the minimum
 * over feature voxels f (features[f] != 0) of sum_axis ((delta_axis * spacing_axis)^2), each
 * term computed as (double)delta * spacing squared and summed x, y, z as scipy does; +inf when
 * there is no feature. Felzenszwalb-Huttenlocher separable lower envelopes.
 * Returns 0, or -1 when a scratch allocation fails. */
int cmfk_edt_sq_f64(const uint8_t *features, int64_t nx, int64_t ny, int64_t nz,
                    const double spacing[3], double *out, int threads);
/* Brute force over all feature voxels (the test oracle; O(voxels x features)). */
int cmfk_edt_sq_f64_naive(const uint8_t *features, int64_t nx, int64_t ny, int64_t nz,
                          const double spacing[3], double *out);

/* The same squared distances, only at the query voxels (queries[i] != 0), written to out in
 * index order (out holds one double per query); the separable passes run only on the lines
 * that lead to a query (columns of query x, then query (x, y) columns), so a small query set
 * costs far less than a full transform. Returns the number of queries, -1 when scratch
 * memory fails. */
int64_t cmfk_edt_sq_at_f64(const uint8_t *features, const uint8_t *queries, int64_t nx,
                           int64_t ny, int64_t nz, const double spacing[3], double *out,
                           int threads);
/* Full brute-force transform, then the query values (the test oracle). */
int64_t cmfk_edt_sq_at_f64_naive(const uint8_t *features, const uint8_t *queries, int64_t nx,
                                 int64_t ny, int64_t nz, const double spacing[3], double *out);

/* values[i] for every i with mask[i] != 0, in index order, into out; returns the count. */
int64_t cmfk_gather_f64(const double *values, const uint8_t *mask, int64_t n, double *out);

/* The k-th smallest (0-based) of values[0..n-1] (quickselect; reorders values so that
 * values[k] holds it, smaller-or-equal ones before and greater-or-equal ones after).
 * Requires 0 <= k < n and no NaN. */
double cmfk_select_f64(double *values, int64_t n, int64_t k);

/* Overlap table of two instance maps over n voxels: every distinct pair (a, b) with a > 0,
 * b > 0 occurring at some voxel, with its voxel count, written as triples
 * pairs[3j] = a, pairs[3j+1] = b, pairs[3j+2] = count, sorted by (a, b). capacity is the
 * number of triples `pairs` holds. Returns the number of pairs, -1 when scratch memory fails,
 * -2 when capacity is too small. */
int64_t cmfk_overlap_pairs_i32(const int32_t *a, const int32_t *b, int64_t n, int64_t *pairs,
                               int64_t capacity);

/* ---- Phantom generator (branch phantom) ------------------------------------------- */

/* Uniform cubic B-spline upsampling of a coarse control lattice (smooth noise, bias
 * fields, elastic displacements). Output voxel x sits at lattice coordinate u = x / sx
 * (sx > 0, in output voxels per lattice step); with a = floor(u), t = u - a it takes the
 * nodes a..a+3 with the cubic B-spline weights of t. So cx >= floor((nx-1)/sx) + 4 (same
 * for y, z); returns -1 when the lattice is too small or an allocation fails, else 0.
 * `coarse` is cx*cy*cz x-fastest, `out` nx*ny*nz. Each output value is computed by the
 * same operations whatever the thread count (bit-identical results). */
int cmfk_bspline_upsample_f32(const float *coarse, int64_t cx, int64_t cy, int64_t cz,
                              float *out, int64_t nx, int64_t ny, int64_t nz,
                              double sx, double sy, double sz, int threads);
/* Oracle: the same sum, 64 terms per voxel, evaluated directly. */
int cmfk_bspline_upsample_f32_naive(const float *coarse, int64_t cx, int64_t cy, int64_t cz,
                                    float *out, int64_t nx, int64_t ny, int64_t nz,
                                    double sx, double sy, double sz);

/* Trilinear resampling of a multi-channel source volume onto an output grid nx*ny*nz.
 * The source is sx*sy*sz voxels of `channels` interleaved values (channel fastest:
 * src[c + channels*(x + sx*(y + sy*z))], so one voxel's channels share a cache line);
 * out[c] is the output volume (nx*ny*nz) of channel c. Output voxel p = (x, y, z) (+ d(p) in
 * output voxels when dx, dy, dz are non-NULL, each nx*ny*nz) maps to the source coordinate
 * q = M (p + d), M a row-major 3x4 matrix. Source voxels outside the grid count as 0 (edges
 * fade over one voxel). `box` (may be NULL) = {x0, y0, z0, x1, y1, z1}, inclusive: the
 * caller promises the source is 0 outside it, so outputs whose corners all lie outside the
 * box are written as 0 without sampling. */
void cmfk_warp_trilinear_f32(const float *src, int64_t sx, int64_t sy, int64_t sz,
                             int64_t channels, const int64_t *box, const double m[12],
                             const float *dx, const float *dy, const float *dz,
                             float *const *out, int64_t nx, int64_t ny, int64_t nz, int threads);

/* Geodesic (weighted shortest-path) distance in mm on a 26-connected grid from the voxels
 * with seeds[i] != 0. Moving between neighbours a and b costs |a-b|_mm * 2/(s_a + s_b),
 * `speed` s >= 0 per voxel (an edge whose two speeds are 0 is impassable). Voxels
 * farther than max_dist (or unreachable) get INFINITY. Dijkstra with a binary heap,
 * serial. Returns -1 when an allocation fails, else 0. */
int cmfk_geodesic_f32(const float *speed, const uint8_t *seeds, float *dist,
                      int64_t nx, int64_t ny, int64_t nz,
                      double spx, double spy, double spz, float max_dist);
/* Oracle: Bellman-Ford relaxation sweeps until nothing changes (no cut-off: every
 * reachable voxel gets its distance). */
int cmfk_geodesic_f32_naive(const float *speed, const uint8_t *seeds, float *dist,
                            int64_t nx, int64_t ny, int64_t nz,
                            double spx, double spy, double spz);

/* Rician magnitude noise: out[i] = |signal[i] + sigma (g1 + i g2)| with g1, g2 standard
 * normal drawn from a counter-based generator keyed by (key, i): the value at voxel i
 * depends only on key, i and signal[i], never on the thread count. Only voxels with
 * mask[i] != 0 are touched (mask may be NULL = all). In place. */
void cmfk_rician_noise_f32(float *signal, const uint8_t *mask, int64_t n, float sigma,
                           uint64_t key, int threads);

/* The two standard normals cmfk_rician_noise_f32 draws for voxel i (for tests). */
void cmfk_counter_gaussian_pair(uint64_t key, int64_t i, float *g1, float *g2);

/* The same over raw NIfTI data in double precision (after value * slope + inter), so
 * int32/int64 extremes are exact. */
void cmfk_minmax_raw(const void *src, int32_t datatype, int64_t n, int swap, double slope,
                     double inter, double *min_out, double *max_out, int64_t *nonfinite_out);

/* ---- dilate.c: binary dilation (segmentation post-processing) ---------------------- */

/* Binary dilation of (in != 0) by the 6-connected cross, `iterations` times (= the L1 ball of
 * radius `iterations`), as scipy.ndimage.binary_dilation(in, iterations=k) with its default
 * structure; voxels outside the grid count as 0. out receives 0/1 and must not alias in.
 * Returns 0, -1 (allocation failed), -2 (bad arguments). */
int cmfk_dilate_cross_u8(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                         int iterations, int threads);
int cmfk_dilate_cross_u8_naive(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                               int iterations);

/* ---- components.c: connected-component labelling (evaluation and post-processing) --- */
/* Connected components of (mask != 0) with 6-, 18- or 26-connectivity (faces; + edges;
 * + corners). Every output is optional (NULL: not computed):
 * - labels (nx*ny*nz) receives 0 outside the mask, else 1..N numbered in order of each
 *   component's first voxel in index order (x fastest);
 * - stats receives, for component c (1-based) at stats + 7*(c-1): voxel count, then its box
 *   (x0, x1, y0, y1, z0, z1); stats_capacity (in components) must be >= N (the number of
 *   mask voxels always suffices; with 26-connectivity so does the number of 2x2x2 cells).
 * Returns N; -1 when a scratch allocation fails; -2 for bad arguments (mask NULL, a dimension
 * < 1 or > INT32_MAX, connectivity not 6/18/26, 2^31 - 1 runs or more); -3 when stats is
 * given and stats_capacity < N (labels are still written). Run-length union-find: run
 * extraction and label writing are OpenMP-parallel over rows (`threads`, from 65536 voxels),
 * the union pass is serial; results do not depend on the thread count. */
int64_t cmfk_components_u8(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                           int connectivity, int32_t *labels, int64_t *stats,
                           int64_t stats_capacity, int threads);
/* Breadth-first flood fill, same numbering (the test oracle); labels required, needs
 * nx*ny*nz < 2^31 - 1. Returns N, -1, -2 as above. */
int64_t cmfk_components_u8_naive(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                                 int connectivity, int32_t *labels);

/* ---- buffer_pool.c: reuse of the network's large temporaries ---------------------- */
/* 64-byte aligned buffers. Blocks of 1 MiB and more taken while a scope is open come from
 * one arena where freed ranges merge and serve later takes of any size; when the last
 * cmfk_pool_leave closes, the free ranges' pages go back to the system (blocks still in use
 * stay valid and are returned by give as usual). Thread-safe; scopes nest and may overlap
 * between threads. take returns NULL when memory is exhausted; give(NULL, _) does nothing;
 * give needs take's byte count. */
void *cmfk_pool_take(size_t bytes);
void cmfk_pool_give(void *p, size_t bytes);
void cmfk_pool_enter(void);
void cmfk_pool_leave(void);
/* Arena takes served from freed ranges, arena takes that grew it, and the freed bytes whose
 * pages are still held. Any pointer may be NULL. */
void cmfk_pool_stats(int64_t *hits, int64_t *misses, int64_t *cached_bytes);
/* 1 when blocks come from the arena; 0 in AddressSanitizer builds (malloc, block by block). */
int cmfk_pool_uses_arena(void);

/* ---- Network layers (cmf_nn.h: convolution, normalisation, pooling, ...) -------------- */
#include "cmf_nn.h"

/* ---- Training patches (cmf_patch.h: crop with mirroring, intensity augmentation) ------ */
#include "cmf_patch.h"

#endif
