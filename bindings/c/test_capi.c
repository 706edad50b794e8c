/* Tests of the C API as a C user sees it: argument checks, error reporting, ownership.
 * Usage: cmfseg_capi_test FIXTURES_DIR */
#include <cmfseg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,    \
                    __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
            failures++;                                               \
        }                                                             \
    } while (0)

static void test_version(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", CMF_VERSION_MAJOR, CMF_VERSION_MINOR,
             CMF_VERSION_PATCH);
    CHECK(strcmp(cmf_version(), expected) == 0, "version %s", cmf_version());
    CHECK(cmf_abi_version() == CMF_ABI_VERSION, "abi %u", cmf_abi_version());
    CHECK(strcmp(cmf_status_string(CMF_ERR_IO), "I/O error") == 0, "%s", cmf_status_string(CMF_ERR_IO));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    test_version();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("C API tests passed\n");
    return 0;
}
