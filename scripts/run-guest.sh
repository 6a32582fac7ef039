#!/usr/bin/env bash
# Boot one guest built by scripts/guest-images.sh under QEMU TCG.
#
# Usage: scripts/run-guest.sh ARCH[-VARIANT] [qemu extra args...]
#   ARCH: x86_64 | i386 | arm | aarch64 | mipsel | mips64el | riscv64; ARCH-strace boots the image that also
#   carries Debian's strace (scripts/guest-images.sh --with-strace ARCH),
#   ARCH-hostile the one with /hostile (--with-hostile), ARCH-newcalls the one
#   with /newcalls-* (--with-newcalls); ARCH-6.12[-VARIANT]: with Linux 6.12
#   (--kernel=6.12)
#   Extra args go to qemu verbatim, e.g. -plugin ./libprobe.so,log=/tmp/x -d plugin -smp 2
#
# Environment:
#   S2CMD='ls /; cat /etc/hostname'  shell command line run by the guest's /init
#                                   (passed base64-encoded as s2cmd=... on the kernel cmdline;
#                                   on mipsel/mips64el, whose Malta board passes the kernel at
#                                   most 255 bytes of command line, as /workload.sh
#                                   `exec sh -c 'CMD'` in an archive appended to the initrd)
#   S2_APPEND='...'                  extra kernel command line words
#   S2_TIMEOUT=300                   seconds before qemu is killed (exit status 124)
#   S2_VERBOSE=1                     show kernel boot messages (drops `quiet`)
#   S2_SHELL=1                       interactive busybox shell after the workload
#   S2_GUEST_IMAGES_DIR              image cache (default: target/guest-images)
#   QEMU_BIN                         override the qemu-system-* binary
# The guest prints "S2GUEST: WORKLOAD END rc=N" and powers off; qemu then exits 0.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,22p' "${BASH_SOURCE[0]}" >&2; exit 2; }
IMAGE="$1"
shift
ARCH="${IMAGE%%-*}"
VARIANT="${IMAGE#"$ARCH"}"
IMG="${S2_GUEST_IMAGES_DIR:-$ROOT/target/guest-images}/$IMAGE"

MEM=512
MALTA=0
case "$ARCH" in
    x86_64) QEMU=qemu-system-x86_64; MACHINE=(-M pc); CONSOLE=ttyS0 ;;
    i386) QEMU=qemu-system-i386; MACHINE=(-M pc); CONSOLE=ttyS0 ;;
    arm) QEMU=qemu-system-arm; MACHINE=(-M virt); CONSOLE=ttyAMA0 ;;
    aarch64) QEMU=qemu-system-aarch64; MACHINE=(-M virt -cpu cortex-a57); CONSOLE=ttyAMA0 ;;
    # Malta: the 4Kc/5Kc kernels boot on QEMU's 24Kc and 5KEc (on its 4Kc and
    # 5Kc models they print nothing), in the 256 MiB of the board's low memory.
    mipsel) QEMU=qemu-system-mipsel; MACHINE=(-M malta -cpu 24Kc); CONSOLE=ttyS0; MEM=256; MALTA=1 ;;
    mips64el) QEMU=qemu-system-mips64el; MACHINE=(-M malta -cpu 5KEc); CONSOLE=ttyS0; MEM=256; MALTA=1 ;;
    # virt under OpenSBI (QEMU's own opensbi-riscv64-generic-fw_dynamic.bin),
    # which starts the kernel in S-mode.
    riscv64) QEMU=qemu-system-riscv64; MACHINE=(-M virt -bios default); CONSOLE=ttyS0 ;;
    *) echo "run-guest: unknown arch '$ARCH' (x86_64 i386 arm aarch64 mipsel mips64el riscv64)" >&2; exit 2 ;;
esac
QEMU="${QEMU_BIN:-$QEMU}"

if [ ! -s "$IMG/vmlinuz" ] || [ ! -s "$IMG/initrd.gz" ]; then
    echo "run-guest: no image in $IMG; building it" >&2
    KFLAG=()
    case "$VARIANT" in
        -6.12*) KFLAG=(--kernel=6.12); VARIANT="${VARIANT#-6.12}" ;;
    esac
    if [ -z "$VARIANT" ]; then
        "$ROOT/scripts/guest-images.sh" "${KFLAG[@]}" "$ARCH"
    else
        "$ROOT/scripts/guest-images.sh" "${KFLAG[@]}" "--with${VARIANT}" "$ARCH"
    fi
fi

APPEND="console=$CONSOLE panic=-1 rdinit=/init"
[ "${S2_VERBOSE:-0}" = 1 ] || APPEND="$APPEND quiet"
INITRD="$IMG/initrd.gz"
EXTRA=""
if [ -n "${S2CMD:-}" ] && [ "$MALTA" = 1 ]; then
    # QEMU's Malta copies the command line into one 256-byte YAMON
    # environment entry: the command goes in the initramfs instead, as the
    # /workload.sh that /init runs (`sh /workload.sh`), which execs
    # `sh -c CMD` as /init does with s2cmd=, in the same process.
    EXTRA="$(mktemp -d "${TMPDIR:-/tmp}/s2-run-guest.XXXXXX")"
    trap 'rm -rf "$EXTRA"' EXIT
    mkdir "$EXTRA/root"
    quoted="$(printf '%s' "$S2CMD" | sed "s/'/'\\\\''/g")"
    printf "exec sh -c '%s'\n" "$quoted" >"$EXTRA/root/workload.sh"
    # The same bytes for the same command (a replay of a recording boots it again).
    touch -d @0 "$EXTRA/root/workload.sh"
    (cd "$EXTRA/root" && echo workload.sh | cpio -o -H newc --quiet --reproducible --owner=0:0 | gzip -n) >"$EXTRA/workload.gz"
    cat "$IMG/initrd.gz" "$EXTRA/workload.gz" >"$EXTRA/initrd.gz"
    INITRD="$EXTRA/initrd.gz"
elif [ -n "${S2CMD:-}" ]; then
    APPEND="$APPEND s2cmd=$(printf '%s' "$S2CMD" | base64 -w0)"
fi
[ "${S2_SHELL:-0}" = 1 ] && APPEND="$APPEND s2shell"
[ -n "${S2_APPEND:-}" ] && APPEND="$APPEND $S2_APPEND"
if [ ${#APPEND} -gt 2000 ]; then
    echo "run-guest: kernel command line too long (${#APPEND} > 2000); bake the workload in (S2_WORKLOAD=... scripts/guest-images.sh --force)" >&2
    exit 2
fi

RUN=(timeout --foreground -k 5 "${S2_TIMEOUT:-300}"
    "$QEMU" "${MACHINE[@]}" -accel tcg -m "$MEM"
    -nographic -no-reboot -nodefaults -serial mon:stdio
    -kernel "$IMG/vmlinuz" -initrd "$INITRD" -append "$APPEND"
    "$@")
[ -n "$EXTRA" ] || exec "${RUN[@]}"
rc=0
"${RUN[@]}" || rc=$?
exit "$rc"
