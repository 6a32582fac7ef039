#!/usr/bin/env bash
# Build bootable Linux guests (kernel + busybox initramfs) from Debian packages only.
#
# Usage: scripts/guest-images.sh [--force] [--kernel=6.1|6.12] [--with-strace] [--with-hostile]
#                               [--with-newcalls] ARCH...
#   ARCH in: x86_64 i386 arm aarch64 mipsel mips64el riscv64 (default: the first four)
#   --kernel (or S2_KERNEL): the Linux release, 6.1 (default) or 6.12
#
# Output (per arch), cached under target/guest-images/<image>/, where <image>
# is <arch> for the 6.1 kernel and <arch>-6.12 for the 6.12 one:
#   vmlinuz      kernel image from linux-image-6.1.0-N-<flavour> (bookworm), or
#                linux-image-6.12.N+deb12-<flavour> (the linux-image-6.12-<flavour>
#                metapackage of bookworm-security; else the bookworm-backports
#                linux-image-<flavour> that depends on a 6.12 one: mips64el).
#                Debian builds no 6.12 kernel for i386 or mipsel (Debian 13
#                dropped both): --kernel=6.12 fails for them. riscv64, which
#                bookworm has no port for, always boots
#                linux-image-6.12.N+deb13-riscv64 (trixie, see deb_suite)
#   initrd.gz    cpio newc + gzip: busybox-static of that arch, /init, /etc/hostname
#   kernel-package.txt  the concrete Debian package names + versions used
# With --with-strace, also target/guest-images/<arch>-strace/ (boot it with
# `scripts/run-guest.sh <arch>-strace`): the same kernel, and the plain
# initrd.gz followed by a second archive holding Debian's strace for that
# arch at /usr/bin/strace, its dynamic loader at the path its PT_INTERP names
# and every shared library it needs (NEEDED, transitively), taken from the
# Depends closure of the strace package (packages listed in packages.txt).
# With --with-hostile (x86_64 and i386), also target/guest-images/<arch>-hostile/:
# the plain image and /hostile, tests/guest/hostile.c compiled static by
# Debian's gcc for the arch (gcc, gcc-i686-linux-gnu; installed if missing).
# With --with-newcalls, also target/guest-images/<image>-newcalls/: the plain
# image and /newcalls-<abi>, tests/guest/newcalls.c (the calls Linux 6.12 has
# and 6.1 lacks) built static and freestanding by Debian's clang and lld for
# the arch's own ABI and each compat ABI its kernel runs that the plugin
# decodes (x86_64: x64 and x86; mips64el: mips64, mips64n32 and mips; not
# AArch32 on aarch64), with
# the UAPI headers of linux-libc-dev 6.12 (bookworm-backports, unpacked, not
# installed). clang and lld are installed if missing.
# A rerun is a no-op when the outputs exist and are newer than their inputs
# (use --force to rebuild).
#
# The guest /init (busybox sh):
#   - mounts proc, sys, devtmpfs (tmpfs + mknod fallback), tmpfs on /tmp
#   - prints "S2GUEST: BOOTED"
#   - runs /workload.sh if present in the initramfs, else the command given on the
#     kernel command line as s2cmd=<base64 of a sh command line> (see scripts/run-guest.sh),
#     else nothing;
#   - prints "S2GUEST: WORKLOAD BEGIN" / "S2GUEST: WORKLOAD END rc=<n>"
#   - prints "S2GUEST: POWEROFF" and does `poweroff -f`.
# Needs root (or a working sudo-less apt) for dpkg --add-architecture / apt-get update / install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_BASE="${S2_GUEST_IMAGES_DIR:-$ROOT/target/guest-images}"
FORCE=0
WITH_STRACE=0
WITH_HOSTILE=0
WITH_NEWCALLS=0
KERNEL="${S2_KERNEL:-6.1}"
ARCHES=()
for a in "$@"; do
    case "$a" in
        --force) FORCE=1 ;;
        --with-strace) WITH_STRACE=1 ;;
        --with-hostile) WITH_HOSTILE=1 ;;
        --with-newcalls) WITH_NEWCALLS=1 ;;
        --kernel=*) KERNEL="${a#--kernel=}" ;;
        -h|--help) sed -n '2,48p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "[guest-images] error: unknown option '$a'" >&2; exit 2 ;;
        *) ARCHES+=("$a") ;;
    esac
done
[ ${#ARCHES[@]} -eq 0 ] && ARCHES=(x86_64 i386 arm aarch64)

log() { echo "[guest-images] $*" >&2; }
die() { echo "[guest-images] error: $*" >&2; exit 1; }

case "$KERNEL" in
    6.1 | 6.12) ;;
    *) die "unknown kernel '$KERNEL' (want 6.1 or 6.12)" ;;
esac
# The image of arch $1 for the chosen kernel: <arch> (6.1), <arch>-6.12.
image_name() {
    if [ "$KERNEL" = 6.1 ]; then echo "$1"; else echo "$1-$KERNEL"; fi
}

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && SUDO="sudo" || die "must run as root (dpkg/apt-get)"
fi

# arch -> debian arch, kernel flavours (first available wins)
deb_arch() {
    case "$1" in
        x86_64) echo amd64 ;;
        i386) echo i386 ;;
        arm) echo armhf ;;
        aarch64) echo arm64 ;;
        mipsel) echo mipsel ;;     # o32, little-endian
        mips64el) echo mips64el ;; # n64, little-endian
        riscv64) echo riscv64 ;;
        *) die "unknown arch '$1' (want x86_64 i386 arm aarch64 mipsel mips64el riscv64)" ;;
    esac
}
kernel_flavours() {
    case "$1" in
        x86_64) echo "cloud-amd64 amd64" ;; # cloud kernel: fewer drivers, boots faster
        i386) echo "686 686-pae" ;;
        arm) echo "armmp" ;;
        aarch64) echo "arm64" ;;
        mipsel) echo "4kc-malta" ;;   # MIPS32r1 on QEMU's Malta board
        mips64el) echo "5kc-malta" ;; # MIPS64r1 on QEMU's Malta board
        riscv64) echo "riscv64" ;;    # QEMU's virt board, under OpenSBI
    esac
}

# The Debian suite an arch's packages come from, when it is not the host's
# own apt sources (bookworm): riscv64 is an official port from Debian 13
# (trixie) on. Those packages are fetched with a private apt configuration
# under $OUT_BASE/.apt-<suite>-<arch> (its own sources list naming only that
# suite and arch, its own lists, cache and an empty dpkg status; see
# private_apt), so the host's sources, architectures, pins and packages are
# never touched and nothing on the host can be upgraded from it.
deb_suite() {
    case "$1" in
        riscv64) echo trixie ;;
        *) echo "" ;;
    esac
}
# The Linux release ARCH boots: $KERNEL, but riscv64's only Debian kernels
# are trixie's 6.12.
kernel_release() {
    case "$1" in
        riscv64) echo 6.12 ;;
        *) echo "$KERNEL" ;;
    esac
}

# ---- host tools -------------------------------------------------------------
APT_UPDATED=0
# Options apt-get/apt-cache take for the current arch: none for the host's
# sources, a private configuration for an arch of another suite (use_arch).
APT_OPTS=()
PRIVATE_APT=""
apt_update() {
    if [ -n "$PRIVATE_APT" ]; then
        private_apt_update
        return
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        # Some mirrors/indices may fail transiently (e.g. "Mirror sync in progress");
        # apt ignores those indices and keeps old ones, which is fine for us.
        # Another apt (a concurrent build of other images) may hold the lists
        # lock for a while: wait for it rather than go on with stale lists.
        local try
        for try in 1 2 3 4 5 6; do
            $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 && break
            [ "$try" = 6 ] && { log "apt-get update reported errors (continuing)"; break; }
            sleep 10
        done
        APT_UPDATED=1
    fi
}

need_tools() {
    local missing=()
    command -v cpio >/dev/null 2>&1 || missing+=(cpio)
    command -v gzip >/dev/null 2>&1 || missing+=(gzip)
    command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
    command -v base64 >/dev/null 2>&1 || missing+=(coreutils)
    if [ "$WITH_STRACE" = 1 ]; then
        command -v readelf >/dev/null 2>&1 || missing+=(binutils)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing host tools: ${missing[*]}"
        $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -q "${missing[@]}" >/dev/null 2>&1 || {
            apt_update
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "${missing[@]}" >/dev/null
        }
    fi
}

# The private apt configuration for Debian arch $1 of suite $2 (deb_suite):
# sets APT_OPTS and PRIVATE_APT to its directory.
private_apt() {
    local darch="$1" suite="$2" dir
    dir="$OUT_BASE/.apt-$suite-$darch"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
    [ -f "$dir/status" ] || : >"$dir/status"
    echo "deb [arch=$darch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${S2_DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" >"$dir/sources.list"
    PRIVATE_APT="$dir"
    APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/parts"
        -o "Dir::Etc::Preferences=$dir/parts/none" -o "Dir::Etc::PreferencesParts=$dir/parts"
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "Dir::State::status=$dir/status"
        -o "APT::Architecture=$darch" -o "APT::Architectures::=$darch"
        -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
        -o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false")
}

# Updates the private configuration's lists, once a run and only when they
# are a day old or missing; the keyring is the host's debian-archive-keyring,
# which on bookworm holds the trixie keys.
private_apt_update() {
    local stamp="$PRIVATE_APT/updated" try
    case " ${PRIVATE_UPDATED:-} " in *" $PRIVATE_APT "*) return 0 ;; esac
    PRIVATE_UPDATED="${PRIVATE_UPDATED:-} $PRIVATE_APT"
    [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ] && return 0
    log "apt-get update ($(sed 's/.*\] //' "$PRIVATE_APT/sources.list"), private lists in $PRIVATE_APT)"
    for try in 1 2 3; do
        $SUDO apt-get "${APT_OPTS[@]}" update -q >"$PRIVATE_APT/update.log" 2>&1 && break
        [ "$try" = 3 ] && { cat "$PRIVATE_APT/update.log" >&2; die "apt-get update of $PRIVATE_APT/sources.list failed"; }
        sleep 10
    done
    touch "$stamp"
}

# Chooses the apt configuration for arch $1: the host's, with its Debian arch
# added as a foreign one, or the private one of its suite.
use_arch() {
    local darch suite
    darch="$(deb_arch "$1")"
    suite="$(deb_suite "$1")"
    if [ -n "$suite" ]; then
        private_apt "$darch" "$suite"
        private_apt_update
    else
        APT_OPTS=()
        PRIVATE_APT=""
        ensure_foreign_arch "$darch"
    fi
}

ensure_foreign_arch() {
    local darch="$1"
    [ "$darch" = "$(dpkg --print-architecture)" ] && return 0
    if ! dpkg --print-foreign-architectures | grep -qx "$darch"; then
        log "dpkg --add-architecture $darch"
        $SUDO dpkg --add-architecture "$darch"
        APT_UPDATED=0
        apt_update
    fi
}

# Does apt know a candidate for package $1 (may carry :arch)?
has_candidate() {
    local c
    c="$(apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [ -n "$c" ] && [ "$c" != "(none)" ]
}

# The concrete kernel package of release $3 that metapackage $1
# (pkg:arch[=version]) depends on: linux-image-6.1.0-N-FLAV,
# linux-image-6.12.N+deb12-FLAV, linux-image-6.12.N+deb13-FLAV.
kernel_dep() {
    local flav="$2" rel
    rel="$(printf '%s' "$3" | sed 's/\./\\./g')"
    apt-cache "${APT_OPTS[@]}" depends "$1" 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-'"$rel"'\.[0-9][0-9]*\(-[0-9][0-9]*\|+[a-z0-9]*\)-'"$flav"'\)\(:[a-z0-9]*\)\?$/\1/p' |
        head -n1
}

# Resolve the concrete kernel package of ARCH's release (kernel_release)
# via a metapackage's dependency: the flavour's metapackage's candidate (6.1;
# riscv64's trixie 6.12), the release's own metapackage
# (linux-image-6.12-FLAV, bookworm-security), or another version of the
# flavour's metapackage, newest first (6.12 from bookworm-backports).
resolve_kernel() {
    local arch="$1" darch flav meta pkg ver rel
    darch="$(deb_arch "$arch")"
    rel="$(kernel_release "$arch")"
    for flav in $(kernel_flavours "$arch"); do
        meta="linux-image-$flav:$darch"
        has_candidate "$meta" || { apt_update; has_candidate "$meta" || continue; }
        pkg="$(kernel_dep "$meta" "$flav" "$rel")"
        if [ -z "$pkg" ] && has_candidate "linux-image-$rel-$flav:$darch"; then
            pkg="$(kernel_dep "linux-image-$rel-$flav:$darch" "$flav" "$rel")"
        fi
        if [ -z "$pkg" ]; then
            for ver in $(apt-cache "${APT_OPTS[@]}" madison "$meta" 2>/dev/null | awk -F' *[|] *' '{print $2}'); do
                pkg="$(kernel_dep "$meta=$ver" "$flav" "$rel")"
                [ -z "$pkg" ] || break
            done
        fi
        if [ -n "$pkg" ] && has_candidate "$pkg:$darch"; then
            echo "$pkg:$darch"
            return 0
        fi
    done
    return 1
}

download() { # pkg[:arch] -> prints path of the .deb in $DL
    local pkg="$1"
    (cd "$DL" && $SUDO apt-get "${APT_OPTS[@]}" -o DPkg::Lock::Timeout=300 download -q "$pkg" >/dev/null 2>&1) || {
        apt_update
        (cd "$DL" && $SUDO apt-get "${APT_OPTS[@]}" -o DPkg::Lock::Timeout=300 download -q "$pkg" >/dev/null)
    }
    local name="${pkg%%:*}" arch="${pkg##*:}" f newest=""
    # The newest of the arch's and the arch-independent .debs (an unmatched
    # pattern stays literal and is skipped by -f).
    for f in "$DL"/"${name}"_*_"${arch}".deb "$DL"/"${name}"_*_all.deb; do
        if [ -f "$f" ] && { [ -z "$newest" ] || [ "$f" -nt "$newest" ]; }; then
            newest="$f"
        fi
    done
    printf '%s\n' "$newest"
}

write_init() {
    cat >"$1" <<'EOF'
#!/bin/busybox sh
# syscalls2 guest init (generated by scripts/guest-images.sh)
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
if ! mount -t devtmpfs devtmpfs /dev 2>/dev/null; then
    mount -t tmpfs -o mode=0755 tmpfs /dev
    mknod -m 600 /dev/console c 5 1
    mknod -m 666 /dev/null c 1 3
    mknod -m 666 /dev/zero c 1 5
    mknod -m 666 /dev/tty c 5 0
    mknod -m 444 /dev/urandom c 1 9
fi
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -r /etc/hostname ] && hostname -F /etc/hostname
exec </dev/console >/dev/console 2>&1
echo "S2GUEST: BOOTED $(uname -m) $(uname -r)"

S2CMD=""
for w in $(cat /proc/cmdline); do
    case "$w" in
        s2cmd=*) S2CMD="$(echo "${w#s2cmd=}" | base64 -d 2>/dev/null)" ;;
    esac
done
rc=0
if [ -f /workload.sh ]; then
    echo "S2GUEST: WORKLOAD BEGIN /workload.sh"
    sh /workload.sh; rc=$?
    echo "S2GUEST: WORKLOAD END rc=$rc"
elif [ -n "$S2CMD" ]; then
    echo "S2GUEST: WORKLOAD BEGIN s2cmd"
    sh -c "$S2CMD"; rc=$?
    echo "S2GUEST: WORKLOAD END rc=$rc"
else
    echo "S2GUEST: NO WORKLOAD"
fi
if grep -q 's2shell' /proc/cmdline; then
    echo "S2GUEST: SHELL (exit to power off)"
    setsid cttyhack sh
fi
echo "S2GUEST: POWEROFF"
sync
poweroff -f
# if poweroff failed, make the kernel panic (panic=-1 + -no-reboot ends QEMU)
exit $rc
EOF
    chmod 755 "$1"
}

build_arch() {
    local arch="$1" darch out stage kpkg kdeb bdeb kver img
    darch="$(deb_arch "$arch")"
    img="$(image_name "$arch")"
    out="$OUT_BASE/$img"
    if [ "$FORCE" = 0 ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ]; then
        log "$img: cached ($out)"
        return 0
    fi
    use_arch "$arch"
    kpkg="$(resolve_kernel "$arch")" || {
        case "$KERNEL-$arch" in
            6.12-i386 | 6.12-mipsel)
                die "$arch: Debian builds no Linux 6.12 kernel for $darch (not in bookworm-security nor bookworm-backports: Debian 13 dropped the $darch kernels)" ;;
        esac
        die "$arch: no Linux $(kernel_release "$arch") kernel package (linux-image-$(kernel_release "$arch")*-{$(kernel_flavours "$arch")}) found"
    }
    log "$img: kernel package $kpkg"
    kdeb="$(download "$kpkg")"
    bdeb="$(download "busybox-static:$darch")"
    [ -f "$kdeb" ] && [ -f "$bdeb" ] || die "$arch: download failed"

    stage="$(mktemp -d "$OUT_BASE/.stage-$img.XXXXXX")"
    mkdir -p "$stage/kernel" "$stage/bb" "$stage/root"
    # The kernel image only (not its modules: the guests load none).
    dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$stage/kernel" ./boot
    dpkg-deb -x "$bdeb" "$stage/bb"

    local vmlinuz
    # (riscv64's is /boot/vmlinux-*, an uncompressed Image.)
    local f
    vmlinuz=""
    for f in "$stage"/kernel/boot/vmlinuz-* "$stage"/kernel/boot/vmlinux-*; do
        [ -f "$f" ] && { vmlinuz="$f"; break; }
    done
    [ -n "$vmlinuz" ] || die "$arch: no /boot/vmlinuz-* or /boot/vmlinux-* in $kdeb"
    kver="${vmlinuz##*/vmlinu[xz]-}"

    local r="$stage/root"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root}
    # (trixie's busybox-static installs /usr/bin/busybox, bookworm's /bin/busybox.)
    if [ -f "$stage/bb/bin/busybox" ]; then
        cp "$stage/bb/bin/busybox" "$r/bin/busybox"
    else
        cp "$stage/bb/usr/bin/busybox" "$r/bin/busybox"
    fi
    chmod 755 "$r/bin/busybox"
    ln -s busybox "$r/bin/sh"
    write_init "$r/init"
    echo "syscalls2-guest" >"$r/etc/hostname"
    echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
    echo "root:x:0:" >"$r/etc/group"
    printf '127.0.0.1 localhost\n127.0.1.1 syscalls2-guest\n' >"$r/etc/hosts"
    echo "$arch" >"$r/etc/s2-arch"
    if [ -n "${S2_WORKLOAD:-}" ]; then # bake a workload in: S2_WORKLOAD=path/to/script.sh
        cp "$S2_WORKLOAD" "$r/workload.sh"
    fi
    # /dev/console for the kernel's initial console (the kernel's builtin initramfs
    # usually provides it too); needs root for mknod, so best effort.
    mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true

    mkdir -p "$out"
    (cd "$r" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$out/initrd.gz.tmp"
    cp "$vmlinuz" "$out/vmlinuz.tmp"
    mv "$out/initrd.gz.tmp" "$out/initrd.gz"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"
    {
        echo "kernel: $(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version) ($kver)"
        echo "busybox: $(dpkg-deb -f "$bdeb" Package) $(dpkg-deb -f "$bdeb" Version) $darch"
    } >"$out/kernel-package.txt"
    rm -rf "$stage"
    log "$img: built $out/vmlinuz ($(stat -c %s "$out/vmlinuz") B), initrd.gz ($(stat -c %s "$out/initrd.gz") B)"
}

# ---- the strace variant -----------------------------------------------------

# The package names a .deb depends on (Depends and Pre-Depends; the first of
# each set of alternatives; versions and :any dropped).
deb_depends() {
    dpkg-deb -f "$1" Depends Pre-Depends | sed 's/^[A-Za-z-]*: //' | tr ',' '\n' |
        sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d' | sort -u
}

# Downloads $1:$2 and everything it depends on; prints the .deb paths.
deb_closure() {
    local darch="$2" queue=("$1") seen=" " pkg deb dep
    while [ ${#queue[@]} -gt 0 ]; do
        pkg="${queue[0]}"
        queue=("${queue[@]:1}")
        case "$seen" in *" $pkg "*) continue ;; esac
        seen="$seen$pkg "
        deb="$(download "$pkg:$darch")"
        [ -f "$deb" ] || die "download of $pkg:$darch failed"
        echo "$deb"
        for dep in $(deb_depends "$deb"); do queue+=("$dep"); done
    done
}

# Path $2 (absolute, inside the tree $1) with its symbolic links followed
# inside the tree (Debian's links may be absolute); prints it relative to $1.
tree_resolve() {
    local tree="$1" path="$2" link n=0
    while [ -L "$tree$path" ]; do
        link="$(readlink "$tree$path")"
        case "$link" in
            /*) path="$link" ;;
            *) path="$(dirname "$path")/$link" ;;
        esac
        n=$((n + 1))
        [ $n -lt 20 ] || die "symlink loop at $path in $tree"
    done
    # A package built for a merged /usr (trixie's) has /lib's files in /usr/lib.
    if [ ! -e "$tree$path" ] && [ -e "$tree/usr$path" ] && [ "${path#/usr/}" = "$path" ]; then
        tree_resolve "$tree" "/usr$path"
        return
    fi
    [ -f "$tree$path" ] || return 1
    echo "$path"
}

# Where the loader finds soname $2 in tree $1: the multiarch and plain lib dirs.
find_soname() {
    local tree="$1" soname="$2" dir
    for dir in "/lib/$TRIPLET" "/usr/lib/$TRIPLET" /lib /usr/lib; do
        if [ -e "$tree$dir/$soname" ] || [ -L "$tree$dir/$soname" ]; then
            echo "$dir/$soname"
            return 0
        fi
    done
    return 1
}

# Copies ELF file $2 of tree $1 to $3 at the same path, then its loader and
# its NEEDED libraries, transitively.
copy_with_libs() {
    local tree="$1" dest="$3" queue=("$2") seen=" " path real interp so lib
    while [ ${#queue[@]} -gt 0 ]; do
        path="${queue[0]}"
        queue=("${queue[@]:1}")
        case "$seen" in *" $path "*) continue ;; esac
        seen="$seen$path "
        real="$(tree_resolve "$tree" "$path")" || die "$path: not in the packages"
        mkdir -p "$dest$(dirname "$path")"
        cp "$tree$real" "$dest$path"
        interp="$(readelf -lW "$tree$real" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')"
        [ -z "$interp" ] || queue+=("$interp")
        for so in $(readelf -dW "$tree$real" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            lib="$(find_soname "$tree" "$so")" || die "$so (needed by $path): not in the packages"
            queue+=("$lib")
        done
    done
}

triplet() {
    case "$1" in
        x86_64) echo x86_64-linux-gnu ;;
        i386) echo i386-linux-gnu ;;
        arm) echo arm-linux-gnueabihf ;;
        aarch64) echo aarch64-linux-gnu ;;
        mipsel) echo mipsel-linux-gnu ;;
        mips64el) echo mips64el-linux-gnuabi64 ;;
        riscv64) echo riscv64-linux-gnu ;;
    esac
}

build_strace_variant() {
    local arch="$1" darch base out stage debs deb img
    darch="$(deb_arch "$arch")"
    img="$(image_name "$arch")"
    base="$OUT_BASE/$img"
    out="$OUT_BASE/$img-strace"
    if [ "$FORCE" = 0 ] && [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ] &&
        [ "$out/initrd.gz" -nt "$base/initrd.gz" ] && [ "$out/initrd.gz" -nt "${BASH_SOURCE[0]}" ]; then
        log "$img-strace: cached ($out)"
        return 0
    fi
    use_arch "$arch"
    TRIPLET="$(triplet "$arch")"
    stage="$(mktemp -d "$OUT_BASE/.stage-$img-strace.XXXXXX")"
    mkdir -p "$stage/tree" "$stage/root"
    : >"$stage/packages.txt"
    debs="$(deb_closure strace "$darch")" || die "$arch-strace: resolving strace's dependencies failed"
    for deb in $debs; do
        dpkg-deb -x "$deb" "$stage/tree"
        echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $darch" >>"$stage/packages.txt"
    done
    copy_with_libs "$stage/tree" /usr/bin/strace "$stage/root"
    write_variant "$img" strace "$stage"
    log "$img-strace: built $out/initrd.gz ($(stat -c %s "$out/initrd.gz") B; strace, its loader and libraries: $(find "$stage/root" -type f | wc -l) files, $(du -sk "$stage/root" | cut -f1) KiB unpacked)"
    rm -rf "$stage"
}

# Writes variant $2 of image $1 (target/guest-images/<image>-<variant>/): the
# plain image's kernel, and its initrd.gz followed by a second archive of
# the tree $3/root (the kernel unpacks concatenated archives in order, so
# the tree's files are added to the plain image's, or replace them);
# packages.txt is the plain image's list and the lines of $3/packages.txt.
write_variant() {
    local arch="$1" variant="$2" stage="$3" base="$OUT_BASE/$1" out="$OUT_BASE/$1-$2"
    mkdir -p "$out"
    (cd "$stage/root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$stage/extra.cpio.gz"
    cat "$base/initrd.gz" "$stage/extra.cpio.gz" >"$stage/initrd.gz"
    if ! ln -f "$base/vmlinuz" "$out/vmlinuz" 2>/dev/null; then # the same kernel: a hard link if it can
        cp "$base/vmlinuz" "$stage/vmlinuz"
        mv "$stage/vmlinuz" "$out/vmlinuz"
    fi
    { cat "$base/kernel-package.txt"; sort "$stage/packages.txt"; } >"$stage/all-packages.txt"
    mv "$stage/all-packages.txt" "$out/packages.txt"
    mv "$stage/initrd.gz" "$out/initrd.gz"
}

# ---- the hostile variant ----------------------------------------------------

# The C compiler for arch $1 and the Debian packages that provide it (with a
# static libc).
hostile_compiler() {
    case "$1" in
        x86_64) echo "gcc gcc libc6-dev" ;;
        i386) echo "i686-linux-gnu-gcc gcc-i686-linux-gnu libc6-dev-i386-cross" ;;
        *) return 1 ;;
    esac
}

# target/guest-images/<arch>-hostile/: the plain image with /hostile, the
# static program tests/guest/hostile.c built by Debian's compiler for the
# arch (`cargo xtask hostile` runs it).
build_hostile_variant() {
    local arch="$1" img base out src="$ROOT/tests/guest/hostile.c" stage cc pkgs flags
    img="$(image_name "$arch")"
    base="$OUT_BASE/$img"
    out="$base-hostile"
    if [ "$FORCE" = 0 ] && [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ] &&
        [ "$out/initrd.gz" -nt "$base/initrd.gz" ] && [ "$out/initrd.gz" -nt "$src" ] &&
        [ "$out/initrd.gz" -nt "${BASH_SOURCE[0]}" ]; then
        log "$img-hostile: cached ($out)"
        return 0
    fi
    read -r cc pkgs <<<"$(hostile_compiler "$arch")" || die "$arch-hostile: no compiler known for $arch (x86_64, i386)"
    if ! command -v "$cc" >/dev/null 2>&1; then
        log "installing $pkgs"
        # shellcheck disable=SC2086 # a list of packages
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q $pkgs >/dev/null 2>&1 || {
            apt_update
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q $pkgs >/dev/null
        }
    fi
    stage="$(mktemp -d "$OUT_BASE/.stage-$img-hostile.XXXXXX")"
    mkdir -p "$stage/root"
    # Static, not position-independent, linked away from busybox's addresses
    # (the test tells the program's call sites apart by address); no red
    # zone, as it calls its generated code from inline assembly.
    flags=(-static -no-pie -fno-pie -O2 -Wall -Wextra -Werror -pthread -Wl,-Ttext-segment=0x20000000)
    [ "$arch" = x86_64 ] && flags+=(-mno-red-zone)
    "$cc" "${flags[@]}" -o "$stage/root/hostile" "$src" || die "$arch-hostile: $cc failed on $src"
    echo "compiler: $("$cc" --version | head -n1)" >"$stage/packages.txt"
    write_variant "$img" hostile "$stage"
    log "$img-hostile: built $out/initrd.gz ($(stat -c %s "$out/initrd.gz") B; /hostile $(stat -c %s "$stage/root/hostile") B)"
    rm -rf "$stage"
}

# ---- the newcalls variant ---------------------------------------------------

# The ABIs whose programs the arch's newcalls image carries: its kernel's
# own and the compat ABIs it runs that the plugin decodes (the tables' arch
# names).
newcalls_abis() {
    case "$1" in
        x86_64) echo "x64 x86" ;;
        i386) echo "x86" ;;
        arm) echo "arm" ;;
        aarch64) echo "arm64" ;; # AArch32 processes are not decoded (README)
        mipsel) echo "mips" ;;
        mips64el) echo "mips64 mips64n32 mips" ;;
        riscv64) echo "riscv64" ;; # RV32 processes are not decoded (README)
    esac
}

# clang's target and flags for ABI $1, and the multiarch directory of
# linux-libc-dev whose <asm/...> headers are that ABI's.
newcalls_target() {
    case "$1" in
        x64) echo "x86_64-linux-gnu x86_64-linux-gnu" ;;
        x86) echo "i386-linux-gnu i386-linux-gnu -march=i686" ;;
        arm) echo "arm-linux-gnueabihf arm-linux-gnueabihf -march=armv7-a -marm" ;;
        arm64) echo "aarch64-linux-gnu aarch64-linux-gnu" ;;
        # MIPS32r2 / MIPS64r2: QEMU's 24Kc and 5KEc; not position independent.
        mips) echo "mipsel-linux-gnu mipsel-linux-gnu -march=mips32r2 -fno-pic -mno-abicalls -G0" ;;
        mips64) echo "mips64el-linux-gnuabi64 mips64el-linux-gnuabi64 -march=mips64r2 -fno-pic -mno-abicalls -G0" ;;
        mips64n32) echo "mips64el-linux-gnuabin32 mips64el-linux-gnuabi64 -march=mips64r2 -fno-pic -mno-abicalls -G0" ;;
        # RV64GC, LP64D; lld 14 implements no linker relaxation.
        riscv64) echo "riscv64-linux-gnu riscv64-linux-gnu -march=rv64gc -mabi=lp64d -mno-relax" ;;
        *) return 1 ;;
    esac
}

# Installs Debian packages $@ if command $1... is missing (used as
# `need_packages CMD... -- PKG...`).
need_packages() {
    local cmds=() missing=0
    while [ "$1" != -- ]; do cmds+=("$1"); shift; done
    shift
    for c in "${cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || missing=1; done
    [ "$missing" = 1 ] || return 0
    log "installing $*"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "$@" >/dev/null 2>&1 || {
        apt_update
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "$@" >/dev/null
    }
}

# Linux 6.12's UAPI headers (every arch's <asm/unistd.h>): the
# arch-independent linux-libc-dev of bookworm-backports, unpacked under
# $DL (not installed over the host's); prints the include directory.
uapi_612_headers() {
    local dir="$DL/linux-libc-dev-6.12" deb ver
    if [ ! -f "$dir/.done" ]; then
        ver="$(apt-cache madison linux-libc-dev 2>/dev/null | awk -F' *[|] *' '$2 ~ /^6\.12\./ {print $2; exit}')"
        if [ -z "$ver" ]; then
            apt_update
            ver="$(apt-cache madison linux-libc-dev 2>/dev/null | awk -F' *[|] *' '$2 ~ /^6\.12\./ {print $2; exit}')"
        fi
        [ -n "$ver" ] || die "no linux-libc-dev 6.12 known to apt (bookworm-backports: run scripts/install-qemu.sh)"
        (cd "$DL" && $SUDO apt-get -o DPkg::Lock::Timeout=300 download -q "linux-libc-dev=$ver" >/dev/null) ||
            die "apt-get download linux-libc-dev=$ver failed"
        deb="$(ls "$DL"/linux-libc-dev_"$(printf '%s' "$ver" | sed 's/:/%3a/')"_*.deb | head -n1)"
        [ -f "$deb" ] || die "linux-libc-dev=$ver: no .deb in $DL"
        rm -rf "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir"
        echo "linux-libc-dev $ver" >"$dir/.done"
    fi
    echo "$dir/usr/include"
}

# target/guest-images/<image>-newcalls/: the plain image with
# /newcalls-<abi> for each of newcalls_abis.
build_newcalls_variant() {
    local arch="$1" img base out src="$ROOT/tests/guest/newcalls.c" stage inc abi target incdir flags
    img="$(image_name "$arch")"
    base="$OUT_BASE/$img"
    out="$base-newcalls"
    if [ "$FORCE" = 0 ] && [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ] &&
        [ "$out/initrd.gz" -nt "$base/initrd.gz" ] && [ "$out/initrd.gz" -nt "$src" ] &&
        [ "$out/initrd.gz" -nt "${BASH_SOURCE[0]}" ]; then
        log "$img-newcalls: cached ($out)"
        return 0
    fi
    need_packages clang ld.lld -- clang lld
    inc="$(uapi_612_headers)"
    stage="$(mktemp -d "$OUT_BASE/.stage-$img-newcalls.XXXXXX")"
    mkdir -p "$stage/root"
    {
        cat "$DL/linux-libc-dev-6.12/.done"
        echo "compiler: $(clang --version | head -n1); $(ld.lld --version | head -n1)"
    } >"$stage/packages.txt"
    for abi in $(newcalls_abis "$arch"); do
        read -r target incdir flags <<<"$(newcalls_target "$abi")" || die "no clang target for ABI $abi"
        # shellcheck disable=SC2086 # a list of flags
        clang --target="$target" $flags -O2 -Wall -Wextra -Werror -ffreestanding -fno-builtin \
            -fno-stack-protector -nostdlib -nostdinc -static -fuse-ld=lld \
            -isystem "$inc/$incdir" -isystem "$inc" -o "$stage/root/newcalls-$abi" "$src" ||
            die "$img-newcalls: clang --target=$target failed on $src"
    done
    write_variant "$img" newcalls "$stage"
    log "$img-newcalls: built $out/initrd.gz ($(stat -c %s "$out/initrd.gz") B; $(cd "$stage/root" && echo newcalls-*))"
    rm -rf "$stage"
}

mkdir -p "$OUT_BASE"
need_tools
DL="$OUT_BASE/.debs"
mkdir -p "$DL"
chmod 777 "$DL" 2>/dev/null || true # apt-get download sandbox user (_apt) must write here
for arch in "${ARCHES[@]}"; do
    deb_arch "$arch" >/dev/null
    build_arch "$arch"
    [ "$WITH_STRACE" = 0 ] || build_strace_variant "$arch"
    [ "$WITH_HOSTILE" = 0 ] || build_hostile_variant "$arch"
    [ "$WITH_NEWCALLS" = 0 ] || build_newcalls_variant "$arch"
done
