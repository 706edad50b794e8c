/* Backward passes of the oneDNN convolution (cmf_nn.h): gradients w.r.t. the input
 * (backward data) and w.r.t. weight and bias (backward weights).
 *
 * As the forward (conv_dnnl.c, whose engine, thread and reorder helpers these share), the
 * primitives are created with every layout "any" so oneDNN picks its blocked layouts, and
 * plain arrays are reordered in and out around the call. oneDNN's backward primitives take
 * the forward primitive descriptor (prop kind forward_training) as their hint. */
#include "cmf_nn.h"
#include <dnnl.h>
#include "nn_internal.h"
#include <stdlib.h>

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
    for (int i = 0; i < k; i++)
        if (owned[i] && mem[i]) dnnl_memory_destroy(mem[i]);
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
    dnnl_memory_desc_t s_plain, d_plain, w_plain, s_any, d_any, w_any;
    dnnl_convolution_desc_t cd;
    TRY(dnnl_memory_desc_init_by_tag(&s_plain, 5, g.src, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&d_plain, 5, g.dst, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&w_plain, 5, g.wei, dnnl_f32, dnnl_oidhw));
    TRY(dnnl_memory_desc_init_by_tag(&s_any, 5, g.src, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&d_any, 5, g.dst, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&w_any, 5, g.wei, dnnl_f32, dnnl_format_tag_any));
    if ((rc = cmfk_dnnl_conv_forward_pd(&fpd, &g, 0, dnnl_forward_training)) != 0) goto done;
    TRY(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &s_any, &w_any, &d_any, g.strides,
                                                 g.pads, g.pads));
    TRY(dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fpd));
    TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    TRY(dnnl_memory_create(&user[0], &d_plain, engine, (void *)grad_out));
    TRY(dnnl_memory_create(&user[1], &w_plain, engine, (void *)weight));
    TRY(dnnl_memory_create(&user[2], &s_plain, engine, grad_in));
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
    dnnl_memory_desc_t s_plain, d_plain, w_plain, b_md, s_any, d_any, w_any;
    dnnl_convolution_desc_t cd;
    TRY(dnnl_memory_desc_init_by_tag(&s_plain, 5, g.src, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&d_plain, 5, g.dst, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&w_plain, 5, g.wei, dnnl_f32, dnnl_oidhw));
    TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, g.bias, dnnl_f32, dnnl_x));
    TRY(dnnl_memory_desc_init_by_tag(&s_any, 5, g.src, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&d_any, 5, g.dst, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&w_any, 5, g.wei, dnnl_f32, dnnl_format_tag_any));
    if ((rc = cmfk_dnnl_conv_forward_pd(&fpd, &g, with_bias, dnnl_forward_training)) != 0) goto done;
    TRY(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &s_any, &w_any,
                                                    with_bias ? &b_md : NULL, &d_any, g.strides, g.pads, g.pads));
    TRY(dnnl_primitive_desc_create(&pd, &cd, NULL, engine, fpd));
    TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    TRY(dnnl_memory_create(&user[0], &s_plain, engine, (void *)in));
    TRY(dnnl_memory_create(&user[1], &d_plain, engine, (void *)grad_out));
    TRY(dnnl_memory_create(&user[2], &w_plain, engine, grad_weight));
    if (with_bias) TRY(dnnl_memory_create(&user[3], &b_md, engine, grad_bias));
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
