/*
 * cmf_nn.h — kernels of the network layers (included by cmf_kernels.h).
 *
 * Tensors are dense float32, row-major [N, C, D, H, W] (PyTorch's layout): inside one
 * channel plane the index is x + W*(y + H*z), x fastest, as for volumes. "plane" = D*H*W.
 * Every kernel: `threads` <= 0 means OpenMP's default; returns 0 on success, -1 when an
 * allocation fails, -2 for arguments it cannot take (non-positive sizes), -3 for an error
 * inside oneDNN (cmfk_conv3d_f32 only).
 */
#ifndef CMF_NN_H
#define CMF_NN_H

#include <stddef.h>
#include <stdint.h>

/* 3-D convolution, cross-correlation as PyTorch's Conv3d (groups 1, dilation 1).
 * in [n, ci, d, h, w]; weight [co, ci, kd, kh, kw]; bias [co] or NULL;
 * out [n, co, od, oh, ow] with od = (d + 2*pad - kd)/stride + 1 (likewise oh, ow), zero padding.
 * `_naive`: direct loops, the test oracle. Without suffix: oneDNN (blocked layouts inside,
 * plain layouts at the interface). */
int cmfk_conv3d_f32_naive(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                          const float *weight, const float *bias, int64_t co,
                          int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                          float *out, int threads);
int cmfk_conv3d_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                    const float *weight, const float *bias, int64_t co,
                    int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                    float *out, int threads);

/* cmfk_conv3d_f32 followed by cmfk_instnorm_lrelu_f32 on its output, fused: when oneDNN
 * computes in channels-last layout, statistics and normalisation read that result directly
 * and write the plain output in one transposing pass (no separate reorder). */
int cmfk_conv3d_instnorm_lrelu_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                   const float *weight, const float *bias, int64_t co,
                                   int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                                   float eps, float slope, float *out, int threads);

/* 1 when oneDNN's OpenMP calls (GOMP_parallel, omp_get_max_threads) resolve to the same
 * runtime as our kernels (LLVM libomp, which also implements the GNU ABI); 0 when a second
 * runtime (GNU libgomp) would serve them. See Sources/CCMFKernels/conv_dnnl.c. */
int cmfk_dnnl_shares_openmp_runtime(void);

/* In place on `planes` planes of `plane` values each (planes = n*c): instance normalisation
 * (no affine; mean and biased variance of the plane, eps added to the variance) followed by
 * leaky ReLU with `slope` (slope 1 = no activation). */
int cmfk_instnorm_lrelu_f32(float *x, int64_t planes, int64_t plane, float eps, float slope, int threads);

/* In place leaky ReLU on `count` values. */
int cmfk_lrelu_f32(float *x, int64_t count, float slope, int threads);

/* Max-pool kernel 2 stride 2: in [planes, d, h, w] -> out [planes, d/2, h/2, w/2] (floor). */
int cmfk_maxpool2_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                      float *out, int threads);

/* Trilinear up-sampling by 2 with align_corners=True: in [planes, d, h, w] ->
 * out [planes, 2d, 2h, 2w]; source coordinate = o * (in-1)/(out-1). */
int cmfk_upsample2_trilinear_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                                 float *out, int threads);

/* Softmax over channels: x [n, c, plane] -> out (may equal x). */
int cmfk_softmax_channels_f32(const float *x, int64_t n, int64_t c, int64_t plane, float *out, int threads);

/* out[ch, i] = x[ch, i] * m[i] for ch < c, i < plane (one sample; out may equal x). */
int cmfk_mul_channels_f32(const float *x, int64_t c, int64_t plane, const float *m, float *out, int threads);


#endif
