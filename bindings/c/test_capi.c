/* Tests of the C API as a C user sees it: argument checks, error reporting, ownership.
 * Usage: cmfseg_capi_test FIXTURES_DIR */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_version(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", CMF_VERSION_MAJOR, CMF_VERSION_MINOR,
             CMF_VERSION_PATCH);
    CHECK(strcmp(cmf_version(), expected) == 0, "version %s", cmf_version());
    CHECK(cmf_abi_version() == CMF_ABI_VERSION, "abi %u", cmf_abi_version());
    CHECK(strcmp(cmf_status_string(CMF_ERR_IO), "I/O error") == 0, "%s", cmf_status_string(CMF_ERR_IO));
}

/* NULL arguments and bad files are errors with a message, never a crash. */
static void test_errors(const char *fixtures) {
    cmf_volume *v = NULL;
    CHECK(cmf_volume_read(NULL, &v) == CMF_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK(strlen(cmf_last_error_message()) > 0, "a message is left");
    CHECK(cmf_volume_read("/nonexistent/x.nii.gz", &v) == CMF_ERR_IO, "missing file");
    CHECK(strstr(cmf_last_error_message(), "/nonexistent/x.nii.gz") != NULL, "names the file");
    CHECK(v == NULL, "out-parameter untouched on failure");
    char path[4096];
    snprintf(path, sizeof path, "%s/eval_expected.json", fixtures);
    CHECK(cmf_volume_read(path, &v) == CMF_ERR_FORMAT, "not NIfTI: %s", path);
    CHECK(cmf_volume_dims(NULL, NULL) == CMF_ERR_INVALID_ARGUMENT, "NULL volume");
    CHECK(cmf_volume_data(NULL) == NULL, "NULL data");
    cmf_volume_free(NULL);
}

/* A volume made from caller memory keeps its voxels, order and spacing through a file. */
static void test_round_trip(void) {
    float voxels[4 * 3 * 2];
    for (int i = 0; i < 24; i++) voxels[i] = (float)i;
    const double spacing[3] = {1.5, 2.0, 2.5};
    cmf_volume *v = NULL, *back = NULL;
    CHECK(cmf_volume_create(4, 3, 2, spacing, voxels, &v) == CMF_OK, "create");
    char path[] = "/tmp/cmfseg_capi_test_XXXXXX";
    CHECK(mkdtemp(path) != NULL, "temp dir");
    char file[sizeof path + 16];
    snprintf(file, sizeof file, "%s/v.nii.gz", path);
    CHECK(cmf_volume_write(v, file, CMF_DTYPE_FLOAT32) == CMF_OK, "write");
    CHECK(cmf_volume_read(file, &back) == CMF_OK, "read back");
    int64_t dims[3] = {0, 0, 0};
    double s[3] = {0, 0, 0};
    CHECK(cmf_volume_dims(back, dims) == CMF_OK && dims[0] == 4 && dims[1] == 3 && dims[2] == 2,
          "dims %lld %lld %lld", (long long)dims[0], (long long)dims[1], (long long)dims[2]);
    CHECK(cmf_volume_spacing(back, s) == CMF_OK && s[0] == 1.5 && s[1] == 2.0 && s[2] == 2.5, "spacing");
    const float *data = cmf_volume_data(back);
    CHECK(data != NULL && memcmp(data, voxels, sizeof voxels) == 0, "voxels in x-fastest order");
    CHECK(cmf_volume_write(v, file, CMF_DTYPE_UINT8) == CMF_OK, "integers 0..23 fit uint8");
    voxels[5] = 2.5f;
    cmf_volume *fractional = NULL;
    CHECK(cmf_volume_create(4, 3, 2, spacing, voxels, &fractional) == CMF_OK, "create");
    CHECK(cmf_volume_write(fractional, file, CMF_DTYPE_UINT8) == CMF_ERR_INVALID_ARGUMENT, "2.5 is no label");
    cmf_volume_free(fractional);
    cmf_volume_free(back);
    cmf_volume_free(v);
    remove(file);
    rmdir(path);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    test_version();
    test_errors(argv[1]);
    test_round_trip();
    return check_summary("C API tests");
}
