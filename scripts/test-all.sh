#!/usr/bin/env bash
# Every test of syscalls2, from a fresh Debian machine. It installs what it
# needs itself (QEMU 10 from bookworm-backports and the image tools; the
# guest kernels and busybox come from Debian packages, fetched by
# scripts/guest-images.sh, with Debian's strace for the strace images and
# Debian's gcc for the hostile-program images, Debian's clang and lld and
# linux-libc-dev 6.12's headers for the newcalls programs; DuckDB from PyPI), then runs:
# formatting and lint checks, the real-guest tests under QEMU, a hostile
# guest program against the trace, a small guest making Windows-convention
# calls against the trace (built by Debian's gcc), DuckDB over a real trace, the comparison
# with strace, the syscalls2 command on live guests (record/replay
# included), the examples, the unit, integration, compile-fail and doc
# tests, and a dry run of publishing every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's heading says how long the run has taken so far (the whole
# run must stay well under CI's limit).
step() { printf '\n=== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
trap 'printf "\n=== [%dm%02ds] done (exit %d)\n" $((SECONDS / 60)) $((SECONDS % 60)) $?' EXIT

step "install QEMU 10 and the image tools"
bash scripts/install-qemu.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "real guests: x86_64, i386, arm, aarch64, mipsel, mips64el on Linux 6.1 (and aarch64, x86_64 -smp 2) with the QEMU plugin"
cargo xtask qemu-test

step "a hostile guest program (raw, disguised and unknown calls, threads, signals, vfork, generated code) against the trace"
cargo xtask hostile

step "Windows-convention calls (x86 sysenter via KiFastSystemCall and int 0x2e, x64 syscall) from small guests against the trace"
cargo xtask windows-guest

step "DuckDB reads a real guest's JSON lines with typed columns"
python3 -m pip install --quiet --disable-pip-version-check duckdb
python3 tests/duckdb/events.py target/qemu-runs/test-x86_64-smp1/trace.log

step "strace as the oracle: the plugin's trace against Debian's strace in the same guests"
# Thresholds per arch: MIN_EXACT in xtask/src/strace_compare/mod.rs.
cargo xtask strace-compare

step "the syscalls2 command: show, trace -c, trace -e trace=%file, record once and replay twice, -f, Parquet read by DuckDB"
cargo build -q -p syscalls2-cli
s2=target/debug/syscalls2
out=$("$s2" show)
grep -qF 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' <<<"$out"
"$s2" trace --arch x86_64 -c -- 'find / > /dev/null' > target/cli-count.txt
head -n 1 target/cli-count.txt | grep -qxF '% time     seconds  usecs/call     calls    errors syscall'
grep -qE ' getdents64$' target/cli-count.txt
tail -n 1 target/cli-count.txt | grep -qE '^100\.00 .* total$'
"$s2" trace --arch x86_64 -e trace=%file -- 'cat /etc/hostname' > target/cli-file.txt
grep -qF 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' target/cli-file.txt
if grep -qE '\] (read|write|sendfile|close|mmap)\(' target/cli-file.txt; then
    echo "-e trace=%file printed a call that is not a file call" >&2; exit 1
fi
for arch in x86_64 aarch64 mipsel; do
    rec="target/cli-rr-$arch"
    rm -rf "$rec"
    "$s2" record --arch "$arch" -o "$rec" -- 'cat /etc/hostname; ls /nonexistent; sh -c "exit 3"'
    "$s2" replay "$rec" -f > "$rec/replay-1.txt"
    "$s2" replay "$rec" -f > "$rec/replay-2.txt"
    grep -qE '"/etc/hostname", O_RDONLY(\|O_LARGEFILE)?\) = 3' "$rec/replay-1.txt" # O_LARGEFILE: o32
    cmp "$rec/replay-1.txt" "$rec/replay-2.txt"
    echo "record/replay $arch: two replays identical ($(wc -l < "$rec/replay-1.txt") lines)"
done
# Without -f (strace's default), only the command's shell: not `cat`, which
# it forks, but the last command, which it execs itself.
rec=target/cli-rr-x86_64
"$s2" replay "$rec" > "$rec/replay-nof.txt"
if grep -qF '"/etc/hostname", O_RDONLY' "$rec/replay-nof.txt"; then
    echo "replay without -f traced cat, a process the command's shell forked" >&2; exit 1
fi
grep -qE 'exit_group\(3\) += \?$' "$rec/replay-nof.txt"
grep -qF 'execve("/proc/self/exe", ["sh", "-c", "exit 3"]' "$rec/replay-nof.txt"
echo "replay without -f: the shell's $(wc -l < "$rec/replay-nof.txt") lines, none of cat's"
# Parquet: DuckDB reads a replay's file with typed columns, row for row a
# JSON lines replay of the same recording.
rec=target/cli-rr-x86_64
"$s2" replay "$rec" -f --format parquet -o "$rec/replay.parquet"
"$s2" replay "$rec" -f --format jsonl -o "$rec/replay.jsonl"
python3 tests/duckdb/parquet.py "$rec/replay.parquet" "$rec/replay.jsonl"

step "examples"
out=$(cargo run -q --example strace)
grep -qF 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' <<<"$out"
grep -qF 'exit_group(3) = ?' <<<"$out"
out=$(cargo run -q --example strace -- --format jsonl tests/fixtures/windows7_x86_filereadmon.json)
grep -qF '"name":"NtCreateFile"' <<<"$out"
out=$(cargo run -q --example filereadmon)
grep -qF 'secret.txt' <<<"$out"
echo "examples: ok"

step "cargo test (no emulator: fixtures, trybuild, doc tests)"
cargo test --workspace --all-features

step "cargo publish --workspace --dry-run: every crate packages, and builds from its package alone"
cargo publish --workspace --dry-run --allow-dirty
