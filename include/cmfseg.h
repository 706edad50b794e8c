/*
 * cmfseg.h — the public C API of libcmfseg.
 *
 * cmfseg segments brain tumours in multi-modal MRI (T1, T1ce, T2, FLAIR) with the
 * cross-modality deep feature learning method (CMFT + CMFF) of Zhang et al., Pattern
 * Recognition 2021, and evaluates label maps as the BraTS challenge does.
 *
 * Usage at a glance
 *
 *     cmf_volume *t1, *t1ce, *t2, *flair, *labels;
 *     cmf_model *model;
 *     cmf_volume_read("case_t1.nii.gz", &t1);              // ... and the other three
 *     cmf_model_load(paths, n_paths, &model);              // safetensors weights
 *     cmf_segment_params sp = cmf_segment_default_params();
 *     cmf_segment(model, t1, t1ce, t2, flair, &sp, &labels, NULL, NULL);
 *     cmf_volume_write(labels, "case_seg.nii.gz", CMF_DTYPE_UINT8);
 *
 *     cmf_eval_params ep = cmf_eval_default_params();
 *     cmf_eval_result r = {.struct_size = sizeof r};
 *     cmf_evaluate_files("ref.nii.gz", "case_seg.nii.gz", &ep, &r);
 *     printf("WT Dice %.4f\n", r.regions[CMF_REGION_WT].dice);
 *     cmf_volume_free(labels); cmf_model_free(model); ...
 *
 * Conventions (they hold for every function below)
 * - Every fallible function returns a cmf_status; CMF_OK is 0. On failure the calling
 *   thread's last-error message (cmf_last_error_message) names the problem and the file.
 *   Out-parameters are written only on success.
 * - Handles are opaque. Every *_free function accepts NULL. Whatever a function returns
 *   through an out-parameter handle belongs to the caller, who frees it exactly once.
 *   Pointers returned as `const` (strings, data) are borrowed: valid until the owning
 *   handle is freed, never freed by the caller.
 * - Every params and result struct starts with `uint32_t struct_size`, the struct's size as
 *   the caller compiled it (params: from their *_default_params() function; results: set
 *   it to sizeof before the call). The library reads (params) or writes (results) only the
 *   first min(struct_size, its own size) bytes: callers built against an older, shorter
 *   struct or a newer, longer one keep working; fields beyond struct_size keep their
 *   defaults (params) or are left untouched (results). struct_size < 4 is INVALID_ARGUMENT.
 *   Params structs end in reserved space that later fields take over, so their size never
 *   changes: *_default_params() return them by value to callers built against any version.
 *   Reserved space must hold zeros (as the defaults do); anything else is INVALID_ARGUMENT.
 * - Threads: every function may be called from any thread. A cmf_model and a cmf_volume
 *   are immutable after creation and may be shared by threads; a call that writes a
 *   handle's out-parameter or frees it must not race with other use of that handle.
 * - OpenMP: the library runs its kernels and oneDNN on LLVM's libomp (one thread pool).
 *   A host that has loaded GNU libgomp before libcmfseg should set OMP_WAIT_POLICY=passive
 *   in the environment before it starts, or idle libgomp threads spin beside ours.
 * - No function aborts the process on bad input: NULL pointers, malformed files, wrong
 *   shapes, NaNs and out-of-range values are reported as errors.
 * - Limits: a call that allocates in proportion to its input (reading or creating a volume,
 *   segmenting, evaluating) first compares the grid's voxels and an estimate of the memory
 *   it needs with two caps, and refuses with OUT_OF_MEMORY, naming the need and the cap,
 *   before allocating. The caps: the params' max_voxels / max_bytes where a call has params
 *   and sets them; else the environment's CMFSEG_MAX_VOXELS / CMFSEG_MAX_MEMORY (a count;
 *   memory in bytes or with a K, M, G or T suffix, e.g. "8G"), read at each call; else
 *   512^3 voxels and the memory of the machine or of the process's cgroup, if smaller.
 * - Volumes: 3-D grids stored x-fastest (NIfTI i fastest, then j, then k): the voxel
 *   (x, y, z) is at index x + nx*(y + ny*z). As a tensor [D, H, W], D = z, H = y, W = x.
 */
#ifndef CMFSEG_H
#define CMFSEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CMF_API __attribute__((visibility("default")))
#define CMF_NODISCARD __attribute__((warn_unused_result))
#else
#define CMF_API
#define CMF_NODISCARD
#endif

/* ------------------------------------------------------------------------------------ */
/* Versions, status codes, errors                                                       */
/* ------------------------------------------------------------------------------------ */

#define CMF_VERSION_MAJOR 0
#define CMF_VERSION_MINOR 1
#define CMF_VERSION_PATCH 0
/* The ABI version grows when a function's signature or a struct's layout changes
 * incompatibly. Compare cmf_abi_version() with CMF_ABI_VERSION at start-up. */
#define CMF_ABI_VERSION 1

typedef enum cmf_status {
    CMF_OK = 0,
    CMF_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, out-of-range value, unknown label   */
    CMF_ERR_IO = 2,               /* file missing, unreadable, unwritable               */
    CMF_ERR_FORMAT = 3,           /* malformed NIfTI or safetensors, bad NIfTI datatype */
    CMF_ERR_SHAPE = 4,            /* dims or grids that do not fit together             */
    CMF_ERR_OUT_OF_MEMORY = 5,    /* an allocation failed or would exceed the limits    */
    CMF_ERR_ABORTED = 6,          /* the progress callback or cancel flag stopped it    */
    CMF_ERR_UNSUPPORTED = 7,      /* a capability this build does not have              */
    CMF_ERR_INTERNAL = 8          /* a bug: please report it with the message           */
} cmf_status;

/* The library's version as "MAJOR.MINOR.PATCH". Static storage; never NULL. */
CMF_API const char *cmf_version(void);

/* The ABI version this library was built with (CMF_ABI_VERSION of its header). */
CMF_API uint32_t cmf_abi_version(void);

/* A short English name of a status code ("ok", "invalid argument", ...). Static storage. */
CMF_API const char *cmf_status_string(cmf_status status);

/* The message of the last failed call on the calling thread, or "" if none failed yet.
 * Thread-local storage, valid until the next cmf_ call on this thread. */
CMF_API const char *cmf_last_error_message(void);

/* The library's notes: what it inferred, assumed or fell back to (a model without
 * metadata, a segmentation with one modality pair, ...), one sentence each. */
typedef enum cmf_log_level { CMF_LOG_NOTE = 0 } cmf_log_level;

/* Receives a note: the message is valid during the call only. Called on the thread doing
 * the work, possibly from several threads at once; it must not call back into cmfseg. */
typedef void (*cmf_log_callback)(cmf_log_level level, const char *message, void *user_data);

/* Installs the process-wide receiver of notes (NULL: notes are dropped, the default),
 * replacing the previous one; user_data is passed back unchanged. Thread-safe. */
CMF_API void cmf_set_log_callback(cmf_log_callback callback, void *user_data);

/* ------------------------------------------------------------------------------------ */
/* Volumes: 3-D images with their NIfTI geometry                                        */
/* ------------------------------------------------------------------------------------ */

/* An image on a voxel grid: float32 voxels, spacing (mm), affine, qform/sform. */
typedef struct cmf_volume cmf_volume;

/* Datatypes for writing. Label maps are written as uint8; float images as float32. */
typedef enum cmf_dtype {
    CMF_DTYPE_UINT8 = 2,   /* values must be integers in 0...255 */
    CMF_DTYPE_FLOAT32 = 16
} cmf_dtype;

/* Reads a NIfTI-1 or NIfTI-2 image (.nii, .nii.gz, .hdr/.img, .hdr.gz/.img.gz; either
 * byte order), datatypes uint8, int8, int16, uint16, int32, uint32, int64, uint64,
 * float32, float64, scl_slope/scl_inter applied, geometry (spacing, qform, sform, codes)
 * kept. The file is validated before anything large is allocated: dims (each 1...16384,
 * at most 2^31-1 voxels), datatype, spacing (> 0, finite), vox_offset, and the data size
 * against the file. A 4-D file with one volume (dim[4] == 1) counts as 3-D.
 * Errors: INVALID_ARGUMENT (NULL or empty path, NULL out), IO (missing, a directory,
 * unreadable), FORMAT (not NIfTI, ANALYZE 7.5, truncated or corrupt data, unsupported
 * datatype, impossible dims or spacing), SHAPE (not 3-D), OUT_OF_MEMORY. */
CMF_API CMF_NODISCARD cmf_status cmf_volume_read(const char *path, cmf_volume **out);

/* Creates a volume from caller memory (copied; NULL data gives zeros) with the given
 * spacing in mm (all > 0) and an affine that is diag(spacing) with origin 0.
 * Errors: INVALID_ARGUMENT (NULL out, dims < 1, spacing <= 0), OUT_OF_MEMORY (beyond the
 * limits, see Limits above). */
CMF_API CMF_NODISCARD cmf_status cmf_volume_create(int64_t nx, int64_t ny, int64_t nz,
                                                   const double spacing[3], const float *data,
                                                   cmf_volume **out);

/* Frees a volume. NULL is fine. */
CMF_API void cmf_volume_free(cmf_volume *volume);

/* Grid size: dims[0..2] = nx, ny, nz. */
CMF_API CMF_NODISCARD cmf_status cmf_volume_dims(const cmf_volume *volume, int64_t dims[3]);

/* Voxel spacing in mm: spacing[0..2] along x, y, z. */
CMF_API CMF_NODISCARD cmf_status cmf_volume_spacing(const cmf_volume *volume, double spacing[3]);

/* The voxel-to-world affine, row-major 4x4 (sform if set, else qform, else scaling). */
CMF_API CMF_NODISCARD cmf_status cmf_volume_affine(const cmf_volume *volume, double affine[16]);

/* The voxels, nx*ny*nz floats x-fastest. Borrowed; NULL if volume is NULL. */
CMF_API const float *cmf_volume_data(const cmf_volume *volume);

/* Writes a volume as NIfTI-1 with its geometry (spacing, qform and sform with their
 * codes), atomically (temporary file in the same directory + rename): either the whole
 * file appears or nothing does. The name picks the format: ".nii", ".nii.gz" (gzip), or a
 * ".hdr"/".img" pair (".hdr.gz"/".img.gz" compressed). An existing destination must be a
 * regular file.
 * Errors: INVALID_ARGUMENT (NULL, unknown dtype, values that do not fit dtype, e.g. 3.5,
 * 300 or NaN as uint8), IO (directory missing or unwritable, disk full). */
CMF_API CMF_NODISCARD cmf_status cmf_volume_write(const cmf_volume *volume, const char *path,
                                                  cmf_dtype dtype);

/* ------------------------------------------------------------------------------------ */
/* Evaluation: BraTS metrics                                                            */
/* ------------------------------------------------------------------------------------ */
/*
 * Metrics of a predicted label map against a reference, as BraTS computes them, per region
 * WT / TC / ET. Definitions (Sources/CMFSeg/Evaluate/README.md has the details):
 * whole-region metrics follow MedPy 0.5 / panoptica, lesion-wise metrics follow the official
 * `brats-evaluation` package (panoptica, BraTS 2025 glioma configuration).
 *   dice         2|A&B| / (|A|+|B|); both empty 1, one empty 0
 *   sensitivity  TP/(TP+FN); empty reference: 1 if the prediction is empty too, else 0
 *   specificity  TN/(TN+FP) over the whole grid
 *   hd95         border = mask minus its erosion by the 6-connected cross (voxels on the image
 *                edge are border); distances in mm (header spacing) from each border voxel of
 *                one mask to the nearest border voxel of the other, both directions pooled,
 *                95th percentile with linear interpolation (numpy's default)
 *   hd, assd     the largest and the mean of those pooled distances (MedPy 0.5.2)
 *   nsd          panoptica's normalised surface Dice: mean of the fractions of each border
 *                within nsd_tolerance_mm of the other
 *   distances    both masks empty: 0 (nsd 1); one empty: see cmf_empty_distance (nsd 0)
 *   lesion       26-connected components, one-to-one maximum bipartite matching on Dice
 *                (pairs need Dice >= 1e-6); tp, fp, fn; rq = tp / (tp + fp/2 + fn/2);
 *                sq_dsc / sq_hd95 = mean Dice / HD95 over matched pairs; pq = rq * sq_dsc.
 *                No lesion in either map: rq, sq_*, pq are NaN; lesions but no match:
 *                rq 0, sq_dsc 0, sq_hd95 +inf, pq 0 (panoptica's conventions).
 * Threads: the functions are reentrant; `threads` in the params sets the OpenMP threads of
 * one call. Memory: the limits' estimate is 64 bytes per voxel of the grid (peaks measured:
 * 6.5 on BraTS cases, 24 for a tumour filling the grid, 52 for a grid of one-voxel lesions).
 */

/* Label value conventions. Any other value in a label map is an error. */
typedef enum cmf_label_convention {
    CMF_LABELS_BRATS2018 = 0, /* 0, 1 NCR/NET, 2 ED, 4 ET: WT {1,2,4}, TC {1,4}, ET {4} */
    CMF_LABELS_BRATS2023 = 1  /* 0, 1, 2, 3 ET:            WT {1,2,3}, TC {1,3}, ET {3} */
} cmf_label_convention;

/* What hd95, hd and assd report when exactly one of the two masks of a region is empty. */
typedef enum cmf_empty_distance {
    CMF_EMPTY_DIAGONAL = 0, /* the image diagonal in mm, sqrt(sum((n_i*spacing_i)^2)) (default;
                               373.128664 on the 240x240x155 BraTS grid at 1 mm) */
    CMF_EMPTY_INF = 1,      /* +infinity */
    CMF_EMPTY_NAN = 2,      /* NaN */
    CMF_EMPTY_VALUE = 3     /* empty_distance_value (mm) */
} cmf_empty_distance;

typedef struct cmf_eval_params {
    uint32_t struct_size;            /* sizeof(cmf_eval_params) */
    cmf_label_convention labels;     /* default CMF_LABELS_BRATS2018 */
    double nsd_tolerance_mm;         /* NSD tolerance in mm, >= 0; a negative value (the
                                        default, -1) means the smallest voxel spacing,
                                        panoptica's default */
    cmf_empty_distance empty_distance; /* default CMF_EMPTY_DIAGONAL */
    double empty_distance_value;     /* mm, used with CMF_EMPTY_VALUE; finite */
    int32_t ignore_geometry;         /* cmf_evaluate_files: nonzero compares maps whose
                                        spacing or affine differ (the reference's spacing
                                        is used); dims must still agree. Default 0 */
    int32_t threads;                 /* OpenMP threads of one call; <= 0: the default */
    int64_t max_voxels;              /* cap on the grid's voxels; 0 (default): the process's
                                        (see Limits above); < 0 is INVALID_ARGUMENT        */
    int64_t max_bytes;               /* cap on the call's memory estimate; 0 (default): the
                                        process's; < 0 is INVALID_ARGUMENT                 */
    int64_t reserved[8];             /* zero; later fields take its place                */
} cmf_eval_params;

/* The defaults above, with struct_size set. */
CMF_API cmf_eval_params cmf_eval_default_params(void);

/* Regions, the index of cmf_eval_result.regions. */
enum { CMF_REGION_WT = 0, CMF_REGION_TC = 1, CMF_REGION_ET = 2, CMF_REGION_COUNT = 3 };

typedef struct cmf_lesion_metrics {
    int64_t tp, fp, fn;  /* matched pairs, unmatched predicted, unmatched reference lesions */
    double rq;           /* recognition quality (F1 of lesion detection) */
    double sq_dsc;       /* mean Dice of matched pairs */
    double sq_hd95;      /* mean HD95 (mm) of matched pairs */
    double pq;           /* panoptic quality rq * sq_dsc */
} cmf_lesion_metrics;

typedef struct cmf_region_metrics {
    double dice, hd95, sensitivity, specificity, hd, assd; /* hd95, hd, assd in mm */
    double volume_ref_mm3, volume_pred_mm3;
    double nsd;
    cmf_lesion_metrics lesion;
} cmf_region_metrics;

typedef struct cmf_eval_result {
    uint32_t struct_size;                      /* set by the caller: sizeof(cmf_eval_result)
                                                  (the struct_size rule above) */
    cmf_region_metrics regions[CMF_REGION_COUNT]; /* indexed by CMF_REGION_* */
} cmf_eval_result;

/* Evaluates two label maps in caller memory: nx*ny*nz uint8 labels each, x fastest, on the
 * same grid with the given spacing (mm, all > 0). params may be NULL (defaults). Fills
 * *result (whose struct_size the caller has set) on success; the inputs are only read.
 * Errors: INVALID_ARGUMENT (NULL ref/pred/spacing/result, dims < 1, spacing <= 0, a label
 * outside the convention — the message names the voxel and value, bad params or
 * struct_size), OUT_OF_MEMORY. */
CMF_API CMF_NODISCARD cmf_status cmf_evaluate_labels(const uint8_t *ref, const uint8_t *pred,
                                                     int64_t nx, int64_t ny, int64_t nz,
                                                     const double spacing[3],
                                                     const cmf_eval_params *params,
                                                     cmf_eval_result *result);

/* Reads two NIfTI label maps (integer labels in any datatype, see cmf_volume_read) and
 * evaluates them with the reference's header spacing. The two must share dims and, unless
 * params->ignore_geometry, spacing and affine.
 * Errors: as cmf_evaluate_labels, plus IO (missing or unreadable file), FORMAT (not NIfTI,
 * labels that are not integers in 0...255), SHAPE (dims, spacing or affine differ). */
CMF_API CMF_NODISCARD cmf_status cmf_evaluate_files(const char *ref_path, const char *pred_path,
                                                    const cmf_eval_params *params,
                                                    cmf_eval_result *result);

/* ------------------------------------------------------------------------------------ */
/* Models and segmentation                                                              */
/* ------------------------------------------------------------------------------------ */
/*
 * A cmf_model is a segmentation network loaded once from safetensors weights (the
 * authors' PyTorch state_dict names and cmfseg's metadata, Sources/CMFSeg/Weights/README.md)
 * and reused for any number of cases. cmf_segment runs the whole pipeline on one case:
 *   validate (one voxel grid, finite values) -> crop to the brain box -> per-modality
 *   z-score (2-98 percentile clipped statistics) -> sliding windows (Gaussian importance
 *   weighting, overlap) with optional mirroring test-time augmentation -> argmax ->
 *   paste back into the input grid -> BraTS post-processing -> label values.
 * Either modality pair may be missing (pass NULL for both of its images): a CMFF model
 * then segments with the other pair's branch alone, and cmf_segment_info says so.
 */

/* A loaded segmentation model. Immutable: may be shared by threads, and concurrent
 * cmf_segment calls on one model are safe (each call uses its own buffers). */
typedef struct cmf_model cmf_model;

/* Loads a model from n safetensors files read together as one set of tensors (e.g. the
 * three m2g_*.safetensors parts). Architecture, classes, modality pairs, patch and
 * normalisation come from the files' metadata, or the authors' defaults for a raw PyTorch
 * export. *out receives a new model (free with cmf_model_free).
 * Errors: INVALID_ARGUMENT (NULL, n == 0), IO, FORMAT (damaged file, missing tensor,
 * bad metadata, a NaN or infinite weight), SHAPE (mis-shaped tensor, a size of 0),
 * UNSUPPORTED (a tensor dtype other than F32, F16, BF16 or U8; a network that does not
 * segment, e.g. a generator or discriminator; an unknown normalisation), OUT_OF_MEMORY
 * (the files' decoded size beyond the limits). */
CMF_API CMF_NODISCARD cmf_status cmf_model_load(const char *const *paths, size_t n, cmf_model **out);

/* Loads the default model bundled with the library: a CMFF network trained by `cmfseg
 * train` on generated phantoms, its provenance in its metadata (looked up in
 * $CMFSEG_DATA_DIR, then <prefix>/share/cmfseg beside the running program, then the source
 * tree the library was built from). Errors: IO naming the places searched when the
 * installation lacks it, else as cmf_model_load. */
CMF_API CMF_NODISCARD cmf_status cmf_model_load_default(cmf_model **out);

/* Frees a model. NULL is fine. Must not race with calls using the model. */
CMF_API void cmf_model_free(cmf_model *model);

/* The model's architecture name ("cmff-m2g", "cmff-m2", "unet-single-pair", "unet-4mod").
 * Borrowed, valid until the model is freed; NULL if model is NULL. */
CMF_API const char *cmf_model_architecture(const cmf_model *model);

/* Number of output classes (4 for BraTS models), i.e. the number of probability volumes
 * cmf_segment returns; 0 if model is NULL. */
CMF_API int32_t cmf_model_class_count(const cmf_model *model);

/* The model's metadata, as its weight files state it plus what the loader derived. Keys a
 * host may rely on: "architecture", "base_filters", "in_channels", "num_classes",
 * "leaky_slope", "class_values" (label value per network class, e.g. "0,2,1,4"), "pairs"
 * ("t1,t1ce|t2,flair": each branch's inputs), "normalization", "patch" (training patch,
 * D,H,W), "window" (default window, when it differs from the patch), and for
 * models made by `cmfseg train` their provenance: "producer", "training_command",
 * "training_data_seeds", "training_cases", "training_steps", "training_patch",
 * "training_date", "validation_dice" (the default model carries all of these).
 * cmf_model_metadata_count: the number of keys (0 if model is NULL);
 * cmf_model_metadata_key: the i-th key in byte order, NULL when i >= count;
 * cmf_model_metadata: the value of key, NULL when the model has none (or an argument is
 * NULL). Strings are borrowed, valid until the model is freed. */
CMF_API size_t cmf_model_metadata_count(const cmf_model *model);
CMF_API const char *cmf_model_metadata_key(const cmf_model *model, size_t i);
CMF_API const char *cmf_model_metadata(const cmf_model *model, const char *key);

/* What the loader inferred or assumed about the model (e.g. "no metadata (raw export):
 * architecture inferred from tensor names and shapes"): cmf_model_note_count notes,
 * cmf_model_note the i-th (borrowed; NULL when i >= count or model is NULL). */
CMF_API size_t cmf_model_note_count(const cmf_model *model);
CMF_API const char *cmf_model_note(const cmf_model *model, size_t i);

/* Progress callback: called on the thread running cmf_segment with the finished fraction
 * (0 at the start, 1 at the end, increasing, after every network call in between).
 * Return non-zero to continue, 0 to abort (cmf_segment then returns CMF_ERR_ABORTED). */
typedef int (*cmf_progress_callback)(float progress, void *user_data);

/* Which part of the network produced a segmentation. */
/* The arithmetic of the network's convolutions (cmf_segment_params.precision).
 * CMF_PRECISION_BF16 rounds each convolution's input and weights to bfloat16 (8 significant
 * bits) and accumulates in f32; normalisation and everything between layers stay f32. It is
 * fast on CPUs with AVX-512 BF16 (AMD Zen 4, Intel Sapphire Rapids) and emulated, slower than
 * f32, on other AVX-512 CPUs. Labels may differ from f32 at a few boundary voxels. */
typedef enum cmf_precision {
    CMF_PRECISION_F32 = 0,
    CMF_PRECISION_BF16 = 1
} cmf_precision;

/* How windows cover the brain box (cmf_segment_params.windows).
 * CMF_WINDOWS_GRID: windows of `patch` size, neighbours overlapping by `overlap` (nnU-Net's
 * sliding window; up to 8 predictions averaged per voxel).
 * CMF_WINDOWS_FITTED: per axis, the fewest windows no longer than `patch` that cover the
 * brain box, each shrunk to the smallest multiple of 16 that still covers it; no overlap
 * beyond that rounding (`overlap` unused). About a third of the grid's work on BraTS-size
 * brains; each voxel is predicted once, so accuracy can drop (see the performance notes). */
typedef enum cmf_windows {
    CMF_WINDOWS_GRID = 0,
    CMF_WINDOWS_FITTED = 1
} cmf_windows;

typedef enum cmf_route {
    CMF_ROUTE_FUSED = 0,    /* CMFF with all four modalities: the fused prediction       */
    CMF_ROUTE_BRANCH_A = 1, /* CMFF branch net_0 alone (pair A: T1, T1ce; pair B missing) */
    CMF_ROUTE_BRANCH_B = 2, /* CMFF branch net_1 alone (pair B: T2, FLAIR; pair A missing) */
    CMF_ROUTE_SINGLE = 3    /* a single-network baseline model                           */
} cmf_route;

/* Bits of cmf_segment_info.modalities_used. */
#define CMF_MODALITY_T1 1u
#define CMF_MODALITY_T1CE 2u
#define CMF_MODALITY_T2 4u
#define CMF_MODALITY_FLAIR 8u

/* Segmentation settings. Obtain with cmf_segment_default_params(), then change fields. */
typedef struct cmf_segment_params {
    uint32_t struct_size;          /* sizeof(cmf_segment_params), set by the defaults       */
    int32_t threads;               /* worker threads; <= 0: OpenMP's default                */
    float overlap;                 /* window overlap in [0, 1); default 0.5                 */
    int32_t patch[3];              /* window D, H, W (multiples of 16); 0,0,0 (default):
                                      the model's metadata "window", else its training
                                      patch "patch", else 128^3                             */
    int32_t tta;                   /* non-zero: mirroring TTA, 8 flips per window (8x time) */
    int32_t postprocess;           /* non-zero (default): BraTS post-processing below       */
    float min_component_fraction;  /* drop tumour components smaller than this fraction of
                                      the largest (after grouping); 0 keeps all; default 1/3,
                                      which means the authors' exact largest / 3            */
    int32_t grouping_dilation;     /* dilations (6-connected) that group nearby voxels; 2   */
    int32_t connectivity;          /* connectivity of the components: 6 (default), 18, 26   */
    int32_t min_core_voxels;       /* NCR+ET below this: edema becomes NCR; 10; 0 = never   */
    int32_t min_et_voxels;         /* ET below this is relabelled; 500 (authors); 0 = never */
    int32_t small_et_to_ncr;       /* 0 (default, authors): small ET becomes edema;
                                      non-zero (nnU-Net): it becomes NCR/NET                */
    int32_t nonfinite_to_zero;     /* 0 (default): NaN/Inf voxels are an error;
                                      non-zero: they are treated as background (0)          */
    cmf_progress_callback progress;/* NULL: none                                            */
    void *user_data;               /* passed to progress                                    */
    const volatile int32_t *cancel;/* NULL, or a flag another thread may set non-zero to stop
                                      the run (read atomically between the network's
                                      layers; -> CMF_ERR_ABORTED within one layer)        */
    int64_t max_voxels;            /* cap on the case's voxels; 0 (default): the process's
                                      (see Limits above); < 0 is INVALID_ARGUMENT          */
    int64_t max_bytes;             /* cap on the call's memory estimate (the pipeline's
                                      buffers, per voxel of the grid, and the network's
                                      activations, 72 * width bytes per window voxel; the
                                      input files too in cmf_segment_files); 0 (default):
                                      the process's; < 0 is INVALID_ARGUMENT               */
    int32_t precision;             /* a cmf_precision: the convolutions' arithmetic; default
                                      CMF_PRECISION_F32; other values are INVALID_ARGUMENT */
    int32_t windows;               /* a cmf_windows: how windows cover the brain; default
                                      CMF_WINDOWS_GRID; other values are INVALID_ARGUMENT  */
    int64_t reserved[7];           /* zero; later fields take its place                     */
} cmf_segment_params;

/* The defaults listed above (struct_size set). */
CMF_API cmf_segment_params cmf_segment_default_params(void);

/* What a segmentation did. Set struct_size = sizeof(cmf_segment_info) before the call (the
 * struct_size rule above). */
typedef struct cmf_segment_info {
    uint32_t struct_size;          /* set by the caller                                     */
    int32_t route;                 /* a cmf_route                                           */
    uint32_t modalities_used;      /* CMF_MODALITY_* bits the network read                  */
    int32_t class_count;           /* classes (= probability volumes)                       */
    char summary[80];              /* one line, NUL-terminated, e.g. "cmfseg 0.1.0: CMFF
                                      branch net_1 alone (t2+flair; t1+t1ce unavailable)";
                                      also written to the NIfTI descrip field              */
} cmf_segment_info;

/* Segments one case.
 * t1, t1ce, t2, flair: the images, all on one voxel grid; NULL for both images of a
 *   missing pair (a pair with one image only is INVALID_ARGUMENT).
 * params: NULL for the defaults.
 * labels_out: receives a new volume on the input grid and geometry, voxel values the
 *   label values (0, 1 NCR, 2 ED, 4 ET by default, or the model's class_values metadata);
 *   write it with cmf_volume_write(..., CMF_DTYPE_UINT8).
 * probabilities_out: NULL, or an array of cmf_model_class_count(model) pointers receiving
 *   one new volume per network class (internal order: background, edema, NCR/NET, ET),
 *   before post-processing; background has probability 1 outside the brain box.
 * info_out: NULL, or filled (up to its struct_size) on success.
 * Every returned volume belongs to the caller (cmf_volume_free). On failure nothing is
 * returned. Runs on the calling thread (the network's threads: params->threads).
 * Errors: INVALID_ARGUMENT (NULL model/labels_out, half pair, no pair, bad params,
 * NaN/Inf voxels unless nonfinite_to_zero, empty or constant images), SHAPE (images on
 * different grids), ABORTED (progress returned 0 or *cancel was set), OUT_OF_MEMORY. */
CMF_API CMF_NODISCARD cmf_status cmf_segment(const cmf_model *model,
                                             const cmf_volume *t1, const cmf_volume *t1ce,
                                             const cmf_volume *t2, const cmf_volume *flair,
                                             const cmf_segment_params *params,
                                             cmf_volume **labels_out,
                                             cmf_volume **probabilities_out,
                                             cmf_segment_info *info_out);

/* Reads the images (NIfTI paths; NULL for both of a missing pair), segments them as
 * cmf_segment and writes the uint8 label map to labels_path with the input's geometry and
 * the summary in its descrip field; with probabilities_path non-NULL also a 4-D float32
 * NIfTI (nx, ny, nz, classes). Outputs are checked before the computation (names end in
 * .nii or .nii.gz, directory exists and is writable, not an input file) and written
 * atomically, each file by temporary file + rename: on any reported failure no output file
 * exists (an existing one is left unchanged). A process killed between the two renames
 * keeps the new label map beside the previous probabilities (or none).
 * Errors: as cmf_segment, plus IO and FORMAT for the files. */
CMF_API CMF_NODISCARD cmf_status cmf_segment_files(const cmf_model *model,
                                                   const char *t1_path, const char *t1ce_path,
                                                   const char *t2_path, const char *flair_path,
                                                   const char *labels_path,
                                                   const char *probabilities_path,
                                                   const cmf_segment_params *params,
                                                   cmf_segment_info *info_out);

/* ------------------------------------------------------------------------------------ */
/* Reports                                                                              */
/* ------------------------------------------------------------------------------------ */

typedef struct cmf_report_params {
    uint32_t struct_size;          /* sizeof(cmf_report_params), set by the defaults         */
    cmf_label_convention labels;   /* default CMF_LABELS_BRATS2018                           */
    const char *const *weights;    /* NULL, or weight_count safetensors paths: the model that
                                      made the segmentation, whose provenance (metadata) the
                                      page lists                                            */
    size_t weight_count;           /* default 0                                              */
    int32_t threads;               /* OpenMP threads of the scoring; <= 0: the default       */
    int64_t reserved[8];           /* zero; later fields take its place                      */
} cmf_report_params;

/* The defaults above (struct_size set). */
CMF_API cmf_report_params cmf_report_default_params(void);

/* Writes a one-page visual report of a segmented case to out_path (.html): one
 * self-contained HTML file (CSS inline, PNG images as data: URIs, no script, nothing
 * fetched) with axial, coronal and sagittal slices through the centre of mass of the whole
 * tumour (of the reference, else of the segmentation, else the middle of the grid, as the
 * page says) showing T1, T1ce, T2, FLAIR and FLAIR with the labels (NCR/NET red, edema
 * green, ET yellow; the reference beside the segmentation), the BraTS scores of
 * cmf_evaluate_files when ref_path is given, the volumes of every label and region in cm^3,
 * the model's metadata when params->weights is given, and timings.
 * case_dir: a case folder, NAME_{t1,t1ce,t2,flair}.nii[.gz] (or the BraTS 2023 names).
 * ref_path: NULL, or the reference label map. params: NULL for the defaults.
 * The output is written atomically: on any failure no file appears (an existing one is left
 * unchanged). Errors: INVALID_ARGUMENT (NULL or empty paths, out_path not .html/.htm or one
 * of the inputs, a label outside the convention — the message names the file, voxel and
 * value, bad params), IO (missing contrast or file, unwritable output), FORMAT, SHAPE (the
 * images, segmentation and reference not on one grid), and the errors of cmf_model_load. */
CMF_API CMF_NODISCARD cmf_status cmf_write_report(const char *case_dir, const char *seg_path,
                                                  const char *ref_path, const char *out_path,
                                                  const cmf_report_params *params);

#ifdef __cplusplus
}
#endif

#endif /* CMFSEG_H */
