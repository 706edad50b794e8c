#!/usr/bin/env bash
# Scores a segmentation model on held-out phantoms: N standard cases (seed 9200: neither
# trained on — seed 1000 — nor used to pick the best checkpoint — seed 9000) and N cases of
# the shifted variant (seed 9100: other contrasts, noise, bias and tumour shapes). Each case is
# segmented whole with `cmfseg segment` and scored with `cmfseg evaluate`; prints the mean
# Dice / HD95 / sensitivity per region for each variant and writes the per-case CSVs to
# WORK/scores/NAME/{standard,shifted}.csv (NAME: --name, default the weights' file name).
#
#   Tests/Scripts/score_model.sh WEIGHTS [--cases N] [--work DIR] [--name NAME] [-- SEGMENT_OPTIONS...]
#
# Environment: CMFSEG (the cmfseg binary; default: a release build of this tree), THREADS (2).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 WEIGHTS [--cases N] [--work DIR] [--name NAME] [-- SEGMENT_OPTIONS...]" >&2; exit 2; }
weights="$(realpath "$1")"; shift
cases=4; work="${WORK:-/var/tmp/cmfseg-score}"; name="$(basename "$weights" .safetensors)"; segment_options=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cases) cases="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --name) name="$2"; shift 2 ;;
        --) shift; segment_options=("$@"); break ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
threads="${THREADS:-2}"
. "$root/Tests/Scripts/common.sh"
cmfseg_binary "$root"
for variant in standard shifted; do
    seed=$([ "$variant" = standard ] && echo 9200 || echo 9100)
    data="$work/data/$variant-$seed"
    last=$(printf "phantom_%04d" $((cases - 1)))
    [ -d "$data/$last" ] || "$CMFSEG" phantom --out "$data" --cases "$cases" --seed "$seed" --variant "$variant" \
        --threads "$threads" --force >/dev/null
    refs="$work/refs/$variant-$seed"; preds="$work/preds/$name/$variant"
    mkdir -p "$refs" "$preds"
    for i in $(seq 0 $((cases - 1))); do
        c=$(printf "phantom_%04d" "$i"); d="$data/$c"
        ln -sfn "$d/${c}_seg.nii.gz" "$refs/${c}_ref.nii.gz"
        "$CMFSEG" segment --weights "$weights" --t1 "$d/${c}_t1.nii.gz" --t1ce "$d/${c}_t1ce.nii.gz" \
            --t2 "$d/${c}_t2.nii.gz" --flair "$d/${c}_flair.nii.gz" --out "$preds/${c}_pred.nii.gz" \
            --threads "$threads" --quiet "${segment_options[@]}" >/dev/null
    done
    echo "== $variant phantoms (seed $seed, $cases cases)"
    mkdir -p "$work/scores/$name"
    "$CMFSEG" evaluate --ref-dir "$refs" --pred-dir "$preds" --csv "$work/scores/$name/$variant.csv" --threads "$threads" \
        | tail -n 5
done
