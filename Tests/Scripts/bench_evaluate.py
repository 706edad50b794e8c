#!/usr/bin/env python3
"""Benchmark (not a test): time per case of `cmfseg evaluate` batch mode against panoptica
(as `brats-evaluation` runs it) and MedPy, on the same .nii.gz cases in one run.

    swift build -c release --product cmfseg-cli
    /work/venv/bin/python Tests/Scripts/bench_evaluate.py [--cases 74] [--medpy-cases 3] [--threads 2]

What is timed, per case:
- cmfseg: `cmfseg-cli evaluate --ref-dir R --pred-dir P --csv OUT --threads N --timing` over all
  chosen cases (whole process, wall clock, divided by the number of cases): reading both
  .nii.gz files, all whole-region and lesion-wise metrics for WT, TC, ET, the CSV. Its
  --timing line splits one worker's time into reading (inflate + convert) and metrics.
- panoptica: Panoptica_Evaluator from brats-evaluation's config_gli.yaml with BraTS 2018 label
  groups (as Tests/Scripts/make_eval_expected.py), evaluator.evaluate(pred_path, ref_path) and
  to_dict() per case, as brats_evaluation.evaluation.evaluate_single_exam does; one process.
- MedPy 0.5: per case and region dc + hd95 with the header spacing (the classic BraTS script).
- zlib: Python's gzip.decompress of both files (a floor for any reader using zlib).
It also checks that cmfseg's lesion counts and Dice equal panoptica's on every timed case.
The machine is shared: compare the ratios of one run, not absolute times across runs.
"""
import argparse
import csv
import gzip
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=str(ROOT / "Tests/Fixtures/brats-labels"))
    ap.add_argument("--cli", default=str(ROOT / ".build/release/cmfseg-cli"))
    ap.add_argument("--cases", type=int, default=74)
    ap.add_argument("--medpy-cases", type=int, default=3)
    ap.add_argument("--panoptica-cases", type=int, default=0, help="0: all chosen cases")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    src = Path(args.fixtures)
    stems = sorted(p.name[: -len("_ref.nii.gz")] for p in src.glob("*_ref.nii.gz"))[: args.cases]
    tmp = Path(tempfile.mkdtemp(prefix="cmfseg-bench-"))
    try:
        refs, preds = tmp / "ref", tmp / "pred"
        refs.mkdir(), preds.mkdir()
        for s in stems:
            shutil.copy(src / f"{s}_ref.nii.gz", refs / f"{s}_ref.nii.gz")
            shutil.copy(src / f"{s}_pred.nii.gz", preds / f"{s}_pred.nii.gz")
        n = len(stems)
        print(f"{n} cases, 240x240x155 uint8 .nii.gz, cmfseg with {args.threads} threads")

        # zlib floor
        t = time.perf_counter()
        for s in stems:
            gzip.decompress((refs / f"{s}_ref.nii.gz").read_bytes())
            gzip.decompress((preds / f"{s}_pred.nii.gz").read_bytes())
        zlib_ms = 1000 * (time.perf_counter() - t) / n
        print(f"zlib inflate of both files (python gzip, 1 thread): {zlib_ms:.1f} ms/case")

        # cmfseg batch mode (twice; the first run warms the page cache)
        out = tmp / "out.csv"
        cmd = [args.cli, "evaluate", "--ref-dir", str(refs), "--pred-dir", str(preds), "--csv", str(out),
               "--threads", str(args.threads), "--timing"]
        subprocess.run(cmd, check=True, capture_output=True)
        t = time.perf_counter()
        r = subprocess.run(cmd, check=True, capture_output=True, text=True)
        ours_ms = 1000 * (time.perf_counter() - t) / n
        timing = [l for l in r.stderr.replace("\r", "\n").splitlines() if l.startswith(("timing", "evaluated"))]
        print(f"cmfseg evaluate batch: {ours_ms:.1f} ms/case (process wall clock)")
        for l in timing:
            print("   ", l.strip())
        ours = {(row["case"], row["region"]): row for row in csv.DictReader(open(out))}

        # panoptica, brats-evaluation style
        from make_eval_expected import panoptica_evaluator
        ev = panoptica_evaluator()
        pcases = stems[: args.panoptica_cases or n]
        pan_times, mismatches = [], []
        for s in pcases:
            t = time.perf_counter()
            res = ev.evaluate(str(preds / f"{s}_pred.nii.gz"), str(refs / f"{s}_ref.nii.gz"))
            d = {k: v.to_dict() for k, v in res.items()}
            pan_times.append(time.perf_counter() - t)
            for reg in ("WT", "TC", "ET"):
                p, o = d[reg.lower()], ours[(s, reg)]
                for a, b in (("tp", "lesion_tp"), ("fp", "lesion_fp"), ("fn", "lesion_fn")):
                    if int(p[a]) != int(o[b]):
                        mismatches.append(f"{s} {reg} {a}: panoptica {p[a]} cmfseg {o[b]}")
                for a, b, tol in (("global_bin_dsc", "dice", 1e-9), ("sq_dsc", "lesion_sq_dsc", 1e-9),
                                  ("sq_hd95", "lesion_sq_hd95", 1e-6)):
                    x, y = float(p[a]), float(o[b])
                    if not ((math.isnan(x) and math.isnan(y)) or x == y or abs(x - y) <= tol):
                        if a == "global_bin_dsc" and p["tp"] == 0 and int(o["lesion_tp"]) == 0:
                            continue  # panoptica's edge-case constant when masks do not overlap
                        mismatches.append(f"{s} {reg} {a}: panoptica {x} cmfseg {y}")
        pan_ms = 1000 * sum(pan_times) / len(pan_times)
        print(f"panoptica (brats-evaluation config, 1 process): {pan_ms:.1f} ms/case over {len(pcases)} cases")
        print(f"results identical to panoptica (lesion tp/fp/fn, Dice, sq_dsc, sq_hd95): "
              f"{'yes' if not mismatches else 'NO'} ({len(mismatches)} differences)")
        for m in mismatches[:10]:
            print("   ", m)

        # MedPy
        from medpy.metric import binary as mb
        med_times = []
        for s in stems[: args.medpy_cases]:
            t = time.perf_counter()
            ri, pi = nib.load(refs / f"{s}_ref.nii.gz"), nib.load(preds / f"{s}_pred.nii.gz")
            ra, pa = np.asanyarray(ri.dataobj), np.asanyarray(pi.dataobj)
            sp = ri.header.get_zooms()[:3]
            for labels in ((1, 2, 4), (1, 4), (4,)):
                a, b = np.isin(ra, labels), np.isin(pa, labels)
                mb.dc(b, a)
                if a.any() and b.any():
                    mb.hd95(b, a, voxelspacing=sp)
            med_times.append(time.perf_counter() - t)
        med_ms = 1000 * sum(med_times) / max(1, len(med_times))
        print(f"MedPy dc + hd95 x 3 regions: {med_ms:.1f} ms/case over {len(med_times)} cases")

        print("per case (ms):  case        panoptica   medpy")
        for i, s in enumerate(pcases):
            med = f"{1000 * med_times[i]:8.1f}" if i < len(med_times) else "       -"
            print(f"               {s:<11} {1000 * pan_times[i]:9.1f} {med}")
        print(f"throughput ratio cmfseg / panoptica: {pan_ms / ours_ms:.1f}x   (goal >= 20x)")
        print(f"throughput ratio cmfseg / MedPy:     {med_ms / ours_ms:.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
