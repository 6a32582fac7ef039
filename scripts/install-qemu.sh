#!/usr/bin/env bash
# Install QEMU 10 (system emulators for x86, ARM, MIPS and RISC-V) from
# bookworm-backports, and
# the host tools the guest images need. Idempotent; needs root (or sudo).
#
# Usage: scripts/install-qemu.sh
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

qemu_ok() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 &&
        command -v qemu-system-aarch64 >/dev/null 2>&1 &&
        command -v qemu-system-mipsel >/dev/null 2>&1 &&
        command -v qemu-system-mips64el >/dev/null 2>&1 &&
        command -v qemu-system-riscv64 >/dev/null 2>&1 &&
        qemu-system-x86_64 --version | head -n1 | grep -Eq 'version (1[0-9]|[2-9][0-9])\.'
}
tools_ok() {
    for t in cpio gzip dpkg-deb base64 timeout; do command -v "$t" >/dev/null 2>&1 || return 1; done
}

if qemu_ok && tools_ok; then
    echo "[install-qemu] $(qemu-system-x86_64 --version | head -n1): already installed"
    exit 0
fi

. /etc/os-release
CODENAME="${VERSION_CODENAME:-bookworm}"
LIST=/etc/apt/sources.list.d/bookworm-backports.list
if [ "$CODENAME" = bookworm ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "[install-qemu] adding bookworm-backports to $LIST"
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$LIST" >/dev/null
fi
echo "[install-qemu] apt-get update"
# Another apt (a concurrent image build) may hold the lists lock: wait for it.
for try in 1 2 3 4 5 6; do
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 && break
    [ "$try" = 6 ] && { echo "[install-qemu] apt-get update reported errors (continuing)"; break; }
    sleep 10
done
TARGET=()
[ "$CODENAME" = bookworm ] && TARGET=(-t bookworm-backports)
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
    "${TARGET[@]}" qemu-system-x86 qemu-system-arm qemu-system-mips qemu-system-misc
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
    cpio gzip dpkg coreutils
qemu_ok || { echo "[install-qemu] error: QEMU 10 or later not installed" >&2; exit 1; }
echo "[install-qemu] $(qemu-system-x86_64 --version | head -n1)"
