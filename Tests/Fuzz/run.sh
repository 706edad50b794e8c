#!/usr/bin/env bash
# Fuzzes one target of cmfseg for SECONDS of wall time with libFuzzer + AddressSanitizer,
# then prints the CPU seconds spent and the inputs run. See Tests/Fuzz/README.md.
#
#   Tests/Fuzz/run.sh nifti|safetensors|network|evaluate|segment SECONDS [libFuzzer flags…]
#
# The driver is built once into .build-fuzz (incremental afterwards). The corpus grows in
# $CMFSEG_FUZZ_WORK/corpus/TARGET (default /var/tmp/cmfseg-fuzz), seeded from the test
# fixtures and Tests/Fuzz/regressions/TARGET; a crash is written to
# $CMFSEG_FUZZ_WORK/crashes/TARGET/ and makes this script fail. The libFuzzer log goes to
# $CMFSEG_FUZZ_WORK/logs/; every run adds a line (time, target, CPU s, inputs, exit status)
# to $CMFSEG_FUZZ_WORK/ledger.tsv. Runs may share the work folder (several checkouts, CI).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
    echo "usage: $0 nifti|safetensors|network|evaluate|segment SECONDS [libFuzzer flags…]" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2
case $target in
    nifti) max_len=4096 ;;
    safetensors) max_len=8192 ;;
    network) max_len=65536 ;;
    evaluate) max_len=4096 ;;
    segment) max_len=2048 ;;
    *) echo "$0: unknown target $target" >&2; exit 2 ;;
esac

echo "== building the fuzz driver (libFuzzer + ASan, .build-fuzz)" >&2
CMFSEG_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product cmfseg-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address >&2
driver=.build-fuzz/release/cmfseg-fuzz

work=${CMFSEG_FUZZ_WORK:-/var/tmp/cmfseg-fuzz}
corpus=$work/corpus/$target crashes=$work/crashes/$target
mkdir -p "$corpus" "$crashes" "$work/logs"
log=$work/logs/$target-$(date -u +%Y%m%dT%H%M%S)-$$.log
seeds=$(mktemp -d "$work/seeds-$target.XXXXXX") times=$(mktemp "$work/time-$target.XXXXXX")
trap 'rm -rf "$seeds" "$times"' EXIT
"$driver" seeds "$target" "$seeds" Tests/Fixtures
regressions=Tests/Fuzz/regressions/$target
mkdir -p "$work/empty"
[ -d "$regressions" ] || regressions=$work/empty

# One OpenMP thread: fuzzing wants many small runs, not parallel kernels.
# -timeout: any input running 20 s is a finding (a hang); -rss_limit_mb likewise for memory.
echo "== fuzzing $target for $seconds s (log: $log, crashes: $crashes)" >&2
status=0
TIMEFORMAT='%U %S'
{ time OMP_NUM_THREADS=1 "$driver" "$target" -max_total_time="$seconds" -max_len=$max_len -timeout=20 \
    -rss_limit_mb=4096 -artifact_prefix="$crashes/" -print_final_stats=1 "$@" "$corpus" "$seeds" \
    "$regressions" >"$log" 2>&1 || status=$?; } 2>"$times"

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
read -r user sys <"$times"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
echo "fuzz $target: ${cpu} CPU s, ${execs:-?} inputs, corpus $(ls "$corpus" | wc -l) files" >&2
# The ledger sums what each target has been fuzzed on this machine (Tests/Fuzz/README.md).
printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$cpu" "${execs:-?}" "$status" >>"$work/ledger.tsv"
if [ $status -ne 0 ]; then
    echo "fuzz $target: FAILED (exit $status); the end of $log:" >&2
    tail -n 60 "$log" >&2
    exit 1
fi
