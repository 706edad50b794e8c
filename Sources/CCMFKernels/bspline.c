/* Uniform cubic B-spline upsampling of a control lattice (see cmf_kernels.h). */
#include "cmf_kernels.h"
#include <math.h>

/* No FMA contraction: a voxel's value must not depend on where a vector loop splits (thread-count
 * independent, bit-identical output). */
#pragma clang fp contract(off)
#include <stdlib.h>

static inline void bspline_weights(double t, double w[4]) {
    double t2 = t * t, t3 = t2 * t, s = 1.0 - t;
    w[0] = s * s * s / 6.0;
    w[1] = (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0;
    w[2] = (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0;
    w[3] = t3 / 6.0;
}

static int lattice_fits(int64_t c, int64_t n, double s) {
    if (n < 1 || c < 4 || !(s > 0.0) || !isfinite(s)) return 0;
    return (int64_t)floor((double)(n - 1) / s) + 4 <= c;
}

/* Per-axis table: first node and 4 weights for every output position. */
typedef struct { int64_t *first; float *w; } axis_table;

static int make_table(axis_table *t, int64_t n, double s) {
    t->first = malloc(sizeof(int64_t) * (size_t)n);
    t->w = malloc(sizeof(float) * 4 * (size_t)n);
    if (!t->first || !t->w) { free(t->first); free(t->w); return -1; }
    for (int64_t i = 0; i < n; i++) {
        double u = (double)i / s, a = floor(u), w[4];
        bspline_weights(u - a, w);
        t->first[i] = (int64_t)a;
        for (int k = 0; k < 4; k++) t->w[4 * i + k] = (float)w[k];
    }
    return 0;
}

int cmfk_bspline_upsample_f32(const float *coarse, int64_t cx, int64_t cy, int64_t cz,
                              float *out, int64_t nx, int64_t ny, int64_t nz,
                              double sx, double sy, double sz, int threads) {
    if (!lattice_fits(cx, nx, sx) || !lattice_fits(cy, ny, sy) || !lattice_fits(cz, nz, sz))
        return -1;
    int nt = cmfk_thread_count(threads);
    axis_table tx = {0}, ty = {0}, tz = {0};
    float *a = malloc(sizeof(float) * (size_t)(nx * cy * cz));  /* x done: nx*cy*cz  */
    float *b = malloc(sizeof(float) * (size_t)(nx * ny * cz));  /* x,y done: nx*ny*cz */
    int rc = -1;
    if (!a || !b || make_table(&tx, nx, sx) || make_table(&ty, ny, sy) || make_table(&tz, nz, sz))
        goto done;
    /* along x */
    #pragma omp parallel for num_threads(nt) schedule(static) if (nx * cy * cz > 32768)
    for (int64_t r = 0; r < cy * cz; r++) {
        const float *src = coarse + r * cx;
        float *dst = a + r * nx;
        for (int64_t x = 0; x < nx; x++) {
            const float *w = tx.w + 4 * x, *c = src + tx.first[x];
            dst[x] = w[0] * c[0] + w[1] * c[1] + w[2] * c[2] + w[3] * c[3];
        }
    }
    /* along y */
    #pragma omp parallel for num_threads(nt) schedule(static) if (nx * ny * cz > 32768)
    for (int64_t r = 0; r < ny * cz; r++) {
        int64_t y = r % ny, z = r / ny;
        const float *w = ty.w + 4 * y;
        const float *c0 = a + nx * (ty.first[y] + cy * z);
        float *dst = b + nx * (y + ny * z);
        for (int64_t x = 0; x < nx; x++)
            dst[x] = w[0] * c0[x] + w[1] * c0[x + nx] + w[2] * c0[x + 2 * nx] + w[3] * c0[x + 3 * nx];
    }
    /* along z */
    int64_t plane = nx * ny;
    #pragma omp parallel for num_threads(nt) schedule(static) if (nx * ny * nz > 32768)
    for (int64_t r = 0; r < ny * nz; r++) {
        int64_t y = r % ny, z = r / ny;
        const float *w = tz.w + 4 * z;
        const float *c0 = b + nx * y + plane * tz.first[z];
        float *dst = out + nx * (y + ny * z);
        for (int64_t x = 0; x < nx; x++)
            dst[x] = w[0] * c0[x] + w[1] * c0[x + plane] + w[2] * c0[x + 2 * plane] + w[3] * c0[x + 3 * plane];
    }
    rc = 0;
done:
    free(a); free(b);
    free(tx.first); free(tx.w); free(ty.first); free(ty.w); free(tz.first); free(tz.w);
    return rc;
}

int cmfk_bspline_upsample_f32_naive(const float *coarse, int64_t cx, int64_t cy, int64_t cz,
                                    float *out, int64_t nx, int64_t ny, int64_t nz,
                                    double sx, double sy, double sz) {
    if (!lattice_fits(cx, nx, sx) || !lattice_fits(cy, ny, sy) || !lattice_fits(cz, nz, sz))
        return -1;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                double ux = x / sx, uy = y / sy, uz = z / sz;
                double ax = floor(ux), ay = floor(uy), az = floor(uz);
                double wx[4], wy[4], wz[4];
                bspline_weights(ux - ax, wx);
                bspline_weights(uy - ay, wy);
                bspline_weights(uz - az, wz);
                double sum = 0;
                for (int k = 0; k < 4; k++)
                    for (int j = 0; j < 4; j++)
                        for (int i = 0; i < 4; i++) {
                            int64_t idx = ((int64_t)ax + i) + cx * (((int64_t)ay + j) + cy * ((int64_t)az + k));
                            sum += wx[i] * wy[j] * wz[k] * coarse[idx];
                        }
                out[x + nx * (y + ny * z)] = (float)sum;
            }
    return 0;
}
