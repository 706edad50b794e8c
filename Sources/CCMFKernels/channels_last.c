/* Conversions between plain channel planes [c][plane] and oneDNN's channel-blocked layouts
 * ([c/block][plane][block]: block = c is channels-last, the AVX-512 kernels' layout; block = 8
 * is nCdhw8c, the AVX2 kernels'), all bandwidth-bound:
 *  - instance norm + leaky ReLU read straight from a convolution's blocked result and written
 *    as plain planes, so the result needs no separate reorder;
 *  - plain planes <-> channels-last or nCdhw16c for a convolution's inputs and outputs
 *    (oneDNN's own reorder moves about 16 GB/s here; a register transpose with streaming
 *    stores about 35).
 * Groups of 16 channels (one cache line per voxel) get code for AVX-512 and AVX2 (chosen at
 * load time) and, on AVX-512, 16 x 16 tiles transposed in registers. Large outputs are written
 * with streaming stores: they are read again only by the next layer, after many megabytes. */
#include "nn_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Sums of (x - pivot) and of its square for 16 channels at `t` (voxel stride `stride`),
 * voxels [s0, s1), added to sum[16] and sq[16]; in double, in voxel order. */
CMFK_SIMD_CLONES static void shifted_sums16(const float *t, int64_t stride, int64_t s0, int64_t s1,
                                            const double *pivot, double *sum, double *sq) {
    double a[16] = {0}, q[16] = {0}, p[16];
    for (int k = 0; k < 16; k++) p[k] = pivot[k];
    for (int64_t s = s0; s < s1; s++)
        for (int k = 0; k < 16; k++) {
            double d = t[s * stride + k] - p[k];
            a[k] += d;
            q[k] += d * d;
        }
    for (int k = 0; k < 16; k++) { sum[k] += a[k]; sq[k] += q[k]; }
}

/* The same for `width` channels (any width). */
static void shifted_sums(const float *t, int64_t stride, int64_t width, int64_t s0, int64_t s1,
                         const double *pivot, double *sum, double *sq) {
    for (int64_t s = s0; s < s1; s++)
        for (int64_t k = 0; k < width; k++) {
            double d = t[s * stride + k] - pivot[k];
            sum[k] += d;
            sq[k] += d * d;
        }
}

static inline float lrelu(float y, float slope) { return y >= 0 ? y : y * slope; }

/* Normalise + activate `width` channels at `t` (voxel stride `stride`), voxels [s0, s1), into
 * planes out[k * plane + s]: the portable loop. */
static void normalise_planes(const float *t, int64_t stride, int64_t width, int64_t s0, int64_t s1,
                             const float *mean, const float *inv, float slope, float *out, int64_t plane) {
    for (int64_t k = 0; k < width; k++) {
        float m = mean[k], iv = inv[k];
        float *o = out + k * plane;
        for (int64_t s = s0; s < s1; s++) o[s] = lrelu((t[s * stride + k] - m) * iv, slope);
    }
}

#if defined(__x86_64__)
/* Streaming stores for rows of `row` floats from `at`: aligned to a cache line, and only for
 * rows of 2^20 voxels or more (4 MB per channel, far beyond the caches). */
static int streams(const float *at, int64_t row) {
    return ((uintptr_t)at % 64 == 0) && row % 16 == 0 && row >= (int64_t)1 << 20;
}

/* 16 x 16 transpose of r (rows become columns). */
__attribute__((target("avx512f"))) static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

/* r[i] -> out + i * stride, i < 16; streaming stores (the caller fences) or plain ones. */
__attribute__((target("avx512f"))) static inline void store16(float *out, int64_t stride, const __m512 r[16],
                                                              int stream) {
    if (stream)
        for (int i = 0; i < 16; i++) _mm512_stream_ps(out + i * stride, r[i]);
    else
        for (int i = 0; i < 16; i++) _mm512_storeu_ps(out + i * stride, r[i]);
}

/* normalise_planes for 16 channels: 16 voxels (one vector per voxel) normalised, transposed
 * in registers and stored as 16 channel rows; the tail of fewer than 16 voxels portably. */
__attribute__((target("avx512f"))) static void normalise_planes16_avx512(
    const float *t, int64_t stride, int64_t s0, int64_t s1, const float *mean, const float *inv, float slope,
    float *out, int64_t plane) {
    __m512 m = _mm512_loadu_ps(mean), iv = _mm512_loadu_ps(inv), sl = _mm512_set1_ps(slope);
    __m512 zero = _mm512_setzero_ps();
    int stream = streams(out + s0, plane);
    int64_t s = s0;
    for (; s + 16 <= s1; s += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) {
            __m512 y = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(t + (s + i) * stride), m), iv);
            __mmask16 negative = _mm512_cmp_ps_mask(y, zero, _CMP_LT_OQ);
            r[i] = _mm512_mask_mul_ps(y, negative, y, sl);
        }
        transpose16(r);
        store16(out + s, plane, r, stream);
    }
    if (stream) _mm_sfence();
    if (s < s1) normalise_planes(t, stride, 16, s, s1, mean, inv, slope, out, plane);
}

/* 16 channel planes from `in` (plane stride `plane`) -> their 16 lanes of a blocked layout at
 * `out` (voxel stride `block`), voxels [s0, s1), s1 - s0 a multiple of 16. */
__attribute__((target("avx512f"))) static void planes_to_blocked16_avx512(
    const float *in, int64_t plane, float *out, int64_t block, int64_t s0, int64_t s1, int stream) {
    for (int64_t s = s0; s < s1; s += 16) {
        __m512 r[16];
        for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(in + k * plane + s);
        transpose16(r);
        store16(out + s * block, block, r, stream);
    }
    if (stream) _mm_sfence();
}

/* The inverse: 16 lanes of a blocked layout at `in` (voxel stride `block`) -> 16 planes at
 * `out` (plane stride `plane`), voxels [s0, s1), s1 - s0 a multiple of 16. */
__attribute__((target("avx512f"))) static void blocked_to_planes16_avx512(
    const float *in, int64_t block, float *out, int64_t plane, int64_t s0, int64_t s1, int stream) {
    for (int64_t s = s0; s < s1; s += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(in + (s + i) * block);
        transpose16(r);
        store16(out + s, plane, r, stream);
    }
    if (stream) _mm_sfence();
}
#endif

int cmfk_blocked_instnorm_lrelu(const float *t, int64_t c, int64_t block, int64_t plane, float eps, float slope,
                                float *out, float *inv_std, int nt) {
    int64_t cb = c / block;
    double *part = calloc((size_t)(2 * nt * c), sizeof(double)), *pivot = malloc(sizeof(double) * (size_t)c);
    float *fm = malloc(sizeof(float) * (size_t)c), *finv = malloc(sizeof(float) * (size_t)c);
    if (!part || !pivot || !fm || !finv) { free(part); free(pivot); free(fm); free(finv); return -1; }
    for (int64_t b = 0; b < cb; b++)
        for (int64_t k = 0; k < block; k++) pivot[b * block + k] = t[b * plane * block + k];
    /* Statistics: each thread over its share of the plane, the shares added in thread order. */
    #pragma omp parallel num_threads(nt)
    {
        int id = omp_get_thread_num(), nth = omp_get_num_threads();
        int64_t s0 = plane * id / nth, s1 = plane * (id + 1) / nth;
        double *sum = part + (int64_t)id * 2 * c, *sq = sum + c;
        for (int64_t b = 0; b < cb; b++) {
            const float *tb = t + b * plane * block;
            int64_t k0 = 0;
            for (; k0 + 16 <= block; k0 += 16)
                shifted_sums16(tb + k0, block, s0, s1, pivot + b * block + k0, sum + b * block + k0, sq + b * block + k0);
            if (k0 < block)
                shifted_sums(tb + k0, block, block - k0, s0, s1, pivot + b * block + k0, sum + b * block + k0,
                             sq + b * block + k0);
        }
    }
    for (int64_t k = 0; k < c; k++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < nt; i++) { sum += part[(int64_t)i * 2 * c + k]; sq += part[(int64_t)i * 2 * c + c + k]; }
        double shifted_mean = sum / (double)plane, var = sq / (double)plane - shifted_mean * shifted_mean;
        fm[k] = (float)(pivot[k] + shifted_mean);
        finv[k] = (float)(1.0 / sqrt((var > 0 ? var : 0) + (double)eps));
    }
    if (inv_std) memcpy(inv_std, finv, sizeof(float) * (size_t)c);
#if defined(__x86_64__)
    int avx512 = __builtin_cpu_supports("avx512f");
#else
    int avx512 = 0;
#endif
    /* a tile of the blocked input is tile x block floats: 8 KB, within L1 */
    int64_t tile = block < 2048 ? 2048 / block : 1;
    tile = tile >= 16 ? tile / 16 * 16 : tile;
    int64_t tiles = (plane + tile - 1) / tile;
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
    for (int64_t b = 0; b < cb; b++)
        for (int64_t ti = 0; ti < tiles; ti++) {
            int64_t s0 = ti * tile, s1 = s0 + tile < plane ? s0 + tile : plane;
            const float *tb = t + b * plane * block;
            for (int64_t k0 = 0; k0 < block;) {
                int64_t ch = b * block + k0;
#if defined(__x86_64__)
                if (avx512 && k0 + 16 <= block) {
                    normalise_planes16_avx512(tb + k0, block, s0, s1, fm + ch, finv + ch, slope, out + ch * plane, plane);
                    k0 += 16;
                    continue;
                }
#endif
                normalise_planes(tb + k0, block, block - k0, s0, s1, fm + ch, finv + ch, slope, out + ch * plane, plane);
                k0 = block;
            }
        }
    free(part); free(pivot); free(fm); free(finv);
    return 0;
}

/* Whether the register transposer takes these sizes on this host. */
static int transposable(int64_t c, int64_t plane, int64_t block) {
#if defined(__x86_64__)
    return block % 16 == 0 && c % block == 0 && plane % 16 == 0 && __builtin_cpu_supports("avx512f");
#else
    (void)c; (void)plane; (void)block;
    return 0;
#endif
}

/* Both directions, parallel over tiles of 256 voxels x 16 channels; `to_blocked` says which. */
static int convert(const float *in, int64_t c, int64_t plane, int64_t block, float *out, int nt, int to_blocked) {
    if (!transposable(c, plane, block)) return -2;
#if defined(__x86_64__)
    int stream = (uintptr_t)out % 64 == 0 && c * plane >= (int64_t)1 << 22;
    int64_t tile = 256;
    int64_t tiles = (plane + tile - 1) / tile;
    #pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
    for (int64_t ti = 0; ti < tiles; ti++)
        for (int64_t g = 0; g < c; g += 16) {
            int64_t s0 = ti * tile, s1 = s0 + tile < plane ? s0 + tile : plane;
            int64_t lane = (g / block) * plane * block + g % block;   /* group g's first lane in the blocked layout */
            if (to_blocked)
                planes_to_blocked16_avx512(in + g * plane, plane, out + lane, block, s0, s1, stream);
            else
                blocked_to_planes16_avx512(in + lane, block, out + g * plane, plane, s0, s1, stream);
        }
#endif
    return 0;
}

int cmfk_planes_to_blocked(const float *in, int64_t c, int64_t plane, int64_t block, float *out, int nt) {
    return convert(in, c, plane, block, out, nt, 1);
}

int cmfk_blocked_to_planes(const float *in, int64_t c, int64_t plane, int64_t block, float *out, int nt) {
    return convert(in, c, plane, block, out, nt, 0);
}
