#!/usr/bin/env bash
# Every test of syscalls2, from a fresh Debian machine. It installs what it
# needs itself (QEMU 10 from bookworm-backports and the image tools; the
# guest kernels and busybox come from Debian packages, fetched by
# scripts/guest-images.sh, with Debian's strace for the strace images;
# DuckDB from PyPI), then runs: formatting and lint checks, the real-guest
# tests under QEMU, DuckDB over a real trace, the comparison with strace,
# the examples, and the unit, integration, compile-fail and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "install QEMU 10 and the image tools"
bash scripts/install-qemu.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "real guests: x86_64, i386, arm, aarch64 (and aarch64 -smp 2) with the QEMU plugin"
cargo xtask qemu-test

step "DuckDB reads a real guest's JSON lines with typed columns"
python3 -m pip install --quiet --disable-pip-version-check duckdb
python3 tests/duckdb/events.py target/qemu-runs/test-x86_64-smp1.log

step "strace as the oracle: the plugin's trace against Debian's strace in the same guests"
# Thresholds per arch: MIN_EXACT in xtask/src/strace_compare/mod.rs.
cargo xtask strace-compare

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
