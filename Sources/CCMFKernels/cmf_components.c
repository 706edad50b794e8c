/*
 * Binary dilation and connected-component labelling on uint8 masks, for the BraTS
 * post-processing of the segmentation pipeline (small-component removal).
 * Kept in its own file so it can be merged with the evaluation's labeller if they converge.
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

/* The neighbour offsets (dx, dy, dz) of a connectivity that come earlier in raster order. */
static int backward_offsets(int connectivity, int off[13][3]) {
    int k = 0;
    for (int dz = -1; dz <= 0; dz++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) continue;
                int nonzero = (dx != 0) + (dy != 0) + (dz != 0);
                if (connectivity == 6 && nonzero > 1) continue;
                if (connectivity == 18 && nonzero > 2) continue;
                off[k][0] = dx; off[k][1] = dy; off[k][2] = dz;
                k++;
            }
    return k;
}

static int32_t uf_find(int32_t *parent, int32_t a) {
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

int cmfk_components_u8(const uint8_t *mask, int32_t *labels, int64_t nx, int64_t ny, int64_t nz,
                       int connectivity, int64_t *count) {
    if (!mask || !labels || !count || !grid_ok(nx, ny, nz)) return -2;
    if (connectivity != 6 && connectivity != 18 && connectivity != 26) return -2;
    const int64_t n = nx * ny * nz;
    if (n >= INT32_MAX) return -2;
    int off[13][3];
    const int noff = backward_offsets(connectivity, off);
    /* Pass 1: provisional labels (1-based) with union-find over backward neighbours. */
    int32_t *parent = malloc(sizeof(int32_t) * (size_t)(n + 1));
    if (!parent) return -1;
    int32_t next = 1;
    parent[0] = 0;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                const int64_t i = x + nx * (y + ny * z);
                if (!mask[i]) { labels[i] = 0; continue; }
                int32_t lab = 0;
                for (int k = 0; k < noff; k++) {
                    int64_t X = x + off[k][0], Y = y + off[k][1], Z = z + off[k][2];
                    if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny) continue;
                    int32_t l = labels[X + nx * (Y + ny * Z)];
                    if (!l) continue;
                    if (!lab) { lab = uf_find(parent, l); continue; }
                    int32_t ra = uf_find(parent, l);
                    if (ra != lab) {
                        /* Keep the smaller root so roots stay the earliest label. */
                        if (ra < lab) { parent[lab] = ra; lab = ra; } else parent[ra] = lab;
                    }
                }
                if (!lab) {
                    parent[next] = next;
                    lab = next++;
                }
                labels[i] = lab;
            }
    /* Pass 2: final labels in raster order of each component's first voxel. */
    int32_t *final = calloc((size_t)next, sizeof(int32_t));
    if (!final) { free(parent); return -1; }
    int32_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!labels[i]) continue;
        int32_t r = uf_find(parent, labels[i]);
        if (!final[r]) final[r] = ++k;
        labels[i] = final[r];
    }
    free(final);
    free(parent);
    *count = k;
    return 0;
}

int cmfk_components_u8_naive(const uint8_t *mask, int32_t *labels, int64_t nx, int64_t ny, int64_t nz,
                             int connectivity, int64_t *count) {
    if (!mask || !labels || !count || !grid_ok(nx, ny, nz)) return -2;
    if (connectivity != 6 && connectivity != 18 && connectivity != 26) return -2;
    const int64_t n = nx * ny * nz;
    if (n >= INT32_MAX) return -2;
    int64_t *stack = malloc(sizeof(int64_t) * (size_t)n);
    if (!stack) return -1;
    for (int64_t i = 0; i < n; i++) labels[i] = 0;
    int32_t k = 0;
    for (int64_t s = 0; s < n; s++) {
        if (!mask[s] || labels[s]) continue;
        labels[s] = ++k;
        int64_t top = 0;
        stack[top++] = s;
        while (top) {
            int64_t i = stack[--top];
            int64_t x = i % nx, y = (i / nx) % ny, z = i / (nx * ny);
            for (int dz = -1; dz <= 1; dz++)
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int nzc = (dx != 0) + (dy != 0) + (dz != 0);
                        if (nzc == 0) continue;
                        if (connectivity == 6 && nzc > 1) continue;
                        if (connectivity == 18 && nzc > 2) continue;
                        int64_t X = x + dx, Y = y + dy, Z = z + dz;
                        if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                        int64_t j = X + nx * (Y + ny * Z);
                        if (mask[j] && !labels[j]) { labels[j] = k; stack[top++] = j; }
                    }
        }
    }
    free(stack);
    *count = k;
    return 0;
}
