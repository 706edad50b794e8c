/* The fast 3-D convolution: oneDNN (Debian libdnnl 2.6, CPU engine, OpenMP threading).
 *
 * Layouts: the interface takes plain ncdhw/oidhw arrays; the primitive is created with
 * format "any" so oneDNN picks its blocked layouts (nCdhw16c, brgconv/jit AVX-512 kernels);
 * on plain ncdhw it falls back to a gemm path about 8x slower (measured 10 vs 87 GFLOP/s on
 * 16->16 channels, 128^3). Inputs, weights and outputs are reordered around the call.
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
#include "cmf_nn.h"
#include <dlfcn.h>
#include <dnnl.h>
#include <omp.h>
#include <pthread.h>
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

#define TRY(x) do { if ((x) != dnnl_success) { rc = -3; goto done; } } while (0)

/* Reorder `from` into a new memory of descriptor `md` unless the layouts agree; *to gets
 * either `from` itself (not to be destroyed) or the new memory. */
static int reorder_into(dnnl_stream_t stream, dnnl_memory_t from, const dnnl_memory_desc_t *md,
                        dnnl_memory_t *to, int *owned) {
    const dnnl_memory_desc_t *fmd;
    if (dnnl_memory_get_memory_desc(from, &fmd) != dnnl_success) return -3;
    if (dnnl_memory_desc_equal(fmd, md)) { *to = from; *owned = 0; return 0; }
    if (dnnl_memory_create(to, md, g_engine, DNNL_MEMORY_ALLOCATE) != dnnl_success) return -1;
    *owned = 1;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    int rc = 0;
    if (dnnl_reorder_primitive_desc_create(&rpd, fmd, g_engine, md, g_engine, NULL) != dnnl_success ||
        dnnl_primitive_create(&r, rpd) != dnnl_success) {
        rc = -3;
    } else {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, *to}};
        if (dnnl_primitive_execute(r, stream, 2, args) != dnnl_success) rc = -3;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return rc;
}

int cmfk_conv3d_f32(const float *in, int64_t n, int64_t ci, int64_t d, int64_t h, int64_t w,
                    const float *weight, const float *bias, int64_t co,
                    int64_t kd, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                    float *out, int threads) {
    if (n <= 0 || ci <= 0 || d <= 0 || h <= 0 || w <= 0 || co <= 0 || kd <= 0 || kh <= 0 || kw <= 0 ||
        stride <= 0 || pad < 0 || d + 2 * pad < kd || h + 2 * pad < kh || w + 2 * pad < kw)
        return -2;
    pthread_once(&g_once, init_engine);
    if (g_engine_status != 0) return g_engine_status;
    int64_t od = (d + 2 * pad - kd) / stride + 1, oh = (h + 2 * pad - kh) / stride + 1,
            ow = (w + 2 * pad - kw) / stride + 1;

    /* Two pools: libomp's idle workers would spin for KMP_BLOCKTIME (200 ms) after each of
     * our kernels and steal the cores from oneDNN's libgomp workers; let them sleep at once. */
    if (g_two_runtimes) kmp_set_blocktime(0);
    int saved = omp_get_max_threads(), saved_foreign = 0;
    if (threads > 0) {
        omp_set_num_threads(threads);
        if (g_foreign_set_threads && g_foreign_get_threads) {
            saved_foreign = g_foreign_get_threads();
            g_foreign_set_threads(threads);
        }
    }

    int rc = 0;
    dnnl_stream_t stream = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t conv = NULL;
    dnnl_memory_t usrc = NULL, uwei = NULL, ubias = NULL, udst = NULL;
    dnnl_memory_t src = NULL, wei = NULL, dst = NULL;
    int own_src = 0, own_wei = 0, own_dst = 0;

    dnnl_dims_t sdims = {n, ci, d, h, w}, ddims = {n, co, od, oh, ow}, wdims = {co, ci, kd, kh, kw},
                bdims = {co}, strides = {stride, stride, stride}, pads = {pad, pad, pad};
    dnnl_memory_desc_t s_plain, d_plain, w_plain, b_md, s_any, d_any, w_any;
    TRY(dnnl_memory_desc_init_by_tag(&s_plain, 5, sdims, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&d_plain, 5, ddims, dnnl_f32, dnnl_ncdhw));
    TRY(dnnl_memory_desc_init_by_tag(&w_plain, 5, wdims, dnnl_f32, dnnl_oidhw));
    TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, bdims, dnnl_f32, dnnl_x));
    TRY(dnnl_memory_desc_init_by_tag(&s_any, 5, sdims, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&d_any, 5, ddims, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&w_any, 5, wdims, dnnl_f32, dnnl_format_tag_any));
    dnnl_convolution_desc_t cd;
    TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &s_any,
                                           &w_any, bias ? &b_md : NULL, &d_any, strides, pads, pads));
    TRY(dnnl_primitive_desc_create(&pd, &cd, NULL, g_engine, NULL));
    TRY(dnnl_primitive_create(&conv, pd));
    TRY(dnnl_stream_create(&stream, g_engine, dnnl_stream_default_flags));

    TRY(dnnl_memory_create(&usrc, &s_plain, g_engine, (void *)in));
    TRY(dnnl_memory_create(&uwei, &w_plain, g_engine, (void *)weight));
    TRY(dnnl_memory_create(&udst, &d_plain, g_engine, out));
    if (bias) TRY(dnnl_memory_create(&ubias, &b_md, g_engine, (void *)bias));

    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (!smd || !wmd || !dmd) { rc = -3; goto done; }
    if ((rc = reorder_into(stream, usrc, smd, &src, &own_src)) != 0) goto done;
    if ((rc = reorder_into(stream, uwei, wmd, &wei, &own_wei)) != 0) goto done;
    if (dnnl_memory_desc_equal(dmd, &d_plain)) { dst = udst; own_dst = 0; }
    else {
        if (dnnl_memory_create(&dst, dmd, g_engine, DNNL_MEMORY_ALLOCATE) != dnnl_success) { rc = -1; goto done; }
        own_dst = 1;
    }
    {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst},
                                   {DNNL_ARG_BIAS, ubias}};
        TRY(dnnl_primitive_execute(conv, stream, bias ? 4 : 3, args));
    }
    /* Free the blocked input before the output reorder allocates nothing more: keeps the peak low. */
    if (own_src) { dnnl_memory_destroy(src); own_src = 0; src = NULL; }
    if (own_dst) {
        dnnl_memory_t plain_out = NULL;
        int dummy = 0;
        (void)dummy;
        dnnl_primitive_desc_t rpd = NULL;
        dnnl_primitive_t r = NULL;
        plain_out = udst;
        if (dnnl_reorder_primitive_desc_create(&rpd, dmd, g_engine, &d_plain, g_engine, NULL) != dnnl_success ||
            dnnl_primitive_create(&r, rpd) != dnnl_success) {
            rc = -3;
        } else {
            dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, plain_out}};
            if (dnnl_primitive_execute(r, stream, 2, args) != dnnl_success) rc = -3;
        }
        if (r) dnnl_primitive_destroy(r);
        if (rpd) dnnl_primitive_desc_destroy(rpd);
    }
    if (rc == 0 && dnnl_stream_wait(stream) != dnnl_success) rc = -3;

done:
    if (stream) dnnl_stream_wait(stream);
    if (own_src && src) dnnl_memory_destroy(src);
    if (own_wei && wei) dnnl_memory_destroy(wei);
    if (own_dst && dst) dnnl_memory_destroy(dst);
    if (usrc) dnnl_memory_destroy(usrc);
    if (uwei) dnnl_memory_destroy(uwei);
    if (ubias) dnnl_memory_destroy(ubias);
    if (udst) dnnl_memory_destroy(udst);
    if (conv) dnnl_primitive_destroy(conv);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (stream) dnnl_stream_destroy(stream);
    if (threads > 0) {
        omp_set_num_threads(saved);
        if (g_foreign_set_threads && saved_foreign > 0) g_foreign_set_threads(saved_foreign);
    }
    return rc;
}
