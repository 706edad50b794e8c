# Sourced by the training and scoring scripts: which cmfseg binary they run.
#
#   cmfseg_binary ROOT [WORK]
#
# Sets CMFSEG: kept when the caller set it; else a release build of ROOT, copied into
# WORK/bin when WORK is given (a long job must not see a rebuild of the tree change its
# binary).
cmfseg_binary() {
    local root="$1" work="${2:-}"
    [ -n "${CMFSEG:-}" ] && return 0
    swift build -c release --package-path "$root" --product cmfseg-cli >&2
    CMFSEG="$root/.build/release/cmfseg-cli"
    if [ -n "$work" ]; then
        mkdir -p "$work/bin"
        cp "$CMFSEG" "$work/bin/cmfseg"
        CMFSEG="$work/bin/cmfseg"
    fi
}
