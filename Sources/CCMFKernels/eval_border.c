/* Border (surface) voxels: the mask minus its erosion by the 6-connected cross. */
#include "cmf_kernels.h"
#include <omp.h>

int64_t cmfk_border_u8(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz, uint8_t *border,
                       int threads) {
    int64_t total = 0;
    int64_t sxy = nx * ny;
    int nt = cmfk_thread_count(threads);
    if (sxy * nz < (1 << 16)) nt = 1;
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : total)
    for (int64_t z = 0; z < nz; z++) {
        for (int64_t y = 0; y < ny; y++) {
            int64_t base = nx * (y + ny * z);
            const uint8_t *m = mask + base;
            uint8_t *o = border + base;
            int edge_yz = (y == 0 || y == ny - 1 || z == 0 || z == nz - 1);
            if (edge_yz) { /* every mask voxel of this row touches the grid edge */
                for (int64_t x = 0; x < nx; x++) {
                    o[x] = m[x] != 0;
                    total += o[x];
                }
                continue;
            }
            const uint8_t *ym = m - nx, *yp = m + nx, *zm = m - sxy, *zp = m + sxy;
            for (int64_t x = 0; x < nx; x++) {
                uint8_t b = 0;
                if (m[x]) {
                    if (x == 0 || x == nx - 1)
                        b = 1;
                    else
                        b = !(m[x - 1] && m[x + 1] && ym[x] && yp[x] && zm[x] && zp[x]);
                }
                o[x] = b;
                total += b;
            }
        }
    }
    return total;
}

int64_t cmfk_border_u8_naive(const uint8_t *mask, int64_t nx, int64_t ny, int64_t nz,
                             uint8_t *border) {
    static const int off[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
    int64_t total = 0;
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                int64_t i = x + nx * (y + ny * z);
                int eroded = mask[i] != 0;
                for (int k = 0; k < 6 && eroded; k++) {
                    int64_t a = x + off[k][0], b = y + off[k][1], c = z + off[k][2];
                    if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz ||
                        !mask[a + nx * (b + ny * c)])
                        eroded = 0;
                }
                border[i] = (mask[i] != 0) && !eroded;
                total += border[i];
            }
    return total;
}
