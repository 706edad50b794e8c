/* The fast 3-D convolution: oneDNN (Debian libdnnl 2.6, CPU engine, OpenMP threading).
 *
 * Layouts: the interface takes plain ncdhw/oidhw arrays; the primitive is created with
 * format "any" so oneDNN picks its blocked layouts (nCdhw16c, brgconv/jit AVX-512 kernels);
 * on plain ncdhw it falls back to a gemm path about 8x slower (measured 10 vs 87 GFLOP/s on
 * 16->16 channels, 128^3). Inputs, weights and outputs are reordered around the call (between
 * plain and channels-last or nCdhw16c by our register transposer, channels_last.c; other
 * layouts by oneDNN), except that a fused instance norm reads oneDNN's result directly when it
 * is channels-last (AVX-512 hosts) or 16- or 8-channel blocked (nCdhw16c, nCdhw8c) and writes
 * the plain output itself.
 * oneDNN's primitive cache (on by default) makes repeated creation for the same shapes cheap.
 *
 * Two OpenMP runtimes. libdnnl is linked against GNU libgomp, our kernels against LLVM
 * libomp. libomp also exports the GNU ABI (GOMP_parallel, omp_* with version OMP_1.0); the
 * dynamic linker binds libdnnl's references to the first provider in global lookup order.
 * Because every cmfseg binary lists libomp as a direct dependency, libomp comes before
 * libgomp (only a dependency of libdnnl), so oneDNN runs on libomp's thread pool: one pool,
 * one thread count, no oversubscription (checked with LD_DEBUG=bindings; see
 * cmfk_dnnl_shares_openmp_runtime, which the tests assert). If a host process loaded
 * libgomp first (e.g. a Python process that imported a libgomp user before loading
 * libcmfseg.so), oneDNN would run on libgomp: then we set the thread count in both runtimes
 * before each call (found with dlvsym on the GNU version), and set libomp's blocktime to 0
 * so its idle workers sleep instead of spinning against oneDNN's libgomp workers.
 * Measured with LD_PRELOAD=libgomp.so.1 to force that case (64^3 CMFF forward, 2 threads):
 * libgomp's idle workers then spin while our libomp kernels run (39% of samples in
 * libgomp), doubling the CPU time (2.1 s vs 1.1 s); OMP_WAIT_POLICY=passive in the
 * environment before the process starts brings it back to 1.1 s. libgomp reads it only at
 * load time, so a host that loads libgomp before cmfseg should set it (to be said in the C API docs). */
#define _GNU_SOURCE
#include "cmf_kernels.h"
#include <dlfcn.h>
#include <dnnl.h>
#include "nn_internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static dnnl_engine_t g_engine;
static int g_engine_status = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void (*g_foreign_set_threads)(int);   /* libgomp's omp_set_num_threads, if bound apart */
static int (*g_foreign_get_threads)(void);
static int g_two_runtimes;

static int same_library(void *a, void *b) {
    Dl_info ia, ib;
    if (!a || !b || !dladdr(a, &ia) || !dladdr(b, &ib)) return 0;
    return ia.dli_fbase == ib.dli_fbase;
}

int cmfk_dnnl_shares_openmp_runtime(void) {
    /* What oneDNN binds to: the global definitions of the GNU-versioned symbols. */
    void *gomp_parallel = dlvsym(RTLD_DEFAULT, "GOMP_parallel", "GOMP_4.0");
    void *gnu_max = dlvsym(RTLD_DEFAULT, "omp_get_max_threads", "OMP_1.0");
    void *ours = (void *)&omp_get_max_threads;
    return same_library(gomp_parallel, ours) && same_library(gnu_max, ours);
}

static void init_engine(void) {
    g_engine_status = dnnl_engine_create(&g_engine, dnnl_cpu, 0) == dnnl_success ? 0 : -3;
    if (!cmfk_dnnl_shares_openmp_runtime()) {
        g_two_runtimes = 1;
        g_foreign_set_threads = (void (*)(int))dlvsym(RTLD_DEFAULT, "omp_set_num_threads", "OMP_1.0");
        g_foreign_get_threads = (int (*)(void))dlvsym(RTLD_DEFAULT, "omp_get_max_threads", "OMP_1.0");
    }
}

int cmfk_dnnl_engine(dnnl_engine_t *engine) {
    pthread_once(&g_once, init_engine);
    *engine = g_engine;
    return g_engine_status;
}

void cmfk_dnnl_threads_enter(cmfk_dnnl_threads *t, int threads) {
    /* Two pools: libomp's idle workers would spin for KMP_BLOCKTIME (200 ms) after each of
     * our kernels and steal the cores from oneDNN's libgomp workers; let them sleep at once. */
    if (g_two_runtimes) kmp_set_blocktime(0);
    t->threads = threads;
    t->saved = omp_get_max_threads();
    t->saved_foreign = 0;
    if (threads > 0) {
        omp_set_num_threads(threads);
        if (g_foreign_set_threads && g_foreign_get_threads) {
            t->saved_foreign = g_foreign_get_threads();
            g_foreign_set_threads(threads);
        }
    }
}

void cmfk_dnnl_threads_leave(const cmfk_dnnl_threads *t) {
    if (t->threads > 0) {
        omp_set_num_threads(t->saved);
        if (g_foreign_set_threads && t->saved_foreign > 0) g_foreign_set_threads(t->saved_foreign);
    }
}

int cmfk_dnnl_conv_dims_init(cmfk_dnnl_conv_dims *g, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                             int64_t co, int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad) {
    if (n <= 0 || ci <= 0 || d <= 0 || h <= 0 || w <= 0 || co <= 0 || kd <= 0 || kh <= 0 || kw <= 0 ||
        stride <= 0 || pad < 0 || d + 2 * pad < kd || h + 2 * pad < kh || w + 2 * pad < kw)
        return -2;
    int64_t od = (d + 2 * pad - kd) / stride + 1, oh = (h + 2 * pad - kh) / stride + 1,
            ow = (w + 2 * pad - kw) / stride + 1;
    int64_t src[5] = {n, ci, d, h, w}, dst[5] = {n, co, od, oh, ow}, wei[5] = {co, ci, kd, kh, kw};
    memset(g, 0, sizeof *g);
    for (int i = 0; i < 5; i++) { g->src[i] = src[i]; g->dst[i] = dst[i]; g->wei[i] = wei[i]; }
    g->bias[0] = co;
    for (int i = 0; i < 3; i++) { g->strides[i] = stride; g->pads[i] = pad; }
    if (dnnl_memory_desc_init_by_tag(&g->src_plain, 5, g->src, dnnl_f32, dnnl_ncdhw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->dst_plain, 5, g->dst, dnnl_f32, dnnl_ncdhw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->wei_plain, 5, g->wei, dnnl_f32, dnnl_oidhw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->bias_md, 1, g->bias, dnnl_f32, dnnl_x) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->src_any, 5, g->src, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->dst_any, 5, g->dst, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&g->wei_any, 5, g->wei, dnnl_f32, dnnl_format_tag_any) != dnnl_success)
        return -3;
    return 0;
}

int cmfk_dnnl_conv_forward_pd(dnnl_primitive_desc_t *pd, const cmfk_dnnl_conv_dims *g, int with_bias,
                              dnnl_prop_kind_t prop) {
    dnnl_engine_t engine;
    int rc = cmfk_dnnl_engine(&engine);
    if (rc != 0) return rc;
    dnnl_convolution_desc_t cd;
    if (dnnl_convolution_forward_desc_init(&cd, prop, dnnl_convolution_direct, &g->src_any, &g->wei_any,
                                           with_bias ? &g->bias_md : NULL, &g->dst_any, g->strides, g->pads,
                                           g->pads) != dnnl_success ||
        dnnl_primitive_desc_create(pd, &cd, NULL, engine, NULL) != dnnl_success)
        return -3;
    return 0;
}

/* The channel block of `md` if it is a 5-D f32 channels-last (block = C), nCdhw16c (16) or
 * nCdhw8c (8) layout of `dims` without channel padding, 0 otherwise. */
static int64_t channel_block(const dnnl_memory_desc_t *md, const dnnl_dims_t dims) {
    const struct { dnnl_format_tag_t tag; int64_t block; } layouts[] = {
        {dnnl_ndhwc, dims[1]}, {dnnl_nCdhw16c, 16}, {dnnl_nCdhw8c, 8}};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        dnnl_memory_desc_t tag;
        if (dims[1] % layouts[i].block == 0 &&
            dnnl_memory_desc_init_by_tag(&tag, 5, dims, dnnl_f32, layouts[i].tag) == dnnl_success &&
            dnnl_memory_desc_equal(md, &tag))
            return layouts[i].block;
    }
    return 0;
}

/* Plain <-> channel-blocked by our transposer, one sample at a time; nonzero when these
 * layouts, sizes or this host need oneDNN's reorder. */
static int transpose_layout(dnnl_stream_t stream, const dnnl_memory_desc_t *fmd, const dnnl_memory_desc_t *tmd,
                            dnnl_memory_t from, dnnl_memory_t to) {
    if (fmd->ndims != 5 || fmd->data_type != dnnl_f32) return -2;
    dnnl_memory_desc_t plain;
    if (dnnl_memory_desc_init_by_tag(&plain, 5, fmd->dims, dnnl_f32, dnnl_ncdhw) != dnnl_success) return -2;
    int from_plain = dnnl_memory_desc_equal(fmd, &plain), to_plain = dnnl_memory_desc_equal(tmd, &plain);
    int64_t block = from_plain ? channel_block(tmd, fmd->dims) : to_plain ? channel_block(fmd, fmd->dims) : 0;
    if (block == 0) return -2;
    void *src = NULL, *dst = NULL;
    if (dnnl_memory_get_data_handle(from, &src) != dnnl_success || !src ||
        dnnl_memory_get_data_handle(to, &dst) != dnnl_success || !dst || dnnl_stream_wait(stream) != dnnl_success)
        return -2;
    int64_t n = fmd->dims[0], c = fmd->dims[1], plane = fmd->dims[2] * fmd->dims[3] * fmd->dims[4];
    int rc = 0;
    for (int64_t s = 0; s < n && rc == 0; s++) {
        const float *in = (const float *)src + s * c * plane;
        float *out = (float *)dst + s * c * plane;
        rc = from_plain ? cmfk_planes_to_blocked(in, c, plane, block, out, omp_get_max_threads())
                        : cmfk_blocked_to_planes(in, c, plane, block, out, omp_get_max_threads());
    }
    return rc;
}

int cmfk_dnnl_reorder(dnnl_stream_t stream, dnnl_memory_t from, dnnl_memory_t to) {
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_engine_t engine;
    int rc = cmfk_dnnl_engine(&engine);
    if (rc != 0) return rc;
    if (dnnl_memory_get_memory_desc(from, &fmd) != dnnl_success ||
        dnnl_memory_get_memory_desc(to, &tmd) != dnnl_success)
        return -3;
    if (transpose_layout(stream, fmd, tmd, from, to) == 0) return 0;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    if (dnnl_reorder_primitive_desc_create(&rpd, fmd, engine, tmd, engine, NULL) != dnnl_success ||
        dnnl_primitive_create(&r, rpd) != dnnl_success) {
        rc = -3;
    } else {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
        if (dnnl_primitive_execute(r, stream, 2, args) != dnnl_success) rc = -3;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return rc;
}

int cmfk_dnnl_bind(dnnl_stream_t stream, dnnl_memory_t user, const dnnl_memory_desc_t *md, int copy,
                   dnnl_memory_t *mem, int *owned) {
    const dnnl_memory_desc_t *umd;
    dnnl_engine_t engine;
    int rc = cmfk_dnnl_engine(&engine);
    if (rc != 0) return rc;
    if (dnnl_memory_get_memory_desc(user, &umd) != dnnl_success) return -3;
    if (dnnl_memory_desc_equal(umd, md)) { *mem = user; *owned = 0; return 0; }
    /* The blocked copy comes from the pool (oneDNN's own allocation would be a fresh mmap). */
    size_t bytes = dnnl_memory_desc_get_size(md);
    void *buffer = cmfk_pool_take(bytes);
    if (!buffer) return -1;
    if (dnnl_memory_create(mem, md, engine, buffer) != dnnl_success) {
        cmfk_pool_give(buffer, bytes);
        return -1;
    }
    *owned = 1;
    return copy ? cmfk_dnnl_reorder(stream, user, *mem) : 0;
}

void cmfk_dnnl_release(dnnl_memory_t mem, int owned) {
    if (!owned || !mem) return;
    const dnnl_memory_desc_t *md = NULL;
    void *buffer = NULL;
    size_t bytes = dnnl_memory_get_memory_desc(mem, &md) == dnnl_success ? dnnl_memory_desc_get_size(md) : 0;
    if (dnnl_memory_get_data_handle(mem, &buffer) != dnnl_success) buffer = NULL;
    dnnl_memory_destroy(mem);
    cmfk_pool_give(buffer, bytes);
}

#define TRY(x) do { if ((x) != dnnl_success) { rc = -3; goto done; } } while (0)

/* The convolution; with `fuse` set, instance norm + leaky ReLU are applied to the output,
 * reading oneDNN's channel-blocked result directly when it chose such a layout, and `inv_std`
 * [n*co] (may be NULL) receives the normalisation's 1/std. */
static int conv_impl(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                     const float *weight, const float *bias, int64_t co,
                     int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                     float *out, int threads, int fuse, float eps, float slope, float *inv_std, int bf16) {
    cmfk_dnnl_conv_dims g;
    int rc = cmfk_dnnl_conv_dims_init(&g, n, ci, d, h, w, co, kd, kh, kw, stride, pad);
    if (rc != 0) return rc;
    /* bf16: input and weights in bfloat16 (converted by the reorders into oneDNN's layouts),
     * accumulation and the output in f32, so the fused norm below is unchanged. */
    if (bf16 && (dnnl_memory_desc_init_by_tag(&g.src_any, 5, g.src, dnnl_bf16, dnnl_format_tag_any) != dnnl_success ||
                 dnnl_memory_desc_init_by_tag(&g.wei_any, 5, g.wei, dnnl_bf16, dnnl_format_tag_any) != dnnl_success))
        return -3;
    dnnl_engine_t engine;
    if ((rc = cmfk_dnnl_engine(&engine)) != 0) return rc;
    cmfk_dnnl_threads th;
    cmfk_dnnl_threads_enter(&th, threads);

    int fused_done = 0;
    int64_t oplane = g.dst[2] * g.dst[3] * g.dst[4];
    dnnl_stream_t stream = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t conv = NULL;
    dnnl_memory_t usrc = NULL, uwei = NULL, ubias = NULL, udst = NULL;
    dnnl_memory_t src = NULL, wei = NULL, dst = NULL;
    int own_src = 0, own_wei = 0, own_dst = 0;

    if ((rc = cmfk_dnnl_conv_forward_pd(&pd, &g, bias != NULL, dnnl_forward_inference)) != 0) goto done;
    TRY(dnnl_primitive_create(&conv, pd));
    TRY(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));

    TRY(dnnl_memory_create(&usrc, &g.src_plain, engine, (void *)in));
    TRY(dnnl_memory_create(&uwei, &g.wei_plain, engine, (void *)weight));
    TRY(dnnl_memory_create(&udst, &g.dst_plain, engine, out));
    if (bias) TRY(dnnl_memory_create(&ubias, &g.bias_md, engine, (void *)bias));

    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (!smd || !wmd || !dmd) { rc = -3; goto done; }
    if ((rc = cmfk_dnnl_bind(stream, usrc, smd, 1, &src, &own_src)) != 0) goto done;
    if ((rc = cmfk_dnnl_bind(stream, uwei, wmd, 1, &wei, &own_wei)) != 0) goto done;
    if ((rc = cmfk_dnnl_bind(stream, udst, dmd, 0, &dst, &own_dst)) != 0) goto done;
    {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst},
                                   {DNNL_ARG_BIAS, ubias}};
        TRY(dnnl_primitive_execute(conv, stream, bias ? 4 : 3, args));
    }
    /* Free the blocked input before the output reorder allocates nothing more: keeps the peak low. */
    if (own_src) { cmfk_dnnl_release(src, own_src); own_src = 0; src = NULL; }
    /* With `fuse`, normalise straight from a channel-blocked result (channels-last, nCdhw16c
     * or nCdhw8c) instead of reordering it to plain first. */
    int64_t block = fuse && own_dst ? channel_block(dmd, g.dst) : 0;
    if (block > 0) {
        void *handle = NULL;
        if (dnnl_stream_wait(stream) != dnnl_success || dnnl_memory_get_data_handle(dst, &handle) != dnnl_success) {
            rc = -3;
            goto done;
        }
        int nt = NT(threads);
        for (int64_t s = 0; s < n && rc == 0; s++)
            rc = cmfk_blocked_instnorm_lrelu((const float *)handle + s * oplane * co, co, block, oplane, eps, slope,
                                        out + s * co * oplane, inv_std ? inv_std + s * co : NULL, nt);
        fused_done = 1;
    } else if (own_dst) {
        rc = cmfk_dnnl_reorder(stream, dst, udst);
    }
    if (rc == 0 && dnnl_stream_wait(stream) != dnnl_success) rc = -3;
    if (rc == 0 && fuse && !fused_done)
        rc = cmfk_instnorm_lrelu_train_f32(out, n * co, oplane, eps, slope, inv_std, threads);

done:
    if (stream) dnnl_stream_wait(stream);
    cmfk_dnnl_release(src, own_src);
    cmfk_dnnl_release(wei, own_wei);
    cmfk_dnnl_release(dst, own_dst);
    if (usrc) dnnl_memory_destroy(usrc);
    if (uwei) dnnl_memory_destroy(uwei);
    if (ubias) dnnl_memory_destroy(ubias);
    if (udst) dnnl_memory_destroy(udst);
    if (conv) dnnl_primitive_destroy(conv);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (stream) dnnl_stream_destroy(stream);
    cmfk_dnnl_threads_leave(&th);
    return rc;
}

int cmfk_conv3d_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                    const float *weight, const float *bias, int64_t co,
                    int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                    float *out, int threads) {
    return conv_impl(in, n, ci, d, h, w, weight, bias, co, kd, kh, kw, stride, pad, out, threads, 0, 0, 0, NULL, 0);
}

int cmfk_conv3d_instnorm_lrelu_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                   const float *weight, const float *bias, int64_t co,
                                   int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                                   float eps, float slope, float *out, int threads) {
    return conv_impl(in, n, ci, d, h, w, weight, bias, co, kd, kh, kw, stride, pad, out, threads, 1, eps, slope,
                     NULL, 0);
}

int cmfk_conv3d_instnorm_lrelu_train_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                                         const float *weight, const float *bias, int64_t co,
                                         int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                                         float eps, float slope, float *out, float *inv_std, int threads) {
    return conv_impl(in, n, ci, d, h, w, weight, bias, co, kd, kh, kw, stride, pad, out, threads, 1, eps, slope,
                     inv_std, 0);
}

int cmfk_conv3d_bf16(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                     const float *weight, const float *bias, int64_t co,
                     int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                     int fuse, float eps, float slope, float *out, int threads) {
    return conv_impl(in, n, ci, d, h, w, weight, bias, co, kd, kh, kw, stride, pad, out, threads, fuse != 0, eps, slope,
                     NULL, 1);
}
