/* Weighted geodesic distance on a 26-connected grid: Dijkstra, and a Bellman-Ford oracle. */
#include "cmf_kernels.h"
#include <math.h>
#include <stdlib.h>

typedef struct { double d; int64_t i; } heap_item;

typedef struct { heap_item *a; int64_t n, cap; } heap;

static int heap_push(heap *h, double d, int64_t i) {
    if (h->n == h->cap) {
        int64_t cap = h->cap ? h->cap * 2 : 4096;
        heap_item *a = realloc(h->a, sizeof(heap_item) * (size_t)cap);
        if (!a) return -1;
        h->a = a; h->cap = cap;
    }
    int64_t k = h->n++;
    while (k > 0) {
        int64_t p = (k - 1) / 2;
        if (h->a[p].d <= d) break;
        h->a[k] = h->a[p];
        k = p;
    }
    h->a[k].d = d; h->a[k].i = i;
    return 0;
}

static heap_item heap_pop(heap *h) {
    heap_item top = h->a[0], last = h->a[--h->n];
    int64_t k = 0;
    for (;;) {
        int64_t c = 2 * k + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->a[c + 1].d < h->a[c].d) c++;
        if (h->a[c].d >= last.d) break;
        h->a[k] = h->a[c];
        k = c;
    }
    if (h->n > 0) h->a[k] = last;
    return top;
}

/* The 26 neighbour offsets and their lengths in mm. */
static void neighbours(double spx, double spy, double spz, int off[26][3], double len[26]) {
    int k = 0;
    for (int dz = -1; dz <= 1; dz++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                if (!dx && !dy && !dz) continue;
                off[k][0] = dx; off[k][1] = dy; off[k][2] = dz;
                len[k] = sqrt(dx * dx * spx * spx + dy * dy * spy * spy + dz * dz * spz * spz);
                k++;
            }
}

static inline double edge_cost(double len, float sa, float sb) {
    double s = 0.5 * ((double)sa + (double)sb);
    return s > 0 ? len / s : INFINITY;
}

int cmfk_geodesic_f32(const float *speed, const uint8_t *seeds, float *dist,
                      int64_t nx, int64_t ny, int64_t nz,
                      double spx, double spy, double spz, float max_dist) {
    int64_t n = nx * ny * nz;
    double *d = malloc(sizeof(double) * (size_t)n);
    heap h = {0};
    if (!d) return -1;
    int off[26][3]; double len[26];
    neighbours(spx, spy, spz, off, len);
    for (int64_t i = 0; i < n; i++) {
        d[i] = INFINITY;
        if (seeds[i]) {
            d[i] = 0;
            if (heap_push(&h, 0, i)) { free(d); free(h.a); return -1; }
        }
    }
    while (h.n > 0) {
        heap_item it = heap_pop(&h);
        if (it.d > d[it.i]) continue;  /* stale entry */
        if (it.d > max_dist) break;
        int64_t x = it.i % nx, y = (it.i / nx) % ny, z = it.i / (nx * ny);
        for (int k = 0; k < 26; k++) {
            int64_t X = x + off[k][0], Y = y + off[k][1], Z = z + off[k][2];
            if (X < 0 || X >= nx || Y < 0 || Y >= ny || Z < 0 || Z >= nz) continue;
            int64_t j = X + nx * (Y + ny * Z);
            double nd = it.d + edge_cost(len[k], speed[it.i], speed[j]);
            if (nd < d[j]) {
                d[j] = nd;
                if (heap_push(&h, nd, j)) { free(d); free(h.a); return -1; }
            }
        }
    }
    for (int64_t i = 0; i < n; i++) dist[i] = d[i] <= max_dist ? (float)d[i] : INFINITY;
    free(d); free(h.a);
    return 0;
}

int cmfk_geodesic_f32_naive(const float *speed, const uint8_t *seeds, float *dist,
                            int64_t nx, int64_t ny, int64_t nz,
                            double spx, double spy, double spz) {
    int64_t n = nx * ny * nz;
    double *d = malloc(sizeof(double) * (size_t)n);
    if (!d) return -1;
    int off[26][3]; double len[26];
    neighbours(spx, spy, spz, off, len);
    for (int64_t i = 0; i < n; i++) d[i] = seeds[i] ? 0 : INFINITY;
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(d[i])) continue;
            int64_t x = i % nx, y = (i / nx) % ny, z = i / (nx * ny);
            for (int k = 0; k < 26; k++) {
                int64_t X = x + off[k][0], Y = y + off[k][1], Z = z + off[k][2];
                if (X < 0 || X >= nx || Y < 0 || Y >= ny || Z < 0 || Z >= nz) continue;
                int64_t j = X + nx * (Y + ny * Z);
                double nd = d[i] + edge_cost(len[k], speed[i], speed[j]);
                if (nd < d[j]) { d[j] = nd; changed = 1; }
            }
        }
    }
    for (int64_t i = 0; i < n; i++) dist[i] = (float)d[i];
    free(d);
    return 0;
}
