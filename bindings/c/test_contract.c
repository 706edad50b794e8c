/* The C contract, entry point by entry point: every pointer argument NULL, zero and negative
 * sizes, struct_size below the field, below the struct, and above it (a newer caller), a
 * model or volume freed once and NULL freed any number of times. Each must give its
 * documented status (never a crash) and leave out-parameters untouched on failure.
 * Usage: cmfseg_contract_test FIXTURES_DIR */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INVALID CMF_ERR_INVALID_ARGUMENT

static cmf_volume *sentinel_volume(void) { return (cmf_volume *)(uintptr_t)0x1; }
static cmf_model *sentinel_model(void) { return (cmf_model *)(uintptr_t)0x1; }

static void library_queries(void) {
    CHECK(cmf_version() != NULL && cmf_abi_version() == CMF_ABI_VERSION, "version");
    for (int s = -1; s <= 9; s++) CHECK(cmf_status_string((cmf_status)s) != NULL, "status %d", s);
    CHECK(cmf_last_error_message() != NULL, "last error is never NULL");
    cmf_set_log_callback(NULL, NULL);
}

static void volumes(const char *fixtures) {
    cmf_volume *v = sentinel_volume();
    char path[4096];
    snprintf(path, sizeof path, "%s/brats-labels/step0200_ref.nii.gz", fixtures);
    CHECK(cmf_volume_read(NULL, &v) == INVALID && v == sentinel_volume(), "read NULL path");
    CHECK(cmf_volume_read("", &v) == INVALID && v == sentinel_volume(), "read empty path");
    CHECK(cmf_volume_read(path, NULL) == INVALID, "read NULL out");

    const double sp[3] = {1, 1, 1}, zero_sp[3] = {0, 1, 1};
    CHECK(cmf_volume_create(2, 2, 2, NULL, NULL, &v) == INVALID && v == sentinel_volume(), "create NULL spacing");
    CHECK(cmf_volume_create(2, 2, 2, sp, NULL, NULL) == INVALID, "create NULL out");
    CHECK(cmf_volume_create(0, 2, 2, sp, NULL, &v) == INVALID, "create nx 0");
    CHECK(cmf_volume_create(2, -1, 2, sp, NULL, &v) == INVALID, "create ny < 0");
    CHECK(cmf_volume_create(2, 2, 2, zero_sp, NULL, &v) == INVALID, "create spacing 0");
    CHECK(cmf_volume_create(INT64_MAX, INT64_MAX, 2, sp, NULL, &v) == CMF_ERR_OUT_OF_MEMORY, "create overflow");
    CHECK(v == sentinel_volume(), "out untouched on failure");

    cmf_volume *good = NULL;
    CHECK(cmf_volume_create(2, 3, 4, sp, NULL, &good) == CMF_OK && good != NULL, "create");
    int64_t dims[3];
    double spacing[3], affine[16];
    CHECK(cmf_volume_dims(NULL, dims) == INVALID && cmf_volume_dims(good, NULL) == INVALID, "dims NULL");
    CHECK(cmf_volume_spacing(NULL, spacing) == INVALID && cmf_volume_spacing(good, NULL) == INVALID, "spacing NULL");
    CHECK(cmf_volume_affine(NULL, affine) == INVALID && cmf_volume_affine(good, NULL) == INVALID, "affine NULL");
    CHECK(cmf_volume_data(NULL) == NULL && cmf_volume_data(good) != NULL, "data");
    CHECK(cmf_volume_write(NULL, "x.nii", CMF_DTYPE_FLOAT32) == INVALID, "write NULL volume");
    CHECK(cmf_volume_write(good, NULL, CMF_DTYPE_FLOAT32) == INVALID, "write NULL path");
    CHECK(cmf_volume_write(good, "x.nii", (cmf_dtype)7) == INVALID, "write unknown dtype");
    cmf_volume_free(good);
    cmf_volume_free(NULL);
    cmf_volume_free(NULL);
}

static void evaluation(const char *fixtures) {
    uint8_t a[8] = {0, 1, 2, 4, 0, 0, 0, 0};
    const double sp[3] = {1, 1, 1};
    cmf_eval_result r;
    memset(&r, 0x5a, sizeof r);
    r.struct_size = sizeof r;
    cmf_eval_result untouched = r;
    CHECK(cmf_evaluate_labels(NULL, a, 2, 2, 2, sp, NULL, &r) == INVALID, "ref NULL");
    CHECK(cmf_evaluate_labels(a, NULL, 2, 2, 2, sp, NULL, &r) == INVALID, "pred NULL");
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, NULL, NULL, &r) == INVALID, "spacing NULL");
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, NULL, NULL) == INVALID, "result NULL");
    CHECK(cmf_evaluate_labels(a, a, 0, 2, 2, sp, NULL, &r) == INVALID, "nx 0");
    CHECK(memcmp(&r, &untouched, sizeof r) == 0, "result untouched on failure");

    cmf_eval_params p = cmf_eval_default_params();
    p.struct_size = 2;   /* less than the field itself */
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, &p, &r) == INVALID, "params struct_size 2");
    p.struct_size = sizeof(uint32_t);   /* only the size: every setting keeps its default */
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, &p, &r) == CMF_OK, "params struct_size 4");
    struct { cmf_eval_params p; char newer[64]; } longer;   /* a caller built against a newer, longer struct */
    memset(&longer, 0, sizeof longer);
    longer.p = cmf_eval_default_params();
    longer.p.struct_size = sizeof longer;
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, &longer.p, &r) == CMF_OK, "params longer than ours");
    p = cmf_eval_default_params();
    p.reserved[5] = 1;   /* reserved space must stay zero */
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, &p, &r) == INVALID, "reserved not zero");
    r.struct_size = 3;
    CHECK(cmf_evaluate_labels(a, a, 2, 2, 2, sp, NULL, &r) == INVALID, "result struct_size 3");

    char ref[4096];
    snprintf(ref, sizeof ref, "%s/brats-labels/step0200_ref.nii.gz", fixtures);
    r.struct_size = sizeof r;
    CHECK(cmf_evaluate_files(NULL, ref, NULL, &r) == INVALID, "files ref NULL");
    CHECK(cmf_evaluate_files(ref, NULL, NULL, &r) == INVALID, "files pred NULL");
    CHECK(cmf_evaluate_files(ref, ref, NULL, NULL) == INVALID, "files result NULL");
    CHECK(cmf_evaluate_files(ref, "/nonexistent.nii.gz", NULL, &r) == CMF_ERR_IO, "files missing");
}

static void models(const char *fixtures) {
    cmf_model *m = sentinel_model();
    const char *none[1] = {NULL};
    CHECK(cmf_model_load(NULL, 1, &m) == INVALID && m == sentinel_model(), "load NULL paths");
    CHECK(cmf_model_load(none, 1, &m) == INVALID && m == sentinel_model(), "load NULL path");
    CHECK(cmf_model_load(none, 0, &m) == INVALID, "load n 0");
    CHECK(cmf_model_load_default(NULL) == INVALID, "default NULL out");
    CHECK(cmf_model_architecture(NULL) == NULL && cmf_model_class_count(NULL) == 0, "model queries NULL");
    CHECK(cmf_model_metadata_count(NULL) == 0 && cmf_model_metadata_key(NULL, 0) == NULL, "metadata NULL");
    CHECK(cmf_model_metadata(NULL, "architecture") == NULL, "metadata NULL model");
    CHECK(cmf_model_note_count(NULL) == 0 && cmf_model_note(NULL, 0) == NULL, "notes NULL");

    char parts[3][4096];
    const char *paths[3];
    for (int i = 0; i < 3; i++) {
        snprintf(parts[i], sizeof parts[i], "%s/pytorch/m2g_rand_%s.safetensors", fixtures,
                 i == 0 ? "net0" : i == 1 ? "net1" : "fusion");
        paths[i] = parts[i];
    }
    cmf_model *model = NULL;
    CHECK(cmf_model_load(paths, 3, &model) == CMF_OK, "load fixture");
    CHECK(cmf_model_metadata(model, NULL) == NULL, "metadata NULL key");
    CHECK(cmf_model_metadata_key(model, cmf_model_metadata_count(model)) == NULL, "key past the end");
    CHECK(cmf_model_note(model, (size_t)-1) == NULL, "note past the end");

    const double sp[3] = {1, 1, 1};
    cmf_volume *v[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        float data[16 * 16 * 16];
        for (int k = 0; k < 16 * 16 * 16; k++) data[k] = (float)((k * (i + 3)) % 17);
        CHECK(cmf_volume_create(16, 16, 16, sp, data, &v[i]) == CMF_OK, "volume %d", i);
    }
    cmf_volume *labels = sentinel_volume();
    cmf_segment_params p = cmf_segment_default_params();
    p.patch[0] = p.patch[1] = p.patch[2] = 16;
    CHECK(cmf_segment(NULL, v[0], v[1], v[2], v[3], &p, &labels, NULL, NULL) == INVALID, "segment NULL model");
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, NULL, NULL, NULL) == INVALID, "segment NULL out");
    CHECK(cmf_segment(model, NULL, NULL, NULL, NULL, &p, &labels, NULL, NULL) == INVALID, "segment no images");
    CHECK(cmf_segment(model, v[0], NULL, v[2], v[3], &p, &labels, NULL, NULL) == INVALID, "segment half a pair");
    p.struct_size = 1;
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, &labels, NULL, NULL) == INVALID, "params struct_size 1");
    CHECK(labels == sentinel_volume(), "labels untouched on failure");
    p = cmf_segment_default_params();
    p.patch[0] = p.patch[1] = p.patch[2] = 262144;   /* the memory estimate must not overflow */
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, &labels, NULL, NULL) == INVALID, "huge patch");
    p.patch[0] = p.patch[1] = p.patch[2] = 16;
    p.threads = INT32_MAX;   /* more threads than any machine: capped by OpenMP, not a crash */
    p.max_voxels = 1;        /* ... and refused by the limits before any work */
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, &labels, NULL, NULL) == CMF_ERR_OUT_OF_MEMORY, "limits");
    p = cmf_segment_default_params();
    p.reserved[0] = -1;
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, &labels, NULL, NULL) == INVALID, "segment reserved not zero");
    cmf_segment_info info;
    info.struct_size = 2;
    p = cmf_segment_default_params();
    p.patch[0] = p.patch[1] = p.patch[2] = 16;
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &p, &labels, NULL, &info) == INVALID, "info struct_size 2");
    CHECK(cmf_segment_files(NULL, "a", "b", "c", "d", "out.nii.gz", NULL, &p, NULL) == INVALID, "files NULL model");
    CHECK(cmf_segment_files(model, "a", "b", "c", "d", NULL, NULL, &p, NULL) == INVALID, "files NULL labels path");
    CHECK(cmf_segment_files(model, NULL, NULL, NULL, NULL, "out.nii.gz", NULL, &p, NULL) == INVALID, "files no images");

    for (int i = 0; i < 4; i++) cmf_volume_free(v[i]);
    cmf_model_free(model);
    cmf_model_free(NULL);
    cmf_model_free(NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    library_queries();
    volumes(argv[1]);
    evaluation(argv[1]);
    models(argv[1]);
    return check_summary("C contract");
}
