#!/usr/bin/env bash
# Overhead of the syscalls2 QEMU plugin, against two baselines measured in
# the same run: QEMU without a plugin ("bare"), and the plugin with
# `floor=on` ("floor": the same instrumentation points, and at each call and
# its return every register the ABI reads and the address space, but nothing
# decoded, paired or written). Then syscalls2 itself: decoding and pairing
# with no log (`log=none`), writing its strace log, writing JSON lines.
# The configurations run interleaved (one of each, N times over), so a
# slower or busier moment of the machine touches them all alike; each
# figure is a median of N boot-to-poweroff times.
#
# Usage: scripts/overhead.sh [ARCH] [N]      (default: x86_64 7)
#   S2_SMP=4           vCPUs (default 1); the default workload then runs
#                      one `find /` loop per vCPU in parallel
#   S2_OVERHEAD_CMD    the workload (default: `find /` five times, per vCPU)
#   S2_CONFIGS         which configurations (default: bare floor nolog strace jsonl)
#   S2_PLUGIN_ARGS     more plugin arguments for every plugin run
#   S2_KERNEL_LAYOUT   the guest kernel's layout for the `kernel` configuration
#                      (default: the kernels/ file of the x86_64 or i386 guest)
#
# Configurations: bare, floor, nolog, strace, jsonl (the default set), and
# kernel: the strace log with each call's process read from the guest kernel
# (`kernel=`), against `strace`'s attribution from the calls.
#
# It prints, per configuration: the median, its ratio to bare, and the cost
# per syscall above bare and above the floor (the tracer's own cost), with
# the syscall count from the `nolog` run's summary: once for wall time, once
# for QEMU's CPU time (user + system), which a busy machine disturbs less.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCH="${1:-x86_64}"
N="${2:-7}"
SMP="${S2_SMP:-1}"
loop='for i in 1 2 3 4 5; do find / > /dev/null; done'
if [ "$SMP" -gt 1 ]; then
    par=""
    for _ in $(seq "$SMP"); do par="$par ( $loop ) &"; done
    DEFAULT_CMD="$par wait"
else
    DEFAULT_CMD="$loop"
fi
CMD="${S2_OVERHEAD_CMD:-$DEFAULT_CMD}"
read -r -a CONFIGS <<<"${S2_CONFIGS:-bare floor nolog strace jsonl}"
(cd "$ROOT" && cargo build --release --quiet -p syscalls2-qemu-plugin)
PLUGIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/libsyscalls2_qemu_plugin.so"
"$ROOT/scripts/guest-images.sh" "$ARCH" >/dev/null
OUT="$ROOT/target/qemu-runs/overhead-$(date +%s)-$$"
mkdir -p "$OUT"

layout() { # the guest kernel's layout file, for `kernel`
    if [ -n "${S2_KERNEL_LAYOUT:-}" ]; then echo "$S2_KERNEL_LAYOUT"; return; fi
    case "$ARCH" in
        x86_64) ls "$ROOT"/kernels/*-cloud-amd64.layout ;;
        i386) ls "$ROOT"/kernels/*-686.layout ;;
        *) echo "overhead: no kernel layout for $ARCH (set S2_KERNEL_LAYOUT)" >&2; exit 2 ;;
    esac
}

plugin_args() { # config -> the -plugin argument (empty for bare)
    local extra="${S2_PLUGIN_ARGS:+,$S2_PLUGIN_ARGS}"
    case "$1" in
        bare) ;;
        floor) echo "$PLUGIN,floor=on,log=none,stats=$OUT/floor.stats$extra" ;;
        nolog) echo "$PLUGIN,log=none,stats=$OUT/nolog.stats$extra" ;;
        strace) echo "$PLUGIN,log=$OUT/strace.log,stats=$OUT/strace.stats$extra" ;;
        jsonl) echo "$PLUGIN,format=jsonl,log=$OUT/jsonl.log,stats=$OUT/jsonl.stats$extra" ;;
        kernel) echo "$PLUGIN,log=$OUT/kernel.log,stats=$OUT/kernel.stats,kernel=$(layout)$extra" ;;
        *) echo "overhead: unknown configuration \`$1\` (bare floor nolog strace jsonl kernel)" >&2; exit 2 ;;
    esac
}

one() { # config -> "wall-seconds cpu-seconds" (CPU: QEMU's user + system time)
    local arg t extra=()
    arg=$(plugin_args "$1")
    [ -n "$arg" ] && extra=(-plugin "$arg")
    t=$( { TIMEFORMAT='%R %U %S'; time S2CMD="$CMD" "$ROOT/scripts/run-guest.sh" "$ARCH" \
        -smp "$SMP" "${extra[@]}" </dev/null >"$OUT/$1.console" 2>&1; } 2>&1 )
    grep -q "WORKLOAD END rc=0" "$OUT/$1.console" || {
        echo "overhead: the workload failed under $1" >&2
        cat "$OUT/$1.console" >&2
        exit 1
    }
    read -r wall user sys <<<"$t"
    echo "$wall $(echo "$user + $sys" | bc -l)"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for c in "${CONFIGS[@]}"; do plugin_args "$c" >/dev/null; [ "$c" != kernel ] || layout >/dev/null; done
one bare >/dev/null # warm the page cache
declare -A WALL CPU
for i in $(seq "$N"); do
    for c in "${CONFIGS[@]}"; do
        read -r w u <<<"$(one "$c")"
        WALL[$c]="${WALL[$c]:-} $w"
        CPU[$c]="${CPU[$c]:-} $u"
    done
    echo "round $i of $N done" >&2
done

calls=""
for s in "$OUT/nolog.stats" "$OUT/strace.stats" "$OUT/jsonl.stats"; do
    if [ -s "$s" ]; then
        calls=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["enters"])' "$s")
        break
    fi
done
echo "arch $ARCH, -smp $SMP, $N runs of each configuration, interleaved; workload: $CMD"
echo "QEMU: $(qemu-system-"$ARCH" --version | head -n 1)"
[ -n "$calls" ] && echo "syscalls per run (enters, from the summary): $calls"
table() { # title, name of the times array
    local -n times=$2
    declare -A med
    for c in "${CONFIGS[@]}"; do
        med[$c]=$(tr ' ' '\n' <<<"${times[$c]}" | grep . | median)
    done
    echo
    echo "$1"
    printf '%-8s %9s %8s %14s %16s   %s\n' config "median s" "x bare" "us/call >bare" "us/call >floor" "runs (s)"
    for c in "${CONFIGS[@]}"; do
        local m=${med[$c]} ratio=0 ab=0 af=0
        [ -n "${med[bare]:-}" ] && ratio=$(echo "$m / ${med[bare]}" | bc -l)
        [ -n "${med[bare]:-}" ] && [ -n "$calls" ] && ab=$(echo "($m - ${med[bare]}) * 1000000 / $calls" | bc -l)
        [ -n "${med[floor]:-}" ] && [ -n "$calls" ] && af=$(echo "($m - ${med[floor]}) * 1000000 / $calls" | bc -l)
        printf '%-8s %9.3f %8.3f %14.2f %16.2f  %s\n' "$c" "$m" "$ratio" "$ab" "$af" "${times[$c]}"
    done
}
table "wall time, boot to power-off:" WALL
table "CPU time of QEMU (user + system, every thread; less disturbed by a busy machine):" CPU
echo "files: $OUT"
