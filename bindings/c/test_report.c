/* The report API as a C user sees it: write a small case folder (four contrasts) and a label
 * map with cmf_volume_write, then cmf_write_report with the map as its own reference and the
 * M2G fixture weights as the model: one HTML file with the images inside, the scores and the
 * model's metadata; a refused call leaves no file.
 * Usage: cmfseg_report_test FIXTURES_DIR SCRATCH_DIR */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


enum { NX = 24, NY = 20, NZ = 16 };

static void write_volume(const float *data, const char *path, cmf_dtype dtype) {
    const double spacing[3] = {1, 1, 1};
    cmf_volume *v = NULL;
    CHECK(cmf_volume_create(NX, NY, NZ, spacing, data, &v) == CMF_OK, "create %s", path);
    CHECK(cmf_volume_write(v, path, dtype) == CMF_OK, "write %s", path);
    cmf_volume_free(v);
}

/* The file's bytes, NUL-terminated (NULL when it cannot be read). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = 0;
    fclose(f);
    return text;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    char dir[2048], folder[3072], path[4096], seg[4096], out[4096];
    snprintf(dir, sizeof dir, "%s/report", argv[2]);
    snprintf(folder, sizeof folder, "%s/case", dir);
    mkdir(dir, 0755);
    mkdir(folder, 0755);

    static float image[NX * NY * NZ], labels[NX * NY * NZ];
    const char *names[4] = {"t1", "t1ce", "t2", "flair"};
    for (int m = 0; m < 4; m++) {
        for (int i = 0; i < NX * NY * NZ; i++) image[i] = (float)(50 + 10 * m + i % NX + (i / NX) % NY);
        snprintf(path, sizeof path, "%s/case_%s.nii.gz", folder, names[m]);
        write_volume(image, path, CMF_DTYPE_FLOAT32);
    }
    for (int z = 5; z < 11; z++)
        for (int y = 6; y < 13; y++)
            for (int x = 9; x < 17; x++) labels[x + NX * (y + NY * z)] = x < 12 ? 4.0f : 2.0f;
    snprintf(seg, sizeof seg, "%s/seg.nii.gz", dir);
    write_volume(labels, seg, CMF_DTYPE_UINT8);

    char weights[3][4096];
    const char *parts[3] = {"net0", "net1", "fusion"}, *list[3];
    for (int i = 0; i < 3; i++) {
        snprintf(weights[i], sizeof weights[i], "%s/pytorch/m2g_rand_%s.safetensors", argv[1], parts[i]);
        list[i] = weights[i];
    }
    cmf_report_params p = cmf_report_default_params();
    p.weights = list;
    p.weight_count = 3;
    snprintf(out, sizeof out, "%s/report.html", dir);
    remove(out);
    CHECK(cmf_write_report(folder, seg, seg, out, &p) == CMF_OK, "report");
    char *html = slurp(out);
    CHECK(html != NULL, "read %s", out);
    if (html) {
        CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0, "an HTML page");
        CHECK(count(html, "src=\"data:image/png;base64,") == 3, "three inline images");
        CHECK(strstr(html, "id=\"scores\"") && strstr(html, "cmff-m2g from"), "scores and the model");
        CHECK(!strstr(html, "http:") && !strstr(html, "https:"), "nothing fetched");
        free(html);
    }

    /* refusals: a wrong name, a missing contrast; no file either time */
    snprintf(path, sizeof path, "%s/report.png", dir);
    CHECK(cmf_write_report(folder, seg, NULL, path, NULL) == CMF_ERR_INVALID_ARGUMENT, "not .html");
    snprintf(path, sizeof path, "%s/again.html", dir);
    CHECK(cmf_write_report(dir, seg, NULL, path, NULL) == CMF_ERR_IO, "no contrasts in %s", dir);
    struct stat st;
    CHECK(stat(path, &st) != 0, "no file after a failure");
    return check_summary("report_capi");
}
