#!/usr/bin/env bash
# Runs Swift tests of cmfseg under a sanitizer. See Tests/Fuzz/README.md for the results.
#
#   Tests/Sanitize/run.sh asan [FILTER]   AddressSanitizer + UndefinedBehaviorSanitizer (Swift
#                                         and the C kernels), debug build in .build-asan
#   Tests/Sanitize/run.sh tsan [FILTER]   ThreadSanitizer on the threaded tests, .build-tsan
#
# FILTER is a `swift test --filter` pattern (default: the tests below). Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

# ASan+UBSan: every test except the training and CLI ones, which run the same library code
# as the tests kept, for many minutes more under ASan.
asan_skip='CMFSegCLITests|CMFFTrainingStepTests|CMFTIterationTests|FeatureDistillationTests|ParameterTransferTests|TrainerTests|TrainingDataTests'
# TSan: the tests that share models, volumes and files between threads.
tsan_filter='Concurrent|Cohort|Cancel'

case ${1:-} in
    asan)
        scratch=.build-asan
        sanitize=(--sanitize=address --sanitize=undefined)
        select=(--skip "$asan_skip")
        [ -n "${2:-}" ] && select=(--filter "$2")
        # Swift's runtime and Foundation keep caches alive to exit by design: leak reports
        # at exit would be theirs; leaks in cmfseg code are caught by the fuzzers, which
        # check every input.
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
        ;;
    tsan)
        scratch=.build-tsan
        sanitize=(--sanitize=thread)
        select=(--filter "${2:-$tsan_filter}")
        # Debian's libomp is built without TSan annotations: its barriers look like races.
        # One OpenMP thread keeps TSan on the threads cmfseg's callers and cohorts create.
        export OMP_NUM_THREADS=1
        export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
        ;;
    *)
        echo "usage: $0 asan|tsan [swift test --filter pattern]" >&2
        exit 2 ;;
esac

echo "== building the tests with ${sanitize[*]} ($scratch)" >&2
swift build --build-tests --scratch-path "$scratch" "${sanitize[@]}"
echo "== swift test ${select[*]}" >&2
start=$(date +%s)
swift test --skip-build --scratch-path "$scratch" "${sanitize[@]}" "${select[@]}"
echo "$1: passed in $(( $(date +%s) - start )) s" >&2
