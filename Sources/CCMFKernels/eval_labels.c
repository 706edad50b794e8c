/* Evaluation kernels over label maps: region statistics, crops, gathers, overlap tables. */
#include "cmf_kernels.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CMFK_MAX_REGIONS 8

typedef struct {
    int64_t counts[3 * CMFK_MAX_REGIONS];
    int64_t boxes[6 * CMFK_MAX_REGIONS];
    int64_t bad[2];
} label_acc;

static void acc_init(label_acc *a, int nregions) {
    memset(a->counts, 0, sizeof a->counts);
    for (int k = 0; k < nregions; k++) {
        int64_t *b = a->boxes + 6 * k;
        b[0] = b[2] = b[4] = INT64_MAX;
        b[1] = b[3] = b[5] = -1;
    }
    a->bad[0] = a->bad[1] = -1;
}

static void acc_merge(label_acc *into, const label_acc *from, int nregions) {
    for (int k = 0; k < 3 * nregions; k++) into->counts[k] += from->counts[k];
    for (int k = 0; k < nregions; k++) {
        int64_t *b = into->boxes + 6 * k;
        const int64_t *f = from->boxes + 6 * k;
        for (int a = 0; a < 3; a++) {
            if (f[2 * a] < b[2 * a]) b[2 * a] = f[2 * a];
            if (f[2 * a + 1] > b[2 * a + 1]) b[2 * a + 1] = f[2 * a + 1];
        }
    }
    for (int m = 0; m < 2; m++)
        if (from->bad[m] >= 0 && (into->bad[m] < 0 || from->bad[m] < into->bad[m]))
            into->bad[m] = from->bad[m];
}

static void acc_finish(const label_acc *a, int nregions, int64_t *counts, int64_t *boxes,
                       int64_t bad[2]) {
    memcpy(counts, a->counts, sizeof(int64_t) * 3 * nregions);
    for (int k = 0; k < nregions; k++) {
        const int64_t *b = a->boxes + 6 * k;
        int64_t *o = boxes + 6 * k;
        if (b[1] < 0) { /* empty */
            o[0] = o[2] = o[4] = 0;
            o[1] = o[3] = o[5] = -1;
        } else {
            memcpy(o, b, sizeof(int64_t) * 6);
        }
    }
    bad[0] = a->bad[0];
    bad[1] = a->bad[1];
}

/* Handles one row; rows of zeros in both maps are skipped eight voxels at a time. */
static void stats_row(const uint8_t *r, const uint8_t *p, int64_t nx, int64_t y, int64_t z,
                      int64_t base, const uint8_t *lut, int nregions, label_acc *a) {
    int64_t first[CMFK_MAX_REGIONS], last[CMFK_MAX_REGIONS];
    for (int k = 0; k < nregions; k++) { first[k] = INT64_MAX; last[k] = -1; }
    int any = 0;
    int64_t x = 0;
    while (x < nx) {
        if (x + 8 <= nx) {
            uint64_t wr, wp;
            memcpy(&wr, r + x, 8);
            memcpy(&wp, p + x, 8);
            if ((wr | wp) == 0) { x += 8; continue; }
        }
        int64_t end = x + 8 < nx ? x + 8 : nx;
        for (; x < end; x++) {
            uint8_t va = lut[r[x]], vb = lut[p[x]];
            if ((va | vb) == 0) continue;
            if (va == 0xFF) {
                if (a->bad[0] < 0) a->bad[0] = base + x;
                va = 0;
            }
            if (vb == 0xFF) {
                if (a->bad[1] < 0) a->bad[1] = base + x;
                vb = 0;
            }
            uint8_t u = va | vb;
            if (!u) continue;
            any = 1;
            for (int k = 0; k < nregions; k++) {
                int ia = (va >> k) & 1, ib = (vb >> k) & 1;
                a->counts[3 * k] += ia;
                a->counts[3 * k + 1] += ib;
                a->counts[3 * k + 2] += ia & ib;
                if ((u >> k) & 1) {
                    if (x < first[k]) first[k] = x;
                    last[k] = x;
                }
            }
        }
    }
    if (!any) return;
    for (int k = 0; k < nregions; k++) {
        if (last[k] < 0) continue;
        int64_t *b = a->boxes + 6 * k;
        if (first[k] < b[0]) b[0] = first[k];
        if (last[k] > b[1]) b[1] = last[k];
        if (y < b[2]) b[2] = y;
        if (y > b[3]) b[3] = y;
        if (z < b[4]) b[4] = z;
        if (z > b[5]) b[5] = z;
    }
}

void cmfk_label_stats_u8(const uint8_t *ref, const uint8_t *pred, int64_t nx, int64_t ny,
                         int64_t nz, const uint8_t lut[256], int nregions, int64_t *counts,
                         int64_t *boxes, int64_t bad[2], int threads) {
    if (nregions > CMFK_MAX_REGIONS) nregions = CMFK_MAX_REGIONS;
    label_acc total;
    acc_init(&total, nregions);
    int nt = cmfk_thread_count(threads);
    if (nx * ny * nz < (1 << 16)) nt = 1;
#pragma omp parallel num_threads(nt)
    {
        label_acc local;
        acc_init(&local, nregions);
#pragma omp for schedule(static)
        for (int64_t z = 0; z < nz; z++)
            for (int64_t y = 0; y < ny; y++) {
                int64_t base = nx * (y + ny * z);
                stats_row(ref + base, pred + base, nx, y, z, base, lut, nregions, &local);
            }
#pragma omp critical(cmfk_label_stats)
        acc_merge(&total, &local, nregions);
    }
    acc_finish(&total, nregions, counts, boxes, bad);
}

void cmfk_label_stats_u8_naive(const uint8_t *ref, const uint8_t *pred, int64_t nx, int64_t ny,
                               int64_t nz, const uint8_t lut[256], int nregions, int64_t *counts,
                               int64_t *boxes, int64_t bad[2]) {
    if (nregions > CMFK_MAX_REGIONS) nregions = CMFK_MAX_REGIONS;
    label_acc a;
    acc_init(&a, nregions);
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                int64_t i = x + nx * (y + ny * z);
                uint8_t va = lut[ref[i]], vb = lut[pred[i]];
                if (va == 0xFF) { if (a.bad[0] < 0) a.bad[0] = i; va = 0; }
                if (vb == 0xFF) { if (a.bad[1] < 0) a.bad[1] = i; vb = 0; }
                for (int k = 0; k < nregions; k++) {
                    int ia = (va >> k) & 1, ib = (vb >> k) & 1;
                    a.counts[3 * k] += ia;
                    a.counts[3 * k + 1] += ib;
                    a.counts[3 * k + 2] += ia & ib;
                    if (ia | ib) {
                        int64_t *b = a.boxes + 6 * k;
                        int64_t c[3] = {x, y, z};
                        for (int d = 0; d < 3; d++) {
                            if (c[d] < b[2 * d]) b[2 * d] = c[d];
                            if (c[d] > b[2 * d + 1]) b[2 * d + 1] = c[d];
                        }
                    }
                }
            }
    acc_finish(&a, nregions, counts, boxes, bad);
}

void cmfk_crop_bits_u8(const uint8_t *labels, int64_t nx, int64_t ny, int64_t nz,
                       const uint8_t lut[256], uint8_t bits, const int64_t box[6], uint8_t *out) {
    (void)nz;
    int64_t bx = box[1] - box[0] + 1, by = box[3] - box[2] + 1;
    uint8_t table[256];
    for (int v = 0; v < 256; v++) table[v] = (lut[v] != 0xFF && (lut[v] & bits)) ? 1 : 0;
    for (int64_t z = box[4]; z <= box[5]; z++)
        for (int64_t y = box[2]; y <= box[3]; y++) {
            const uint8_t *src = labels + box[0] + nx * (y + ny * z);
            uint8_t *dst = out + bx * ((y - box[2]) + by * (z - box[4]));
            for (int64_t x = 0; x < bx; x++) dst[x] = table[src[x]];
        }
}

void cmfk_crop_id_i32(const int32_t *labels, int64_t nx, int64_t ny, int64_t nz, int32_t id,
                      const int64_t box[6], uint8_t *out) {
    (void)nz;
    int64_t bx = box[1] - box[0] + 1, by = box[3] - box[2] + 1;
    for (int64_t z = box[4]; z <= box[5]; z++)
        for (int64_t y = box[2]; y <= box[3]; y++) {
            const int32_t *src = labels + box[0] + nx * (y + ny * z);
            uint8_t *dst = out + bx * ((y - box[2]) + by * (z - box[4]));
            for (int64_t x = 0; x < bx; x++) dst[x] = src[x] == id;
        }
}

int64_t cmfk_gather_f64(const double *values, const uint8_t *mask, int64_t n, double *out) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i]) out[k++] = values[i];
    return k;
}

/* ---- overlap table: open addressing on (a, b) ---- */

static int cmp_triple(const void *pa, const void *pb) {
    const int64_t *a = pa, *b = pb;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    if (a[1] != b[1]) return a[1] < b[1] ? -1 : 1;
    return 0;
}

int64_t cmfk_overlap_pairs_i32(const int32_t *a, const int32_t *b, int64_t n, int64_t *pairs,
                               int64_t capacity) {
    int64_t cap = 64;
    while (cap < 2 * capacity + 2 && cap < ((int64_t)1 << 40)) cap <<= 1;
    uint64_t *keys = calloc((size_t)cap, sizeof *keys);
    int64_t *cnt = calloc((size_t)cap, sizeof *cnt);
    if (!keys || !cnt) { free(keys); free(cnt); return -1; }
    int64_t used = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t va = a[i], vb = b[i];
        if (va <= 0 || vb <= 0) continue;
        uint64_t key = ((uint64_t)(uint32_t)va << 32) | (uint32_t)vb; /* never 0 */
        uint64_t h = key * 0x9E3779B97F4A7C15ull;
        int64_t slot = (int64_t)(h >> 20) & (cap - 1);
        while (keys[slot] != 0 && keys[slot] != key) slot = (slot + 1) & (cap - 1);
        if (keys[slot] == 0) {
            if (used >= capacity) { free(keys); free(cnt); return -2; }
            keys[slot] = key;
            used++;
        }
        cnt[slot]++;
    }
    int64_t k = 0;
    for (int64_t s = 0; s < cap; s++) {
        if (!keys[s]) continue;
        pairs[3 * k] = (int64_t)(keys[s] >> 32);
        pairs[3 * k + 1] = (int64_t)(keys[s] & 0xFFFFFFFFu);
        pairs[3 * k + 2] = cnt[s];
        k++;
    }
    free(keys);
    free(cnt);
    qsort(pairs, (size_t)k, 3 * sizeof(int64_t), cmp_triple);
    return k;
}

/* ---- selection (quickselect with median-of-three, Hoare partition) ---- */

double cmfk_select_f64(double *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}
