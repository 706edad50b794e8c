/* Tests of the evaluation API (cmf_evaluate_*) as a C user sees it.
 * Expected numbers are those of Tests/Fixtures/eval_expected.json (MedPy 0.5.2 and panoptica
 * 2.1.7, see Tests/Scripts/make_eval_expected.py) for the real pair step0200.
 * Usage: cmfseg_evaluate_test FIXTURES_DIR */
#include "check.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>


static void test_files(const char *fixtures) {
    char ref[4096], pred[4096];
    snprintf(ref, sizeof ref, "%s/brats-labels/step0200_ref.nii.gz", fixtures);
    snprintf(pred, sizeof pred, "%s/brats-labels/step0200_pred.nii.gz", fixtures);
    cmf_eval_params p = cmf_eval_default_params();
    p.threads = 2;
    cmf_eval_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    cmf_status s = cmf_evaluate_files(ref, pred, &p, &r);
    CHECK(s == CMF_OK, "%s", cmf_last_error_message());
    if (s != CMF_OK) return;
    static const double dice[3] = {0.0035286791669549575, 0.002661646451753287, 0.37723424270931327};
    static const double hd95[3] = {129.55963872459287, 132.34651484215576, 38.4382473459079};
    static const double assd[3] = {62.43286169235012, 63.660573689597186, 8.586064322192781};
    static const int64_t tp[3] = {1, 1, 1}, fp[3] = {8, 7, 3}, fn[3] = {2, 1, 0};
    for (int k = 0; k < CMF_REGION_COUNT; k++) {
        const cmf_region_metrics *m = &r.regions[k];
        CHECK(fabs(m->dice - dice[k]) <= 1e-9, "region %d dice %.17g", k, m->dice);
        CHECK(fabs(m->hd95 - hd95[k]) <= 1e-6, "region %d hd95 %.17g", k, m->hd95);
        CHECK(fabs(m->assd - assd[k]) <= 1e-9, "region %d assd %.17g", k, m->assd);
        CHECK(m->lesion.tp == tp[k] && m->lesion.fp == fp[k] && m->lesion.fn == fn[k],
              "region %d lesions %lld/%lld/%lld", k, (long long)m->lesion.tp,
              (long long)m->lesion.fp, (long long)m->lesion.fn);
    }
}

static void test_memory_and_errors(void) {
    uint8_t ref[3 * 3 * 3] = {0}, pred[3 * 3 * 3] = {0};
    const double spacing[3] = {1.0, 1.0, 2.0};
    cmf_eval_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    ref[13] = 4; /* centre voxel, enhancing tumour */
    pred[13] = 4;
    pred[14] = 2;
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, spacing, NULL, &r) == CMF_OK, "%s",
          cmf_last_error_message());
    CHECK(r.regions[CMF_REGION_ET].dice == 1.0, "ET dice %g", r.regions[CMF_REGION_ET].dice);
    CHECK(fabs(r.regions[CMF_REGION_WT].dice - 2.0 / 3.0) < 1e-15, "WT dice %g", r.regions[CMF_REGION_WT].dice);
    /* pooled border distances {0, 0, 1}: numpy.percentile(..., 95) = 0.8999999999999999 */
    CHECK(fabs(r.regions[CMF_REGION_WT].hd95 - 0.9) < 1e-12, "WT hd95 %.17g", r.regions[CMF_REGION_WT].hd95);
    CHECK(r.regions[CMF_REGION_WT].volume_pred_mm3 == 4.0, "WT volume %g", r.regions[CMF_REGION_WT].volume_pred_mm3);

    ref[0] = 3; /* not a BraTS 2018 label */
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, spacing, NULL, &r) == CMF_ERR_INVALID_ARGUMENT, "label 3");
    CHECK(strstr(cmf_last_error_message(), "label 3") != NULL, "%s", cmf_last_error_message());
    cmf_eval_params p = cmf_eval_default_params();
    p.labels = CMF_LABELS_BRATS2023;
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, spacing, &p, &r) == CMF_ERR_INVALID_ARGUMENT,
          "label 4 under BraTS 2023");
    CHECK(cmf_evaluate_labels(NULL, pred, 3, 3, 3, spacing, NULL, &r) == CMF_ERR_INVALID_ARGUMENT, "NULL ref");
    const double bad[3] = {1.0, 0.0, 1.0};
    ref[0] = 0;
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, bad, NULL, &r) == CMF_ERR_INVALID_ARGUMENT, "spacing 0");
    r.struct_size = 2;
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, spacing, NULL, &r) == CMF_ERR_INVALID_ARGUMENT, "struct_size");
    /* an older, shorter struct (up to WT): WT written, the bytes after it untouched */
    r.struct_size = (uint32_t)(offsetof(cmf_eval_result, regions) + sizeof(cmf_region_metrics));
    r.regions[CMF_REGION_TC].dice = -7.0;
    CHECK(cmf_evaluate_labels(ref, pred, 3, 3, 3, spacing, NULL, &r) == CMF_OK, "%s", cmf_last_error_message());
    CHECK(r.regions[CMF_REGION_TC].dice == -7.0, "older struct: TC written beyond struct_size");
    CHECK(r.regions[CMF_REGION_WT].dice >= 0.0, "older struct: WT not written");
    r.struct_size = sizeof r;
    CHECK(cmf_evaluate_files("/nonexistent.nii.gz", "/nonexistent.nii.gz", NULL, &r) == CMF_ERR_IO, "missing file");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    test_files(argv[1]);
    test_memory_and_errors();
    return check_summary("evaluation C API tests");
}
