/*
 * patch.c — training patches (see cmf_patch.h): a crop is a copy of contiguous rows (reversed
 * when mirrored along x); the intensity pass walks the patch once or twice.
 */
#include "cmf_patch.h"

#include <math.h>
#include <string.h>

static int box_ok(int64_t channels, int64_t sx, int64_t sy, int64_t sz, int64_t ox, int64_t oy, int64_t oz,
                  int64_t px, int64_t py, int64_t pz) {
    if (channels < 1 || sx < 1 || sy < 1 || sz < 1 || px < 1 || py < 1 || pz < 1) return 0;
    if (ox < 0 || oy < 0 || oz < 0) return 0;
    if (px > sx - ox || py > sy - oy || pz > sz - oz) return 0;
    return 1;
}

static inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        /* zero or subnormal: mant · 2^-24, exact in float */
        float f = (float)mant * 0x1p-24f;
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float cmfk_f16_to_f32(uint16_t h) { return f16_to_f32(h); }

/* The source row of patch row (y, z) of channel c. */
#define SRC_ROW(c, y, z)                                                                    \
    ((c) * sx * sy * sz + ox + sx * ((oy + (flip_y ? py - 1 - (y) : (y))) +                  \
                                     sy * (oz + (flip_z ? pz - 1 - (z) : (z)))))

#define CROP_ROWS(T_SRC, T_DST, CONVERT, PLAIN_COPY)                                        \
    do {                                                                                     \
        if (!box_ok(channels, sx, sy, sz, ox, oy, oz, px, py, pz)) return -2;                \
        T_DST *d = dst;                                                                      \
        for (int64_t c = 0; c < channels; c++)                                               \
            for (int64_t z = 0; z < pz; z++)                                                 \
                for (int64_t y = 0; y < py; y++, d += px) {                                  \
                    const T_SRC *s = src + SRC_ROW(c, y, z);                                 \
                    if (flip_x) {                                                            \
                        for (int64_t x = 0; x < px; x++) d[x] = CONVERT(s[px - 1 - x]);      \
                    } else {                                                                 \
                        PLAIN_COPY;                                                          \
                    }                                                                        \
                }                                                                            \
        return 0;                                                                            \
    } while (0)

#define SAME(v) (v)

int cmfk_patch_crop_f32(const float *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                        int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                        int flip_x, int flip_y, int flip_z, float *dst) {
    CROP_ROWS(float, float, SAME, memcpy(d, s, (size_t)px * sizeof(float)));
}

int cmfk_patch_crop_u8(const uint8_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                       int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                       int flip_x, int flip_y, int flip_z, uint8_t *dst) {
    CROP_ROWS(uint8_t, uint8_t, SAME, memcpy(d, s, (size_t)px));
}

int cmfk_patch_crop_f16(const uint16_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                        int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                        int flip_x, int flip_y, int flip_z, float *dst) {
    CROP_ROWS(uint16_t, float, f16_to_f32, for (int64_t x = 0; x < px; x++) d[x] = f16_to_f32(s[x]));
}

/* The oracles: every voxel through the formula of cmf_patch.h. */
#define CROP_NAIVE(CONVERT)                                                                  \
    do {                                                                                     \
        if (!box_ok(channels, sx, sy, sz, ox, oy, oz, px, py, pz)) return -2;                \
        for (int64_t c = 0; c < channels; c++)                                               \
            for (int64_t z = 0; z < pz; z++)                                                 \
                for (int64_t y = 0; y < py; y++)                                             \
                    for (int64_t x = 0; x < px; x++) {                                       \
                        const int64_t xs = ox + (flip_x ? px - 1 - x : x);                   \
                        const int64_t ys = oy + (flip_y ? py - 1 - y : y);                   \
                        const int64_t zs = oz + (flip_z ? pz - 1 - z : z);                   \
                        dst[c * px * py * pz + x + px * (y + py * z)] =                      \
                            CONVERT(src[c * sx * sy * sz + xs + sx * (ys + sy * zs)]);       \
                    }                                                                        \
        return 0;                                                                            \
    } while (0)

int cmfk_patch_crop_f32_naive(const float *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                              int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                              int flip_x, int flip_y, int flip_z, float *dst) {
    CROP_NAIVE(SAME);
}

int cmfk_patch_crop_f16_naive(const uint16_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                              int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                              int flip_x, int flip_y, int flip_z, float *dst) {
    CROP_NAIVE(f16_to_f32);
}

int cmfk_patch_crop_u8_naive(const uint8_t *src, int64_t channels, int64_t sx, int64_t sy, int64_t sz,
                             int64_t ox, int64_t oy, int64_t oz, int64_t px, int64_t py, int64_t pz,
                             int flip_x, int flip_y, int flip_z, uint8_t *dst) {
    CROP_NAIVE(SAME);
}

int64_t cmfk_patch_intensity_f32(float *x, int64_t px, int64_t py, int64_t pz,
                                 const float *bias_x, const float *bias_y, const float *bias_z,
                                 float gamma, float scale, float shift) {
    if (px < 1 || py < 1 || pz < 1) return -2;
    const int bias = bias_x && bias_y && bias_z;
    const int use_gamma = gamma != 1.0f;
    float lo = INFINITY, hi = -INFINITY;
    int64_t touched = 0;
    /* Pass 1: the bias field, and the range gamma needs. */
    if (bias || use_gamma) {
        float *p = x;
        for (int64_t z = 0; z < pz; z++)
            for (int64_t y = 0; y < py; y++, p += px) {
                const float row = bias ? bias_z[z] * bias_y[y] : 1.0f;
                for (int64_t i = 0; i < px; i++) {
                    float v = p[i];
                    if (v == 0.0f) continue;
                    if (bias) p[i] = v = v * (row * bias_x[i]);
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
            }
    }
    /* Pass 2: gamma, scale and shift. */
    const float r = hi - lo + 1e-7f;
    const int affine = scale != 1.0f || shift != 0.0f;
    const int64_t n = px * py * pz;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (v == 0.0f) continue;
        touched++;
        if (use_gamma) v = lo + r * powf((v - lo) / r, gamma);
        if (affine) v = v * scale + shift;
        x[i] = v;
    }
    return touched;
}
