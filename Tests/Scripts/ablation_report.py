#!/usr/bin/env python3
"""The ablation's table and plot from the per-case CSVs of score_model.sh.

    ablation_report.py SCORES_DIR --out PREFIX --steps N --patch P --cmft-steps N

SCORES_DIR/<configuration>/{standard,shifted}.csv (as `cmfseg evaluate --csv` writes them)
become PREFIX.md (mean Dice / HD95 / sensitivity per region, per configuration and phantom
variant) and PREFIX.png (mean Dice per region, grouped by configuration).
"""
import argparse
import csv
import math
import pathlib

CONFIGURATIONS = [
    ("single-pair-a", "single pair A (T1, T1ce)"),
    ("single-pair-b", "single pair B (T2, FLAIR)"),
    ("unet4", "4-modality U-Net"),
    ("no-mask", "fusion without masks"),
    ("cmff-random", "CMFF, random init"),
    ("cmff-cmft", "CMFF, CMFT init (transfer)"),
    ("cmff-half-random", "CMFF half width, random init"),
    ("cmff-half-distill", "CMFF half width, distilled"),
]
REGIONS = ["WT", "TC", "ET"]
METRICS = [("dice", "Dice", 3), ("hd95", "HD95 mm", 1), ("sensitivity", "sens.", 3)]


def means(path):
    """{region: {metric: mean over cases of the finite values}} and the case count."""
    values = {r: {m: [] for m, _, _ in METRICS} for r in REGIONS}
    cases = set()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            cases.add(row["case"])
            for m, _, _ in METRICS:
                v = float(row[m])
                if math.isfinite(v):
                    values[row["region"]][m].append(v)
    return {r: {m: (sum(v) / len(v) if v else math.nan) for m, v in ms.items()} for r, ms in values.items()}, len(cases)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scores", type=pathlib.Path)
    p.add_argument("--out", type=pathlib.Path, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--patch", type=int, required=True)
    p.add_argument("--cmft-steps", type=int, required=True)
    a = p.parse_args()

    results = {}
    for name, _ in CONFIGURATIONS:
        for variant in ("standard", "shifted"):
            path = a.scores / name / f"{variant}.csv"
            if not path.is_file():
                raise SystemExit(f"missing {path}: score that configuration first (score_model.sh)")
            results[name, variant] = means(path)

    lines = [f"Each configuration: {a.steps} steps of {a.patch}³ patches, seed 1, Adam lr 3e-4, 80 % of the "
             f"patches centred on tumour, 40 training phantoms (seed 1000); CMFT {a.cmft_steps} iterations. "
             "Scored on held-out phantoms by whole-case segmentation and `cmfseg evaluate` (means over cases).", ""]
    for variant in ("standard", "shifted"):
        n = results[CONFIGURATIONS[0][0], variant][1]
        lines += [f"**{variant} phantoms** ({n} cases)", ""]
        header = "| configuration | " + " | ".join(f"{label} {r}" for m, label, _ in METRICS for r in REGIONS) + " |"
        lines += [header, "|---|" + "---|" * (len(METRICS) * len(REGIONS))]
        for name, title in CONFIGURATIONS:
            m = results[name, variant][0]
            cells = [f"{m[r][k]:.{d}f}" for k, _, d in METRICS for r in REGIONS]
            lines.append(f"| {title} | " + " | ".join(cells) + " |")
        lines.append("")
    a.out.with_suffix(".md").write_text("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    width = 0.26
    for ax, variant in zip(axes, ("standard", "shifted")):
        for k, region in enumerate(REGIONS):
            ys = [results[name, variant][0][region]["dice"] for name, _ in CONFIGURATIONS]
            ax.bar([i + (k - 1) * width for i in range(len(CONFIGURATIONS))], ys, width, label=region)
        ax.set_xticks(range(len(CONFIGURATIONS)))
        ax.set_xticklabels([t for _, t in CONFIGURATIONS], rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{variant} phantoms")
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("mean Dice")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(a.out.with_suffix(".png"), dpi=110)
    print(f"wrote {a.out.with_suffix('.md')} and {a.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
