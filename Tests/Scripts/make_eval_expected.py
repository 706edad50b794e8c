#!/usr/bin/env python3
"""Computes Tests/Fixtures/eval_expected.json: the values `cmfseg evaluate` must reproduce.

Run once (slow: MedPy takes seconds per case) with the test venv:

    /work/venv/bin/python Tests/Scripts/make_eval_expected.py \
        Tests/Fixtures/brats-labels Tests/Fixtures/eval_expected.json

or in shards, merged afterwards (the same values, in parallel processes):

    ... make_eval_expected.py --shard 0/2 DIR part0.json &  ... --shard 1/2 DIR part1.json
    ... make_eval_expected.py --merge part0.json part1.json Tests/Fixtures/eval_expected.json

Reference tools and exactly which function produced each number
----------------------------------------------------------------
Whole-region metrics (per region WT = {1,2,4}, TC = {1,4}, ET = {4}; BraTS 2018 labels):
- dice:         medpy.metric.binary.dc(pred, ref)                          (MedPy 0.5.x)
- sensitivity:  medpy.metric.binary.sensitivity(pred, ref)
- specificity:  medpy.metric.binary.specificity(pred, ref)
- hd95, hd, assd: MedPy 0.5.2's `hd95`, `hd` and `assd` are thin reductions of its
                `__surface_distances(result, reference, voxelspacing)`; to save two thirds of the
                (slow) distance transforms this script calls `__surface_distances` once per
                direction and applies the very expressions of those three functions:
                hd95 = numpy.percentile(numpy.hstack((sd_pr, sd_rp)), 95),
                hd = max(sd_pr.max(), sd_rp.max()),
                assd = numpy.concatenate([sd_pr, sd_rp]).mean()   (0.5.2 pools both directions;
                it is not the mean of the two directed means),
                with sd_pr = __surface_distances(pred, ref, zooms), sd_rp = __surface_distances(ref, pred, zooms).
                The two masks are first cropped to the bounding box of their union plus 2 voxels
                (clamped at the image edge, as panoptica crops), which leaves every border voxel
                and distance unchanged and makes MedPy's full-volume transforms affordable.
                For the first CHECK_FULL_CALLS cases the script asserts equality with
                medpy.metric.binary.hd95/hd/assd called directly on the uncropped volumes.
- nsd:          panoptica.metrics._surface_distances._nsd_from_pair(sd_rp, sd_pr, voxelspacing=zooms)
                (panoptica's reduction; tolerance = min(zooms)) on the same scipy surface distances
                (panoptica's sd_ref = reference-to-prediction = sd_rp); asserted equal to
                panoptica.metrics.normalized_surface_dice._compute_normalized_surface_dice(
                ref, pred, voxelspacing=zooms) for the first CHECK_FULL_CALLS cases.
- volumes:      numpy.count_nonzero(mask) * prod(zooms)
  Empty-mask conventions (Sources/CMFSeg/Evaluate/README.md; MedPy raises or returns 0
  there, so they are applied here explicitly and never come from MedPy): both empty -> dice 1, sensitivity 1, hd95/hd/assd 0,
  nsd 1; exactly one empty -> dice 0, hd95/hd/assd = image diagonal in mm
  (sqrt(sum((dims*zooms)^2)); 373.128664 on 240x240x155 at 1 mm), nsd 0; reference empty ->
  sensitivity 0 unless the prediction is empty too. Specificity is MedPy's everywhere.
Lesion-wise metrics: panoptica.Panoptica_Evaluator built from brats_evaluation's bundled
`configs/config_gli.yaml` (BraTS 2025 glioma: SEMANTIC input, ConnectedComponentsInstanceApproximator
(cc3d, 26-connectivity), MaxBipartiteMatching on DSC with threshold 1e-6, instance metrics
DSC/NSD/HD95, its edge-case handler), with only the label groups replaced by BraTS 2018 ones
(wt = LabelMergeGroup [1,2,4], tc = LabelMergeGroup [1,4], et = LabelGroup [4]); called as
`brats_evaluation.evaluation.evaluate_single_exam` does: evaluator.evaluate(pred, ref) and
`to_dict()`. Keys tp, fp, fn, rq, sq_dsc, sq_hd95, pq_dsc (reported as pq). panoptica's global
metrics (global_bin_dsc / _hd95 / _nsd) are stored too, for reference only: panoptica replaces
them by edge-case constants whenever the two masks do not overlap.
Anisotropic variants: the same arrays with zooms replaced by ANISO_SPACING (MedPy with
voxelspacing, panoptica with evaluate(..., voxelspacing=...)).

Synthetic empty-region variants (section "synthetic", added with `--add-synthetic DIR JSON`):
real pairs with one label relabelled so that a region is empty in the prediction, the
reference or both (e.g. "pred 4->1": every 4 of the prediction becomes 1), evaluated the same
way; they pin the empty-mask conventions above and panoptica's lesion edge cases
(no instances: rq/sq/pq NaN; instances but no match: rq 0, sq_dsc 0, sq_hd95 inf, pq 0).

Floats are stored with Python's repr (shortest round-trip form); NaN and infinities as the
strings "nan", "inf", "-inf".
"""
import json
import math
import sys
import tempfile
import time
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import nibabel as nib
import numpy as np
from medpy.metric import binary as mb
from panoptica import Panoptica_Evaluator
from panoptica.metrics.normalized_surface_dice import _compute_normalized_surface_dice
from panoptica.metrics._surface_distances import _nsd_from_pair

MEDPY_SURFACE_DISTANCES = getattr(mb, "__surface_distances")
CHECK_FULL_CALLS = 3
checked_cases = 0

REGIONS = {"WT": (1, 2, 4), "TC": (1, 4), "ET": (4,)}
ANISO_SPACING = (1.2, 0.9, 2.5)
ANISO_STEPS = ["step0200", "step3000", "step9000", "step15000", "step29800"]  # resolved against the files present


def enc(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def panoptica_evaluator() -> Panoptica_Evaluator:
    text = files("brats_evaluation").joinpath("configs", "config_gli.yaml").read_text()
    head, sep, _ = text.partition("segmentation_class_groups:")
    assert sep, "config_gli.yaml layout changed"
    groups = (
        "segmentation_class_groups: !SegmentationClassGroups\n"
        "  groups:\n"
        "    et: !LabelGroup\n      single_instance: false\n      value_labels: [4]\n"
        "    tc: !LabelMergeGroup\n      single_instance: false\n      value_labels: [1, 4]\n"
        "    wt: !LabelMergeGroup\n      single_instance: false\n      value_labels: [1, 2, 4]\n"
        "verbose: false\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(head + groups)
        path = f.name
    return Panoptica_Evaluator.load_from_config(path)


def region_metrics(ref, pred, spacing, dims):
    nr, npd = int(np.count_nonzero(ref)), int(np.count_nonzero(pred))
    inter = int(np.count_nonzero(ref & pred))
    vox = float(np.prod(spacing))
    diag = math.sqrt(sum((d * s) ** 2 for d, s in zip(dims, spacing)))
    out = {"ref_voxels": nr, "pred_voxels": npd, "intersection_voxels": inter,
           "volume_ref_mm3": nr * vox, "volume_pred_mm3": npd * vox,
           "specificity": mb.specificity(pred, ref)}
    if nr == 0 and npd == 0:
        out.update(dice=1.0, sensitivity=1.0, hd95=0.0, hd=0.0, assd=0.0, nsd=1.0, empty="both")
    elif nr == 0 or npd == 0:
        out.update(dice=0.0, sensitivity=0.0, hd95=diag, hd=diag, assd=diag,
                   nsd=0.0, empty="ref" if nr == 0 else "pred")
    else:
        box = tuple(slice(max(int(a.min()) - 2, 0), min(int(a.max()) + 3, n))
                    for a, n in zip(np.nonzero(ref | pred), ref.shape))
        cref, cpred = ref[box], pred[box]
        sd_pr = MEDPY_SURFACE_DISTANCES(cpred, cref, spacing, 1)
        sd_rp = MEDPY_SURFACE_DISTANCES(cref, cpred, spacing, 1)
        out.update(
            dice=mb.dc(pred, ref),
            sensitivity=mb.sensitivity(pred, ref),
            hd95=np.percentile(np.hstack((sd_pr, sd_rp)), 95),
            hd=max(sd_pr.max(), sd_rp.max()),
            assd=np.concatenate([sd_pr, sd_rp]).mean(),
            nsd=_nsd_from_pair(sd_rp, sd_pr, voxelspacing=spacing),
            empty="none",
        )
        if checked_cases < CHECK_FULL_CALLS:
            assert out["hd95"] == mb.hd95(pred, ref, voxelspacing=spacing)
            assert out["hd"] == mb.hd(pred, ref, voxelspacing=spacing)
            assert out["assd"] == mb.assd(pred, ref, voxelspacing=spacing)
            assert out["nsd"] == _compute_normalized_surface_dice(ref, pred, voxelspacing=spacing, threshold=None)
    return out


def lesion_metrics(res):
    d = res.to_dict()
    return {
        "tp": int(d["tp"]), "fp": int(d["fp"]), "fn": int(d["fn"]),
        "n_ref_instances": int(d["n_ref_instances"]), "n_pred_instances": int(d["n_pred_instances"]),
        "rq": d["rq"], "sq_dsc": d["sq_dsc"], "sq_hd95": d["sq_hd95"], "pq": d["pq_dsc"],
        "panoptica_global_bin_dsc": d.get("global_bin_dsc"),
        "panoptica_global_bin_hd95": d.get("global_bin_hd95"),
        "panoptica_global_bin_nsd": d.get("global_bin_nsd"),
    }


def evaluate_case(evaluator, ref_img, pred_img, spacing, pass_spacing):
    ref_lab = np.asarray(ref_img.dataobj).astype(np.uint8)
    pred_lab = np.asarray(pred_img.dataobj).astype(np.uint8)
    dims = ref_lab.shape
    if pass_spacing:
        results = evaluator.evaluate(pred_lab, ref_lab, voxelspacing=spacing)
    else:  # as brats-evaluation: the images themselves, spacing from their headers
        results = evaluator.evaluate(pred_img, ref_img)
    case = {}
    for name, labels in REGIONS.items():
        ref = np.isin(ref_lab, labels)
        pred = np.isin(pred_lab, labels)
        m = region_metrics(ref, pred, spacing, dims)
        m["lesion"] = lesion_metrics(results[name.lower()])
        case[name] = {k: (enc(v) if not isinstance(v, (dict, str)) else v) for k, v in m.items()}
        case[name]["lesion"] = {k: enc(v) for k, v in m["lesion"].items() if v is not None}
    global checked_cases
    checked_cases += 1
    return case


SYNTHETIC = [
    # (name, case, what to relabel in the reference, in the prediction)
    ("step29800_pred_no_et", "step29800", None, (4, 1)),
    ("step29800_ref_no_et", "step29800", (4, 1), None),
    ("step29800_no_et", "step29800", (4, 1), (4, 1)),
    ("step15000_pred_no_tumor", "step15000", None, (None, 0)),
]


def relabel(arr, rule):
    if rule is None:
        return arr
    src, dst = rule
    out = arr.copy()
    if src is None:
        out[:] = dst
    else:
        out[out == src] = dst
    return out


def add_synthetic(src, path):
    doc = json.loads(path.read_text())
    evaluator = panoptica_evaluator()
    out = {}
    for name, case, ref_rule, pred_rule in SYNTHETIC:
        ref_img = nib.load(src / f"{case}_ref.nii.gz")
        pred_img = nib.load(src / f"{case}_pred.nii.gz")
        spacing = tuple(float(z) for z in ref_img.header.get_zooms()[:3])
        ref = relabel(np.asarray(ref_img.dataobj).astype(np.uint8), ref_rule)
        pred = relabel(np.asarray(pred_img.dataobj).astype(np.uint8), pred_rule)
        r2 = nib.Nifti1Image(ref, ref_img.affine, ref_img.header)
        p2 = nib.Nifti1Image(pred, pred_img.affine, pred_img.header)
        out[name] = {"case": case, "ref_relabel": ref_rule, "pred_relabel": pred_rule,
                     "spacing": list(spacing), "shape": list(ref.shape),
                     **evaluate_case(evaluator, r2, p2, spacing, True)}
        print(f"synthetic {name}", file=sys.stderr, flush=True)
    doc["synthetic"] = out
    write(doc, path)


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "--add-synthetic":
        add_synthetic(Path(argv[1]), Path(argv[2]))
        return
    if argv and argv[0] == "--merge":
        *parts, dst = argv[1:]
        docs = [json.loads(Path(p).read_text()) for p in parts]
        doc = docs[0]
        for d in docs[1:]:
            doc["cases"].update(d["cases"])
            doc["anisotropic"].update(d["anisotropic"])
        doc.pop("shard", None)
        write(doc, Path(dst))
        return
    shard, nshards = 0, 1
    if argv and argv[0] == "--shard":
        shard, nshards = (int(v) for v in argv[1].split("/"))
        argv = argv[2:]
    src, dst = Path(argv[0]), Path(argv[1])
    evaluator = panoptica_evaluator()
    refs = sorted(src.glob("*_ref.nii.gz"))
    all_stems = [r.name[: -len("_ref.nii.gz")] for r in refs]
    cases, aniso = {}, {}
    t0 = time.time()
    for i, stem in enumerate(all_stems):
        if i % nshards != shard:
            continue
        ref_img, pred_img = nib.load(src / f"{stem}_ref.nii.gz"), nib.load(src / f"{stem}_pred.nii.gz")
        spacing = tuple(float(z) for z in ref_img.header.get_zooms()[:3])
        cases[stem] = {"spacing": list(spacing), "shape": list(ref_img.shape),
                       **evaluate_case(evaluator, ref_img, pred_img, spacing, False)}
        print(f"[{i + 1}/{len(all_stems)}] {stem} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    picks = [s for s in ANISO_STEPS if s in all_stems]
    for j, stem in enumerate(picks):
        if j % nshards != shard:
            continue
        ref_img = nib.load(src / f"{stem}_ref.nii.gz")
        pred_img = nib.load(src / f"{stem}_pred.nii.gz")
        aniso[stem] = {"spacing": list(ANISO_SPACING), "shape": list(ref_img.shape),
                       **evaluate_case(evaluator, ref_img, pred_img, ANISO_SPACING, True)}
        print(f"aniso {stem} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    doc = {
        "generator": "Tests/Scripts/make_eval_expected.py (see its docstring for the exact functions)",
        "versions": {p: metadata.version(p) for p in
                     ("medpy", "panoptica", "brats-evaluation", "numpy", "scipy", "nibabel", "connected-components-3d")},
        "labels": "brats2018", "regions": {k: list(v) for k, v in REGIONS.items()},
        "nsd_tolerance": "min(spacing) (panoptica default)",
        "cases": cases, "anisotropic": aniso,
    }
    write(doc, dst)


def write(doc, dst):
    tmp = dst.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    tmp.replace(dst)


if __name__ == "__main__":
    main()
