#!/usr/bin/env bash
# Build bootable Linux guests (kernel + busybox initramfs) from Debian packages only.
#
# Usage: scripts/guest-images.sh [--force] [--with-strace] [--with-hostile] ARCH...
#   ARCH in: x86_64 i386 arm aarch64 mipsel mips64el riscv64 (default: the first four)
#
# Output (per arch), cached under target/guest-images/<arch>/:
#   vmlinuz      kernel image from linux-image-6.1.0-N-<flavour> (bookworm), or
#                for riscv64, which bookworm has no port for, from
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
ARCHES=()
for a in "$@"; do
    case "$a" in
        --force) FORCE=1 ;;
        --with-strace) WITH_STRACE=1 ;;
        --with-hostile) WITH_HOSTILE=1 ;;
        -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) ARCHES+=("$a") ;;
    esac
done
[ ${#ARCHES[@]} -eq 0 ] && ARCHES=(x86_64 i386 arm aarch64)

log() { echo "[guest-images] $*" >&2; }
die() { echo "[guest-images] error: $*" >&2; exit 1; }

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
# The version part of the kernel package the flavour's metapackage depends on.
kernel_version_re() {
    case "$1" in
        riscv64) echo '6\.12\.[0-9][0-9]*+deb13' ;;
        *) echo '6\.1\.0-[0-9][0-9]*' ;;
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

# Resolve the concrete kernel package (linux-image-6.1.0-N-FLAV) via the metapackage's dependency.
resolve_kernel() {
    local arch="$1" darch flav meta pkg ver
    darch="$(deb_arch "$arch")"
    ver="$(kernel_version_re "$arch")"
    for flav in $(kernel_flavours "$arch"); do
        meta="linux-image-$flav:$darch"
        has_candidate "$meta" || { apt_update; has_candidate "$meta" || continue; }
        pkg="$(apt-cache "${APT_OPTS[@]}" depends "$meta" 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-'"$ver"'-'"$flav"'\)\(:[a-z0-9]*\)\?$/\1/p' | head -n1)"
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
    local arch="$1" darch out stage kpkg kdeb bdeb kver
    darch="$(deb_arch "$arch")"
    out="$OUT_BASE/$arch"
    if [ "$FORCE" = 0 ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ]; then
        log "$arch: cached ($out)"
        return 0
    fi
    use_arch "$arch"
    kpkg="$(resolve_kernel "$arch")" || die "$arch: no linux-image-$(kernel_version_re "$arch")-{$(kernel_flavours "$arch")} package found"
    log "$arch: kernel package $kpkg"
    kdeb="$(download "$kpkg")"
    bdeb="$(download "busybox-static:$darch")"
    [ -f "$kdeb" ] && [ -f "$bdeb" ] || die "$arch: download failed"

    stage="$(mktemp -d "$OUT_BASE/.stage-$arch.XXXXXX")"
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
    log "$arch: built $out/vmlinuz ($(stat -c %s "$out/vmlinuz") B), initrd.gz ($(stat -c %s "$out/initrd.gz") B)"
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
    local arch="$1" darch base out stage debs deb
    darch="$(deb_arch "$arch")"
    base="$OUT_BASE/$arch"
    out="$OUT_BASE/$arch-strace"
    if [ "$FORCE" = 0 ] && [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ] &&
        [ "$out/initrd.gz" -nt "$base/initrd.gz" ] && [ "$out/initrd.gz" -nt "${BASH_SOURCE[0]}" ]; then
        log "$arch-strace: cached ($out)"
        return 0
    fi
    use_arch "$arch"
    TRIPLET="$(triplet "$arch")"
    stage="$(mktemp -d "$OUT_BASE/.stage-$arch-strace.XXXXXX")"
    mkdir -p "$stage/tree" "$stage/root"
    : >"$stage/packages.txt"
    debs="$(deb_closure strace "$darch")" || die "$arch-strace: resolving strace's dependencies failed"
    for deb in $debs; do
        dpkg-deb -x "$deb" "$stage/tree"
        echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $darch" >>"$stage/packages.txt"
    done
    copy_with_libs "$stage/tree" /usr/bin/strace "$stage/root"
    write_variant "$arch" strace "$stage"
    log "$arch-strace: built $out/initrd.gz ($(stat -c %s "$out/initrd.gz") B; strace, its loader and libraries: $(find "$stage/root" -type f | wc -l) files, $(du -sk "$stage/root" | cut -f1) KiB unpacked)"
    rm -rf "$stage"
}

# Writes variant $2 of arch $1 (target/guest-images/<arch>-<variant>/): the
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
    local arch="$1" base="$OUT_BASE/$1" out="$OUT_BASE/$1-hostile" src="$ROOT/tests/guest/hostile.c" stage cc pkgs flags
    if [ "$FORCE" = 0 ] && [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ] &&
        [ "$out/initrd.gz" -nt "$base/initrd.gz" ] && [ "$out/initrd.gz" -nt "$src" ] &&
        [ "$out/initrd.gz" -nt "${BASH_SOURCE[0]}" ]; then
        log "$arch-hostile: cached ($out)"
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
    stage="$(mktemp -d "$OUT_BASE/.stage-$arch-hostile.XXXXXX")"
    mkdir -p "$stage/root"
    # Static, not position-independent, linked away from busybox's addresses
    # (the test tells the program's call sites apart by address); no red
    # zone, as it calls its generated code from inline assembly.
    flags=(-static -no-pie -fno-pie -O2 -Wall -Wextra -Werror -pthread -Wl,-Ttext-segment=0x20000000)
    [ "$arch" = x86_64 ] && flags+=(-mno-red-zone)
    "$cc" "${flags[@]}" -o "$stage/root/hostile" "$src" || die "$arch-hostile: $cc failed on $src"
    echo "compiler: $("$cc" --version | head -n1)" >"$stage/packages.txt"
    write_variant "$arch" hostile "$stage"
    log "$arch-hostile: built $out/initrd.gz ($(stat -c %s "$out/initrd.gz") B; /hostile $(stat -c %s "$stage/root/hostile") B)"
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
done
