/* Exact squared Euclidean distance transform with anisotropic spacing
 * (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions", 2012),
 * arranged so each term is ((double)delta * spacing)^2 and terms add x, then y, then z —
 * the arithmetic scipy.ndimage.distance_transform_edt uses, so values agree bit for bit
 * whenever the nearest feature is unique. */
#include "cmf_kernels.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

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

/* True when the 8 bytes at p are all zero. */
static inline int zero8(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w == 0;
}

/* Lower envelope of the parabolas vals[i] + ((t - pos[i]) * w)^2 (positions ascending, values
 * finite), evaluated at the ascending positions qpos[0..nq-1] into out. Same arithmetic as
 * envelope_1d. v, zb: scratch of m and m + 1 entries. */
static void envelope_sparse(const double *vals, const int64_t *pos, int64_t m, double w,
                            const int64_t *qpos, int64_t nq, double *out, int64_t *v, double *zb) {
    if (m == 0) {
        for (int64_t j = 0; j < nq; j++) out[j] = INFINITY;
        return;
    }
    double w2 = w * w;
    int64_t k = 0;
    v[0] = 0;
    zb[0] = -INFINITY;
    zb[1] = INFINITY;
    for (int64_t i = 1; i < m; i++) {
        int64_t p = pos[i];
        double fq = vals[i];
        for (;;) {
            int64_t r = pos[v[k]];
            double s = ((fq - vals[v[k]]) / w2 + (double)(p * p - r * r)) / (double)(2 * (p - r));
            if (s <= zb[k] && k > 0) {
                k--;
                continue;
            }
            k++;
            v[k] = i;
            zb[k] = s;
            zb[k + 1] = INFINITY;
            break;
        }
    }
    int64_t j = 0;
    for (int64_t t = 0; t < nq; t++) {
        int64_t x = qpos[t];
        while (zb[j + 1] < (double)x) j++;
        double d = (double)(x - pos[v[j]]) * w;
        out[t] = vals[v[j]] + d * d;
    }
}

int64_t cmfk_edt_sq_at_f64(const uint8_t *features, const uint8_t *queries, int64_t nx,
                           int64_t ny, int64_t nz, const double spacing[3], double *out,
                           int threads) {
    int64_t sxy = nx * ny, n = sxy * nz;
    int nt = cmfk_thread_count(threads);
    if (n < (1 << 15)) nt = 1;
    int64_t maxn = nx > ny ? nx : ny;
    if (nz > maxn) maxn = nz;
    const double sx = spacing[0], sy = spacing[1], sz = spacing[2];
    /* Projections: query (x, y) columns, the query y of each x (CSR), slices with features. */
    uint8_t *qxy = calloc((size_t)sxy, 1);
    int64_t *qcount = calloc((size_t)nx + 1, sizeof(int64_t));
    int64_t *fzs = malloc(sizeof(int64_t) * (size_t)nz);
    double *g2 = malloc(sizeof(double) * (size_t)n);
    int64_t *xs = malloc(sizeof(int64_t) * (size_t)nx);
    int64_t *qys = malloc(sizeof(int64_t) * (size_t)sxy);
    if (!qxy || !qcount || !fzs || !g2 || !xs || !qys) {
        free(qxy); free(qcount); free(fzs); free(g2); free(xs); free(qys);
        return -1;
    }
    int64_t nq = 0, nfz = 0;
    for (int64_t z = 0; z < nz; z++) {
        const uint8_t *qs = queries + z * sxy, *fs = features + z * sxy;
        int64_t i = 0;
        while (i < sxy) {
            if (i + 8 <= sxy && zero8(fs + i)) { i += 8; continue; }
            if (fs[i]) break;
            i++;
        }
        if (i < sxy) fzs[nfz++] = z;
        i = 0;
        while (i < sxy) {
            if (i + 8 <= sxy && zero8(qs + i)) { i += 8; continue; }
            if (qs[i]) { qxy[i] = 1; nq++; }
            i++;
        }
    }
    for (int64_t i = 0; i < sxy; i++) qcount[i % nx + 1] += qxy[i];
    int64_t nxs = 0;
    for (int64_t x = 0; x < nx; x++) {
        if (qcount[x + 1]) xs[nxs++] = x;
        qcount[x + 1] += qcount[x]; /* now offsets: column x's y list at qcount[x] */
    }
    {
        int64_t *fill = malloc(sizeof(int64_t) * (size_t)nx);
        if (!fill) {
            free(qxy); free(qcount); free(fzs); free(g2); free(xs); free(qys);
            return -1;
        }
        memcpy(fill, qcount, sizeof(int64_t) * (size_t)nx);
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++)
                if (qxy[x + nx * y]) qys[fill[x]++] = y;
        free(fill);
    }
    int failed = 0;

#pragma omp parallel num_threads(nt)
    {
        int64_t *v = malloc(sizeof(int64_t) * (size_t)maxn);
        double *zb = malloc(sizeof(double) * (size_t)(maxn + 1));
        double *vals = malloc(sizeof(double) * (size_t)maxn);
        double *res = malloc(sizeof(double) * (size_t)maxn);
        int64_t *qpos = malloc(sizeof(int64_t) * (size_t)maxn);
        double *g1 = malloc(sizeof(double) * (size_t)sxy);
        int64_t *fpos = malloc(sizeof(int64_t) * (size_t)(nx + 1));
        int64_t *frows = malloc(sizeof(int64_t) * (size_t)(ny + 1));
        if (!v || !zb || !vals || !res || !qpos || !g1 || !fpos || !frows) {
#pragma omp atomic write
            failed = 1;
        }
        if (!failed) {
            /* Passes 1 + 2 on the slices holding features: row distances at the query x only
             * (from each row's sparse feature positions), then envelopes along y over the
             * feature rows, evaluated at the query (x, y) columns. */
#pragma omp for schedule(static, 1)
            for (int64_t iz = 0; iz < nfz; iz++) {
                int64_t z = fzs[iz];
                double *dst = g2 + z * sxy;
                int64_t nfr = 0;
                for (int64_t y = 0; y < ny; y++) {
                    const uint8_t *f = features + z * sxy + y * nx;
                    int64_t nf = 0, x = 0;
                    while (x < nx) {
                        if (x + 8 <= nx && zero8(f + x)) { x += 8; continue; }
                        if (f[x]) fpos[nf++] = x;
                        x++;
                    }
                    if (nf == 0) continue;
                    frows[nfr++] = y;
                    double *o = g1 + y * nx;
                    int64_t j = 0; /* fpos[j]: the first feature >= xq, or nf */
                    for (int64_t k = 0; k < nxs; k++) {
                        int64_t xq = xs[k];
                        while (j < nf && fpos[j] < xq) j++;
                        int64_t d = INT64_MAX;
                        if (j < nf) d = fpos[j] - xq;
                        if (j > 0 && xq - fpos[j - 1] < d) d = xq - fpos[j - 1];
                        double t = (double)d * sx;
                        o[xq] = t * t;
                    }
                }
                for (int64_t k = 0; k < nxs; k++) {
                    int64_t x = xs[k];
                    for (int64_t i = 0; i < nfr; i++) vals[i] = g1[x + nx * frows[i]];
                    const int64_t *ys = qys + qcount[x];
                    int64_t m = qcount[x + 1] - qcount[x];
                    envelope_sparse(vals, frows, nfr, sy, ys, m, res, v, zb);
                    for (int64_t i = 0; i < m; i++) dst[x + nx * ys[i]] = res[i];
                }
            }
            /* Pass 3 along z over the feature slices, for the query (x, y) columns, evaluated
             * at the queries. */
#pragma omp for schedule(static, 1)
            for (int64_t y = 0; y < ny; y++)
                for (int64_t x = 0; x < nx; x++) {
                    int64_t c = x + nx * y;
                    if (!qxy[c]) continue;
                    for (int64_t i = 0; i < nfz; i++) vals[i] = g2[c + sxy * fzs[i]];
                    int64_t m = 0;
                    for (int64_t z = 0; z < nz; z++)
                        if (queries[c + sxy * z]) qpos[m++] = z;
                    envelope_sparse(vals, fzs, nfz, sz, qpos, m, res, v, zb);
                    for (int64_t i = 0; i < m; i++) g2[c + sxy * qpos[i]] = res[i];
                }
        }
        free(v); free(zb); free(vals); free(res); free(qpos); free(g1); free(fpos); free(frows);
    }
    int64_t k = 0;
    if (!failed) {
        int64_t i = 0;
        while (i < n) {
            if (i + 8 <= n && zero8(queries + i)) { i += 8; continue; }
            if (queries[i]) out[k++] = g2[i];
            i++;
        }
    }
    free(qxy); free(qcount); free(fzs); free(g2); free(xs); free(qys);
    return failed ? -1 : nq;
}

int64_t cmfk_edt_sq_at_f64_naive(const uint8_t *features, const uint8_t *queries, int64_t nx,
                                 int64_t ny, int64_t nz, const double spacing[3], double *out) {
    int64_t n = nx * ny * nz;
    double *all = malloc(sizeof(double) * (size_t)(n + 1));
    if (!all) return -1;
    if (cmfk_edt_sq_f64_naive(features, nx, ny, nz, spacing, all) != 0) {
        free(all);
        return -1;
    }
    int64_t k = cmfk_gather_f64(all, queries, n, out);
    free(all);
    return k;
}
