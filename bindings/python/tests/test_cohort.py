"""cmfseg.cohort: pairing and numbers as `cmfseg evaluate --ref-dir --pred-dir` (the CLI's CSV
is the oracle), segmentations as Model.segment_files writes them, the same table on a Dask
LocalCluster as in this process, and failed cases kept as rows."""
import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from dask.distributed import Client, LocalCluster

import cmfseg
from cmfseg import cohort
from conftest import LABELS, PACKAGE_ROOT
from synthetic_case import AFFINE, FAST, NAMES, WEIGHTS, voxels

SETTINGS = dict(FAST, threads=1)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes that import this source tree's package."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), saved]))
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
                Client(cluster) as c:
            yield c
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def _cli_table(cli, ref_dir, pred_dir, csv):
    subprocess.run([str(cli), "evaluate", "--ref-dir", str(ref_dir), "--pred-dir", str(pred_dir),
                    "--csv", str(csv), "--threads", "2"], check=True, capture_output=True)
    return pd.read_csv(csv)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    """Fixture pairs under the names the pairing rule knows, in two folders: suffixes _ref,
    -seg, _gt (with .nii) against _pred, none, -pred; plus files the rule must skip."""
    refs, preds = tmp_path_factory.mktemp("refs"), tmp_path_factory.mktemp("preds")
    for (step, ref, pred) in (("step0200", "a_ref.nii.gz", "a_pred.nii.gz"),
                              ("step9000", "BraTS-GLI-00001-000-seg.nii.gz",
                               "BraTS-GLI-00001-000.nii.gz"),
                              ("step29800", "c_gt.nii", "c-pred.nii")):
        for src, dst in ((LABELS / (step + "_ref.nii.gz"), refs / ref),
                         (LABELS / (step + "_pred.nii.gz"), preds / pred)):
            if dst.suffix == ".nii":
                nib.save(nib.load(str(src)), str(dst))
            else:
                shutil.copy(src, dst)
    shutil.copy(LABELS / "step0200_pred.nii.gz", refs / "a_pred.nii.gz")  # a prediction: skipped
    shutil.copy(LABELS / "step0200_ref.nii.gz", preds / "a_gt.nii.gz")    # a reference: skipped
    shutil.copy(LABELS / "step0200_ref.nii.gz", refs / ".hidden_ref.nii.gz")
    (refs / "notes.txt").write_text("not a label map")
    return refs, preds


def test_pairing_and_numbers_follow_the_cli(cli, renamed, tmp_path):
    want = _cli_table(cli, *renamed, tmp_path / "cli.csv")
    assert list(want["case"].unique()) == ["BraTS-GLI-00001-000", "a", "c"]
    got = cohort.evaluate(*renamed)
    assert got["error"].isna().all()
    pd.testing.assert_frame_equal(got.drop(columns="error"), want, check_dtype=False)


def test_the_fixture_cohort_on_dask_equals_serial_equals_cli(cli, client, tmp_path):
    serial = cohort.evaluate(LABELS, LABELS)
    assert len(serial) == 3 * 74
    pd.testing.assert_frame_equal(cohort.evaluate(LABELS, LABELS, client=client), serial)
    want = _cli_table(cli, LABELS, LABELS, tmp_path / "cli.csv")
    pd.testing.assert_frame_equal(serial.drop(columns="error"), want, check_dtype=False)


def test_failed_cases_are_rows(client, renamed, tmp_path):
    refs, preds = (tmp_path / "refs", tmp_path / "preds")
    shutil.copytree(renamed[0], refs)
    shutil.copytree(renamed[1], preds)
    (preds / "c-pred.nii").write_bytes(b"not a NIfTI file")
    (preds / "BraTS-GLI-00001-000.nii.gz").unlink()
    shutil.copy(LABELS / "step0200_pred.nii.gz", preds / "orphan_pred.nii.gz")
    with pytest.warns(UserWarning, match="orphan_pred.nii.gz"):
        serial = cohort.evaluate(refs, preds)
    with pytest.warns(UserWarning):
        on_dask = cohort.evaluate(refs, preds, client=client)
    pd.testing.assert_frame_equal(on_dask, serial)
    failed = serial[serial.error.notna()].set_index("case")
    assert sorted(failed.index) == ["BraTS-GLI-00001-000", "c"]
    assert "has no prediction" in failed.error["BraTS-GLI-00001-000"]
    assert failed.error["c"].startswith("CmfsegError: ") and "c-pred.nii" in failed.error["c"]
    assert failed.dice.isna().all()
    assert list(serial[serial.error.isna()].case) == ["a"] * 3


def test_without_pandas_the_table_is_a_list_of_dicts(monkeypatch, renamed):
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = cohort.evaluate(*renamed)
    assert isinstance(rows, list) and len(rows) == 9
    assert list(rows[0]) == list(cohort.EVALUATION_COLUMNS)
    assert rows[3]["case"] == "a" and rows[3]["region"] == "WT"


def _write_case(folder, name, modalities, sep="_", roles=NAMES):
    folder.mkdir()
    for m, role in zip(modalities, roles):
        img = nib.Nifti1Image(voxels(NAMES.index(m)).transpose(2, 1, 0), AFFINE)
        nib.save(img, str(folder / ("%s%s%s.nii.gz" % (name, sep, role))))


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """A cohort folder: four complete cases (BraTS 2018 and 2023 names), one with pair B
    only, one whose t1 has no t1ce, and a hidden folder."""
    root = tmp_path_factory.mktemp("cases")
    for name in ("case0", "case1", "case2"):
        _write_case(root / name, name, NAMES)
    _write_case(root / "BraTS-3", "BraTS-3", NAMES, "-", ("t1n", "t1c", "t2w", "t2f"))
    _write_case(root / "pairB", "pairB", ("t2", "flair"), roles=("t2", "flair"))
    _write_case(root / "halfA", "halfA", ("t1", "t2", "flair"), roles=("t1", "t2", "flair"))
    _write_case(root / ".hidden", ".hidden", NAMES)
    return root


def test_segment_cohort_on_dask_equals_serial_and_single_runs(cases, client, tmp_path):
    serial = cohort.segment(cases, tmp_path / "serial", weights=WEIGHTS, **SETTINGS)
    on_dask = cohort.segment(cases, tmp_path / "dask", weights=WEIGHTS, client=client, **SETTINGS)
    assert list(serial.case) == ["BraTS-3", "case0", "case1", "case2", "halfA", "pairB"]
    pd.testing.assert_frame_equal(on_dask.drop(columns="labels"), serial.drop(columns="labels"))
    failed = serial.set_index("case").error
    assert "without t1ce" in failed["halfA"] and failed.drop("halfA").isna().all()
    routes = serial.set_index("case").route
    assert routes["pairB"] == "branch_b" and routes["case0"] == "fused"
    assert serial.set_index("case").modalities["pairB"] == "t2,flair"
    single = {"case0": {m: cases / "case0" / ("case0_%s.nii.gz" % m) for m in NAMES},
              "BraTS-3": {m: cases / "BraTS-3" / ("BraTS-3-%s.nii.gz" % role)
                          for m, role in zip(NAMES, ("t1n", "t1c", "t2w", "t2f"))},
              "pairB": {m: cases / "pairB" / ("pairB_%s.nii.gz" % m) for m in ("t2", "flair")}}
    with cmfseg.Model.load(WEIGHTS) as model:
        for name, images in single.items():
            model.segment_files(**images, out=tmp_path / "single.nii.gz", **SETTINGS)
            want = np.asanyarray(nib.load(str(tmp_path / "single.nii.gz")).dataobj)
            for folder in ("serial", "dask"):
                got = nib.load(str(tmp_path / folder / (name + "_pred.nii.gz")))
                np.testing.assert_array_equal(np.asanyarray(got.dataobj), want)
    assert not (tmp_path / "serial" / "halfA_pred.nii.gz").exists()
    # Six cases on two workers: a worker loads the weights once, however many it runs.
    loaded = client.run(lambda: len(sys.modules["cmfseg.cohort"]._MODELS))
    assert max(loaded.values()) == 1


def test_segment_cases_as_a_mapping(cases, tmp_path):
    mapping = {"first": {m: cases / "case0" / ("case0_%s.nii.gz" % m) for m in NAMES},
               "second": {"t2": cases / "pairB" / "pairB_t2.nii.gz"}}
    rows = cohort.segment(mapping, tmp_path, weights=WEIGHTS, **SETTINGS)
    assert list(rows.case) == ["first", "second"]
    assert pd.isna(rows.error[0]) and rows.labels[0] == str(tmp_path / "first_pred.nii.gz")
    assert "without flair" in rows.error[1]


def test_bad_settings_fail_before_any_case(cases, tmp_path):
    with pytest.raises(TypeError):
        cohort.segment(cases, tmp_path, weights=WEIGHTS, no_such_setting=1)
    with pytest.raises(TypeError, match="progress"):
        cohort.segment(cases, tmp_path, weights=WEIGHTS, progress=print)
    with pytest.raises(ValueError):
        cohort.evaluate(LABELS, LABELS, labels="brats1999")
    assert list(tmp_path.iterdir()) == []
