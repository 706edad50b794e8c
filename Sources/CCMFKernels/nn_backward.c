/* Backward passes of the network layers, losses and the Adam update (see cmf_nn.h).
 *
 * Each parallel loop writes only what it owns: gathers instead of scatters (the naive
 * convolutions), whole windows or planes per iteration (pooling, up-sampling, norm).
 * Reductions split the range statically among the threads, sum each part in double and add
 * the parts in thread order, so a given thread count gives the same bits every run. */
#include "cmf_nn.h"
#include "nn_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this many values a reduction or element-wise loop runs on one thread. */
#define PAR_MIN 32768

/* This thread's share [*lo, *hi) of [0, count) inside a parallel region. */
static void split_range(int64_t count, int64_t *lo, int64_t *hi) {
    int id = omp_get_thread_num(), nth = omp_get_num_threads();
    *lo = count * id / nth;
    *hi = count * (id + 1) / nth;
}

/* Adds the nt per-thread partial vectors of `k` sums (laid out [nt][k]) into out[k]. */
static void combine_parts(const double *part, int nt, int64_t k, double *out) {
    for (int64_t j = 0; j < k; j++) {
        double acc = 0;
        for (int t = 0; t < nt; t++) acc += part[(int64_t)t * k + j];
        out[j] = acc;
    }
}

/* Same checks as the forward convolution; fills the output sizes. */
static int conv_sizes(int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w, int64_t co, int64_t kd, int64_t kh,
                      int64_t kw, int64_t stride, int64_t pad, int64_t *od, int64_t *oh, int64_t *ow) {
    if (n <= 0 || ci <= 0 || d <= 0 || h <= 0 || w <= 0 || co <= 0 || kd <= 0 || kh <= 0 || kw <= 0 ||
        stride <= 0 || pad < 0 || d + 2 * pad < kd || h + 2 * pad < kh || w + 2 * pad < kw)
        return -2;
    *od = (d + 2 * pad - kd) / stride + 1;
    *oh = (h + 2 * pad - kh) / stride + 1;
    *ow = (w + 2 * pad - kw) / stride + 1;
    return 0;
}

/* ---- Convolution (naive oracles; the oneDNN versions are in conv_dnnl_backward.c) ---- */

int cmfk_conv3d_backward_data_f32_naive(const float *grad_out, int64_t n, int64_t ci, int64_t d, int64_t h,
                                        int64_t w, const float *weight, int64_t co, int64_t kd, int64_t kh,
                                        int64_t kw, int64_t stride, int64_t pad, float *grad_in, int threads) {
    int64_t od, oh, ow;
    if (conv_sizes(n, ci, d, h, w, co, kd, kh, kw, stride, pad, &od, &oh, &ow) != 0) return -2;
    int nt = NT(threads);
    int64_t oplane = od * oh * ow, iplane = d * h * w, kvol = kd * kh * kw;
    /* Input voxel z is read by output oz through tap a when z = oz*stride - pad + a. */
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static, 1)
    for (int64_t s = 0; s < n; s++)
        for (int64_t c = 0; c < ci; c++) {
            float *dst = grad_in + (s * ci + c) * iplane;
            for (int64_t z = 0; z < d; z++)
                for (int64_t y = 0; y < h; y++)
                    for (int64_t x = 0; x < w; x++) {
                        double acc = 0;
                        for (int64_t o = 0; o < co; o++) {
                            const float *g = grad_out + (s * co + o) * oplane;
                            const float *wt = weight + (o * ci + c) * kvol;
                            for (int64_t a = 0; a < kd; a++) {
                                int64_t tz = z + pad - a;
                                if (tz < 0 || tz % stride != 0 || tz / stride >= od) continue;
                                for (int64_t b = 0; b < kh; b++) {
                                    int64_t ty = y + pad - b;
                                    if (ty < 0 || ty % stride != 0 || ty / stride >= oh) continue;
                                    for (int64_t e = 0; e < kw; e++) {
                                        int64_t tx = x + pad - e;
                                        if (tx < 0 || tx % stride != 0 || tx / stride >= ow) continue;
                                        acc += (double)g[((tz / stride) * oh + ty / stride) * ow + tx / stride] *
                                               wt[(a * kh + b) * kw + e];
                                    }
                                }
                            }
                        }
                        dst[(z * h + y) * w + x] = (float)acc;
                    }
        }
    return 0;
}

int cmfk_conv3d_backward_weights_f32_naive(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h,
                                           int64_t w, const float *grad_out, int64_t co, int64_t kd, int64_t kh,
                                           int64_t kw, int64_t stride, int64_t pad, float *grad_weight,
                                           float *grad_bias, int threads) {
    int64_t od, oh, ow;
    if (conv_sizes(n, ci, d, h, w, co, kd, kh, kw, stride, pad, &od, &oh, &ow) != 0) return -2;
    int nt = NT(threads);
    int64_t oplane = od * oh * ow, iplane = d * h * w, kvol = kd * kh * kw;
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static, 1)
    for (int64_t o = 0; o < co; o++)
        for (int64_t c = 0; c < ci; c++) {
            float *gw = grad_weight + (o * ci + c) * kvol;
            for (int64_t a = 0; a < kd; a++)
                for (int64_t b = 0; b < kh; b++)
                    for (int64_t e = 0; e < kw; e++) {
                        double acc = 0;
                        for (int64_t s = 0; s < n; s++) {
                            const float *g = grad_out + (s * co + o) * oplane;
                            const float *src = in + (s * ci + c) * iplane;
                            for (int64_t oz = 0; oz < od; oz++) {
                                int64_t z = oz * stride - pad + a;
                                if (z < 0 || z >= d) continue;
                                for (int64_t oy = 0; oy < oh; oy++) {
                                    int64_t y = oy * stride - pad + b;
                                    if (y < 0 || y >= h) continue;
                                    for (int64_t ox = 0; ox < ow; ox++) {
                                        int64_t x = ox * stride - pad + e;
                                        if (x < 0 || x >= w) continue;
                                        acc += (double)g[(oz * oh + oy) * ow + ox] * src[(z * h + y) * w + x];
                                    }
                                }
                            }
                        }
                        gw[(a * kh + b) * kw + e] = (float)acc;
                    }
        }
    if (grad_bias) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t o = 0; o < co; o++) {
            double acc = 0;
            for (int64_t s = 0; s < n; s++) {
                const float *g = grad_out + (s * co + o) * oplane;
                for (int64_t i = 0; i < oplane; i++) acc += g[i];
            }
            grad_bias[o] = (float)acc;
        }
    }
    return 0;
}

/* ---- Instance norm + leaky ReLU ----------------------------------------------------- */

/* Sums of g and g*n over [lo, hi) of one plane (n, g as in cmf_nn.h), in LANES independent
 * double accumulators so the loop vectorises without reassociating additions. Both branches
 * of the leaky factor are computed and selected (no data-dependent branch, which the signs of
 * y would make unpredictable). */
#define LANES 8
static void norm_grad_sums(const float *y, const float *gy, int64_t lo, int64_t hi, float slope,
                           double *sg, double *sgn) {
    double a[LANES] = {0}, b[LANES] = {0};
    int64_t i = lo;
    for (; i + LANES <= hi; i += LANES) {
        #pragma omp simd
        for (int j = 0; j < LANES; j++) {
            float yv = y[i + j], gv = gy[i + j];
            float gs = gv * slope, q = yv / slope;
            int pos = yv >= 0;
            float g = pos ? gv : gs;
            float nv = pos ? yv : q;
            a[j] += g;
            b[j] += (double)g * nv;
        }
    }
    double sa = 0, sb = 0;
    for (; i < hi; i++) {
        float yv = y[i], gv = gy[i];
        float g = yv >= 0 ? gv : gv * slope;
        float nv = yv >= 0 ? yv : yv / slope;
        sa += g;
        sb += (double)g * nv;
    }
    for (int j = 0; j < LANES; j++) { sa += a[j]; sb += b[j]; }
    *sg = sa;
    *sgn = sb;
}

/* gx = inv * ((g - mg) - n * mgn) over [lo, hi); gx may be gy (same index read, then written). */
static void norm_grad_apply(const float *y, const float *gy, int64_t lo, int64_t hi, float slope, float inv,
                            float mg, float mgn, float *gx) {
    #pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
        float yv = y[i], gv = gy[i];
        float gs = gv * slope, q = yv / slope;
        int pos = yv >= 0;
        float g = pos ? gv : gs;
        float nv = pos ? yv : q;
        gx[i] = inv * ((g - mg) - nv * mgn);
    }
}

int cmfk_instnorm_lrelu_backward_f32(const float *y, const float *grad_y, int64_t planes, int64_t plane,
                                     const float *inv_std, float slope, float *grad_x, int threads) {
    if (planes <= 0 || plane <= 0 || !(slope > 0)) return -2;
    int nt = NT(threads);
    if (plane < PAR_MIN || planes % nt == 0) {
        /* One plane per iteration, serial inside: no barrier per plane, and the sums' order
         * does not depend on the thread count. Large planes take this path when the planes
         * divide evenly among the threads. */
        #pragma omp parallel for num_threads(nt) schedule(static) if(planes * plane > PAR_MIN)
        for (int64_t p = 0; p < planes; p++) {
            const float *yp = y + p * plane, *gp = grad_y + p * plane;
            double sg, sgn;
            norm_grad_sums(yp, gp, 0, plane, slope, &sg, &sgn);
            norm_grad_apply(yp, gp, 0, plane, slope, inv_std[p], (float)(sg / (double)plane),
                            (float)(sgn / (double)plane), grad_x + p * plane);
        }
        return 0;
    }
    double *part = calloc((size_t)nt * 2, sizeof(double));
    if (!part) return -1;
    for (int64_t p = 0; p < planes; p++) {
        const float *yp = y + p * plane, *gp = grad_y + p * plane;
        memset(part, 0, sizeof(double) * (size_t)nt * 2);
        #pragma omp parallel num_threads(nt)
        {
            int64_t lo, hi;
            split_range(plane, &lo, &hi);
            double *q = part + 2 * omp_get_thread_num();
            norm_grad_sums(yp, gp, lo, hi, slope, &q[0], &q[1]);
        }
        double sums[2];
        combine_parts(part, nt, 2, sums);
        float mg = (float)(sums[0] / (double)plane), mgn = (float)(sums[1] / (double)plane), inv = inv_std[p];
        #pragma omp parallel num_threads(nt)
        {
            int64_t lo, hi;
            split_range(plane, &lo, &hi);
            norm_grad_apply(yp, gp, lo, hi, slope, inv, mg, mgn, grad_x + p * plane);
        }
    }
    free(part);
    return 0;
}

/* ---- Max-pool and up-sampling --------------------------------------------------------- */

int cmfk_maxpool2_backward_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                               const float *grad_out, float *grad_in, int threads) {
    if (planes <= 0 || d < 2 || h < 2 || w < 2) return -2;
    int64_t od = d / 2, oh = h / 2, ow = w / 2, pairs = (d + 1) / 2, hw = h * w;
    int nt = NT(threads);
    /* Iteration (p, zz) owns input rows 2zz and 2zz+1 (the lone last row for odd d). */
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++)
        for (int64_t zz = 0; zz < pairs; zz++) {
            const float *src = in + p * d * hw;
            float *gi = grad_in + p * d * hw;
            int64_t z1 = 2 * zz + 2 < d ? 2 * zz + 2 : d;
            memset(gi + 2 * zz * hw, 0, sizeof(float) * (size_t)((z1 - 2 * zz) * hw));
            if (zz >= od) continue;
            const float *go = grad_out + p * od * oh * ow + zz * oh * ow;
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    /* PyTorch's rule: the first index, replaced by a larger value or a NaN. */
                    int64_t best = (2 * zz * h + 2 * y) * w + 2 * x;
                    float m = -INFINITY;
                    for (int64_t dz = 0; dz < 2; dz++)
                        for (int64_t dy = 0; dy < 2; dy++)
                            for (int64_t dx = 0; dx < 2; dx++) {
                                int64_t idx = ((2 * zz + dz) * h + 2 * y + dy) * w + 2 * x + dx;
                                float v = src[idx];
                                if (v > m || v != v) { m = v; best = idx; }
                            }
                    gi[best] = go[y * ow + x];
                }
        }
    return 0;
}

int cmfk_upsample2_trilinear_backward_f32(const float *grad_out, int64_t planes, int64_t d, int64_t h, int64_t w,
                                          float *grad_in, int threads) {
    if (planes <= 0 || d <= 0 || h <= 0 || w <= 0) return -2;
    int64_t od = 2 * d, oh = 2 * h, ow = 2 * w;
    int nt = NT(threads);
    if (nt > planes) nt = (int)planes;
    /* Per thread: after the x pass [od][oh][w], after the y pass [od][h][w]. */
    int64_t t1n = od * oh * w, t2n = od * h * w;
    int64_t *iz = malloc(sizeof(int64_t) * 2 * (od + oh + ow));
    float *lz = malloc(sizeof(float) * (od + oh + ow));
    float *buf = malloc(sizeof(float) * (size_t)nt * (t1n + t2n));
    if (!iz || !lz || !buf) { free(iz); free(lz); free(buf); return -1; }
    int64_t *iz1 = iz + od, *iy = iz1 + od, *iy1 = iy + oh, *ix = iy1 + oh, *ix1 = ix + ow;
    float *ly = lz + od, *lx = ly + oh;
    cmfk_upsample2_axis_table(d, iz, iz1, lz);
    cmfk_upsample2_axis_table(h, iy, iy1, ly);
    cmfk_upsample2_axis_table(w, ix, ix1, lx);
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        float *t1 = buf + (int64_t)omp_get_thread_num() * (t1n + t2n), *t2 = t1 + t1n;
        const float *g = grad_out + p * od * oh * ow;
        float *gi = grad_in + p * d * h * w;
        /* x: rows of ow -> rows of w */
        for (int64_t r = 0; r < od * oh; r++) {
            const float *src = g + r * ow;
            float *dst = t1 + r * w;
            memset(dst, 0, sizeof(float) * (size_t)w);
            for (int64_t x = 0; x < ow; x++) {
                dst[ix[x]] += (1.0f - lx[x]) * src[x];
                dst[ix1[x]] += lx[x] * src[x];
            }
        }
        /* y: [od][oh][w] -> [od][h][w] */
        memset(t2, 0, sizeof(float) * (size_t)t2n);
        for (int64_t z = 0; z < od; z++)
            for (int64_t y = 0; y < oh; y++) {
                const float *src = t1 + (z * oh + y) * w;
                float *r0 = t2 + (z * h + iy[y]) * w, *r1 = t2 + (z * h + iy1[y]) * w;
                float a = 1.0f - ly[y], b = ly[y];
                for (int64_t x = 0; x < w; x++) r0[x] += a * src[x];
                for (int64_t x = 0; x < w; x++) r1[x] += b * src[x];
            }
        /* z: [od][h][w] -> [d][h][w] */
        memset(gi, 0, sizeof(float) * (size_t)(d * h * w));
        for (int64_t z = 0; z < od; z++) {
            const float *src = t2 + z * h * w;
            float *r0 = gi + iz[z] * h * w, *r1 = gi + iz1[z] * h * w;
            float a = 1.0f - lz[z], b = lz[z];
            for (int64_t i = 0; i < h * w; i++) r0[i] += a * src[i];
            for (int64_t i = 0; i < h * w; i++) r1[i] += b * src[i];
        }
    }
    free(iz);
    free(lz);
    free(buf);
    return 0;
}

/* ---- Softmax and channel products ------------------------------------------------------ */

int cmfk_softmax_channels_backward_f32(const float *s, const float *grad_s, int64_t n, int64_t c, int64_t plane,
                                       float *grad_x, int threads) {
    if (n <= 0 || c <= 0 || plane <= 0) return -2;
    int nt = NT(threads);
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if(n * plane > PAR_MIN / 4)
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < plane; i++) {
            const float *sv = s + b * c * plane + i, *gs = grad_s + b * c * plane + i;
            float *gx = grad_x + b * c * plane + i;
            double dot = 0;
            for (int64_t k = 0; k < c; k++) dot += (double)gs[k * plane] * sv[k * plane];
            for (int64_t k = 0; k < c; k++) gx[k * plane] = (float)(sv[k * plane] * ((double)gs[k * plane] - dot));
        }
    return 0;
}

int cmfk_mul_channels_backward_f32(const float *x, int64_t c, int64_t plane, const float *m,
                                   const float *grad_out, float *grad_x, float *grad_m, int threads) {
    if (c <= 0 || plane <= 0) return -2;
    int nt = NT(threads);
    /* Tiles of voxels: every channel row is read in order (no plane-sized strides per voxel);
     * grad_m's sums over channels stay in a double tile. grad_out is read before grad_x is
     * written at each index, so they may alias. */
    enum { TILE = 512 };
    int64_t tiles = (plane + TILE - 1) / TILE;
    #pragma omp parallel for num_threads(nt) schedule(static) if(c * plane > PAR_MIN)
    for (int64_t t = 0; t < tiles; t++) {
        int64_t i0 = t * TILE, i1 = i0 + TILE < plane ? i0 + TILE : plane;
        double acc[TILE];
        for (int64_t i = i0; i < i1; i++) acc[i - i0] = 0;
        for (int64_t k = 0; k < c; k++) {
            const float *go = grad_out + k * plane, *xk = x + k * plane;
            float *gx = grad_x + k * plane;
            for (int64_t i = i0; i < i1; i++) {
                float g = go[i];
                acc[i - i0] += (double)g * xk[i];
                gx[i] = g * m[i];
            }
        }
        for (int64_t i = i0; i < i1; i++) grad_m[i] = (float)acc[i - i0];
    }
    return 0;
}

int cmfk_add_f32(float *acc, const float *x, int64_t count, int threads) {
    if (count < 0) return -2;
    int nt = NT(threads);
    #pragma omp parallel for num_threads(nt) schedule(static) if(count > 4 * PAR_MIN)
    for (int64_t i = 0; i < count; i++) acc[i] += x[i];
    return 0;
}

/* ---- Losses ---------------------------------------------------------------------------- */

int cmfk_soft_dice_f32(const float *p, const uint8_t *labels, int64_t n, int64_t c, int64_t plane, float eps,
                       double *loss, double *dice_per_class, float *grad_p, int threads) {
    if (n <= 0 || c < 2 || plane <= 0 || !loss) return -2;
    int nt = NT(threads);
    /* Per thread: [0, c) sum p*t, [c, 2c) sum p^2, [2c, 3c) sum t, [3c] labels >= c. */
    int64_t k3 = 3 * c + 1;
    double *part = calloc((size_t)(nt * k3), sizeof(double));
    double *sums = malloc(sizeof(double) * (size_t)k3);
    double *coef = malloc(sizeof(double) * (size_t)(2 * c));
    if (!part || !sums || !coef) { free(part); free(sums); free(coef); return -1; }
    #pragma omp parallel num_threads(nt) if(n * plane > PAR_MIN)
    {
        int64_t lo, hi;
        split_range(plane, &lo, &hi);
        double *q = part + (int64_t)omp_get_thread_num() * k3;
        for (int64_t b = 0; b < n; b++) {
            const uint8_t *lb = labels + b * plane;
            const float *pb = p + b * c * plane;
            for (int64_t i = lo; i < hi; i++) {
                int64_t l = lb[i];
                if (l >= c) { q[3 * c] += 1; continue; }
                for (int64_t k = 1; k < c; k++) {
                    double pv = pb[k * plane + i];
                    q[c + k] += pv * pv;
                }
                if (l > 0) { q[l] += pb[l * plane + i]; q[2 * c + l] += 1; }
            }
        }
    }
    combine_parts(part, nt, k3, sums);
    free(part);
    if (sums[3 * c] > 0) { free(sums); free(coef); return -2; }
    double mean = 0, fc = (double)(c - 1);
    for (int64_t k = 1; k < c; k++) {
        double num = 2 * sums[k] + (double)eps, den = sums[c + k] + sums[2 * c + k] + (double)eps;
        double dk = num / den;
        mean += dk;
        if (dice_per_class) dice_per_class[k - 1] = dk;
        /* d loss / d p_k = a_k * t_k + b_k * p_k */
        coef[2 * k] = -2.0 / (fc * den);
        coef[2 * k + 1] = 2.0 * num / (fc * den * den);
    }
    *loss = 1.0 - mean / fc;
    if (grad_p) {
        #pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if(n * plane > PAR_MIN)
        for (int64_t b = 0; b < n; b++)
            for (int64_t i = 0; i < plane; i++) {
                int64_t l = labels[b * plane + i];
                const float *pv = p + b * c * plane + i;
                float *gv = grad_p + b * c * plane + i;
                gv[0] = 0;
                for (int64_t k = 1; k < c; k++)
                    gv[k * plane] = (float)((l == k ? coef[2 * k] : 0.0) + coef[2 * k + 1] * pv[k * plane]);
            }
    }
    free(sums);
    free(coef);
    return 0;
}

int cmfk_l1_loss_f32(const float *a, const float *b, int64_t count, double *loss, float *grad_a, int threads) {
    if (count <= 0 || !loss) return -2;
    int nt = NT(threads);
    double *part = calloc((size_t)nt, sizeof(double));
    if (!part) return -1;
    #pragma omp parallel num_threads(nt) if(count > PAR_MIN)
    {
        int64_t lo, hi;
        split_range(count, &lo, &hi);
        double acc = 0;
        for (int64_t i = lo; i < hi; i++) acc += fabs((double)a[i] - (double)b[i]);
        part[omp_get_thread_num()] = acc;
    }
    double sum;
    combine_parts(part, nt, 1, &sum);
    free(part);
    *loss = sum / (double)count;
    if (grad_a) {
        /* PyTorch: mean's backward 1/count (float), times sign(a - b). */
        float inv = 1.0f / (float)count;
        #pragma omp parallel for num_threads(nt) schedule(static) if(count > PAR_MIN)
        for (int64_t i = 0; i < count; i++) {
            float dv = a[i] - b[i];
            grad_a[i] = dv > 0 ? inv : (dv < 0 ? -inv : 0.0f);
        }
    }
    return 0;
}

int cmfk_mse_const_loss_f32(const float *x, int64_t count, float target, double *loss, float *grad_x,
                            int threads) {
    if (count <= 0 || !loss) return -2;
    int nt = NT(threads);
    double *part = calloc((size_t)nt, sizeof(double));
    if (!part) return -1;
    #pragma omp parallel num_threads(nt) if(count > PAR_MIN)
    {
        int64_t lo, hi;
        split_range(count, &lo, &hi);
        double acc = 0;
        for (int64_t i = lo; i < hi; i++) { double dv = (double)x[i] - target; acc += dv * dv; }
        part[omp_get_thread_num()] = acc;
    }
    double sum;
    combine_parts(part, nt, 1, &sum);
    free(part);
    *loss = sum / (double)count;
    if (grad_x) {
        /* PyTorch's mse_loss backward: (float)(2/count) * (x - target). */
        float norm = (float)(2.0 / (double)count);
        #pragma omp parallel for num_threads(nt) schedule(static) if(count > PAR_MIN)
        for (int64_t i = 0; i < count; i++) grad_x[i] = norm * (x[i] - target);
    }
    return 0;
}

/* ---- Optimiser --------------------------------------------------------------------------- */

/* The double a Python literal gives for the value written as `f`'s shortest decimal form
 * (0.9f -> 0.9, 1e-4f -> 1e-4): the hyper-parameters PyTorch's scalar arithmetic sees. */
static double decimal_double(float f) {
    if (!isfinite(f)) return (double)f;
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        double v = strtod(buf, NULL);
        if ((float)v == f) return v;
    }
    return (double)f;
}

/* The Adam element loop over [lo, hi). fmaf is exact wherever it runs, so the two builds
 * below give the same bits; the "fma" one (chosen when the CPU has FMA) inlines and
 * vectorises the instruction instead of calling libm. They hold no OpenMP region: the
 * compiler's outlined region functions do not inherit the target attribute. */
#define ADAM_BODY                                                                              \
    for (int64_t i = lo; i < hi; i++) {                                                        \
        float p = param[i];                                                                    \
        float g = decay ? fmaf(p, wd, grad[i]) : grad[i];                                      \
        float mi = m[i];                                                                       \
        /* ATen's lerp: fma(w, end - self, self) for |w| < 0.5, else fma(w - 1, end - self, end) */ \
        mi = small ? fmaf(w1, g - mi, mi) : fmaf(w1 - 1.0f, g - mi, g);                       \
        /* addcmul's self + value*t1*t2, which x86 builds of ATen compile to one fused multiply-add */ \
        float vi = fmaf(w2 * g, g, v[i] * b2f);                                                \
        float denom = sqrtf(vi) / bc2s + epsf;                                                 \
        param[i] = p + neg_step * mi / denom;                                                  \
        m[i] = mi;                                                                             \
        v[i] = vi;                                                                             \
    }

#define ADAM_ARGS float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, \
                  int64_t lo, int64_t hi, int decay, float wd, int small, float w1, float w2, float b2f, \
                  float bc2s, float epsf, float neg_step
__attribute__((target("fma"))) static void adam_range_fma(ADAM_ARGS) { ADAM_BODY }
static void adam_range(ADAM_ARGS) { ADAM_BODY }

int cmfk_adam_f32(float *param, const float *grad, float *m, float *v, int64_t count, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step, int threads) {
    if (count < 0 || step < 1) return -2;
    int nt = NT(threads);
    double lr_d = decimal_double(lr), b1 = decimal_double(beta1), b2 = decimal_double(beta2);
    /* Python floats, converted to float where the tensor ops take them as scalars. */
    double bias_correction1 = 1.0 - pow(b1, (double)step);
    double bias_correction2 = 1.0 - pow(b2, (double)step);
    double step_size = lr_d / bias_correction1;
    double bias_correction2_sqrt = pow(bias_correction2, 0.5);
    float w1 = (float)(1.0 - b1);                 /* exp_avg.lerp_(grad, 1 - beta1) */
    float b2f = (float)b2, w2 = (float)(1.0 - b2); /* exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1-beta2) */
    float bc2s = (float)bias_correction2_sqrt, epsf = (float)decimal_double(eps);
    float neg_step = (float)(-step_size);           /* param.addcdiv_(exp_avg, denom, value=-step_size) */
    float wd = (float)decimal_double(weight_decay);  /* grad.add(param, alpha=weight_decay) */
    int small = fabsf(w1) < 0.5f, decay = weight_decay != 0, fma = __builtin_cpu_supports("fma");
    #pragma omp parallel num_threads(nt) if(count > PAR_MIN)
    {
        int64_t lo, hi;
        split_range(count, &lo, &hi);
        if (fma) adam_range_fma(param, grad, m, v, lo, hi, decay, wd, small, w1, w2, b2f, bc2s, epsf, neg_step);
        else adam_range(param, grad, m, v, lo, hi, decay, wd, small, w1, w2, b2f, bc2s, epsf, neg_step);
    }
    return 0;
}

int cmfk_sum_squares_f32(const float *x, int64_t count, double *out, int threads) {
    if (count < 0 || !out) return -2;
    int nt = NT(threads);
    double *part = calloc((size_t)nt, sizeof(double));
    if (!part) return -1;
    #pragma omp parallel num_threads(nt) if(count > PAR_MIN)
    {
        int64_t lo, hi;
        split_range(count, &lo, &hi);
        double acc = 0;
        for (int64_t i = lo; i < hi; i++) acc += (double)x[i] * x[i];
        part[omp_get_thread_num()] = acc;
    }
    combine_parts(part, nt, 1, out);
    free(part);
    return 0;
}

int cmfk_masked_head_backward_f32(const float *xx, int64_t f, const float *s0, const float *s1, int64_t c,
                                  int64_t plane, const float *weight, const float *grad_logits, float *grad_xx,
                                  float *grad_mask, float *grad_weight, float *grad_bias, int threads) {
    if (f <= 0 || c <= 0 || plane <= 0 || c > 64 || f > 4096) return -2;
    enum { CHUNK = 256 };
    int nt = NT(threads);
    int64_t nw = c * c * f, per_thread = c * CHUNK + 2 * CHUNK;
    /* per thread: the masks of a chunk, h and M*xx rows; and double sums of the parameter gradients */
    float *scratch = malloc(sizeof(float) * (size_t)(nt * per_thread));
    double *sums = calloc((size_t)(nt * (nw + c)), sizeof(double));
    if (!scratch || !sums) { free(scratch); free(sums); return -1; }
    #pragma omp parallel num_threads(nt) if(plane > 16384)
    {
        int tid = omp_get_thread_num();
        float *mrow = scratch + tid * per_thread, *hrow = mrow + c * CHUNK, *prow = hrow + CHUNK;
        double *wsum = sums + tid * (nw + c), *bsum = wsum + nw;
        #pragma omp for schedule(static)
        for (int64_t i0 = 0; i0 < plane; i0 += CHUNK) {
            int64_t len = plane - i0 < CHUNK ? plane - i0 : CHUNK;
            for (int64_t m = 0; m < c; m++) {
                const float *a = s0 + m * plane + i0, *b = s1 + m * plane + i0;
                for (int64_t i = 0; i < len; i++) mrow[m * CHUNK + i] = a[i] + b[i];
                float *gm = grad_mask + m * plane + i0;
                for (int64_t i = 0; i < len; i++) gm[i] = 0;
            }
            for (int64_t j = 0; j < f; j++) {
                float *gx = grad_xx + j * plane + i0;
                for (int64_t i = 0; i < len; i++) gx[i] = 0;
            }
            for (int64_t m = 0; m < c; m++) {
                const float *mm = mrow + m * CHUNK;
                float *gm = grad_mask + m * plane + i0;
                for (int64_t j = 0; j < f; j++) {
                    const float *xj = xx + j * plane + i0;
                    float *gx = grad_xx + j * plane + i0;
                    for (int64_t i = 0; i < len; i++) hrow[i] = 0;
                    for (int64_t k = 0; k < c; k++) {
                        const float *gk = grad_logits + k * plane + i0;
                        float wk = weight[k * c * f + m * f + j];
                        for (int64_t i = 0; i < len; i++) hrow[i] += wk * gk[i];
                    }
                    for (int64_t i = 0; i < len; i++) {
                        gx[i] += mm[i] * hrow[i];
                        gm[i] += xj[i] * hrow[i];
                    }
                    if (!grad_weight) continue;
                    for (int64_t i = 0; i < len; i++) prow[i] = mm[i] * xj[i];
                    for (int64_t k = 0; k < c; k++) {
                        const float *gk = grad_logits + k * plane + i0;
                        float dot = 0;
                        #pragma omp simd reduction(+:dot)
                        for (int64_t i = 0; i < len; i++) dot += gk[i] * prow[i];
                        wsum[k * c * f + m * f + j] += dot;
                    }
                }
            }
            if (grad_bias)
                for (int64_t k = 0; k < c; k++) {
                    const float *gk = grad_logits + k * plane + i0;
                    float dot = 0;
                    #pragma omp simd reduction(+:dot)
                    for (int64_t i = 0; i < len; i++) dot += gk[i];
                    bsum[k] += dot;
                }
        }
    }
    /* the threads' sums in thread order: the same result for the same thread count */
    for (int64_t r = 0; grad_weight && r < nw; r++) {
        double t = 0;
        for (int p = 0; p < nt; p++) t += sums[p * (nw + c) + r];
        grad_weight[r] = (float)t;
    }
    for (int64_t k = 0; grad_bias && k < c; k++) {
        double t = 0;
        for (int p = 0; p < nt; p++) t += sums[p * (nw + c) + nw + k];
        grad_bias[k] = (float)t;
    }
    free(scratch);
    free(sums);
    return 0;
}
