/*
 * Connected-component labelling of uint8 masks with 6-, 18- or 26-connectivity, the one
 * labeller of the code base (lesion-wise evaluation; post-processing's small-component
 * removal). Runs along x, union-find over runs.
 *
 * Which runs of a neighbouring row touch run [s, e]: a voxel offset (dx, dy, dz) is a
 * neighbour when it has at most c nonzero components, c = 1 (6), 2 (18), 3 (26). For a row
 * offset (dy, dz) with k nonzero components that leaves dx = 0 when k = c, dx in {-1, 0, 1}
 * when k < c, nothing when k > c:
 *   - k = 1 (rows (y±1, z), (y, z±1)): 6 needs dx = 0, so a run [s', e'] touches when the
 *     x-ranges overlap (s' <= e and e' >= s); 18 and 26 allow dx = ±1, the range grown by one
 *     (s' <= e + 1 and e' >= s - 1);
 *   - k = 2 (rows (y±1, z±1)): 6 never touches; 18 needs dx = 0 (overlap); 26 allows dx = ±1
 *     (grown by one).
 * Only the backward rows are linked: (y-1, z) and (y, z-1) [k = 1], (y-1, z-1) and
 * (y+1, z-1) [k = 2]; runs in the same row never touch (they are maximal).
 */
#include "cmf_kernels.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CMFK_PARALLEL_MIN_VOXELS 65536

static int32_t uf_find(int32_t *parent, int32_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void uf_union(int32_t *parent, int32_t a, int32_t b) {
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b) return;
    /* keep the smaller index as root, so every set's root is its first run and
     * parent[i] <= i holds throughout */
    if (a < b) parent[b] = a; else parent[a] = b;
}

/* Unions the runs of row `cur` (indices cs..ce-1) with the runs of row `nb` (ns..ne-1) whose
 * x-range, grown by `grow` (0 or 1) on each side, overlaps theirs. Both rows' runs are sorted
 * and disjoint, so the first candidate only moves forward. */
static void link_rows(int32_t *parent, const int32_t *start, const int32_t *end, int64_t cs,
                      int64_t ce, int64_t ns, int64_t ne, int32_t grow) {
    int64_t p = ns;
    for (int64_t i = cs; i < ce && p < ne; i++) {
        const int32_t s = start[i], e = end[i];
        while (p < ne && end[p] < s - grow) p++;
        for (int64_t j = p; j < ne && start[j] <= e + grow; j++) uf_union(parent, (int32_t)i, (int32_t)j);
    }
}

static int grid_ok(int64_t nx, int64_t ny, int64_t nz) {
    if (nx < 1 || ny < 1 || nz < 1) return 0;
    if (nx > INT32_MAX || ny > INT32_MAX || nz > INT32_MAX) return 0;
    if (nx * ny > INT64_MAX / nz) return 0;
    return 1;
}

int64_t cmfk_components_u8(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                           int connectivity, int32_t *labels, int64_t *stats,
                           int64_t stats_capacity, int threads) {
    if (!mask || !grid_ok(nx, ny, nz)) return -2;
    if (connectivity != 6 && connectivity != 18 && connectivity != 26) return -2;
    const int64_t nrows = ny * nz;
    const int par = nx * nrows >= CMFK_PARALLEL_MIN_VOXELS;
    const int nthreads = cmfk_thread_count(threads);
    /* row_first[r + 1] = runs in row r, then the exclusive prefix sum */
    int64_t *row_first = malloc(sizeof(int64_t) * (size_t)(nrows + 1));
    if (!row_first) return -1;
    row_first[0] = 0;
    #pragma omp parallel for num_threads(nthreads) if (par) schedule(static)
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *m = mask + r * nx;
        int64_t runs = 0;
        int in = 0;
        for (int64_t x = 0; x < nx; x++) {
            int v = m[x] != 0;
            runs += v & !in;
            in = v;
        }
        row_first[r + 1] = runs;
    }
    for (int64_t r = 0; r < nrows; r++) row_first[r + 1] += row_first[r];
    const int64_t nruns = row_first[nrows];
    /* run indices and component numbers are int32 */
    if (nruns >= INT32_MAX) { free(row_first); return -2; }
    int32_t *start = malloc(sizeof(int32_t) * (size_t)(nruns + 1));
    int32_t *end = malloc(sizeof(int32_t) * (size_t)(nruns + 1));
    int32_t *parent = malloc(sizeof(int32_t) * (size_t)(nruns + 1));
    if (!start || !end || !parent) {
        free(row_first); free(start); free(end); free(parent);
        return -1;
    }
    #pragma omp parallel for num_threads(nthreads) if (par) schedule(static)
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *m = mask + r * nx;
        int64_t k = row_first[r], x = 0;
        while (x < nx) {
            if (!m[x]) { x++; continue; }
            int64_t s = x;
            while (x < nx && m[x]) x++;
            start[k] = (int32_t)s;
            end[k] = (int32_t)(x - 1);
            parent[k] = (int32_t)k;
            k++;
        }
    }
    /* grow for rows one step away (k = 1) and diagonal rows (k = 2; -1: not neighbours) */
    const int32_t grow1 = connectivity == 6 ? 0 : 1;
    const int32_t grow2 = connectivity == 6 ? -1 : connectivity == 18 ? 0 : 1;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++) {
            const int64_t r = y + ny * z, cs = row_first[r], ce = row_first[r + 1];
            if (cs == ce) continue;
            if (y > 0) link_rows(parent, start, end, cs, ce, row_first[r - 1], row_first[r], grow1);
            if (z > 0) {
                const int64_t q = r - ny;
                link_rows(parent, start, end, cs, ce, row_first[q], row_first[q + 1], grow1);
                if (grow2 >= 0) {
                    if (y > 0)
                        link_rows(parent, start, end, cs, ce, row_first[q - 1], row_first[q], grow2);
                    if (y + 1 < ny)
                        link_rows(parent, start, end, cs, ce, row_first[q + 1], row_first[q + 2], grow2);
                }
            }
        }
    /* Number components in order of their first run, i.e. of their first voxel in index order.
     * parent[i] <= i, so walking forward, parent[i] == i marks a new component and otherwise
     * parent[parent[i]] already holds the component number: relabel in place. */
    int64_t ncomp = 0;
    for (int64_t i = 0; i < nruns; i++)
        parent[i] = parent[i] == (int32_t)i ? (int32_t)++ncomp : parent[parent[i]];
    const int32_t *cid = parent;
    if (labels) {
        #pragma omp parallel for num_threads(nthreads) if (par) schedule(static)
        for (int64_t r = 0; r < nrows; r++) {
            int32_t *l = labels + r * nx;
            memset(l, 0, sizeof(int32_t) * (size_t)nx);
            for (int64_t i = row_first[r]; i < row_first[r + 1]; i++) {
                const int32_t c = cid[i];
                for (int64_t x = start[i]; x <= end[i]; x++) l[x] = c;
            }
        }
    }
    const int keep_stats = stats != NULL && stats_capacity >= ncomp;
    if (keep_stats) {
        for (int64_t c = 0; c < ncomp; c++) {
            int64_t *st = stats + 7 * c;
            st[0] = 0;
            st[1] = st[3] = st[5] = INT64_MAX;
            st[2] = st[4] = st[6] = -1;
        }
        for (int64_t r = 0; r < nrows; r++) {
            const int64_t y = r % ny, z = r / ny;
            for (int64_t i = row_first[r]; i < row_first[r + 1]; i++) {
                int64_t *st = stats + 7 * (int64_t)(cid[i] - 1);
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
    free(row_first); free(start); free(end); free(parent);
    return keep_stats || stats == NULL ? ncomp : -3;
}

int64_t cmfk_components_u8_naive(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                                 int connectivity, int32_t *labels) {
    if (!mask || !labels || !grid_ok(nx, ny, nz)) return -2;
    if (connectivity != 6 && connectivity != 18 && connectivity != 26) return -2;
    const int64_t n = nx * ny * nz;
    if (n >= INT32_MAX) return -2;
    int64_t *queue = malloc(sizeof(int64_t) * (size_t)n);
    if (!queue) return -1;
    /* a neighbour offset has at most this many nonzero components */
    const int max_nonzero = connectivity == 6 ? 1 : connectivity == 18 ? 2 : 3;
    memset(labels, 0, sizeof(int32_t) * (size_t)n);
    int32_t next = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!mask[i] || labels[i]) continue;
        labels[i] = ++next;
        int64_t head = 0, tail = 0;
        queue[tail++] = i;
        while (head < tail) {
            const int64_t j = queue[head++];
            const int64_t x = j % nx, y = (j / nx) % ny, z = j / (nx * ny);
            for (int dz = -1; dz <= 1; dz++)
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const int nonzero = (dx != 0) + (dy != 0) + (dz != 0);
                        if (nonzero == 0 || nonzero > max_nonzero) continue;
                        const int64_t a = x + dx, b = y + dy, c = z + dz;
                        if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
                        const int64_t k = a + nx * (b + ny * c);
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
