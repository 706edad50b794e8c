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
 *     cmf_eval_result r;
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
 * - Params structs start with `uint32_t struct_size`; obtain them from their
 *   *_default_params() function, then change fields. The library reads only the first
 *   struct_size bytes, so callers built against an older header keep working.
 * - Threads: every function may be called from any thread. A cmf_model and a cmf_volume
 *   are immutable after creation and may be shared by threads; a call that writes a
 *   handle's out-parameter or frees it must not race with other use of that handle.
 * - No function aborts the process on bad input: NULL pointers, malformed files, wrong
 *   shapes, NaNs and out-of-range values are reported as errors.
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
    CMF_ERR_FORMAT = 3,           /* malformed NIfTI or safetensors, unsupported dtype  */
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
 * Errors: INVALID_ARGUMENT (NULL out, dims < 1, spacing <= 0), OUT_OF_MEMORY. */
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
/* (declared by the evaluation issue) */

/* ------------------------------------------------------------------------------------ */
/* Models and segmentation                                                              */
/* ------------------------------------------------------------------------------------ */
/* (declared by the segmentation issue) */

#ifdef __cplusplus
}
#endif

#endif /* CMFSEG_H */
