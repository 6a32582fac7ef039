#!/usr/bin/env bash
# Overhead of the syscalls2 QEMU plugin: boot + a syscall-heavy workload, with
# the plugin (every syscall decoded, returns paired, strace log to a file) and
# without, alternating, N runs each; prints medians and their ratio.
#
# Usage: scripts/overhead.sh [ARCH] [N]     (default: x86_64 5)
#   S2_OVERHEAD_CMD   the workload (default: find / five times)
#   S2_PLUGIN_ARGS    extra plugin arguments (e.g. returns=every-block)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCH="${1:-x86_64}"
N="${2:-5}"
CMD="${S2_OVERHEAD_CMD:-for i in 1 2 3 4 5; do find / > /dev/null; done}"
(cd "$ROOT" && cargo build --release --quiet -p syscalls2-qemu-plugin)
PLUGIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/libsyscalls2_qemu_plugin.so"
"$ROOT/scripts/guest-images.sh" "$ARCH" >/dev/null
OUT="$ROOT/target/qemu-runs"
mkdir -p "$OUT"

one() { # with|without -> seconds
    local start end extra=()
    if [ "$1" = with ]; then
        extra=(-plugin "$PLUGIN,log=$OUT/overhead.log,stats=$OUT/overhead.stats${S2_PLUGIN_ARGS:+,$S2_PLUGIN_ARGS}")
    fi
    start=$(date +%s.%N)
    S2CMD="$CMD" "$ROOT/scripts/run-guest.sh" "$ARCH" "${extra[@]}" </dev/null >"$OUT/overhead.console" 2>&1
    end=$(date +%s.%N)
    grep -q "WORKLOAD END rc=0" "$OUT/overhead.console" || { echo "overhead: workload failed" >&2; cat "$OUT/overhead.console" >&2; exit 1; }
    echo "$end - $start" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

one without >/dev/null # warm the page cache
W=(); P=()
for i in $(seq "$N"); do
    W+=("$(one without)")
    P+=("$(one with)")
done
mw=$(printf '%s\n' "${W[@]}" | median)
mp=$(printf '%s\n' "${P[@]}" | median)
echo "arch $ARCH, $N runs each, workload: $CMD"
echo "without plugin: ${W[*]} s (median $mw)"
echo "with plugin:    ${P[*]} s (median $mp)"
echo "plugin: $(head -n1 "$OUT/overhead.stats")"
echo "log: $(wc -l <"$OUT/overhead.log") lines"
printf 'ratio (median with / median without): %.3f\n' "$(echo "$mp / $mw" | bc -l)"
