/* Backward passes of the oneDNN convolution (cmf_nn.h): gradients w.r.t. the input
 * (backward data) and w.r.t. weight and bias (backward weights).
 *
 * As the forward (conv_dnnl.c, whose engine, thread and reorder helpers these share), the
 * primitives are created with every layout "any" so oneDNN picks its blocked layouts, and
 * plain arrays are reordered in and out around the call. oneDNN's backward primitives take
 * the forward primitive descriptor (prop kind forward_training) as their hint.
 *
 * Backward weights on AVX2-only hosts: oneDNN 2.6 has no blocked JIT kernel for these 3-D
 * shapes there and falls back to its im2col + gemm implementation ("x64:gemm:jit" in every
 * layout tried), about 4x slower than the forward (16->16 channels, 3x3x3, 64^3, 2 threads:
 * 400-540 ms vs 138 ms). For stride 1 we then compute it as one small GEMM per kernel tap on
 * a zero-padded copy of the input (oneDNN's sgemm), 130 ms for the same layer; see
 * backward_weights_taps. On planes of at most 10 x 10 (padded; the 8^3 and 4^3 layers) and
 * for fewer than 8 input channels those per-tap GEMMs are thin, and one GEMM over all taps on
 * copied columns is 1.5-15x faster (backward_weights_im2col; 256->256 at 4^3: 19 vs 54 ms,
 * 384->128 at 8^3: 73 vs 118 ms, 2->16 at 64^3: 103 vs 136 ms); on larger planes with more
 * channels it is about 2x slower. Hosts where oneDNN offers a JIT kernel keep the primitive. */
#include "cmf_kernels.h"
#include <dnnl.h>
#include "nn_internal.h"
#include <stdlib.h>
#include <string.h>

/* Output planes per work item of backward_weights_taps: bounds the padded copy per thread to
 * (SLAB + kd - 1) planes of each input channel. */
#define SLAB 8

/* Stride-1 weight gradient, one GEMM per tap. With the input zero-padded to Dp x Hp x Wp and
 * the output gradient g laid out on the same row pitch (Wp; zeros for x >= ow), the tap
 * (a, b, e) reads the padded input at a constant offset a*Hp*Wp + b*Wp + e from the output
 * position, so for each output plane z
 *     grad_w[:, :, tap] += G_z [co x K] * X_pad[:, z*Hp*Wp + offset ..][ci x K]^T,
 * K = (oh - 1)*Wp + ow. Work items are (sample, slab of SLAB output planes), dealt to the
 * threads in turn; each thread pads the input planes its slab reads, keeps its own
 * accumulators, and the threads' sums are added in order at the end. */
static int backward_weights_taps(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                 const float *grad_out, int64_t co, int64_t kd, int64_t kh, int64_t kw, int64_t pad,
                                 float *grad_weight, float *grad_bias, int nt) {
    int64_t Hp = h + 2 * pad, Wp = w + 2 * pad, HWp = Hp * Wp;
    int64_t od = d + 2 * pad - kd + 1, oh = Hp - kh + 1, ow = Wp - kw + 1, oplane = od * oh * ow;
    int64_t taps = kd * kh * kw, K = (oh - 1) * Wp + ow, slab_planes = SLAB + kd - 1;
    int64_t slabs = (od + SLAB - 1) / SLAB, items = n * slabs;
    size_t xbytes = sizeof(float) * (size_t)(nt * ci * slab_planes * HWp), gbytes = sizeof(float) * (size_t)(nt * co * K);
    float *xbuf = cmfk_pool_take(xbytes);
    float *gbuf = cmfk_pool_take(gbytes);
    float *acc = calloc((size_t)(nt * taps * co * ci), sizeof(float));
    double *bsum = calloc((size_t)(nt * co), sizeof(double));
    int *bad = calloc((size_t)nt, sizeof(int)); /* per thread: an sgemm call failed */
    if (!xbuf || !gbuf || !acc || !bsum || !bad) {
        cmfk_pool_give(xbuf, xbytes); cmfk_pool_give(gbuf, gbytes); free(acc); free(bsum); free(bad);
        return -1;
    }
    #pragma omp parallel num_threads(nt)
    {
        int id = omp_get_thread_num(), nth = omp_get_num_threads();
        float *X = xbuf + (int64_t)id * ci * slab_planes * HWp, *G = gbuf + (int64_t)id * co * K;
        float *C = acc + (int64_t)id * taps * co * ci;
        double *bs = bsum + (int64_t)id * co;
        for (int64_t item = id; item < items; item += nth) {
            int64_t s = item / slabs, z0 = (item % slabs) * SLAB, z1 = z0 + SLAB < od ? z0 + SLAB : od;
            const float *x = in + s * ci * d * h * w, *g = grad_out + s * co * oplane;
            /* padded input planes z0 .. z1 + kd - 2 (padded coordinates) */
            for (int64_t c = 0; c < ci; c++)
                for (int64_t zp = z0; zp < z1 + kd - 1; zp++) {
                    float *dst = X + (c * slab_planes + zp - z0) * HWp;
                    int64_t z = zp - pad;
                    if (z < 0 || z >= d) { memset(dst, 0, sizeof(float) * (size_t)HWp); continue; }
                    for (int64_t yp = 0; yp < Hp; yp++) {
                        float *row = dst + yp * Wp;
                        int64_t y = yp - pad;
                        if (y < 0 || y >= h) { memset(row, 0, sizeof(float) * (size_t)Wp); continue; }
                        memset(row, 0, sizeof(float) * (size_t)pad);
                        memcpy(row + pad, x + ((c * d + z) * h + y) * w, sizeof(float) * (size_t)w);
                        memset(row + pad + w, 0, sizeof(float) * (size_t)pad);
                    }
                }
            for (int64_t z = z0; z < z1; z++) {
                for (int64_t o = 0; o < co; o++) {
                    float *go = G + o * K;
                    for (int64_t y = 0; y < oh; y++) {
                        const float *src = g + ((o * od + z) * oh + y) * ow;
                        memcpy(go + y * Wp, src, sizeof(float) * (size_t)ow);
                        if (y < oh - 1) memset(go + y * Wp + ow, 0, sizeof(float) * (size_t)(Wp - ow));
                        double sum = 0;
                        for (int64_t i = 0; i < ow; i++) sum += src[i];
                        bs[o] += sum;
                    }
                }
                for (int64_t a = 0; a < kd; a++)
                    for (int64_t b = 0; b < kh; b++)
                        for (int64_t e = 0; e < kw; e++) {
                            const float *B = X + (z - z0 + a) * HWp + b * Wp + e;
                            float *Ct = C + ((a * kh + b) * kw + e) * co * ci;
                            /* inside our parallel region oneDNN's sgemm runs on this thread only
                             * (when oneDNN is bound to a second OpenMP runtime, conv_dnnl.c, it
                             * cannot see our region and may start its own threads: still correct) */
                            if (dnnl_sgemm('N', 'T', co, ci, K, 1.0f, G, K, B, slab_planes * HWp, 1.0f, Ct, ci) !=
                                dnnl_success)
                                bad[id] = 1;
                        }
            }
        }
    }
    int failed = 0;
    for (int i = 0; i < nt; i++) failed |= bad[i];
    for (int64_t o = 0; o < co; o++)
        for (int64_t c = 0; c < ci; c++)
            for (int64_t t = 0; t < taps; t++) {
                float v = 0;
                for (int i = 0; i < nt; i++) v += acc[(((int64_t)i * taps + t) * co + o) * ci + c];
                grad_weight[(o * ci + c) * taps + t] = v;
            }
    if (grad_bias)
        for (int64_t o = 0; o < co; o++) {
            double v = 0;
            for (int i = 0; i < nt; i++) v += bsum[(int64_t)i * co + o];
            grad_bias[o] = (float)v;
        }
    cmfk_pool_give(xbuf, xbytes); cmfk_pool_give(gbuf, gbytes); free(acc); free(bsum); free(bad);
    return failed ? -3 : 0;
}

/* Stride-1 weight gradient as one GEMM over every tap: with the input zero-padded (row pitch
 * Wp, plane pitch Hp*Wp) and the output gradient on the same pitch (zeros where y >= oh or
 * x >= ow), tap t reads the padded input at a constant offset off_t from the output position q,
 * so grad_w [co x ci*taps] = G [co x Q] * col^T with col[(c, t)][q] = X_pad[c][q + off_t], each
 * row of col one contiguous copy. Q is taken in chunks that bound col. The GEMM (oneDNN's
 * sgemm, its own threads) then has a long inner dimension and a wide output, which suits the
 * deep, low-resolution layers where one small GEMM per tap is mostly overhead. */
static int backward_weights_im2col(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                   const float *grad_out, int64_t co, int64_t kd, int64_t kh, int64_t kw, int64_t pad,
                                   float *grad_weight, float *grad_bias, int nt) {
    int64_t Dp = d + 2 * pad, Hp = h + 2 * pad, Wp = w + 2 * pad, HWp = Hp * Wp;
    int64_t od = Dp - kd + 1, oh = Hp - kh + 1, ow = Wp - kw + 1, oplane = od * oh * ow;
    int64_t taps = kd * kh * kw, rows = ci * taps, Q = od * HWp, xs = Dp * HWp + HWp;
    int64_t Qc = ((int64_t)1 << 22) / rows;   /* col at most 16 MB */
    if (Qc < Wp) Qc = Wp;
    if (Qc > Q) Qc = Q;
    size_t xbytes = sizeof(float) * (size_t)(ci * xs), gbytes = sizeof(float) * (size_t)(co * Q);
    size_t colbytes = sizeof(float) * (size_t)(rows * Qc);
    float *X = cmfk_pool_take(xbytes), *G = cmfk_pool_take(gbytes), *col = cmfk_pool_take(colbytes);
    int64_t *off = malloc(sizeof(int64_t) * (size_t)taps);
    double *bsum = calloc((size_t)co, sizeof(double));
    int rc = 0;
    if (!X || !G || !col || !off || !bsum) { rc = -1; goto out; }
    for (int64_t a = 0; a < kd; a++)
        for (int64_t b = 0; b < kh; b++)
            for (int64_t e = 0; e < kw; e++) off[(a * kh + b) * kw + e] = a * HWp + b * Wp + e;
    float beta = 0.0f;
    for (int64_t s = 0; s < n && rc == 0; s++) {
        const float *x = in + s * ci * d * h * w, *g = grad_out + s * co * oplane;
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t c = 0; c < ci; c++) {
            float *dst = X + c * xs;
            memset(dst, 0, sizeof(float) * (size_t)xs);
            for (int64_t z = 0; z < d; z++)
                for (int64_t y = 0; y < h; y++)
                    memcpy(dst + (z + pad) * HWp + (y + pad) * Wp + pad, x + ((c * d + z) * h + y) * w,
                           sizeof(float) * (size_t)w);
        }
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t o = 0; o < co; o++) {
            float *dst = G + o * Q;
            double sum = 0;
            memset(dst, 0, sizeof(float) * (size_t)Q);
            for (int64_t z = 0; z < od; z++)
                for (int64_t y = 0; y < oh; y++) {
                    const float *src = g + ((o * od + z) * oh + y) * ow;
                    memcpy(dst + z * HWp + y * Wp, src, sizeof(float) * (size_t)ow);
                    for (int64_t i = 0; i < ow; i++) sum += src[i];
                }
            bsum[o] += sum;
        }
        for (int64_t q0 = 0; q0 < Q && rc == 0; q0 += Qc) {
            int64_t len = Q - q0 < Qc ? Q - q0 : Qc;
            #pragma omp parallel for num_threads(nt) schedule(static)
            for (int64_t r = 0; r < rows; r++)
                memcpy(col + r * Qc, X + (r / taps) * xs + q0 + off[r % taps], sizeof(float) * (size_t)len);
            if (dnnl_sgemm('N', 'T', co, rows, len, 1.0f, G + q0, Q, col, Qc, beta, grad_weight, rows) != dnnl_success)
                rc = -3;
            beta = 1.0f;
        }
    }
    if (grad_bias)
        for (int64_t o = 0; o < co; o++) grad_bias[o] = (float)bsum[o];
out:
    cmfk_pool_give(X, xbytes); cmfk_pool_give(G, gbytes); cmfk_pool_give(col, colbytes); free(off); free(bsum);
    return rc;
}

#define TRY(x) do { if ((x) != dnnl_success) { rc = -3; goto done; } } while (0)

/* Runs one backward primitive: `user` [k] are plain memories wrapping the caller's arrays,
 * `query` [k] the primitive-desc query of each argument's layout (the bias is index 1 of the
 * weights' query, the rest index 0), `arg` [k] its execution argument; the first `inputs` are
 * read (reordered in), the rest written (reordered out). */
static int run_backward(dnnl_primitive_desc_t pd, dnnl_stream_t stream, int k, int inputs, dnnl_memory_t *user,
                        const dnnl_query_t *query, const int *arg) {
    dnnl_memory_t mem[4] = {NULL, NULL, NULL, NULL};
    int owned[4] = {0, 0, 0, 0};
    dnnl_primitive_t prim = NULL;
    dnnl_exec_arg_t args[4];
    int rc = 0;
    for (int i = 0; i < k; i++) {
        int index = arg[i] == DNNL_ARG_DIFF_BIAS ? 1 : 0;
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, query[i], index);
        if (!md) { rc = -3; goto done; }
        if ((rc = cmfk_dnnl_bind(stream, user[i], md, i < inputs, &mem[i], &owned[i])) != 0) goto done;
        args[i].arg = arg[i];
        args[i].memory = mem[i];
    }
    TRY(dnnl_primitive_create(&prim, pd));
    TRY(dnnl_primitive_execute(prim, stream, k, args));
    for (int i = inputs; i < k && rc == 0; i++)
        if (owned[i]) rc = cmfk_dnnl_reorder(stream, mem[i], user[i]);
    if (rc == 0 && dnnl_stream_wait(stream) != dnnl_success) rc = -3;
done:
    dnnl_stream_wait(stream);
    for (int i = 0; i < k; i++) cmfk_dnnl_release(mem[i], owned[i]);
    if (prim) dnnl_primitive_destroy(prim);
    return rc;
}

int cmfk_conv3d_backward_data_f32(const float *grad_out, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                  const float *weight, int64_t co, int64_t kd, int64_t kh, int64_t kw,
                                  int64_t stride, int64_t pad, float *grad_in, int threads) {
    cmfk_dnnl_conv_dims g;
    int rc = cmfk_dnnl_conv_dims_init(&g, n, ci, d, h, w, co, kd, kh, kw, stride, pad);
    if (rc != 0) return rc;
    dnnl_engine_t engine;
    if ((rc = cmfk_dnnl_engine(&engine)) != 0) return rc;
    cmfk_dnnl_threads th;
    cmfk_dnnl_threads_enter(&th, threads);
    dnnl_stream_t stream = NULL;
    dnnl_primitive_desc_t fpd = NULL, pd = NULL;
    dnnl_memory_t user[3] = {NULL, NULL, NULL};
    dnnl_convolution_desc_t cd;
    if ((rc = cmfk_dnnl_conv_forward_pd(&fpd, &g, 0, dnnl_forward_training)) != 0) goto done;
    TRY(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &g.src_any, &g.wei_any, &g.dst_any,
                                                 g.strides, g.pads, g.pads));
    TRY(dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fpd));
    TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    TRY(dnnl_memory_create(&user[0], &g.dst_plain, engine, (void *)grad_out));
    TRY(dnnl_memory_create(&user[1], &g.wei_plain, engine, (void *)weight));
    TRY(dnnl_memory_create(&user[2], &g.src_plain, engine, grad_in));
    {
        const dnnl_query_t query[3] = {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md};
        const int arg[3] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
        rc = run_backward(pd, stream, 3, 2, user, query, arg);
    }
done:
    for (int i = 0; i < 3; i++)
        if (user[i]) dnnl_memory_destroy(user[i]);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (stream) dnnl_stream_destroy(stream);
    cmfk_dnnl_threads_leave(&th);
    return rc;
}

int cmfk_conv3d_backward_weights_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                     const float *grad_out, int64_t co, int64_t kd, int64_t kh, int64_t kw,
                                     int64_t stride, int64_t pad, float *grad_weight, float *grad_bias,
                                     int threads) {
    cmfk_dnnl_conv_dims g;
    int rc = cmfk_dnnl_conv_dims_init(&g, n, ci, d, h, w, co, kd, kh, kw, stride, pad);
    if (rc != 0) return rc;
    dnnl_engine_t engine;
    if ((rc = cmfk_dnnl_engine(&engine)) != 0) return rc;
    cmfk_dnnl_threads th;
    cmfk_dnnl_threads_enter(&th, threads);
    int with_bias = grad_bias != NULL;
    dnnl_stream_t stream = NULL;
    dnnl_primitive_desc_t fpd = NULL, pd = NULL;
    dnnl_memory_t user[4] = {NULL, NULL, NULL, NULL};
    dnnl_convolution_desc_t cd;
    if ((rc = cmfk_dnnl_conv_forward_pd(&fpd, &g, with_bias, dnnl_forward_training)) != 0) goto done;
    TRY(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &g.src_any, &g.wei_any,
                                                    with_bias ? &g.bias_md : NULL, &g.dst_any, g.strides, g.pads,
                                                    g.pads));
    TRY(dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fpd));
    if (stride == 1) {
        const char *impl = NULL;
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
            strstr(impl, "gemm")) {
            /* one GEMM over all taps where per-tap GEMMs are thin: planes of at most 10 x 10
             * padded (the 8^3 and 4^3 layers) or fewer than 8 input channels */
            if ((h + 2 * pad) * (w + 2 * pad) <= 100 || ci < 8)
                rc = backward_weights_im2col(in, n, ci, d, h, w, grad_out, co, kd, kh, kw, pad, grad_weight, grad_bias,
                                             NT(threads));
            else
                rc = backward_weights_taps(in, n, ci, d, h, w, grad_out, co, kd, kh, kw, pad, grad_weight, grad_bias,
                                           NT(threads));
            goto done;
        }
    }
    TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    TRY(dnnl_memory_create(&user[0], &g.src_plain, engine, (void *)in));
    TRY(dnnl_memory_create(&user[1], &g.dst_plain, engine, (void *)grad_out));
    TRY(dnnl_memory_create(&user[2], &g.wei_plain, engine, grad_weight));
    if (with_bias) TRY(dnnl_memory_create(&user[3], &g.bias_md, engine, grad_bias));
    {
        const dnnl_query_t query[4] = {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md,
                                       dnnl_query_diff_weights_md};
        const int arg[4] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS};
        rc = run_backward(pd, stream, with_bias ? 4 : 3, 2, user, query, arg);
    }
done:
    for (int i = 0; i < 4; i++)
        if (user[i]) dnnl_memory_destroy(user[i]);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (stream) dnnl_stream_destroy(stream);
    cmfk_dnnl_threads_leave(&th);
    return rc;
}
