/* Element-wise and resampling layers of the networks (see cmf_nn.h). Bandwidth-bound loops
 * parallelised over planes or voxels; the serial path is the same code with one thread. */
#include "cmf_nn.h"
#include "nn_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cmfk_instnorm_lrelu_train_f32(float *x, int64_t planes, int64_t plane, float eps, float slope,
                                  float *inv_std, int threads) {
    if (planes <= 0 || plane <= 0) return -2;
    int nt = NT(threads);
    for (int64_t p = 0; p < planes; p++) {
        float *v = x + p * plane;
        double sum = 0;
        #pragma omp parallel for num_threads(nt) reduction(+:sum) schedule(static) if(plane > 32768)
        for (int64_t i = 0; i < plane; i++) sum += v[i];
        double mean = sum / (double)plane;
        double sq = 0;
        #pragma omp parallel for num_threads(nt) reduction(+:sq) schedule(static) if(plane > 32768)
        for (int64_t i = 0; i < plane; i++) { double dv = v[i] - mean; sq += dv * dv; }
        double var = sq / (double)plane;
        float inv = (float)(1.0 / sqrt(var + (double)eps));
        float m = (float)mean;
        if (inv_std) inv_std[p] = inv;
        #pragma omp parallel for num_threads(nt) schedule(static) if(plane > 32768)
        for (int64_t i = 0; i < plane; i++) {
            float y = (v[i] - m) * inv;
            v[i] = y >= 0 ? y : y * slope;
        }
    }
    return 0;
}

int cmfk_instnorm_lrelu_f32(float *x, int64_t planes, int64_t plane, float eps, float slope, int threads) {
    return cmfk_instnorm_lrelu_train_f32(x, planes, plane, eps, slope, NULL, threads);
}

int cmfk_lrelu_f32(float *x, int64_t count, float slope, int threads) {
    if (count < 0) return -2;
    int nt = NT(threads);
    #pragma omp parallel for num_threads(nt) schedule(static) if(count > 65536)
    for (int64_t i = 0; i < count; i++) x[i] = x[i] >= 0 ? x[i] : x[i] * slope;
    return 0;
}

int cmfk_maxpool2_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                      float *out, int threads) {
    if (planes <= 0 || d < 2 || h < 2 || w < 2) return -2;
    int64_t od = d / 2, oh = h / 2, ow = w / 2;
    int nt = NT(threads);
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++)
        for (int64_t z = 0; z < od; z++) {
            const float *src = in + p * d * h * w;
            float *dst = out + p * od * oh * ow + z * oh * ow;
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    float m = -INFINITY;
                    for (int dz = 0; dz < 2; dz++)
                        for (int dy = 0; dy < 2; dy++) {
                            const float *r = src + ((2 * z + dz) * h + (2 * y + dy)) * w + 2 * x;
                            float a = r[0], b = r[1];
                            /* NaN propagates as in PyTorch */
                            if (a > m || a != a) m = a;
                            if (b > m || b != b) m = b;
                        }
                    dst[y * ow + x] = m;
                }
        }
    return 0;
}

/* Source index pair and weight of every output coordinate along one axis. */
void cmfk_upsample2_axis_table(int64_t n, int64_t *i0, int64_t *i1, float *l) {
    int64_t on = 2 * n;
    double scale = on > 1 ? (double)(n - 1) / (double)(on - 1) : 0.0;
    for (int64_t o = 0; o < on; o++) {
        double s = o * scale;
        int64_t a = (int64_t)s;
        if (a > n - 1) a = n - 1;
        i0[o] = a;
        i1[o] = a + 1 < n ? a + 1 : n - 1;
        l[o] = (float)(s - (double)a);
    }
}

int cmfk_upsample2_trilinear_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                                 float *out, int threads) {
    if (planes <= 0 || d <= 0 || h <= 0 || w <= 0) return -2;
    int64_t od = 2 * d, oh = 2 * h, ow = 2 * w;
    int64_t *iz = malloc(sizeof(int64_t) * 2 * (od + oh + ow));
    float *lz = malloc(sizeof(float) * (od + oh + ow));
    if (!iz || !lz) { free(iz); free(lz); return -1; }
    int64_t *iz1 = iz + od, *iy = iz1 + od, *iy1 = iy + oh, *ix = iy1 + oh, *ix1 = ix + ow;
    float *ly = lz + od, *lx = ly + oh;
    cmfk_upsample2_axis_table(d, iz, iz1, lz);
    cmfk_upsample2_axis_table(h, iy, iy1, ly);
    cmfk_upsample2_axis_table(w, ix, ix1, lx);
    int nt = NT(threads);
    /* Separable: per output row, the four source rows are blended along y and z first (w
     * values, contiguous), then that one row is interpolated along x. */
    float *rows = malloc(sizeof(float) * (size_t)(nt * w));
    if (!rows) { free(iz); free(lz); return -1; }
    #pragma omp parallel num_threads(nt)
    {
        float *r = rows + (int64_t)omp_get_thread_num() * w;
        #pragma omp for collapse(2) schedule(static)
        for (int64_t p = 0; p < planes; p++)
            for (int64_t z = 0; z < od; z++) {
                const float *src = in + p * d * h * w;
                const float *s0 = src + iz[z] * h * w, *s1 = src + iz1[z] * h * w;
                float wz = lz[z];
                float *dst = out + p * od * oh * ow + z * oh * ow;
                for (int64_t y = 0; y < oh; y++) {
                    const float *r00 = s0 + iy[y] * w, *r01 = s0 + iy1[y] * w;
                    const float *r10 = s1 + iy[y] * w, *r11 = s1 + iy1[y] * w;
                    float wy = ly[y];
                    for (int64_t x = 0; x < w; x++) {
                        float c0 = r00[x] + (r01[x] - r00[x]) * wy;
                        float c1 = r10[x] + (r11[x] - r10[x]) * wy;
                        r[x] = c0 + (c1 - c0) * wz;
                    }
                    float *o = dst + y * ow;
                    for (int64_t x = 0; x < ow; x++) {
                        float a = r[ix[x]];
                        o[x] = a + (r[ix1[x]] - a) * lx[x];
                    }
                }
            }
    }
    free(rows);
    free(iz);
    free(lz);
    return 0;
}

int cmfk_softmax_channels_f32(const float *x, int64_t n, int64_t c, int64_t plane, float *out, int threads) {
    if (n <= 0 || c <= 0 || plane <= 0) return -2;
    int nt = NT(threads);
    for (int64_t s = 0; s < n; s++) {
        const float *xs = x + s * c * plane;
        float *os = out + s * c * plane;
        #pragma omp parallel for num_threads(nt) schedule(static) if(plane > 16384)
        for (int64_t i = 0; i < plane; i++) {
            float m = xs[i];
            for (int64_t k = 1; k < c; k++) if (xs[k * plane + i] > m) m = xs[k * plane + i];
            float sum = 0;
            for (int64_t k = 0; k < c; k++) { float e = expf(xs[k * plane + i] - m); os[k * plane + i] = e; sum += e; }
            float inv = 1.0f / sum;
            for (int64_t k = 0; k < c; k++) os[k * plane + i] *= inv;
        }
    }
    return 0;
}

int cmfk_mul_channels_f32(const float *x, int64_t c, int64_t plane, const float *m, float *out, int threads) {
    if (c <= 0 || plane <= 0) return -2;
    int nt = NT(threads);
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if(c * plane > 65536)
    for (int64_t k = 0; k < c; k++)
        for (int64_t i = 0; i < plane; i++) out[k * plane + i] = x[k * plane + i] * m[i];
    return 0;
}

int cmfk_copy_f32(float *dst, const float *src, int64_t count, int threads) {
    if (count < 0) return -2;
    int nt = NT(threads);
    /* a few MB per thread: below that one memcpy is as fast as a parallel region */
    if (nt <= 1 || count < ((int64_t)1 << 20)) {
        memcpy(dst, src, sizeof(float) * (size_t)count);
        return 0;
    }
    #pragma omp parallel num_threads(nt)
    {
        int id = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t a = count * id / nth, b = count * (id + 1) / nth;
        memcpy(dst + a, src + a, sizeof(float) * (size_t)(b - a));
    }
    return 0;
}

int cmfk_masked_head_f32(const float *xx, int64_t f, const float *s0, const float *s1, int64_t c, int64_t plane,
                         const float *weight, const float *bias, float *out, int threads) {
    if (f <= 0 || c <= 0 || plane <= 0 || c > 64 || f > 4096) return -2;
    enum { CHUNK = 256 };
    int nt = NT(threads);
    /* per thread, y[(m * c + k) * CHUNK + i]: class k's logit from the features weighted by mask channel m */
    float *scratch = malloc(sizeof(float) * (size_t)(nt * c * c * CHUNK));
    if (!scratch) return -1;
    #pragma omp parallel num_threads(nt) if(plane > 16384)
    {
        float *y = scratch + (int64_t)omp_get_thread_num() * c * c * CHUNK;
        #pragma omp for schedule(static)
        for (int64_t i0 = 0; i0 < plane; i0 += CHUNK) {
            int64_t len = plane - i0 < CHUNK ? plane - i0 : CHUNK;
            for (int64_t r = 0; r < c * c; r++) {
                const float *wr = weight + (r % c) * c * f + (r / c) * f;
                float *yr = y + r * CHUNK;
                for (int64_t i = 0; i < len; i++) yr[i] = 0;
                for (int64_t j = 0; j < f; j++) {
                    const float *xj = xx + j * plane + i0;
                    float wj = wr[j];
                    for (int64_t i = 0; i < len; i++) yr[i] += wj * xj[i];
                }
            }
            for (int64_t k = 0; k < c; k++) {
                float *ok = out + k * plane + i0;
                float b = bias ? bias[k] : 0;
                for (int64_t i = 0; i < len; i++) ok[i] = b;
                for (int64_t m = 0; m < c; m++) {
                    const float *a = s0 + m * plane + i0, *q = s1 + m * plane + i0, *yr = y + (m * c + k) * CHUNK;
                    for (int64_t i = 0; i < len; i++) ok[i] += (a[i] + q[i]) * yr[i];
                }
            }
        }
    }
    free(scratch);
    return 0;
}

int cmfk_conv3d_f32_naive(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                          const float *weight, const float *bias, int64_t co,
                          int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                          float *out, int threads) {
    if (n <= 0 || ci <= 0 || d <= 0 || h <= 0 || w <= 0 || co <= 0 || kd <= 0 || kh <= 0 || kw <= 0 ||
        stride <= 0 || pad < 0)
        return -2;
    int64_t od = (d + 2 * pad - kd) / stride + 1, oh = (h + 2 * pad - kh) / stride + 1,
            ow = (w + 2 * pad - kw) / stride + 1;
    if (d + 2 * pad < kd || h + 2 * pad < kh || w + 2 * pad < kw) return -2;
    int nt = NT(threads);
    int64_t oplane = od * oh * ow, iplane = d * h * w;
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static, 1)
    for (int64_t s = 0; s < n; s++)
        for (int64_t o = 0; o < co; o++) {
            float *dst = out + (s * co + o) * oplane;
            for (int64_t z = 0; z < od; z++)
                for (int64_t y = 0; y < oh; y++)
                    for (int64_t x = 0; x < ow; x++) {
                        double acc = bias ? bias[o] : 0.0;
                        for (int64_t c = 0; c < ci; c++) {
                            const float *src = in + (s * ci + c) * iplane;
                            const float *wt = weight + (o * ci + c) * kd * kh * kw;
                            for (int64_t a = 0; a < kd; a++) {
                                int64_t zz = z * stride - pad + a;
                                if (zz < 0 || zz >= d) continue;
                                for (int64_t b = 0; b < kh; b++) {
                                    int64_t yy = y * stride - pad + b;
                                    if (yy < 0 || yy >= h) continue;
                                    for (int64_t e = 0; e < kw; e++) {
                                        int64_t xx = x * stride - pad + e;
                                        if (xx < 0 || xx >= w) continue;
                                        acc += (double)src[(zz * h + yy) * w + xx] * wt[(a * kh + b) * kw + e];
                                    }
                                }
                            }
                        }
                        dst[(z * oh + y) * ow + x] = (float)acc;
                    }
        }
    return 0;
}
