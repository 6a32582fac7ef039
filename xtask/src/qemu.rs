//! `cargo xtask qemu-test`: syscalls2's QEMU
//! plugin on real Linux guests (built by `scripts/guest-images.sh`, booted by
//! `scripts/run-guest.sh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use syscalls2::event::{Event, Phase, Summary};
use syscalls2::options::summary_line;
use syscalls2::strace::Strace;
use syscalls2::Abi;

/// The architectures of the guests `cargo xtask qemu-test` boots.
const ARCHES: [&str; 7] = [
    "x86_64", "i386", "arm", "aarch64", "mipsel", "mips64el", "riscv64",
];

/// A Linux release the guests boot (`scripts/guest-images.sh --kernel=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// Debian 12's own kernel (linux-image-6.1.0-N-*), decoded with the
    /// `linux_6_1_*` profiles.
    V6_1,
    /// The 6.12 LTS kernel (bookworm-security, bookworm-backports), decoded
    /// with the default (newest) profiles.
    V6_12,
}

impl Kernel {
    fn version(self) -> &'static str {
        match self {
            Kernel::V6_1 => "6.1",
            Kernel::V6_12 => "6.12",
        }
    }

    /// The plain image of `arch` for this kernel: `x86_64`, `x86_64-6.12`.
    fn image(self, arch: &str) -> String {
        match self {
            Kernel::V6_1 => arch.to_string(),
            Kernel::V6_12 => format!("{arch}-6.12"),
        }
    }

    /// The profile the plugin decodes this kernel's guests with: its own
    /// release's table of the arch's native ABI.
    fn profile(self, arch: &str) -> Result<&'static syscalls2::Table, String> {
        let newest = guest_arch(arch)
            .and_then(|a| syscalls2::profiles::native(syscalls2::Os::Linux, a))
            .ok_or_else(|| format!("{arch}: no Linux profile for it"))?;
        let name = match self {
            Kernel::V6_1 => format!("linux_6_1_{}", newest.abi.file_arch),
            Kernel::V6_12 => return Ok(newest),
        };
        syscalls2::profiles::by_name(&name)
            .ok_or_else(|| format!("{arch}: no profile `{name}` (the `linux-6-1` feature)"))
    }
}

/// The guests `qemu-test` boots by default: every arch on Linux 6.1.
const GUESTS: [(&str, Kernel); 6] = [
    ("x86_64", Kernel::V6_1),
    ("i386", Kernel::V6_1),
    ("arm", Kernel::V6_1),
    ("aarch64", Kernel::V6_1),
    ("mipsel", Kernel::V6_1),
    ("mips64el", Kernel::V6_1),
];

/// The Linux 6.12 guests, booted when asked for by name
/// (`cargo xtask qemu-test x86_64-6.12`; riscv64, whose only Debian kernel
/// is Debian 13's 6.12: `riscv64`): not yet passing reliably ([`NO_6_12`]).
const ON_REQUEST: [(&str, Kernel); 5] = [
    ("x86_64", Kernel::V6_12),
    ("arm", Kernel::V6_12),
    ("aarch64", Kernel::V6_12),
    ("mips64el", Kernel::V6_12),
    ("riscv64", Kernel::V6_12),
];

const NO_6_12: &str = "i386 and mipsel: Debian builds no 6.12 kernel for them \
(bookworm-security and bookworm-backports carry none: Debian 13 dropped both); \
x86_64, arm, aarch64, mips64el, riscv64 (on request): their 6.12 guests decode the new calls, \
but an execve that fails after another process ran on its vCPU is first retired as successful \
(a return without an open enter: seen on x86_64, aarch64 and mips64el), and on mips64el \
attribution from the calls lost an exec'd image's pid once; see the README";

/// Compat ABIs a guest's kernel runs that the plugin does not decode (the
/// README's Limitations): AArch32 processes on an AArch64 guest.
const UNDECODED_COMPAT: [(&str, &str); 1] = [("aarch64", "arm")];

/// The arch's instruction set.
pub(crate) fn guest_arch(arch: &str) -> Option<syscalls2::Arch> {
    use syscalls2::Arch;
    Some(match arch {
        "x86_64" => Arch::X86_64,
        "i386" => Arch::X86,
        "arm" => Arch::Arm,
        "aarch64" => Arch::Aarch64,
        "mipsel" => Arch::Mips,
        "mips64el" => Arch::Mips64,
        "riscv64" => Arch::Riscv64,
        _ => return None,
    })
}

/// Runs every program `tests/guest/newcalls.c` left in a newcalls image
/// (`/newcalls-<abi>`, one per ABI the guest's kernel runs).
const NEWCALLS: &str = "for p in /newcalls-*; do $p; done";

/// The workload the integration test runs in every guest.
/// (busybox `cat` copies with `sendfile`; `head` reads and writes.)
pub const WORKLOAD: &str = "cat /etc/hostname; echo hello > /tmp/f; cat /tmp/f; \
ls /nonexistent; sh -c 'exit 3'; head -n 1 /etc/hostname; (echo forked); sh -c 'exec echo execd'; \
cat /proc/self/stat; sh -c 'echo S2PROC $$ $PPID; cat /proc/self/stat'";

/// The architectures whose kernels the plugin reads for process
/// attribution. Not ARM: QEMU's debug reads of a 32-bit ARM guest's memory
/// are permission-checked in the CPU's mode, and the kernel's pages are not
/// readable from user mode; not AArch64: KPTI, forced on by KASLR on the
/// Cortex-A57, unmaps the kernel in user mode. Attribution there comes from
/// the calls, and is checked the same way. Not MIPS: the kernel's
/// segments (KSEG0) are not readable in user mode.
const KERNEL_READ: [&str; 2] = ["x86_64", "i386"];

/// The workspace's root directory.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// Builds the default plugin (release) and returns its path.
pub fn build_plugin() -> Result<PathBuf, String> {
    Ok(build_release(&["syscalls2-qemu-plugin"])?.join("libsyscalls2_qemu_plugin.so"))
}

/// Builds the hook example's plugin (release) and returns its path. Built
/// with the default plugin in one invocation, so that both share one build
/// of the crates under them.
fn build_hook_example() -> Result<PathBuf, String> {
    let dir = build_release(&["syscalls2-qemu-plugin", "qemu-hook-example"])?;
    Ok(dir.join("libqemu_hook_example.so"))
}

/// Builds `packages` in release mode; returns the directory they are in.
fn build_release(packages: &[&str]) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args(["build", "--release", "--quiet"])
        .args(packages.iter().flat_map(|p| ["-p", p]))
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("building {} failed", packages.join(", ")));
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release"))
}

fn qemu_binary(arch: &str) -> &'static str {
    match arch {
        "x86_64" => "qemu-system-x86_64",
        "i386" => "qemu-system-i386",
        "arm" => "qemu-system-arm",
        "mipsel" => "qemu-system-mipsel",
        "mips64el" => "qemu-system-mips64el",
        "riscv64" => "qemu-system-riscv64",
        _ => "qemu-system-aarch64",
    }
}

/// Fails when QEMU is missing (tests fail rather than skip).
pub(crate) fn check_qemu(arch: &str) -> Result<(), String> {
    let bin = qemu_binary(arch);
    match Command::new(bin).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "{bin} not found: run scripts/install-qemu.sh (QEMU 10 from bookworm-backports)"
        )),
    }
}

/// Builds the images of `arches` for `kernel`, with `flags`
/// (`--with-newcalls`) for their variants.
fn build_images_of(arches: &[&str], kernel: Kernel, flags: &[&str]) -> Result<(), String> {
    if arches.is_empty() {
        return Ok(());
    }
    let status = Command::new(root().join("scripts/guest-images.sh"))
        .arg(format!("--kernel={}", kernel.version()))
        .args(flags)
        .args(arches)
        .status()
        .map_err(|e| format!("scripts/guest-images.sh: {e}"))?;
    if !status.success() {
        return Err("building guest images failed".into());
    }
    for a in arches {
        let dir = root().join("target/guest-images").join(kernel.image(a));
        for f in ["vmlinuz", "initrd.gz"] {
            if !dir.join(f).is_file() {
                return Err(format!("guest image {} missing", dir.join(f).display()));
            }
        }
    }
    Ok(())
}

/// The kernel layout (`kernels/RELEASE.layout`) of the guest image
/// `image` (an image of `arch`), by the release its `kernel-package.txt`
/// names; `None` when the project has none for it.
fn kernel_layout(arch: &str, image: &str) -> Result<Option<PathBuf>, String> {
    let pkg = root()
        .join("target/guest-images")
        .join(image)
        .join("kernel-package.txt");
    let text = std::fs::read_to_string(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    // `kernel: linux-image-6.1.0-57-686 6.1.192-3 (6.1.0-57-686)`
    let release = text
        .lines()
        .find_map(|l| l.strip_prefix("kernel: "))
        .and_then(|l| l.rsplit_once('(').map(|(_, r)| r.trim_end_matches(')')))
        .ok_or_else(|| format!("{}: no `kernel: ... (RELEASE)` line", pkg.display()))?;
    let layout = root().join("kernels").join(format!("{release}.layout"));
    if layout.is_file() {
        Ok(Some(layout))
    } else {
        // Debian moves its kernels on (a new ABI number with each security
        // update): a guest whose kernel has no layout yet is traced with
        // attribution from the calls, and says so loudly, rather than fail
        // every test until the layout is made.
        if KERNEL_READ.contains(&arch) {
            eprintln!(
                "WARNING: {arch}: no kernel layout {} for the guest's kernel; attribution from the calls \
                 only, not checked against the guest. Make it with `cargo xtask kernel-layout` from the \
                 kernel's -dbg package (see the README)",
                layout.display()
            );
        }
        Ok(None)
    }
}

/// The plugin argument that makes it read the kernel of `arch`'s image
/// `image`, if it can.
fn kernel_arg(arch: &str, image: &str) -> Result<Option<String>, String> {
    Ok(kernel_layout(arch, image)?.map(|p| format!("kernel={}", p.display())))
}

/// One guest boot with the plugin.
pub struct Run {
    /// The guest's console.
    pub console: String,
    /// The plugin's log (what it wrote before QEMU stopped, if it failed).
    pub log: String,
    /// The plugin's exit summary (empty if QEMU stopped before writing it).
    pub stats: String,
    /// Wall time of the boot.
    pub seconds: f64,
    /// Why QEMU did not exit cleanly (a timeout, a crash), if it did not.
    pub failure: Option<String>,
    /// This run's own directory (its log and stats files).
    pub dir: PathBuf,
}

impl Run {
    /// The run, or its failure with the console and where its partial
    /// trace is.
    pub fn ok(self) -> Result<Run, String> {
        match &self.failure {
            None => Ok(self),
            Some(why) => Err(format!(
                "{why}; its partial trace is in {}:\n{}",
                self.dir.display(),
                self.console
            )),
        }
    }
}

/// Seconds a guest may run (`S2_TIMEOUT`, as `scripts/run-guest.sh` takes
/// it; default 240).
fn guest_timeout() -> Result<u64, String> {
    timeout_from(std::env::var("S2_TIMEOUT").ok().as_deref())
}

/// [`guest_timeout`] from the variable's value.
fn timeout_from(value: Option<&str>) -> Result<u64, String> {
    match value {
        None => Ok(240),
        Some(v) => v
            .parse()
            .map_err(|_| format!("S2_TIMEOUT=`{v}`: expected a number of seconds")),
    }
}

/// A directory of its own for one run, under `target/qemu-runs/`: two runs
/// at once (two `qemu-trace`s, a test beside a trace) never share files.
/// `target/qemu-runs/<tag>` is a symbolic link to the latest run of `tag`
/// (what `scripts/test-all.sh` hands to DuckDB).
fn run_dir(tag: &str) -> Result<PathBuf, String> {
    let dir = new_run_dir(tag)?;
    link_latest(&dir, tag)?;
    Ok(dir)
}

/// Points `target/qemu-runs/<tag>` at `dir`, replacing the link atomically
/// (a new link under a private name, renamed over the old one).
fn link_latest(dir: &Path, tag: &str) -> Result<(), String> {
    let base = dir.parent().expect("a run directory has a parent");
    let name = dir.file_name().expect("a run directory has a name");
    let tmp = base.join(format!(".{}.link", name.to_string_lossy()));
    let latest = base.join(tag);
    std::os::unix::fs::symlink(name, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &latest).map_err(|e| format!("{}: {e}", latest.display()))
}

/// Creates a fresh directory `target/qemu-runs/<tag>-<time>-<pid>-<n>`.
fn new_run_dir(tag: &str) -> Result<PathBuf, String> {
    let base = root().join("target/qemu-runs");
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for n in 0u32.. {
        let dir = base.join(format!("{tag}-{stamp}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        }
    }
    unreachable!("some directory name is free")
}

/// Boots `arch` with the plugin (`plugin_args` appended) running `cmd`.
pub fn boot(
    arch: &str,
    plugin: &Path,
    plugin_args: &str,
    cmd: &str,
    smp: u32,
    tag: &str,
) -> Result<Run, String> {
    let timeout = guest_timeout()?;
    let dir = run_dir(tag)?;
    let log = dir.join("trace.log");
    let stats = dir.join("stats.json");
    let mut arg = format!(
        "{},log={},stats={}",
        plugin.display(),
        log.display(),
        stats.display()
    );
    if !plugin_args.is_empty() {
        arg.push(',');
        arg.push_str(plugin_args);
    }
    let start = Instant::now();
    let mut c = Command::new(root().join("scripts/run-guest.sh"));
    c.arg(arch).args(["-plugin", &arg]);
    if smp > 1 {
        c.args(["-smp", &smp.to_string()]);
    }
    let out = c
        .env("S2CMD", cmd)
        .env("S2_TIMEOUT", timeout.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("scripts/run-guest.sh: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let console =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // timeout(1) exits with 124 when it stopped QEMU (which then still
    // writes what its plugin has, at exit).
    let failure = match out.status.code() {
        Some(0) => None,
        Some(124) => Some(format!(
            "{arch}: the guest did not finish within S2_TIMEOUT={timeout}s"
        )),
        _ => Some(format!(
            "{arch}: qemu exited with {} after {seconds:.1}s",
            out.status
        )),
    };
    let read = |path: &Path| match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(_) if failure.is_some() => Ok(String::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    };
    Ok(Run {
        log: read(&log)?,
        stats: read(&stats)?,
        console,
        seconds,
        failure,
        dir,
    })
}

/// One run's output, read with the event schema's own types.
pub(crate) struct Events {
    /// Every event, in the log's order.
    pub all: Vec<Event>,
    /// The `stats=` summary.
    pub summary: Summary,
}

/// The JSON Schema every event line must conform to.
const SCHEMA: &str = include_str!("../../schema/event-v1.schema.json");

/// Reads a JSONL log and a `stats=` summary, validating every line against
/// the event schema.
pub(crate) fn parse_log(log: &str, stats: &str) -> Result<Events, String> {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for (i, line) in log.lines().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("log line {}: {e}: {line}", i + 1))?;
        if let Some(e) = validator.iter_errors(&v).next() {
            return Err(format!(
                "log line {}: not a schema v1 event: {e}: {line}",
                i + 1
            ));
        }
        // From the text, not the `Value`: its map would sort the arguments.
        all.push(serde_json::from_str(line).map_err(|e| format!("log line {}: {e}", i + 1))?);
    }
    let summary = serde_json::from_str(stats.trim())
        .map_err(|e| format!("the stats file is not a summary ({e}): {stats}"))?;
    Ok(Events { all, summary })
}

/// The strace line of an event (as the strace format prints it), for
/// checks that read like what a user sees.
fn line(ev: &Event) -> String {
    let table = syscalls2::profiles::by_name(&ev.profile);
    let info = table.and_then(|t| t.by_number(ev.no));
    let abi = Abi::from_name(&ev.abi).or(table.map(|t| t.abi));
    let Some(abi) = abi else {
        return String::new();
    };
    let shown = match ev.ev {
        Phase::Return => ev.clone(),
        // Every enter as if it never returned: its arguments as at enter.
        Phase::Enter => Event {
            ev: Phase::Return,
            ..ev.clone()
        },
    };
    let mut l = Strace::default()
        .line(&shown, info, abi)
        .unwrap_or_default();
    if ev.ev == Phase::Enter && info.is_some_and(|i| i.returns.noreturn) {
        l = l.replace(") = 0", ") = ?");
    }
    l
}

/// Argument `i` of an event, as a number.
fn arg(ev: &Event, i: usize) -> Option<u64> {
    ev.args.0.get(i).and_then(|(_, v)| v.number())
}

fn name(ev: &Event) -> &str {
    ev.name.as_deref().unwrap_or("")
}

/// Checks one run's JSONL log (in which `unknown` calls are numbers the
/// profile lacks); returns what failed.
fn check_events(arch: &str, ev: &Events, smp: u32, unknown: u64) -> Vec<String> {
    let mut fails = Vec::new();
    let mut fail = |m: String| {
        fails.push(format!(
            "{arch}{}: {m}",
            if smp > 1 { " -smp 2" } else { "" }
        ))
    };
    let returns: Vec<&Event> = ev.all.iter().filter(|v| v.ev == Phase::Return).collect();
    let line_has = |v: &Event, needles: &[&str]| {
        let l = line(v);
        needles.iter().all(|n| l.contains(n))
    };
    // openat/open of /etc/hostname returning a descriptor.
    let opens: Vec<(u64, i64)> = returns
        .iter()
        .filter(|v| {
            matches!(name(v), "openat" | "open")
                && line_has(v, &["\"/etc/hostname\""])
                && v.ret.unwrap_or(-1) >= 0
        })
        .map(|v| (v.asid, v.ret.unwrap_or(-1)))
        .collect();
    if opens.is_empty() {
        fail("no openat(..., \"/etc/hostname\", ...) = fd".into());
        return fails;
    }
    let by = |asid: u64, n: &str, f: &dyn Fn(&Event) -> bool| {
        returns
            .iter()
            .any(|v| v.asid == asid && name(v) == n && f(v))
    };
    if !opens.iter().any(|&(asid, fd)| {
        by(asid, "read", &|v| {
            arg(v, 0) == Some(fd as u64)
                && line_has(v, &["\"syscalls2-guest\\n\""])
                && v.ret == Some(16)
        }) && by(asid, "write", &|v| {
            line_has(v, &["write(1, \"syscalls2-guest\\n\", 16) = 16"])
        })
    }) {
        fail("no process that opened /etc/hostname, read \"syscalls2-guest\\n\" from it and wrote it to stdout".into());
    }
    if !opens.iter().any(|&(asid, fd)| {
        returns.iter().any(|v| {
            v.asid == asid
                && matches!(name(v), "sendfile" | "sendfile64")
                && arg(v, 0) == Some(1)
                && arg(v, 1) == Some(fd as u64)
                && v.ret == Some(16)
        })
    }) {
        fail("no `cat` sendfile(1, fd, ...) = 16 of /etc/hostname".into());
    }
    if !returns
        .iter()
        .any(|v| line_has(v, &["\"/nonexistent\"", "= -1 ENOENT"]))
    {
        fail("no call on \"/nonexistent\" failing with ENOENT".into());
    }
    let enters = |n: &str, needle: &str| {
        ev.all
            .iter()
            .any(|v| v.ev == Phase::Enter && name(v) == n && line_has(v, &[needle]))
    };
    if !enters("execve", "[\"cat\", \"/etc/hostname\"]") {
        fail("no execve(..., [\"cat\", \"/etc/hostname\"], ...)".into());
    }
    if !enters("execve", "[\"sh\", \"-c\", \"exec echo execd\"]") {
        fail("no execve of `exec echo execd`".into());
    }
    if !enters("exit_group", "exit_group(3) = ?") {
        fail("no exit_group(3)".into());
    }
    // fork/clone returning in the parent and in the child.
    let forks = ["clone", "fork", "vfork", "clone3"];
    let parent = returns
        .iter()
        .filter(|v| forks.contains(&name(v)) && v.child == Some(false) && v.ret.unwrap_or(0) > 0)
        .count();
    let child = returns
        .iter()
        .filter(|v| forks.contains(&name(v)) && v.child == Some(true) && v.ret == Some(0))
        .count();
    if parent == 0 || child == 0 {
        fail(format!(
            "fork/clone returns: {parent} in parents, {child} in children"
        ));
    }
    if !returns.iter().any(|c| {
        c.child == Some(true)
            && returns
                .iter()
                .any(|p| p.child == Some(false) && p.seq == c.seq && p.asid != c.asid)
    }) {
        fail("no fork child returning in a new address space".into());
    }
    if arch == "i386" {
        for kind in ["int80", "sysenter"] {
            if !ev.all.iter().any(|v| v.insn.as_deref() == Some(kind)) {
                fail(format!("no syscall made by {kind}"));
            }
        }
    }
    // Pairing: every return has its enter (same seq) before it, with the
    // same call (pc, number) made by the same thread (address space and
    // stack pointer; a fork's child returns in its own); nothing returns
    // twice but a fork; return values fit their arguments.
    let mut open: HashMap<u64, (&Event, bool, bool)> = HashMap::new();
    let mut child_returns = 0i64;
    for v in &ev.all {
        if v.ev == Phase::Enter {
            open.insert(v.seq, (v, false, false));
            continue;
        }
        let is_child = v.child == Some(true);
        child_returns += i64::from(is_child);
        let Some(entry) = open.get_mut(&v.seq) else {
            fail(format!("return without an open enter: {}", line(v)));
            continue;
        };
        let enter = entry.0;
        if enter.pc != v.pc || enter.no != v.no {
            fail(format!(
                "return paired with another call: {} / {}",
                line(enter),
                line(v)
            ));
        }
        if !is_child && (enter.asid != v.asid || enter.sp != v.sp) {
            fail(format!(
                "return in another thread than its enter: {}",
                line(v)
            ));
        }
        let double = forks.contains(&name(v));
        if is_child {
            entry.2 = true;
        } else {
            entry.1 = true;
        }
        if !double || (entry.1 && entry.2) || (!is_child && v.errno.is_some()) {
            open.remove(&v.seq);
        }
        if matches!(name(v), "read" | "write" | "pread64") && v.errno.is_none() {
            let count = arg(v, 2).unwrap_or(0);
            let ret = v.ret.unwrap_or(-1);
            if ret < 0 || ret as u64 > count {
                fail(format!("{} returned {ret} for a count of {count}", line(v)));
            }
        }
    }
    let x = &ev.summary.counters;
    for (k, n, want) in [
        ("evicted", x.evicted, 0),
        ("decode_errors", x.decode_errors, 0),
        ("unknown", x.unknown, unknown),
    ] {
        if n != want {
            fail(format!("{k} = {n}, expected {want}"));
        }
    }
    if let Err(e) = counters_add_up(&ev.summary, child_returns) {
        fail(e);
    }
    // What is legitimately pending at poweroff: /init's shell waiting in
    // wait4 for `poweroff -f`, and that process's reboot(), which powers the
    // machine off and never returns.
    let mut names: Vec<String> = ev
        .summary
        .pending
        .iter()
        .map(|c| c.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    if names != ["reboot", "wait4"] {
        fail(format!(
            "unpaired at exit: {names:?}, expected [reboot, wait4]"
        ));
    }
    fails
}

/// One call a `tests/guest/newcalls.c` program reported: `S2NEW <abi>
/// <call> <no> <ret>`.
#[derive(Debug)]
struct NewCall {
    abi: String,
    call: String,
    no: u64,
    ret: i64,
}

/// What the newcalls programs printed: each ABI's ENOSYS (`S2NEW-BEGIN`)
/// and the calls; an error for a line they do not print, or an ABI whose
/// `S2NEW-END` does not count its calls (output lost).
fn newcalls_printed(console: &str) -> Result<(HashMap<String, i64>, Vec<NewCall>), String> {
    let mut enosys = HashMap::new();
    let mut ended: HashMap<String, usize> = HashMap::new();
    let mut calls = Vec::new();
    for l in console.lines().map(str::trim) {
        let bad = || format!("newcalls: a line it does not print: `{l}`");
        match l.split(' ').collect::<Vec<_>>()[..] {
            ["S2NEW-BEGIN", abi, e] => {
                let n = e.strip_prefix("ENOSYS=").and_then(|n| n.parse().ok());
                enosys.insert(abi.to_string(), n.ok_or_else(bad)?);
            }
            ["S2NEW", abi, call, no, ret] => calls.push(NewCall {
                abi: abi.to_string(),
                call: call.to_string(),
                no: no.parse().map_err(|_| bad())?,
                ret: ret.parse().map_err(|_| bad())?,
            }),
            ["S2NEW-END", abi, n] => {
                ended.insert(abi.to_string(), n.parse().map_err(|_| bad())?);
            }
            _ if l.starts_with("S2NEW") => return Err(bad()),
            _ => {}
        }
    }
    for abi in enosys.keys() {
        let n = calls.iter().filter(|c| &c.abi == abi).count();
        if ended.get(abi) != Some(&n) {
            return Err(format!(
                "newcalls-{abi}: {n} calls printed, its S2NEW-END says {:?}",
                ended.get(abi)
            ));
        }
    }
    Ok((enosys, calls))
}

/// The calls Linux 6.12 has and 6.1 lacks, made by `/newcalls-<abi>` for
/// each ABI the guest's profile decodes (its own and its compat ABIs),
/// against the trace: every event decoded with those profiles; each call
/// reported has its return in the trace, in order, with the number the
/// kernel headers gave the program and the value the kernel returned; on
/// 6.12, decoded by name (strace's line naming it, the fchmodat2 on the
/// file exactly `fchmodat2(AT_FDCWD, "/tmp/s2new", 0644, 0) = 0`); on 6.1,
/// a number the profile lacks, which the kernel failed with ENOSYS. Returns
/// how many unknown calls the trace must count, and what failed.
fn check_newcalls(
    image: &str,
    kernel: Kernel,
    profile: &'static syscalls2::Table,
    ev: &Events,
    console: &str,
) -> (u64, Vec<String>) {
    let arch = image.split('-').next().unwrap_or(image);
    let tables: Vec<&syscalls2::Table> = std::iter::once(profile)
        .chain(syscalls2::profiles::compat_for(profile))
        .collect();
    let mut fails = Vec::new();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let tables: Vec<&syscalls2::Table> = tables
        .into_iter()
        .filter(|t| !UNDECODED_COMPAT.contains(&(arch, t.abi.file_arch)))
        .collect();
    if let Some(v) = ev.all.iter().find(|v| !names.contains(&v.profile.as_str())) {
        fails.push(format!(
            "{image}: an event decoded with {}, not {names:?}: {}",
            v.profile,
            line(v)
        ));
    }
    let (enosys, calls) = match newcalls_printed(console) {
        Ok(p) => p,
        Err(e) => return (0, vec![format!("{image}: {e}")]),
    };
    let mut unknown = 0;
    for table in &tables {
        let abi = table.abi.file_arch;
        let Some(&enosys) = enosys.get(abi) else {
            fails.push(format!("{image}: /newcalls-{abi} printed nothing"));
            continue;
        };
        let made: Vec<&NewCall> = calls.iter().filter(|c| c.abi == abi).collect();
        let returns: Vec<&Event> = ev
            .all
            .iter()
            .filter(|v| {
                v.ev == Phase::Return
                    && v.profile == table.name
                    && made.iter().any(|c| c.no == v.no)
            })
            .collect();
        if made.len() < 8 || returns.len() != made.len() {
            fails.push(format!(
                "{image}: /newcalls-{abi} reported {} calls, the trace has {} returns of their numbers ({})",
                made.len(),
                returns.len(),
                table.name
            ));
            continue;
        }
        // strace's line without its `[pid N] ` (or address space) prefix.
        let bare = |v: &Event| {
            let l = line(v);
            match l.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((_, rest)) => rest.to_string(),
                None => l,
            }
        };
        for (c, v) in made.iter().zip(&returns) {
            let l = bare(v);
            let ret_ok = if c.ret >= 0 {
                v.ret == Some(c.ret) && v.errno.is_none()
            } else {
                v.errno.as_ref().map(|e| -i64::from(e.no)) == Some(c.ret)
            };
            let decoded_ok = match kernel {
                Kernel::V6_12 => {
                    v.name.as_deref() == Some(c.call.as_str())
                        && l.starts_with(&format!("{}(", c.call))
                        && !l.contains("syscall_")
                }
                Kernel::V6_1 => v.name.is_none() && c.ret == -enosys,
            };
            if v.no != c.no || !ret_ok || !decoded_ok {
                fails.push(format!(
                    "{image}: /newcalls-{abi} made {} ({}) = {}, the trace ({}): {l}",
                    c.call, c.no, c.ret, table.name
                ));
            }
        }
        if kernel == Kernel::V6_12 {
            let want = "fchmodat2(AT_FDCWD, \"/tmp/s2new\", 0644, 0) = 0";
            if bare(returns[0]) != want {
                fails.push(format!(
                    "{image}: /newcalls-{abi}'s first call is `{}`, expected `{want}`",
                    bare(returns[0])
                ));
            }
        } else {
            unknown += made.len() as u64;
        }
    }
    if fails.is_empty() {
        let abis: Vec<&str> = tables.iter().map(|t| t.abi.file_arch).collect();
        eprintln!(
            "{image}: {} new calls on {abis:?} match the programs' own reports ({})",
            calls.len(),
            match kernel {
                Kernel::V6_12 => "decoded by name",
                Kernel::V6_1 => "unknown to the 6.1 tables, ENOSYS",
            }
        );
    }
    (unknown, fails)
}

/// What a process of the workload said about itself on the console:
/// `cat /proc/self/stat` (pid, comm, ppid) or `echo S2PROC $$ $PPID`.
#[derive(Debug)]
struct Truth {
    pid: u32,
    ppid: u32,
    comm: Option<String>,
}

fn truths(console: &str) -> (Vec<Truth>, Vec<Truth>) {
    let mut stats = Vec::new();
    let mut shells = Vec::new();
    for l in console.lines().map(str::trim) {
        if let Some(rest) = l.strip_prefix("S2PROC ") {
            let n: Vec<u32> = rest.split(' ').filter_map(|w| w.parse().ok()).collect();
            if let [pid, ppid] = n[..] {
                shells.push(Truth {
                    pid,
                    ppid,
                    comm: None,
                });
            }
        } else if let Some((pid, rest)) = l.split_once(" (") {
            // `1234 (cat) R 1230 ...`
            let Some((comm, rest)) = rest.split_once(") ") else {
                continue;
            };
            let ppid = rest.split(' ').nth(1).and_then(|w| w.parse().ok());
            if let (Ok(pid), Some(ppid)) = (pid.parse(), ppid) {
                stats.push(Truth {
                    pid,
                    ppid,
                    comm: Some(comm.to_string()),
                });
            }
        }
    }
    (stats, shells)
}

/// The events of the process that made the event at `at`, by address space
/// alone (no attribution): an address space is a process's from the first
/// event after the previous owner left it (its `exit_group`, or an exec:
/// the workload's execs all succeed) to the process's own `exit_group` or
/// exec.
fn process_events(all: &[Event], at: usize) -> Vec<&Event> {
    let asid = all[at].asid;
    let leaves = |v: &Event| {
        v.asid == asid && v.ev == Phase::Enter && matches!(name(v), "exit_group" | "execve")
    };
    let start = all[..at].iter().rposition(leaves).map_or(0, |i| i + 1);
    let end = all[at..]
        .iter()
        .position(leaves)
        .map_or(all.len(), |i| at + i + 1);
    let range = &all[start..end];
    // A return whose enter came before (an execve retired as successful,
    // reported when the vCPU makes its next call, which may be this
    // process's in the address space the exec freed) is an earlier
    // process's.
    let entered: std::collections::HashSet<u64> = range
        .iter()
        .filter(|v| v.ev == Phase::Enter)
        .map(|v| v.seq)
        .collect();
    range
        .iter()
        .filter(|v| v.asid == asid)
        .filter(|v| v.ev == Phase::Enter || v.child == Some(true) || entered.contains(&v.seq))
        .collect()
}

/// Process attribution against what the workload's processes printed about
/// themselves: every event of those processes has their pid, tid (busybox
/// starts no threads: the tid is the pid), parent and name, read from the
/// kernel where [`KERNEL_READ`] says it is, else from the calls.
fn check_attribution(arch: &str, image: &str, ev: &Events, console: &str) -> Vec<String> {
    let mut fails = Vec::new();
    let (stats, shells) = truths(console);
    if stats.len() != 2 || shells.len() != 1 {
        return vec![format!(
            "{arch}: the workload printed {} /proc/self/stat lines and {} S2PROC lines, expected 2 and 1",
            stats.len(),
            shells.len()
        )];
    }
    let source = if KERNEL_READ.contains(&arch) && matches!(kernel_layout(arch, image), Ok(Some(_)))
    {
        "kernel"
    } else {
        "syscalls"
    };
    let all = &ev.all;
    let stat_reads: Vec<usize> = (0..all.len())
        .filter(|&i| {
            all[i].ev == Phase::Return
                && matches!(name(&all[i]), "openat" | "open")
                && all[i]
                    .args
                    .iter()
                    .any(|(_, a)| a.str.as_deref() == Some("/proc/self/stat"))
        })
        .collect();
    let reports: Vec<usize> = (0..all.len())
        .filter(|&i| {
            all[i].ev == Phase::Return
                && name(&all[i]) == "write"
                && line(&all[i]).contains("S2PROC ")
        })
        .collect();
    let mut check = |truth: &Truth, events: Vec<&Event>, comm_from: Option<usize>| {
        if events.is_empty() {
            fails.push(format!("{arch}: no events for {truth:?}"));
        }
        for (k, v) in events.iter().enumerate() {
            let comm_ok = comm_from.is_none_or(|c| k < c) || v.comm == truth.comm;
            let ok = v.pid == Some(truth.pid)
                && v.tid == Some(truth.pid)
                && v.ppid == Some(truth.ppid)
                && v.attribution.as_deref() == Some(source)
                && comm_ok;
            if !ok {
                fails.push(format!(
                    "{arch}: {truth:?}, the event says pid {:?} tid {:?} ppid {:?} comm {:?} ({:?}): {}",
                    v.pid, v.tid, v.ppid, v.comm, v.attribution, line(v)
                ));
                break;
            }
        }
    };
    if stat_reads.len() != 2 || reports.len() != 1 {
        return vec![format!(
            "{arch}: {} opens of /proc/self/stat and {} S2PROC writes in the trace, expected 2 and 1",
            stat_reads.len(),
            reports.len()
        )];
    }
    for (truth, &at) in stats.iter().zip(&stat_reads) {
        // The name is the one the process printed from its open of
        // /proc/self/stat on (busybox renames itself after exec).
        let events = process_events(all, at);
        let from = events.iter().position(|v| std::ptr::eq(*v, &all[at]));
        check(truth, events, from);
    }
    check(&shells[0], process_events(all, reports[0]), None);
    if fails.is_empty() {
        eprintln!(
            "{arch}: attribution ({source}) matches {} processes' own pid, ppid and name",
            stats.len() + shells.len()
        );
    }
    fails
}

/// What the hook example printed of one `openat` return.
struct HookLine {
    pid: Option<u32>,
    tid: Option<u32>,
    comm: String,
    path: String,
    ret: i64,
}

/// The hook example's `openat` lines (`hook-example: open #N by pid P tid
/// T (comm): "path" -> ret`).
fn hook_lines(console: &str) -> Vec<HookLine> {
    console
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("hook-example: open #")?;
            let (_, rest) = rest.split_once(" by pid ")?;
            let (pid, rest) = rest.split_once(" tid ")?;
            let (tid, rest) = rest.split_once(" (")?;
            let (comm, rest) = rest.split_once("): ")?;
            let (path, ret) = rest.rsplit_once(" -> ")?;
            let path: String = serde_json::from_str(path).ok()?;
            Some(HookLine {
                pid: pid.parse().ok(),
                tid: tid.parse().ok(),
                comm: comm.to_string(),
                path,
                ret: ret.parse().ok()?,
            })
        })
        .collect()
}

/// A user's typed hook asking who made the call (`cpu.process()`, in
/// `examples/qemu-hook-example`): every `openat` return's hook line has the
/// pid, tid and name of the trace's event for it, and the processes that
/// printed their own `/proc/self/stat` are named by their own words.
fn check_hook_example(arch: &str, ev: &Events, console: &str) -> Vec<String> {
    let hooks = hook_lines(console);
    let opens: Vec<&Event> = ev
        .all
        .iter()
        .filter(|e| e.ev == Phase::Return && name(e) == "openat")
        .collect();
    if hooks.len() != opens.len() || hooks.len() < 10 {
        return vec![format!(
            "{arch}: {} hook lines for {} openat returns in the trace",
            hooks.len(),
            opens.len()
        )];
    }
    let mut fails = Vec::new();
    for (h, e) in hooks.iter().zip(&opens) {
        let e_path = e.args.iter().find_map(|(_, a)| a.str.clone());
        let same = (
            h.pid,
            h.tid,
            Some(h.comm.as_str()),
            Some(&h.path),
            Some(h.ret),
        ) == (e.pid, e.tid, e.comm.as_deref(), e_path.as_ref(), e.ret);
        if !same {
            fails.push(format!(
                "{arch}: the hook saw pid {:?} tid {:?} ({}) {:?} -> {}, the trace: {}",
                h.pid,
                h.tid,
                h.comm,
                h.path,
                h.ret,
                line(e)
            ));
        }
    }
    let (stats, _) = truths(console);
    let stat_hooks: Vec<_> = hooks
        .iter()
        .filter(|h| h.path == "/proc/self/stat")
        .collect();
    if stat_hooks.len() != stats.len() || stats.is_empty() {
        fails.push(format!(
            "{arch}: {} hook lines open /proc/self/stat, {} processes printed it",
            stat_hooks.len(),
            stats.len()
        ));
    }
    for (h, truth) in stat_hooks.iter().zip(&stats) {
        if h.pid != Some(truth.pid) || Some(&h.comm) != truth.comm.as_ref() {
            fails.push(format!(
                "{arch}: the hook saw pid {:?} ({}) open /proc/self/stat; the process says {truth:?}",
                h.pid, h.comm
            ));
        }
    }
    if fails.is_empty() {
        eprintln!(
            "{arch}: the hook example's cpu.process() matches the trace on {} openat returns",
            hooks.len()
        );
    }
    fails
}

/// The counters add up: every enter is returned, retired or pending
/// (`child_returns` is the number of returns that are a fork's second).
pub(crate) fn counters_add_up(summary: &Summary, child_returns: i64) -> Result<(), String> {
    let x = &summary.counters;
    let pending = summary.pending.len() as i64;
    let settled = x.returns as i64 - child_returns
        + x.noreturn as i64
        + x.exec_succeeded as i64
        + x.restarted as i64
        + pending;
    if settled == x.enters as i64 {
        Ok(())
    } else {
        Err(format!(
            "enters {} != returns {} - child returns {child_returns} + noreturn {} + exec_succeeded {} + restarted {} + pending {pending}",
            x.enters, x.returns, x.noreturn, x.exec_succeeded, x.restarted
        ))
    }
}

/// `cargo xtask qemu-test`: boots every guest with the plugin and checks
/// its log. Fails (never skips) when QEMU or an image is missing. `args`
/// pick guests: an arch (`x86_64`: its 6.1 and 6.12 guests) or an image
/// (`x86_64-6.12`).
pub fn test(args: &[String]) -> Result<(), String> {
    let guests: Vec<(&str, Kernel)> = if args.is_empty() {
        GUESTS.to_vec()
    } else {
        GUESTS
            .iter()
            .filter(|(arch, _)| args.iter().any(|a| a == arch))
            .chain(ON_REQUEST.iter())
            .copied()
            .filter(|(arch, kernel)| args.iter().any(|a| a == arch || *a == kernel.image(arch)))
            // An arch names its default guest, or its only one (riscv64).
            .filter(|g| {
                GUESTS.contains(g)
                    || args.iter().any(|a| *a == g.1.image(g.0))
                    || !GUESTS.iter().any(|(arch, _)| *arch == g.0)
            })
            .collect()
    };
    let all = || GUESTS.iter().chain(ON_REQUEST.iter());
    if let Some(bad) = args
        .iter()
        .find(|a| !all().any(|(arch, kernel)| *a == arch || **a == kernel.image(arch)))
    {
        let known: Vec<String> = all().map(|(a, k)| k.image(a)).collect();
        return Err(format!(
            "qemu-test: no guest `{bad}` (the guests: {}; no 6.12 guest for {NO_6_12})",
            known.join(", ")
        ));
    }
    let arches: Vec<&str> = ARCHES
        .iter()
        .copied()
        .filter(|a| guests.iter().any(|(g, _)| g == a))
        .collect();
    for a in &arches {
        check_qemu(a)?;
    }
    let plugin = build_plugin()?;
    for kernel in [Kernel::V6_1, Kernel::V6_12] {
        let of: Vec<&str> = guests
            .iter()
            .filter(|(_, k)| *k == kernel)
            .map(|(a, _)| *a)
            .collect();
        build_images_of(&of, kernel, &["--with-newcalls"])?;
    }
    let mut cases: Vec<(&str, Kernel, u32)> = guests.iter().map(|&(a, k)| (a, k, 1)).collect();
    for arch in ["aarch64", "x86_64"] {
        // aarch64 with two CPUs; x86_64: attribution read from the kernel
        // with two CPUs.
        if guests.contains(&(arch, Kernel::V6_1)) {
            cases.push((arch, Kernel::V6_1, 2));
        }
    }
    let mut passed = 0;
    let mut failed = 0;
    let cmd = format!("{WORKLOAD}; {NEWCALLS}");
    for (arch, kernel, smp) in cases {
        let image = kernel.image(arch);
        let tag = format!("test-{image}-smp{smp}");
        let result = kernel.profile(arch).and_then(|profile| {
            let mut args = vec!["format=jsonl".to_string()];
            if kernel != Kernel::V6_12 {
                args.push(format!("profile={}", profile.name));
            }
            args.extend(kernel_arg(arch, &image)?);
            let run = boot(
                &format!("{image}-newcalls"),
                &plugin,
                &args.join(","),
                &cmd,
                smp,
                &tag,
            )?
            .ok()?;
            if !run.console.contains("S2GUEST: WORKLOAD END rc=0") {
                return Err(format!(
                    "{image}: the workload did not finish:\n{}",
                    run.console
                ));
            }
            let ev = parse_log(&run.log, &run.stats)?;
            let (unknown, mut fails) = check_newcalls(&image, kernel, profile, &ev, &run.console);
            fails.extend(check_events(&image, &ev, smp, unknown));
            fails.extend(check_attribution(arch, &image, &ev, &run.console));
            eprintln!(
                "{tag}: {:.1}s, {} events; {}",
                run.seconds,
                ev.all.len(),
                summary_line(&ev.summary)
            );
            if fails.is_empty() {
                Ok(())
            } else {
                Err(fails.join("\n"))
            }
        });
        tally(&tag, result, &mut passed, &mut failed);
    }
    if args.is_empty() {
        println!("note: no Linux 6.12 guest by default: {NO_6_12}");
    }
    if guests.contains(&("x86_64", Kernel::V6_1)) {
        // A user's own plugin: its typed hook asks who made each call.
        let tag = "test-x86_64-hook-example";
        let result = build_hook_example()
            .and_then(|so| {
                let args = ["format=jsonl".to_string()]
                    .into_iter()
                    .chain(kernel_arg("x86_64", "x86_64")?)
                    .collect::<Vec<_>>()
                    .join(",");
                boot("x86_64", &so, &args, WORKLOAD, 1, tag)
            })
            .and_then(|run| {
                let run = run.ok()?;
                let ev = parse_log(&run.log, &run.stats)?;
                let fails = check_hook_example("x86_64", &ev, &run.console);
                if fails.is_empty() {
                    Ok(())
                } else {
                    Err(fails.join("\n"))
                }
            });
        tally(tag, result, &mut passed, &mut failed);
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        Err(format!("{failed} QEMU guest test(s) failed"))
    } else {
        Ok(())
    }
}

/// Prints a guest test's outcome as `cargo test` does, and counts it.
fn tally(tag: &str, result: Result<(), String>, passed: &mut u32, failed: &mut u32) {
    match result {
        Ok(()) => {
            println!("test qemu::{tag} ... ok");
            *passed += 1;
        }
        Err(e) => {
            println!("test qemu::{tag} ... FAILED\n{e}");
            *failed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_has_its_own_directory() {
        let a = run_dir("unit-test").unwrap();
        let b = run_dir("unit-test").unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        let latest = a.parent().unwrap().join("unit-test");
        assert_eq!(std::fs::read_link(&latest).unwrap(), b.file_name().unwrap());
        std::fs::remove_file(latest).unwrap();
        std::fs::remove_dir(a).unwrap();
        std::fs::remove_dir(b).unwrap();
    }

    #[test]
    fn the_timeout_is_s2_timeouts() {
        assert_eq!(timeout_from(None), Ok(240));
        assert_eq!(timeout_from(Some("900")), Ok(900));
        assert!(timeout_from(Some("5m"))
            .unwrap_err()
            .contains("S2_TIMEOUT=`5m`"));
    }
}
