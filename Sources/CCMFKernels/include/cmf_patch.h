/*
 * cmf_patch.h — training patches (included by cmf_kernels.h): cropping with mirroring, and the
 * intensity augmentation pass (patch.c). Used by PatchSampler (Sources/CMFSeg/Train).
 *
 * Serial on purpose: a patch is drawn on a background thread while the training step keeps
 * the cores busy, and a serial loop is trivially deterministic. Written in C so that drawing a
 * 128³ patch stays fast in debug builds too.
 *
 * Grids are (nx, ny, nz) int64_t, x fastest: index = x + nx*(y + ny*z). A multi-channel
 * array is `channels` such grids one after the other ([C, D, H, W] with D = z, H = y, W = x).
 */
#ifndef CMF_PATCH_H
#define CMF_PATCH_H

#include <stddef.h>
#include <stdint.h>

/* Copies the box [ox, ox+px) × [oy, oy+py) × [oz, oz+pz) of each of `channels` grids of
 * (sx, sy, sz) in `src` to `dst` (`channels` grids of (px, py, pz)), mirrored inside the box
 * along each axis whose flip flag is non-zero:
 *     dst[c](x, y, z) = src[c](ox + (flip_x ? px-1-x : x), oy + (flip_y ? py-1-y : y), oz + ...).
 * The f16 variant reads IEEE 754 binary16 bit patterns and widens them exactly to float.
 * Returns 0, or -2 when a size is not positive or the box is not inside the grid.
 * `_naive`: one voxel at a time through the formula above, the test oracle. */
int cmfk_patch_crop_f32(const float *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                        int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                        int flip_x, int flip_y, int flip_z, float *dst);
int cmfk_patch_crop_f32_naive(const float *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                              int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                              int flip_x, int flip_y, int flip_z, float *dst);
int cmfk_patch_crop_f16(const uint16_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                        int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                        int flip_x, int flip_y, int flip_z, float *dst);
int cmfk_patch_crop_f16_naive(const uint16_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                              int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                              int flip_x, int flip_y, int flip_z, float *dst);
int cmfk_patch_crop_u8(const uint8_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                       int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                       int flip_x, int flip_y, int flip_z, uint8_t *dst);
int cmfk_patch_crop_u8_naive(const uint8_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                             int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                             int flip_x, int flip_y, int flip_z, uint8_t *dst);

/* The exact float value of an IEEE 754 binary16 bit pattern (normals, subnormals, ±0, ±inf,
 * NaN). */
float cmfk_f16_to_f32(uint16_t h);

/* In place on one channel x of (px, py, pz), touching only the voxels != 0 (background and
 * padding stay exactly 0), in this order:
 * 1. bias field, when bias_x, bias_y and bias_z are all non-NULL:
 *        v *= bias_z[z] * bias_y[y] * bias_x[x];
 * 2. gamma, when gamma != 1: with lo, hi the minimum and maximum of the non-zero voxels (after
 *    step 1) and r = hi - lo + 1e-7,
 *        v = lo + r * ((v - lo) / r)^gamma;
 * 3. v = v * scale + shift.
 * Returns the number of voxels transformed, or -2 for a non-positive size. */
int64_t cmfk_patch_intensity_f32(float *x, int64_t px, int64_t py, int64_t pz,
                                 const float *bias_x, const float *bias_y, const float *bias_z,
                                 float gamma, float scale, float shift);

#endif
