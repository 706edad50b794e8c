"""The binding's evaluation against values computed by MedPy 0.5.2 and panoptica 2.1.7
(Tests/Fixtures/eval_expected.json, made by Tests/Scripts/make_eval_expected.py)."""
import json

import nibabel as nib
import numpy as np
import pytest

import cmfseg
from conftest import FIXTURES, LABELS, is_close

EXPECTED = json.loads((FIXTURES / "eval_expected.json").read_text())
CASES = sorted(EXPECTED["cases"])[::9]  # a spread of early (poor) and late (good) predictions
TIGHT = ("dice", "sensitivity", "specificity", "volume_ref_mm3", "volume_pred_mm3")


def _check(got, want):
    for region in ("WT", "TC", "ET"):
        for key in TIGHT:
            assert is_close(got[region][key], want[region][key], 1e-9), (region, key)
        for key in ("hd95", "hd"):
            assert is_close(got[region][key], want[region][key], 1e-6), (region, key)
        for key in ("tp", "fp", "fn"):
            assert got[region]["lesion"][key] == want[region]["lesion"][key], (region, key)
        for key in ("rq", "sq_dsc", "pq"):
            assert is_close(got[region]["lesion"][key], want[region]["lesion"][key], 1e-9)


@pytest.mark.parametrize("case", CASES)
def test_files_match_reference_tools(case):
    got = cmfseg.evaluate_files(LABELS / (case + "_ref.nii.gz"), LABELS / (case + "_pred.nii.gz"))
    _check(got, EXPECTED["cases"][case])


def test_threads_evaluating_at_once_equal_serial_runs():
    """ctypes releases the GIL during a call: evaluations overlap and must not interfere."""
    from concurrent.futures import ThreadPoolExecutor
    cases = CASES[:4] * 2
    def run(case):
        return cmfseg.evaluate_files(LABELS / (case + "_ref.nii.gz"), LABELS / (case + "_pred.nii.gz"))
    serial = [run(c) for c in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(run, cases))
    assert json.dumps(parallel, sort_keys=True) == json.dumps(serial, sort_keys=True)


def test_arrays_match_files():
    case = CASES[0]
    ref = np.asarray(nib.load(str(LABELS / (case + "_ref.nii.gz"))).dataobj).transpose(2, 1, 0)
    pred = np.asarray(nib.load(str(LABELS / (case + "_pred.nii.gz"))).dataobj).transpose(2, 1, 0)
    _check(cmfseg.evaluate_arrays(ref, pred), EXPECTED["cases"][case])


def test_unknown_label_is_refused_with_the_value():
    ref = np.zeros((4, 4, 4), np.uint8)
    pred = ref.copy()
    pred[1, 2, 3] = 3
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.evaluate_arrays(ref, pred)
    assert e.value.status == 1
    assert "3" in e.value.message


def test_both_empty_follow_brats_conventions():
    empty = np.zeros((8, 8, 8), np.uint8)
    r = cmfseg.evaluate_arrays(empty, empty)["WT"]
    assert (r["dice"], r["hd95"], r["sensitivity"]) == (1.0, 0.0, 1.0)
