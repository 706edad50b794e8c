/*
 * cmf_nn.h — kernels of the network layers (included by cmf_kernels.h).
 *
 * Tensors are dense float32, row-major [N, C, D, H, W] (PyTorch's layout): inside one
 * channel plane the index is x + W*(y + H*z), x fastest, as for volumes. "plane" = D*H*W.
 * Every kernel: `threads` <= 0 means OpenMP's default; returns 0 on success, -1 when an
 * allocation fails, -2 for arguments it cannot take (non-positive sizes), -3 for an error
 * inside oneDNN (the oneDNN convolutions only).
 *
 * Training: every layer's backward pass sits in the second half of this header (nn_backward.c,
 * conv_dnnl_backward.c). A backward kernel reads what its forward saved (input, output or
 * 1/std) and the gradient w.r.t. the forward's output, and OVERWRITES the gradients it
 * returns (callers add them up where a tensor feeds several layers). Reductions accumulate
 * in double in a fixed order for a given thread count (same result run after run).
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

/* cmfk_conv3d_f32 (fuse = 0) or cmfk_conv3d_instnorm_lrelu_f32 (fuse = 1, with eps and slope)
 * with the convolution in bfloat16: the input and weights are rounded to bf16 (8 significant
 * bits), products are accumulated and the output written in f32. oneDNN uses AVX-512 BF16
 * instructions where the CPU has them (Zen 4, Sapphire Rapids) and emulates them on other
 * AVX-512 hosts (slower than f32 there). */
int cmfk_conv3d_bf16(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                     const float *weight, const float *bias, int64_t co,
                     int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                     int fuse, float eps, float slope, float *out, int threads);

/* cmfk_conv3d_instnorm_lrelu_f32 for training: the same output (bit for bit), and
 * inv_std [n*co] receives the 1/sqrt(var + eps) of every (sample, channel) as used. */
int cmfk_conv3d_instnorm_lrelu_train_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                         const float *weight, const float *bias, int64_t co,
                                         int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                                         float eps, float slope, float *out, float *inv_std, int threads);

/* 1 when oneDNN's OpenMP calls (GOMP_parallel, omp_get_max_threads) resolve to the same
 * runtime as our kernels (LLVM libomp, which also implements the GNU ABI); 0 when a second
 * runtime (GNU libgomp) would serve them. See Sources/CCMFKernels/conv_dnnl.c. */
int cmfk_dnnl_shares_openmp_runtime(void);

/* In place on `planes` planes of `plane` values each (planes = n*c): instance normalisation
 * (no affine; mean and biased variance of the plane, eps added to the variance) followed by
 * leaky ReLU with `slope` (slope 1 = no activation). */
int cmfk_instnorm_lrelu_f32(float *x, int64_t planes, int64_t plane, float eps, float slope, int threads);

/* cmfk_instnorm_lrelu_f32 for training (the same code): inv_std [planes] receives each plane's
 * 1/sqrt(var + eps) as used (NULL: not saved). */
int cmfk_instnorm_lrelu_train_f32(float *x, int64_t planes, int64_t plane, float eps, float slope,
                                  float *inv_std, int threads);

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

/* dst[i] = src[i], i < count (no overlap), split across threads for large counts. */
int cmfk_copy_f32(float *dst, const float *src, int64_t count, int threads);

/* The mask-guided CMFF head's 1x1x1 convolution without its 4F-channel input (one sample):
 * out[k, i] = bias[k] + sum_m sum_j weight[k, m*f + j] * xx[j, i] * (s0[m, i] + s1[m, i]),
 * i.e. conv_last(cat_m(xx * (s0 + s1)[m])) computed as sum_m M[m] * (W_m xx). xx [f, plane],
 * s0 and s1 [c, plane], weight [c, c*f], bias [c] or NULL, out [c, plane]. c <= 64. */
int cmfk_masked_head_f32(const float *xx, int64_t f, const float *s0, const float *s1, int64_t c, int64_t plane,
                         const float *weight, const float *bias, float *out, int threads);

/* In place element-wise sum acc[i] += x[i], i < count (accumulates gradients). */
int cmfk_add_f32(float *acc, const float *x, int64_t count, int threads);

/* ---- Backward passes --------------------------------------------------------------- */

/* Gradient of cmfk_conv3d_f32 w.r.t. its input: grad_out [n, co, od, oh, ow] (sizes as the
 * forward's output for input [n, ci, d, h, w]), weight [co, ci, kd, kh, kw] ->
 * grad_in [n, ci, d, h, w], every value written. Input rows that no output position reads
 * (stride 2 with (d + 2*pad - kd) odd: the forward's floor) get exactly 0.
 * Without suffix: oneDNN (blocked layouts inside); `_naive`: direct loops, double
 * accumulation, parallel over input planes (the test oracle). */
int cmfk_conv3d_backward_data_f32(const float *grad_out, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                  const float *weight, int64_t co, int64_t kd, int64_t kh, int64_t kw,
                                  int64_t stride, int64_t pad, float *grad_in, int threads);
int cmfk_conv3d_backward_data_f32_naive(const float *grad_out, int64_t n, int64_t ci, int64_t d, int64_t h,
                                        int64_t w, const float *weight, int64_t co, int64_t kd, int64_t kh,
                                        int64_t kw, int64_t stride, int64_t pad, float *grad_in, int threads);

/* Gradient of cmfk_conv3d_f32 w.r.t. its weight and bias: in [n, ci, d, h, w] (the forward's
 * input), grad_out [n, co, od, oh, ow] -> grad_weight [co, ci, kd, kh, kw] and grad_bias [co]
 * (NULL: not computed), both overwritten, summed over the batch. oneDNN / `_naive` as above
 * (the naive one parallel over (output, input) channel pairs). Where oneDNN offers only its
 * im2col + gemm implementation (AVX2 hosts, 3x3x3 layers) and the stride is 1, the oneDNN
 * version computes one small sgemm per kernel tap instead, about 4x faster (see
 * conv_dnnl_backward.c). */
int cmfk_conv3d_backward_weights_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                     const float *grad_out, int64_t co, int64_t kd, int64_t kh, int64_t kw,
                                     int64_t stride, int64_t pad, float *grad_weight, float *grad_bias,
                                     int threads);
int cmfk_conv3d_backward_weights_f32_naive(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h,
                                           int64_t w, const float *grad_out, int64_t co, int64_t kd, int64_t kh,
                                           int64_t kw, int64_t stride, int64_t pad, float *grad_weight,
                                           float *grad_bias, int threads);

/* Gradient of y = lrelu(instnorm(x)) w.r.t. the pre-normalisation x, per plane, from the
 * forward's OUTPUT y [planes, plane] and its inv_std [planes]: n = y >= 0 ? y : y/slope,
 * g = grad_y * (y >= 0 ? 1 : slope), grad_x = inv_std * (g - mean(g) - n * mean(g*n)).
 * slope must be > 0 (else -2); grad_x may be grad_y. */
int cmfk_instnorm_lrelu_backward_f32(const float *y, const float *grad_y, int64_t planes, int64_t plane,
                                     const float *inv_std, float slope, float *grad_x, int threads);

/* Gradient of cmfk_maxpool2_f32: in [planes, d, h, w] (the forward's input, to find each
 * window's maximum again as PyTorch does: scan z, y, x; the first maximum wins, a NaN wins),
 * grad_out [planes, d/2, h/2, w/2] -> grad_in [planes, d, h, w]: grad_out at each window's
 * maximum, 0 elsewhere (including the rows an odd size leaves out). */
int cmfk_maxpool2_backward_f32(const float *in, int64_t planes, int64_t d, int64_t h, int64_t w,
                               const float *grad_out, float *grad_in, int threads);

/* Adjoint of cmfk_upsample2_trilinear_f32: grad_out [planes, 2d, 2h, 2w] ->
 * grad_in [planes, d, h, w] (d, h, w: the forward's INPUT sizes), applied one axis at a time
 * (x, y, then z); parallel over planes. */
int cmfk_upsample2_trilinear_backward_f32(const float *grad_out, int64_t planes, int64_t d, int64_t h, int64_t w,
                                          float *grad_in, int threads);

/* Gradient of cmfk_softmax_channels_f32 from its output s [n, c, plane]:
 * grad_x = s * (grad_s - sum_k grad_s_k * s_k) per voxel. grad_x may be grad_s. */
int cmfk_softmax_channels_backward_f32(const float *s, const float *grad_s, int64_t n, int64_t c, int64_t plane,
                                       float *grad_x, int threads);

/* Gradient of cmfk_mul_channels_f32 (out[ch, i] = x[ch, i] * m[i], one sample):
 * grad_x[ch, i] = grad_out[ch, i] * m[i]; grad_m[i] = sum_ch grad_out[ch, i] * x[ch, i]
 * (overwritten). grad_x may be grad_out. */
int cmfk_mul_channels_backward_f32(const float *x, int64_t c, int64_t plane, const float *m,
                                   const float *grad_out, float *grad_x, float *grad_m, int threads);

/* Backward of cmfk_masked_head_f32 (one sample), from g = grad_logits [c, plane], with
 * M = s0 + s1 and h[m, j] = sum_k weight[k, m*f + j] * g[k]:
 *   grad_xx [f, plane] = sum_m M[m] * h[m, j];
 *   grad_mask [c, plane] = sum_j xx[j] * h[m, j]  (the gradient of M, so of s0 and of s1);
 *   grad_weight [c, c*f] = sum over voxels of g[k] * M[m] * xx[j], grad_bias [c] = sum of g[k]
 *   (summed in double; each skipped when NULL).
 * Every output is written, none accumulated. c <= 64. */
int cmfk_masked_head_backward_f32(const float *xx, int64_t f, const float *s0, const float *s1, int64_t c,
                                  int64_t plane, const float *weight, const float *grad_logits, float *grad_xx,
                                  float *grad_mask, float *grad_weight, float *grad_bias, int threads);

/* ---- Losses (value in double; gradient w.r.t. the first argument, every value written) ---- */

/* The authors' soft Dice (V-Net, squared denominator) over the foreground classes k = 1..c-1,
 * each summed over the whole batch and space: p [n, c, plane] softmax output, labels
 * [n, plane] class indices (-2 if one is >= c; c must be >= 2).
 * D_k = (2 sum p_k t_k + eps) / (sum p_k^2 + sum t_k + eps) (t one-hot), *loss = 1 - mean_k D_k;
 * dice_per_class [c-1] (may be NULL) receives D_k; grad_p [n, c, plane] (may be NULL):
 * 0 for class 0, -(1/(c-1)) * (2 t_k den_k - 2 p_k num_k) / den_k^2 for the others. */
int cmfk_soft_dice_f32(const float *p, const uint8_t *labels, int64_t n, int64_t c, int64_t plane, float eps,
                       double *loss, double *dice_per_class, float *grad_p, int threads);

/* Mean absolute difference of a and b [count]; grad_a = sign(a - b) / count (sign(0) = 0,
 * PyTorch's), NULL: not computed. */
int cmfk_l1_loss_f32(const float *a, const float *b, int64_t count, double *loss, float *grad_a, int threads);

/* Mean of (x - target)^2 over count values (LSGAN); grad_x = 2 (x - target) / count (NULL: not
 * computed). */
int cmfk_mse_const_loss_f32(const float *x, int64_t count, float target, double *loss, float *grad_x,
                            int threads);

/* ---- Optimiser ----------------------------------------------------------------------- */

/* One torch.optim.Adam step (not amsgrad; weight decay added to the gradient, not decoupled)
 * on `count` parameters, `step` 1-based, m and v the moments (zero before step 1), updated in
 * place; in PyTorch's single-tensor CPU order and precision:
 *   g = grad + wd*param;  m = lerp(m, g, 1-beta1);  v = v*beta2 + (1-beta2)*g*g;
 *   param += (-lr/(1-beta1^step)) * m / (sqrt(v) / sqrt(1-beta2^step) + eps),
 * the scalars computed in double from the hyper-parameters' shortest decimal forms (the
 * Python literals: 0.9f -> 0.9) and rounded to float. Against PyTorch's own two steps of a
 * 0.5 M-parameter model, 99.6% of the parameters come out bit for bit, the rest within 1 ulp.
 * -2 for step < 1. */
int cmfk_adam_f32(float *param, const float *grad, float *m, float *v, int64_t count, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step, int threads);

/* *out = sum of x[i]^2 over count values, in double (gradient norms for clipping). */
int cmfk_sum_squares_f32(const float *x, int64_t count, double *out, int threads);


#endif
