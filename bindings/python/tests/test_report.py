"""cmfseg.report: the page's content and numbers, refusals, and the page as Chromium renders it
(a headless screenshot: a valid PNG, not blank, with the overlay colours in it)."""
import re
import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

import cmfseg
from synthetic_case import AFFINE, NAMES, NX, NY, NZ, WEIGHTS, voxels


def _labels(centre):
    """Edema around NCR around ET (4), a ball of radius 8 voxels centred on `centre` (x, y, z),
    as an (x, y, z) array."""
    x, y, z = np.meshgrid(np.arange(NX), np.arange(NY), np.arange(NZ), indexing="ij")
    r = np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2)
    return np.select([r < 3, r < 5, r < 8], [4, 1, 2], 0).astype(np.uint8)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A case folder `case`, a segmentation and a reference beside it."""
    root = tmp_path_factory.mktemp("report")
    folder = root / "case"
    folder.mkdir()
    for m, name in enumerate(NAMES):
        nib.save(nib.Nifti1Image(voxels(m).transpose(2, 1, 0), AFFINE), str(folder / ("case_%s.nii.gz" % name)))
    seg, ref = root / "seg.nii.gz", root / "ref.nii.gz"
    nib.save(nib.Nifti1Image(_labels((24, 16, 16)), AFFINE), str(seg))
    nib.save(nib.Nifti1Image(_labels((23, 17, 15)), AFFINE), str(ref))
    return folder, seg, ref


def test_page_has_the_evaluators_scores_and_the_models_provenance(case, tmp_path):
    folder, seg, ref = case
    out = cmfseg.report(folder, seg, ref, out=tmp_path / "report.html", weights=WEIGHTS)
    assert out == tmp_path / "report.html"
    html = out.read_text(encoding="utf-8")
    for section in ("slices", "axial", "coronal", "sagittal", "scores", "volumes", "model", "timings"):
        assert 'id="%s"' % section in html
    assert html.count('src="data:image/png;base64,') == 3
    assert not re.search(r"https?:|<script|<link|url\(", html)
    scores = cmfseg.evaluate_files(ref, seg)
    for region in ("WT", "TC", "ET"):
        for key in ("dice", "hd95", "sensitivity", "specificity"):
            assert '<td title="%r">' % scores[region][key] in html, (region, key)
        assert '<td title="%r">' % (scores[region]["volume_pred_mm3"] / 1000) in html
        assert '<td title="%r">' % (scores[region]["volume_ref_mm3"] / 1000) in html
    assert "cmff-m2g from" in html


def test_refusals_raise_and_leave_no_file(case, tmp_path):
    folder, seg, _ = case
    other = tmp_path / "other.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((NX, NY, NZ - 1), np.uint8), AFFINE), str(other))
    out = tmp_path / "report.html"
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.report(folder, seg, other, out=out)
    assert e.value.status == 4 and "other.nii.gz" in e.value.message
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.report(folder, seg, out=out, labels="brats2023")
    assert e.value.status == 1 and "label 4" in e.value.message
    with pytest.raises(ValueError):
        cmfseg.report(folder, seg, out=out, labels="brats1999")
    assert not out.exists()


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is needed to check the report in a browser: apt-get install chromium "
                "(.ci/setup installs it)")


def test_chromium_renders_the_page_with_the_overlays(case, tmp_path):
    folder, seg, ref = case
    page = cmfseg.report(folder, seg, ref, out=tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    run = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--user-data-dir=%s" % (tmp_path / "profile"), "--screenshot=%s" % shot,
                          "--window-size=1200,2000", page.resolve().as_uri()],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and shot.is_file(), run.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = sitk.GetArrayFromImage(sitk.ReadImage(str(shot))).astype(np.int16)
    assert pixels.shape[:2] == (2000, 1200) and pixels.shape[2] in (3, 4)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]

    # not blank: the slices are dark, the page white, the text grey
    assert pixels[..., :3].std() > 40
    assert 0.05 < (r < 40).mean() < 0.6
    # the labels blended into FLAIR (SlicePreview's colours): NCR/NET red, edema green, ET
    # yellow, each far more than the legend's 14 × 14 swatch
    red = (r - g > 80) & (r - b > 80) & (abs(g - b) < 30)
    green = (g - r > 60) & (g - b > 50)
    yellow = (r - b > 80) & (g - b > 80) & (abs(r - g) < 50)
    counts = {"NCR/NET": int(red.sum()), "edema": int(green.sum()), "ET": int(yellow.sum())}
    assert all(n > 1500 for n in counts.values()), counts
