/* Connected components with 26-connectivity: runs along x, union-find over runs. */
#include "cmf_kernels.h"
#include <stdlib.h>
#include <string.h>

static int64_t uf_find(int64_t *parent, int64_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void uf_union(int64_t *parent, int64_t a, int64_t b) {
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b) return;
    /* keep the smaller index as root, so roots are each component's first run */
    if (a < b) parent[b] = a; else parent[a] = b;
}

/* Unions run i = [s, e] with the runs of row `r` (indices rs..re-1) that touch [s-1, e+1]. */
static void link_row(int64_t *parent, const int64_t *start, const int64_t *end, int64_t rs,
                     int64_t re, int64_t i, int64_t s, int64_t e) {
    for (int64_t j = rs; j < re; j++) {
        if (end[j] < s - 1) continue;
        if (start[j] > e + 1) break;
        uf_union(parent, i, j);
    }
}

int64_t cmfk_cc26_u8(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz, int32_t *labels,
                     int64_t *stats, int64_t stats_capacity, int threads) {
    (void)threads;
    int64_t nrows = ny * nz;
    int64_t *row_first = malloc(sizeof(int64_t) * (size_t)(nrows + 1));
    if (!row_first) return -1;
    /* count runs */
    int64_t nruns = 0;
    for (int64_t r = 0; r < nrows; r++) {
        row_first[r] = nruns;
        const uint8_t *m = mask + r * nx;
        int in = 0;
        for (int64_t x = 0; x < nx; x++) {
            int v = m[x] != 0;
            nruns += v & !in;
            in = v;
        }
    }
    row_first[nrows] = nruns;
    int64_t *start = malloc(sizeof(int64_t) * (size_t)(nruns + 1));
    int64_t *end = malloc(sizeof(int64_t) * (size_t)(nruns + 1));
    int64_t *parent = malloc(sizeof(int64_t) * (size_t)(nruns + 1));
    if (!start || !end || !parent) {
        free(row_first); free(start); free(end); free(parent);
        return -1;
    }
    int64_t k = 0;
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *m = mask + r * nx;
        int64_t x = 0;
        while (x < nx) {
            if (!m[x]) { x++; continue; }
            int64_t s = x;
            while (x < nx && m[x]) x++;
            start[k] = s;
            end[k] = x - 1;
            parent[k] = k;
            k++;
        }
    }
    /* union with the backward neighbour rows: (y-1, z), (y-1, z-1), (y, z-1), (y+1, z-1) */
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++) {
            int64_t r = y + ny * z;
            for (int64_t i = row_first[r]; i < row_first[r + 1]; i++) {
                int64_t s = start[i], e = end[i];
                if (y > 0) link_row(parent, start, end, row_first[r - 1], row_first[r], i, s, e);
                if (z > 0) {
                    int64_t q = r - ny;
                    for (int64_t dy = -1; dy <= 1; dy++) {
                        if (y + dy < 0 || y + dy >= ny) continue;
                        link_row(parent, start, end, row_first[q + dy], row_first[q + dy + 1], i, s, e);
                    }
                }
            }
        }
    /* number components in order of their first run (each set's root is its first run) */
    int32_t *cid = malloc(sizeof(int32_t) * (size_t)(nruns + 1));
    if (!cid) {
        free(row_first); free(start); free(end); free(parent);
        return -1;
    }
    int64_t ncomp = 0;
    for (int64_t i = 0; i < nruns; i++) {
        int64_t root = uf_find(parent, i);
        cid[i] = root == i ? (int32_t)++ncomp : cid[root];
    }
    memset(labels, 0, sizeof(int32_t) * (size_t)(nx * nrows));
    int keep_stats = stats != NULL && stats_capacity >= ncomp;
    if (keep_stats) {
        for (int64_t c = 0; c < ncomp; c++) {
            int64_t *st = stats + 7 * c;
            st[0] = 0;
            st[1] = st[3] = st[5] = INT64_MAX;
            st[2] = st[4] = st[6] = -1;
        }
    }
    for (int64_t r = 0; r < nrows; r++) {
        int64_t y = r % ny, z = r / ny;
        for (int64_t i = row_first[r]; i < row_first[r + 1]; i++) {
            int32_t c = cid[i];
            int32_t *l = labels + r * nx;
            for (int64_t x = start[i]; x <= end[i]; x++) l[x] = c;
            if (keep_stats) {
                int64_t *st = stats + 7 * (c - 1);
                st[0] += end[i] - start[i] + 1;
                if (start[i] < st[1]) st[1] = start[i];
                if (end[i] > st[2]) st[2] = end[i];
                if (y < st[3]) st[3] = y;
                if (y > st[4]) st[4] = y;
                if (z < st[5]) st[5] = z;
                if (z > st[6]) st[6] = z;
            }
        }
    }
    free(cid);
    free(row_first); free(start); free(end); free(parent);
    return keep_stats || stats == NULL ? ncomp : -2;
}

int64_t cmfk_cc26_u8_naive(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                           int32_t *labels) {
    int64_t n = nx * ny * nz;
    int64_t *queue = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!queue) return -1;
    memset(labels, 0, sizeof(int32_t) * (size_t)n);
    int32_t next = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!mask[i] || labels[i]) continue;
        next++;
        int64_t head = 0, tail = 0;
        queue[tail++] = i;
        labels[i] = next;
        while (head < tail) {
            int64_t j = queue[head++];
            int64_t x = j % nx, y = (j / nx) % ny, z = j / (nx * ny);
            for (int64_t dz = -1; dz <= 1; dz++)
                for (int64_t dy = -1; dy <= 1; dy++)
                    for (int64_t dx = -1; dx <= 1; dx++) {
                        int64_t a = x + dx, b = y + dy, c = z + dz;
                        if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
                        int64_t k = a + nx * (b + ny * c);
                        if (mask[k] && !labels[k]) {
                            labels[k] = next;
                            queue[tail++] = k;
                        }
                    }
        }
    }
    free(queue);
    return next;
}
