/* Trilinear resampling through an affine map plus an optional displacement field. */
#include "cmf_kernels.h"
#include <math.h>

/* No FMA contraction: a voxel's value must not depend on where a vector loop splits (thread-count
 * independent, bit-identical output). */
#pragma clang fp contract(off)

void cmfk_warp_trilinear_f32(const float *src, int64_t sx, int64_t sy, int64_t sz,
                             int64_t channels, const int64_t *box, const double m[12],
                             const float *dx, const float *dy, const float *dz,
                             float *const *out, int64_t nx, int64_t ny, int64_t nz, int threads) {
    int nt = cmfk_thread_count(threads);
    int64_t n = nx * ny * nz, C = channels;
    int disp = dx && dy && dz;
    /* corners (floor) must reach [lo - 1, hi] for any weight to fall inside */
    double lox = -1, loy = -1, loz = -1, hix = (double)sx - 1, hiy = (double)sy - 1, hiz = (double)sz - 1;
    if (box) {
        lox = fmax(lox, (double)box[0] - 1); loy = fmax(loy, (double)box[1] - 1); loz = fmax(loz, (double)box[2] - 1);
        hix = fmin(hix, (double)box[3]); hiy = fmin(hiy, (double)box[4]); hiz = fmin(hiz, (double)box[5]);
    }
    #pragma omp parallel for num_threads(nt) schedule(static) if (n > 32768)
    for (int64_t r = 0; r < ny * nz; r++) {
        int64_t y = r % ny, z = r / ny;
        for (int64_t x = 0; x < nx; x++) {
            int64_t o = x + nx * r;
            double px = (double)x, py = (double)y, pz = (double)z;
            if (disp) { px += dx[o]; py += dy[o]; pz += dz[o]; }
            double qx = m[0] * px + m[1] * py + m[2] * pz + m[3];
            double qy = m[4] * px + m[5] * py + m[6] * pz + m[7];
            double qz = m[8] * px + m[9] * py + m[10] * pz + m[11];
            double fx = floor(qx), fy = floor(qy), fz = floor(qz);
            /* every corner outside the data (also guards huge / NaN coordinates): zero */
            if (!(fx >= lox && fx <= hix && fy >= loy && fy <= hiy && fz >= loz && fz <= hiz)) {
                for (int64_t c = 0; c < C; c++) out[c][o] = 0.0f;
                continue;
            }
            int64_t ix = (int64_t)fx, iy = (int64_t)fy, iz = (int64_t)fz;
            double tx = qx - fx, ty = qy - fy, tz = qz - fz;
            if (ix >= 0 && ix + 1 < sx && iy >= 0 && iy + 1 < sy && iz >= 0 && iz + 1 < sz) {
                /* all eight corners inside: the common case, no per-corner tests */
                const float *s = src + C * (ix + sx * (iy + sy * iz));
                int64_t ox = C, oy = C * sx, oz = C * sx * sy;
                for (int64_t c = 0; c < C; c++, s++) {
                    double x00 = s[0] + tx * (s[ox] - s[0]);
                    double x10 = s[oy] + tx * (s[oy + ox] - s[oy]);
                    double x01 = s[oz] + tx * (s[oz + ox] - s[oz]);
                    double x11 = s[oz + oy] + tx * (s[oz + oy + ox] - s[oz + oy]);
                    double y0 = x00 + ty * (x10 - x00), y1 = x01 + ty * (x11 - x01);
                    out[c][o] = (float)(y0 + tz * (y1 - y0));
                }
                continue;
            }
            double w[8];
            int64_t idx[8];
            int k = 0;
            for (int cz = 0; cz < 2; cz++)
                for (int cy = 0; cy < 2; cy++)
                    for (int cx = 0; cx < 2; cx++, k++) {
                        int64_t X = ix + cx, Y = iy + cy, Z = iz + cz;
                        int inside = X >= 0 && X < sx && Y >= 0 && Y < sy && Z >= 0 && Z < sz;
                        w[k] = inside ? (cx ? tx : 1 - tx) * (cy ? ty : 1 - ty) * (cz ? tz : 1 - tz) : 0.0;
                        idx[k] = inside ? C * (X + sx * (Y + sy * Z)) : 0;
                    }
            for (int64_t c = 0; c < C; c++) {
                double v = 0;
                for (int j = 0; j < 8; j++) v += w[j] * src[idx[j] + c];
                out[c][o] = (float)v;
            }
        }
    }
}
