/*
 * convert.c — NIfTI voxel data (any supported datatype, either byte order) to float32
 * intensities or uint8 labels. Why C: these loops run over every voxel of every file read,
 * and they must be fast in debug builds too.
 */
#include "cmf_kernels.h"

#include <math.h>
#include <string.h>

static inline uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }

/* Loads element i of type T (bit pattern type U, swapped with SWAP) as a double. */
#define LOAD_SWAPPED(T, U, SWAP, p, i) ({ U u_; memcpy(&u_, (const U *)(p) + (i), sizeof u_); \
    u_ = SWAP(u_); T t_; memcpy(&t_, &u_, sizeof t_); t_; })

/* One element as double, byte-swapped if asked: the reference both paths agree with. */
static double load_double(const void *src, int32_t datatype, int64_t i, int swap) {
    switch (datatype) {
    case CMFK_DT_UINT8: return ((const uint8_t *)src)[i];
    case CMFK_DT_INT8: return ((const int8_t *)src)[i];
    case CMFK_DT_INT16: return swap ? LOAD_SWAPPED(int16_t, uint16_t, bswap16, src, i) : ((const int16_t *)src)[i];
    case CMFK_DT_UINT16: return swap ? LOAD_SWAPPED(uint16_t, uint16_t, bswap16, src, i) : ((const uint16_t *)src)[i];
    case CMFK_DT_INT32: return swap ? LOAD_SWAPPED(int32_t, uint32_t, bswap32, src, i) : ((const int32_t *)src)[i];
    case CMFK_DT_UINT32: return swap ? LOAD_SWAPPED(uint32_t, uint32_t, bswap32, src, i) : ((const uint32_t *)src)[i];
    case CMFK_DT_INT64: return (double)(swap ? LOAD_SWAPPED(int64_t, uint64_t, bswap64, src, i) : ((const int64_t *)src)[i]);
    case CMFK_DT_UINT64: return (double)(swap ? LOAD_SWAPPED(uint64_t, uint64_t, bswap64, src, i) : ((const uint64_t *)src)[i]);
    case CMFK_DT_FLOAT32: return swap ? LOAD_SWAPPED(float, uint32_t, bswap32, src, i) : ((const float *)src)[i];
    case CMFK_DT_FLOAT64: return swap ? LOAD_SWAPPED(double, uint64_t, bswap64, src, i) : ((const double *)src)[i];
    default: return NAN;
    }
}

int cmfk_datatype_size(int32_t datatype) {
    switch (datatype) {
    case CMFK_DT_UINT8: case CMFK_DT_INT8: return 1;
    case CMFK_DT_INT16: case CMFK_DT_UINT16: return 2;
    case CMFK_DT_INT32: case CMFK_DT_UINT32: case CMFK_DT_FLOAT32: return 4;
    case CMFK_DT_INT64: case CMFK_DT_UINT64: case CMFK_DT_FLOAT64: return 8;
    default: return 0;
    }
}

double cmfk_load_double(const void *src, int32_t datatype, int64_t i, int swap) {
    return load_double(src, datatype, i, swap);
}

int cmfk_convert_f32_naive(const void *src, int32_t datatype, int64_t n, int swap,
                           double slope, double inter, float *dst) {
    if (cmfk_datatype_size(datatype) == 0) return -2;
    for (int64_t i = 0; i < n; i++)
        dst[i] = (float)(load_double(src, datatype, i, swap) * slope + inter);
    return 0;
}

/* The fast path: a loop per type without swapping, a generic loop for swapped data. */
#define CONVERT_LOOP(T)                                                                 \
    do {                                                                                \
        const T *s_ = (const T *)src;                                                   \
        if (identity) { for (int64_t i = 0; i < n; i++) dst[i] = (float)s_[i]; }        \
        else { for (int64_t i = 0; i < n; i++) dst[i] = (float)((double)s_[i] * slope + inter); } \
    } while (0)

int cmfk_convert_f32(const void *src, int32_t datatype, int64_t n, int swap,
                     double slope, double inter, float *dst) {
    if (cmfk_datatype_size(datatype) == 0) return -2;
    const int identity = slope == 1.0 && inter == 0.0;
    if (swap && cmfk_datatype_size(datatype) > 1) {
        for (int64_t i = 0; i < n; i++) {
            double v = load_double(src, datatype, i, 1);
            dst[i] = identity ? (float)v : (float)(v * slope + inter);
        }
        return 0;
    }
    switch (datatype) {
    case CMFK_DT_UINT8: CONVERT_LOOP(uint8_t); break;
    case CMFK_DT_INT8: CONVERT_LOOP(int8_t); break;
    case CMFK_DT_INT16: CONVERT_LOOP(int16_t); break;
    case CMFK_DT_UINT16: CONVERT_LOOP(uint16_t); break;
    case CMFK_DT_INT32: CONVERT_LOOP(int32_t); break;
    case CMFK_DT_UINT32: CONVERT_LOOP(uint32_t); break;
    case CMFK_DT_INT64: CONVERT_LOOP(int64_t); break;
    case CMFK_DT_UINT64: CONVERT_LOOP(uint64_t); break;
    case CMFK_DT_FLOAT32:
        if (identity) memcpy(dst, src, (size_t)n * sizeof(float));
        else CONVERT_LOOP(float);
        break;
    case CMFK_DT_FLOAT64: CONVERT_LOOP(double); break;
    default: return -2;
    }
    return 0;
}

static inline int is_label(double v) { return v >= 0.0 && v <= 255.0 && v == floor(v); }

int64_t cmfk_convert_u8_naive(const void *src, int32_t datatype, int64_t n, int swap,
                              double slope, double inter, uint8_t *dst) {
    if (cmfk_datatype_size(datatype) == 0) return -2;
    for (int64_t i = 0; i < n; i++) {
        double v = load_double(src, datatype, i, swap) * slope + inter;
        if (!is_label(v)) return i;
        dst[i] = (uint8_t)v;
    }
    return -1;
}

/* Integer types without scaling: one unsigned comparison per voxel, the bad index found
 * afterwards. Floats and scaled data go through doubles. */
#define LABEL_INT_LOOP(T)                                                               \
    do {                                                                                \
        const T *s_ = (const T *)src; int bad_ = 0;                                     \
        for (int64_t i = 0; i < n; i++) { T v_ = s_[i]; bad_ |= (v_ < 0) | (v_ > 255); dst[i] = (uint8_t)v_; } \
        if (!bad_) return -1;                                                           \
        for (int64_t i = 0; i < n; i++) if (s_[i] < 0 || s_[i] > 255) return i;         \
        return -1;                                                                      \
    } while (0)

#define LABEL_GENERIC_LOOP(T)                                                           \
    do {                                                                                \
        const T *s_ = (const T *)src;                                                   \
        for (int64_t i = 0; i < n; i++) {                                               \
            double v_ = identity ? (double)s_[i] : (double)s_[i] * slope + inter;       \
            if (!is_label(v_)) return i;                                                \
            dst[i] = (uint8_t)v_;                                                       \
        }                                                                               \
        return -1;                                                                      \
    } while (0)

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wtautological-compare"
#pragma clang diagnostic ignored "-Wtype-limits"
#pragma clang diagnostic ignored "-Wtautological-unsigned-zero-compare"
#pragma clang diagnostic ignored "-Wtautological-constant-out-of-range-compare"
int64_t cmfk_convert_u8(const void *src, int32_t datatype, int64_t n, int swap,
                        double slope, double inter, uint8_t *dst) {
    if (cmfk_datatype_size(datatype) == 0) return -2;
    const int identity = slope == 1.0 && inter == 0.0;
    if (datatype == CMFK_DT_UINT8 && identity) { memcpy(dst, src, (size_t)n); return -1; }
    if (swap && cmfk_datatype_size(datatype) > 1)
        return cmfk_convert_u8_naive(src, datatype, n, swap, slope, inter, dst);
    if (identity) {
        switch (datatype) {
        case CMFK_DT_INT8: LABEL_INT_LOOP(int8_t);
        case CMFK_DT_INT16: LABEL_INT_LOOP(int16_t);
        case CMFK_DT_UINT16: LABEL_INT_LOOP(uint16_t);
        case CMFK_DT_INT32: LABEL_INT_LOOP(int32_t);
        case CMFK_DT_UINT32: LABEL_INT_LOOP(uint32_t);
        case CMFK_DT_INT64: LABEL_INT_LOOP(int64_t);
        case CMFK_DT_UINT64: LABEL_INT_LOOP(uint64_t);
        default: break;
        }
    }
    switch (datatype) {
    case CMFK_DT_UINT8: LABEL_GENERIC_LOOP(uint8_t);
    case CMFK_DT_INT8: LABEL_GENERIC_LOOP(int8_t);
    case CMFK_DT_INT16: LABEL_GENERIC_LOOP(int16_t);
    case CMFK_DT_UINT16: LABEL_GENERIC_LOOP(uint16_t);
    case CMFK_DT_INT32: LABEL_GENERIC_LOOP(int32_t);
    case CMFK_DT_UINT32: LABEL_GENERIC_LOOP(uint32_t);
    case CMFK_DT_INT64: LABEL_GENERIC_LOOP(int64_t);
    case CMFK_DT_UINT64: LABEL_GENERIC_LOOP(uint64_t);
    case CMFK_DT_FLOAT32: LABEL_GENERIC_LOOP(float);
    case CMFK_DT_FLOAT64: LABEL_GENERIC_LOOP(double);
    default: return -2;
    }
}
#pragma clang diagnostic pop

void cmfk_minmax_f32(const float *src, int64_t n, float *min_out, float *max_out,
                     int64_t *nonfinite_out) {
    float lo = INFINITY, hi = -INFINITY;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = src[i];
        if (!isfinite(v)) { bad++; continue; }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    *min_out = lo; *max_out = hi; *nonfinite_out = bad;
}

void cmfk_minmax_raw(const void *src, int32_t datatype, int64_t n, int swap, double slope,
                     double inter, double *min_out, double *max_out, int64_t *nonfinite_out) {
    double lo = INFINITY, hi = -INFINITY;
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = load_double(src, datatype, i, swap) * slope + inter;
        if (!isfinite(v)) { bad++; continue; }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    *min_out = lo; *max_out = hi; *nonfinite_out = bad;
}
