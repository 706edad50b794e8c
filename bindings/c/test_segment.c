/* The segmentation API as a C user sees it: load the M2G fixture weights (random, so this
 * checks mechanics, not accuracy), segment a small synthetic case with all four modalities
 * and with one pair, report progress, cancel from the progress callback through the
 * cancel flag, and write files atomically.
 * Usage: cmfseg_segment_test FIXTURES_DIR SCRATCH_DIR */
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


enum { NX = 40, NY = 36, NZ = 34 };

static cmf_volume *synthetic(int m) {
    static float data[NX * NY * NZ];
    for (int z = 0; z < NZ; z++)
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                double bx = (x - NX / 2.0) / (0.45 * NX), by = (y - NY / 2.0) / (0.45 * NY),
                       bz = (z - NZ / 2.0) / (0.45 * NZ);
                int inside = bx * bx + by * by + bz * bz <= 1;
                data[x + NX * (y + NY * z)] =
                    inside ? (float)(100 + 10 * m + 15 * sin(x * (m + 2) / 5.0) + 10 * cos((y + z) / 4.0)) : 0.0f;
            }
    const double spacing[3] = {1, 1, 1};
    cmf_volume *v = NULL;
    CHECK(cmf_volume_create(NX, NY, NZ, spacing, data, &v) == CMF_OK, "create");
    return v;
}

struct progress_state {
    int calls;
    float last;
    int monotone;
    volatile int32_t cancel; /* set from the callback to test the flag */
    int cancel_after;
};

static int on_progress(float p, void *user) {
    struct progress_state *s = user;
    if (p < s->last) s->monotone = 0;
    s->last = p;
    s->calls++;
    if (s->cancel_after > 0 && s->calls >= s->cancel_after) s->cancel = 1;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    char paths[3][4096];
    const char *parts[3] = {"net0", "net1", "fusion"};
    const char *ptrs[3];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/pytorch/m2g_rand_%s.safetensors", argv[1], parts[i]);
        ptrs[i] = paths[i];
    }
    cmf_model *model = NULL;
    CHECK(cmf_model_load(ptrs, 3, &model) == CMF_OK, "load");
    if (!model) return 1;
    CHECK(strcmp(cmf_model_architecture(model), "cmff-m2g") == 0, "%s", cmf_model_architecture(model));
    CHECK(cmf_model_class_count(model) == 4, "classes");

    /* the bundled default model: found beside the library or in its source tree */
    cmf_model *bundled = NULL;
    CHECK(cmf_model_load_default(&bundled) == CMF_OK && bundled != NULL, "default model: %s", cmf_last_error_message());
    CHECK(bundled && strcmp(cmf_model_architecture(bundled), "cmff-m2g") == 0, "default model architecture");
    CHECK(bundled && cmf_model_metadata(bundled, "training_command") != NULL, "default model provenance");
    CHECK(bundled && cmf_model_metadata_count(bundled) > 10, "default model metadata");
    cmf_model_free(bundled);

    cmf_volume *v[4];
    for (int m = 0; m < 4; m++) v[m] = synthetic(m);

    cmf_segment_params sp = cmf_segment_default_params();
    sp.patch[0] = sp.patch[1] = sp.patch[2] = 32;
    struct progress_state st = {0, 0.0f, 1, 0, 0};
    sp.progress = on_progress;
    sp.user_data = &st;
    cmf_volume *labels = NULL, *probs[4] = {NULL, NULL, NULL, NULL};
    cmf_segment_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &sp, &labels, probs, &info) == CMF_OK, "segment");
    CHECK(st.monotone && st.calls > 2 && st.last == 1.0f, "progress calls %d last %f", st.calls, st.last);
    CHECK(info.route == CMF_ROUTE_FUSED && info.class_count == 4, "route %d", info.route);
    int64_t dims[3];
    CHECK(cmf_volume_dims(labels, dims) == CMF_OK && dims[0] == NX && dims[1] == NY && dims[2] == NZ, "dims");
    const float *l = cmf_volume_data(labels);
    for (int64_t i = 0; i < (int64_t)NX * NY * NZ; i++) {
        float sum = 0;
        for (int c = 0; c < 4; c++) sum += cmf_volume_data(probs[c])[i];
        if (fabsf(sum - 1) > 1e-4f || !(l[i] == 0 || l[i] == 1 || l[i] == 2 || l[i] == 4)) {
            CHECK(0, "voxel %lld: label %f, probability sum %f", (long long)i, l[i], sum);
            break;
        }
    }

    /* One pair: the T2/FLAIR branch alone. */
    cmf_volume *labels_b = NULL;
    CHECK(cmf_segment(model, NULL, NULL, v[2], v[3], &sp, &labels_b, NULL, &info) == CMF_OK, "pair B");
    CHECK(info.route == CMF_ROUTE_BRANCH_B && info.modalities_used == (CMF_MODALITY_T2 | CMF_MODALITY_FLAIR),
          "route %d modalities %u", info.route, info.modalities_used);
    CHECK(strstr(info.summary, "unavailable") != NULL, "%s", info.summary);

    /* Cancel through the flag, set by the second progress call. */
    struct progress_state cs = {0, 0.0f, 1, 0, 2};
    cmf_segment_params cp = sp;
    cp.user_data = &cs;
    cp.cancel = &cs.cancel;
    cmf_volume *cancelled = NULL;
    CHECK(cmf_segment(model, v[0], v[1], v[2], v[3], &cp, &cancelled, NULL, NULL) == CMF_ERR_ABORTED, "cancel");
    CHECK(cancelled == NULL && cs.last < 1.0f, "nothing returned after cancel");

    /* Files: written atomically; an unwritable output writes nothing. */
    char in[4][4096], out[4096], bad[4096];
    const char *names[4] = {"t1", "t1ce", "t2", "flair"};
    for (int m = 0; m < 4; m++) {
        snprintf(in[m], sizeof in[m], "%s/c_%s.nii.gz", argv[2], names[m]);
        CHECK(cmf_volume_write(v[m], in[m], CMF_DTYPE_FLOAT32) == CMF_OK, "write %s", in[m]);
    }
    snprintf(out, sizeof out, "%s/c_seg.nii.gz", argv[2]);
    snprintf(bad, sizeof bad, "%s/no/such/dir/c_seg.nii.gz", argv[2]);
    sp.progress = NULL;
    CHECK(cmf_segment_files(model, in[0], in[1], in[2], in[3], out, NULL, &sp, NULL) == CMF_OK, "files");
    cmf_volume *back = NULL;
    CHECK(cmf_volume_read(out, &back) == CMF_OK, "read back");
    if (back) CHECK(memcmp(cmf_volume_data(back), l, sizeof(float) * NX * NY * NZ) == 0, "file labels differ");
    CHECK(cmf_segment_files(model, in[0], in[1], in[2], in[3], bad, NULL, &sp, NULL) == CMF_ERR_IO, "bad out");

    cmf_volume_free(back);
    cmf_volume_free(cancelled);
    cmf_volume_free(labels_b);
    cmf_volume_free(labels);
    for (int c = 0; c < 4; c++) cmf_volume_free(probs[c]);
    for (int m = 0; m < 4; m++) cmf_volume_free(v[m]);
    cmf_model_free(model);
    return check_summary("segmentation C API tests");
}
