/* nn_internal.h — helpers shared by the network-layer source files (not part of the module's
 * public header; hidden from the shared library's symbol table).
 *   nn_layers.c        forward layers          nn_backward.c        their backward passes
 *   conv_dnnl.c        oneDNN forward          conv_dnnl_backward.c oneDNN backward
 *   channels_last.c    plain <-> oneDNN's channel-blocked layouts (the fused norm) */
#ifndef CMF_NN_INTERNAL_H
#define CMF_NN_INTERNAL_H

#include <stdint.h>
#include <omp.h>

#define CMFK_HIDDEN __attribute__((visibility("hidden")))

#define NT(t) ((t) > 0 ? (t) : omp_get_max_threads())
/* No schedule(dynamic/guided): the toolchain clang emits __kmpc_dispatch_deinit for them,
 * which LLVM 14's libomp (the one we link) lacks — the link fails. */

/* Code for AVX-512 and AVX2 besides the baseline, chosen once at load time (the build
 * targets plain x86-64). Only the marked function itself: OpenMP's outlined regions do not
 * inherit it, so mark a helper called from inside the parallel region. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CMFK_NO_IFUNC 1   /* the clones' resolver runs before TSan's runtime is up: it crashes */
#endif
#endif
#if defined(__x86_64__) && !defined(CMFK_NO_IFUNC)
#define CMFK_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CMFK_SIMD_CLONES
#endif

/* Instance norm (mean and biased variance per channel, in double, one pass of sums shifted
 * by each channel's first value) + leaky ReLU from one sample's channel-blocked convolution
 * result t [c/block][plane][block] into plain planes out [c][plane]; inv_std [c] (or NULL)
 * receives the 1/sqrt(var + eps) used. nt threads. 0, or -1 when out of memory. */
CMFK_HIDDEN int cmfk_blocked_instnorm_lrelu(const float *t, int64_t c, int64_t block, int64_t plane, float eps,
                                            float slope, float *out, float *inv_std, int nt);

/* Plain planes in [c][plane] -> a channel-blocked layout out [c/block][plane][block] (block = c:
 * channels-last; 16: nCdhw16c), and back; nt threads. -2 when this host or these sizes need
 * oneDNN's reorder instead (block not a multiple of 16, c not of block, plane not of 16, no
 * AVX-512). */
CMFK_HIDDEN int cmfk_planes_to_blocked(const float *in, int64_t c, int64_t plane, int64_t block, float *out, int nt);
CMFK_HIDDEN int cmfk_blocked_to_planes(const float *in, int64_t c, int64_t plane, int64_t block, float *out, int nt);

/* Trilinear up-sampling by 2 with align_corners=True along one axis of `n` samples: output
 * coordinate o (< 2n) reads i0[o] and i1[o] with weight l[o] on i1 (1 - l[o] on i0). */
CMFK_HIDDEN void cmfk_upsample2_axis_table(int64_t n, int64_t *i0, int64_t *i1, float *l);

#ifdef ONEAPI_DNNL_DNNL_H
/* ---- oneDNN (conv_dnnl.c) --------------------------------------------------------- */

/* The process-wide CPU engine, created once; 0 or -3. */
CMFK_HIDDEN int cmfk_dnnl_engine(dnnl_engine_t *engine);

/* Thread count for one oneDNN call, set in our runtime (and in libgomp when oneDNN is bound
 * to it) on entry and restored on leave. */
typedef struct { int threads, saved, saved_foreign; } cmfk_dnnl_threads;
CMFK_HIDDEN void cmfk_dnnl_threads_enter(cmfk_dnnl_threads *t, int threads);
CMFK_HIDDEN void cmfk_dnnl_threads_leave(const cmfk_dnnl_threads *t);

/* Geometry of one 3-D convolution in oneDNN's terms. */
typedef struct {
    dnnl_dims_t src, dst, wei, bias, strides, pads;
    /* The memory descriptors every convolution call needs: plain (ncdhw / oidhw / x) for the
     * user's arrays, "any" for the primitives (oneDNN picks its blocked layouts). */
    dnnl_memory_desc_t src_plain, dst_plain, wei_plain, bias_md, src_any, dst_any, wei_any;
} cmfk_dnnl_conv_dims;
/* Fills `g`; -2 for sizes the convolution cannot take (as cmfk_conv3d_f32), -3 when oneDNN
 * refuses a descriptor. */
CMFK_HIDDEN int cmfk_dnnl_conv_dims_init(cmfk_dnnl_conv_dims *g, int64_t n, int64_t ci, int64_t d, int64_t h,
                                         int64_t w, int64_t co, int64_t kd, int64_t kh, int64_t kw,
                                         int64_t stride, int64_t pad);
/* Forward convolution primitive descriptor with every layout "any" (oneDNN chooses). */
CMFK_HIDDEN int cmfk_dnnl_conv_forward_pd(dnnl_primitive_desc_t *pd, const cmfk_dnnl_conv_dims *g, int with_bias,
                                          dnnl_prop_kind_t prop);

/* Memory for the argument `md` of a primitive from user memory `user`: `user` itself when the
 * layouts agree (*owned = 0), else a new memory (*owned = 1), filled by a reorder from `user`
 * when `copy` is set. */
CMFK_HIDDEN int cmfk_dnnl_bind(dnnl_stream_t stream, dnnl_memory_t user, const dnnl_memory_desc_t *md,
                               int copy, dnnl_memory_t *mem, int *owned);
/* Destroys a memory that cmfk_dnnl_bind made (owned = 1), its buffer back to the pool;
 * nothing for a bound user memory (owned = 0) or NULL. */
CMFK_HIDDEN void cmfk_dnnl_release(dnnl_memory_t mem, int owned);
/* Reorders `from` into `to` (any layouts): our transposer between plain and channel-blocked
 * layouts where it applies (see channels_last.c), else oneDNN's reorder primitive. */
CMFK_HIDDEN int cmfk_dnnl_reorder(dnnl_stream_t stream, dnnl_memory_t from, dnnl_memory_t to);
#endif

#endif
