/* Exact squared Euclidean distance transform with anisotropic spacing
 * (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions", 2012),
 * arranged so each term is ((double)delta * spacing)^2 and terms add x, then y, then z —
 * the arithmetic scipy.ndimage.distance_transform_edt uses, so values agree bit for bit
 * whenever the nearest feature is unique. */
#include "cmf_kernels.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>

/* 1-D lower envelope of parabolas f[q] + ((x - q) * w)^2 over a line of n samples read with
 * stride `stride` from `line` (in place). v, zb: scratch of n and n + 1 entries; g: n values. */
static void envelope_1d(double *line, int64_t n, int64_t stride, double w, int64_t *v,
                        double *zb, double *g) {
    int64_t k = -1;
    double w2 = w * w;
    for (int64_t q = 0; q < n; q++) {
        double fq = line[q * stride];
        g[q] = fq;
        if (isinf(fq)) continue;
        if (k < 0) {
            k = 0;
            v[0] = q;
            zb[0] = -INFINITY;
            zb[1] = INFINITY;
            continue;
        }
        for (;;) {
            int64_t p = v[k];
            double s = ((fq - g[p]) / w2 + (double)(q * q - p * p)) / (double)(2 * (q - p));
            if (s <= zb[k]) {
                if (k == 0) { /* q dominates everything on the left */
                    v[0] = q;
                    zb[0] = -INFINITY;
                    zb[1] = INFINITY;
                    break;
                }
                k--;
                continue;
            }
            k++;
            v[k] = q;
            zb[k] = s;
            zb[k + 1] = INFINITY;
            break;
        }
    }
    if (k < 0) return; /* no finite value: the line stays +inf */
    int64_t j = 0;
    for (int64_t x = 0; x < n; x++) {
        while (zb[j + 1] < (double)x) j++;
        double t = (double)(x - v[j]) * w;
        line[x * stride] = g[v[j]] + t * t;
    }
}

int cmfk_edt_sq_f64(const uint8_t *features, int64_t nx, int64_t ny, int64_t nz,
                    const double spacing[3], double *out, int threads) {
    int64_t n = nx * ny * nz;
    int nt = cmfk_thread_count(threads);
    if (n < (1 << 15)) nt = 1;
    int64_t maxn = nx > ny ? nx : ny;
    if (nz > maxn) maxn = nz;
    int failed = 0;
    const double sx = spacing[0], sy = spacing[1], sz = spacing[2];
    int64_t sxy = nx * ny;

#pragma omp parallel num_threads(nt)
    {
        int64_t *v = malloc(sizeof(int64_t) * (size_t)maxn);
        double *zb = malloc(sizeof(double) * (size_t)(maxn + 1));
        double *g = malloc(sizeof(double) * (size_t)maxn);
        if (!v || !zb || !g) {
#pragma omp atomic write
            failed = 1;
        }
        /* Pass 1 (x): distance to the nearest feature in the row, two linear scans. */
#pragma omp for schedule(static)
        for (int64_t r = 0; r < ny * nz; r++) {
            const uint8_t *f = features + r * nx;
            double *o = out + r * nx;
            int64_t last = -1;
            for (int64_t x = 0; x < nx; x++) {
                if (f[x]) last = x;
                o[x] = last < 0 ? INFINITY : (double)(x - last);
            }
            last = -1;
            for (int64_t x = nx - 1; x >= 0; x--) {
                if (f[x]) last = x;
                double d = last < 0 ? INFINITY : (double)(last - x);
                if (d < o[x]) o[x] = d;
            }
            for (int64_t x = 0; x < nx; x++) {
                if (isinf(o[x])) continue;
                double t = o[x] * sx;
                o[x] = t * t;
            }
        }
        if (!failed) {
            /* Pass 2 (y): lines along y inside each slice. */
#pragma omp for schedule(static)
            for (int64_t z = 0; z < nz; z++)
                for (int64_t x = 0; x < nx; x++)
                    envelope_1d(out + x + sxy * z, ny, nx, sy, v, zb, g);
            /* Pass 3 (z): lines along z, one xz-plane (fixed y) per task. */
#pragma omp for schedule(static)
            for (int64_t y = 0; y < ny; y++)
                for (int64_t x = 0; x < nx; x++)
                    envelope_1d(out + x + nx * y, nz, sxy, sz, v, zb, g);
        }
        free(v);
        free(zb);
        free(g);
    }
    return failed ? -1 : 0;
}

int cmfk_edt_sq_f64_naive(const uint8_t *features, int64_t nx, int64_t ny, int64_t nz,
                          const double spacing[3], double *out) {
    int64_t n = nx * ny * nz, nf = 0;
    for (int64_t i = 0; i < n; i++) nf += features[i] != 0;
    int64_t *fx = malloc(sizeof(int64_t) * (size_t)(3 * nf + 1));
    if (!fx) return -1;
    int64_t k = 0;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++)
                if (features[x + nx * (y + ny * z)]) {
                    fx[3 * k] = x;
                    fx[3 * k + 1] = y;
                    fx[3 * k + 2] = z;
                    k++;
                }
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                double best = INFINITY;
                for (int64_t j = 0; j < nf; j++) {
                    double a = (double)(x - fx[3 * j]) * spacing[0];
                    double b = (double)(y - fx[3 * j + 1]) * spacing[1];
                    double c = (double)(z - fx[3 * j + 2]) * spacing[2];
                    double d = a * a + b * b + c * c;
                    if (d < best) best = d;
                }
                out[x + nx * (y + ny * z)] = best;
            }
    free(fx);
    return 0;
}
