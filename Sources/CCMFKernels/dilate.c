/*
 * Binary dilation of uint8 masks by the 6-connected cross, for the BraTS post-processing of
 * the segmentation pipeline (components are grouped on the dilated mask; their labelling is
 * components.c's).
 */
#include "cmf_kernels.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CMFK_PARALLEL_MIN_VOXELS 65536

static int grid_ok(int64_t nx, int64_t ny, int64_t nz) {
    if (nx < 1 || ny < 1 || nz < 1) return 0;
    if (nx > INT32_MAX || ny > INT32_MAX || nz > INT32_MAX) return 0;
    if (nx * ny > INT64_MAX / nz) return 0;
    return 1;
}

/* One step: out = in dilated by the 6-connected cross (in, out hold 0/1). */
static void dilate_once(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz, int threads) {
    const int64_t sxy = nx * ny;
    const int par = nx * ny * nz >= CMFK_PARALLEL_MIN_VOXELS;
    #pragma omp parallel for num_threads(cmfk_thread_count(threads)) if (par) schedule(static)
    for (int64_t z = 0; z < nz; z++) {
        for (int64_t y = 0; y < ny; y++) {
            const int64_t row = nx * (y + ny * z);
            for (int64_t x = 0; x < nx; x++) {
                const int64_t i = row + x;
                uint8_t v = in[i];
                if (!v) {
                    v = (x > 0 && in[i - 1]) || (x + 1 < nx && in[i + 1]) ||
                        (y > 0 && in[i - nx]) || (y + 1 < ny && in[i + nx]) ||
                        (z > 0 && in[i - sxy]) || (z + 1 < nz && in[i + sxy]);
                }
                out[i] = v ? 1 : 0;
            }
        }
    }
}

int cmfk_dilate_cross_u8(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                         int iterations, int threads) {
    if (!in || !out || !grid_ok(nx, ny, nz) || iterations < 0) return -2;
    const int64_t n = nx * ny * nz;
    if (iterations == 0) {
        for (int64_t i = 0; i < n; i++) out[i] = in[i] ? 1 : 0;
        return 0;
    }
    uint8_t *a = malloc((size_t)n), *b = iterations > 1 ? malloc((size_t)n) : NULL;
    if (!a || (iterations > 1 && !b)) { free(a); free(b); return -1; }
    for (int64_t i = 0; i < n; i++) a[i] = in[i] ? 1 : 0;
    /* Ping-pong between a and b; the last step writes to out. */
    const uint8_t *src = a;
    for (int it = 0; it < iterations; it++) {
        uint8_t *dst = (it == iterations - 1) ? out : (src == a ? b : a);
        dilate_once(src, dst, nx, ny, nz, threads);
        src = dst;
    }
    free(a);
    free(b);
    return 0;
}

int cmfk_dilate_cross_u8_naive(const uint8_t *in, uint8_t *out, int64_t nx, int64_t ny, int64_t nz,
                               int iterations) {
    if (!in || !out || !grid_ok(nx, ny, nz) || iterations < 0) return -2;
    /* Iterated cross dilation = dilation by the L1 ball of radius `iterations`. */
    const int64_t r = iterations;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                uint8_t hit = 0;
                for (int64_t dz = -r; dz <= r && !hit; dz++)
                    for (int64_t dy = -r; dy <= r && !hit; dy++)
                        for (int64_t dx = -r; dx <= r && !hit; dx++) {
                            int64_t ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy, az = dz < 0 ? -dz : dz;
                            if (ax + ay + az > r) continue;
                            int64_t X = x + dx, Y = y + dy, Z = z + dz;
                            if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                            if (in[X + nx * (Y + ny * Z)]) hit = 1;
                        }
                out[x + nx * (y + ny * z)] = hit;
            }
    return 0;
}
