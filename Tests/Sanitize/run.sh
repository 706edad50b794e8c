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
# TSan: the tests that share models, volumes and files between threads, and some that run
# the OpenMP kernels (segmentation, evaluation, a cohort on 2 threads through the CLI).
tsan_filter='Concurren|Cohort|Cancel|SegmentTests.testSegmentsAllFourAndOnePair|EvaluateBruteForceTests|EvaluateCommandTests.testBatch'

case ${1:-} in
    asan)
        scratch=.build-asan
        # swiftc has no -sanitize=undefined on Linux: UBSan instruments the C kernels, and
        # its handlers come with the ASan runtime.
        sanitize=(--sanitize=address -Xcc -fsanitize=undefined)
        select=(--skip "$asan_skip")
        [ -n "${2:-}" ] && select=(--filter "$2")
        # Leaks are checked at exit, except XCTest's own (lsan.supp).
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
        export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Tests/Sanitize/lsan.supp}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
        ;;
    tsan)
        scratch=.build-tsan
        sanitize=(--sanitize=thread)
        select=(--filter "${2:-$tsan_filter}")
        # Debian's libomp is not built for TSan: its spin-waits hand work between threads
        # without anything TSan sees. Archer (an OpenMP tool shipped with libomp-dev) tells
        # TSan about OpenMP's synchronisation, so the kernels run with 2 threads here.
        archer=/usr/lib/llvm-14/lib/libarcher.so
        if [ ! -f "$archer" ]; then
            echo "$0: $archer is missing (Debian package libomp-14-dev)" >&2
            exit 1
        fi
        export OMP_TOOL_LIBRARIES=$archer OMP_NUM_THREADS=2
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
