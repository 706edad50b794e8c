/* Rician (magnitude) noise from a counter-based generator: thread-count independent. */
#include "cmf_kernels.h"
#include <math.h>

/* No FMA contraction: a voxel's value must not depend on where a vector loop splits (thread-count
 * independent, bit-identical output). */
#pragma clang fp contract(off)

static inline uint64_t mix64(uint64_t z) {  /* SplitMix64's finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void cmfk_counter_gaussian_pair(uint64_t key, int64_t i, float *g1, float *g2) {
    uint64_t h = mix64(mix64(key) + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL);
    /* two 32-bit uniforms, u1 in (0, 1] so the log is finite */
    double u1 = ((double)(h >> 32) + 1.0) / 4294967296.0;
    double u2 = (double)(h & 0xFFFFFFFFULL) / 4294967296.0;
    double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
    *g1 = (float)(r * cos(a));
    *g2 = (float)(r * sin(a));
}

void cmfk_rician_noise_f32(float *signal, const uint8_t *mask, int64_t n, float sigma,
                           uint64_t key, int threads) {
    int nt = cmfk_thread_count(threads);
    #pragma omp parallel for num_threads(nt) schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        float g1, g2;
        cmfk_counter_gaussian_pair(key, i, &g1, &g2);
        float re = signal[i] + sigma * g1, im = sigma * g2;
        signal[i] = sqrtf(re * re + im * im);
    }
}
