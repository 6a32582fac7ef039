//! Guests under QEMU with the syscalls2 plugin: the project's Debian
//! guests (`trace`, `record`, `replay`) and a user's own command line
//! (`qemu`).
//!
//! Where things are found, for a binary run from a checkout and for an
//! installed one alike:
//!
//! - **the guest scripts** (`scripts/guest-images.sh`, `scripts/run-guest.sh`)
//!   are compiled into the binary and written to `$SYSCALLS2_HOME/scripts/`
//!   (default `$XDG_CACHE_HOME/syscalls2`, else `~/.cache/syscalls2`) before
//!   each run;
//! - **the guest images** are built by that script from Debian packages
//!   (it needs root, for apt) into `$S2_GUEST_IMAGES_DIR`, else the
//!   checkout's `target/guest-images` when the binary was built from one
//!   (shared with `cargo xtask qemu-test`), else `$SYSCALLS2_HOME/guest-images`;
//! - **the plugin** (`libsyscalls2_qemu_plugin.so`) is `--plugin PATH` or
//!   `$SYSCALLS2_PLUGIN`; else, when the binary was built from a checkout
//!   (`cargo install --path syscalls2-cli` included), it is built there
//!   with `cargo build --release -p syscalls2-qemu-plugin`; else the one
//!   beside the binary.
//!
//! The trace comes back as the plugin's JSON lines (`format=jsonl`), read
//! with the library's event types and rendered by its sinks, so every
//! output flag works the same on a live guest, a replay and a fixture.

use crate::output::{read_events, render, Output};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};
use syscalls2::event::Summary;

/// The scripts the binary carries (symbolic links to `scripts/` in the
/// repository, packaged as files).
const GUEST_IMAGES_SH: &str = include_str!("../guest/guest-images.sh");
const RUN_GUEST_SH: &str = include_str!("../guest/run-guest.sh");

/// What the guest's `/init` prints around the command (see
/// `scripts/guest-images.sh`); the plugin's `after=`/`until=` follow the
/// processes started between them.
const BEGIN: &str = "S2GUEST: WORKLOAD BEGIN";
const END: &str = "S2GUEST: WORKLOAD END";

/// The file name of the stock plugin.
const PLUGIN: &str = "libsyscalls2_qemu_plugin.so";

/// The guests `scripts/guest-images.sh` builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Arch {
    /// x86-64 (Debian's cloud-amd64 kernel).
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    /// 32-bit x86.
    #[value(name = "i386")]
    #[serde(rename = "i386")]
    I386,
    /// 32-bit ARM (armhf, `-M virt`).
    #[value(name = "arm")]
    #[serde(rename = "arm")]
    Arm,
    /// AArch64 (`-M virt -cpu cortex-a57`).
    #[value(name = "aarch64")]
    #[serde(rename = "aarch64")]
    Aarch64,
    /// 32-bit MIPS, little-endian, o32 (`-M malta -cpu 24Kc`).
    #[value(name = "mipsel")]
    #[serde(rename = "mipsel")]
    Mipsel,
    /// 64-bit MIPS, little-endian, n64 (`-M malta -cpu 5KEc`).
    #[value(name = "mips64el")]
    #[serde(rename = "mips64el")]
    Mips64el,
}

impl Arch {
    fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Arm => "arm",
            Arch::Aarch64 => "aarch64",
            Arch::Mipsel => "mipsel",
            Arch::Mips64el => "mips64el",
        }
    }

    fn qemu(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86_64",
            Arch::I386 => "qemu-system-i386",
            Arch::Arm => "qemu-system-arm",
            Arch::Aarch64 => "qemu-system-aarch64",
            Arch::Mipsel => "qemu-system-mipsel",
            Arch::Mips64el => "qemu-system-mips64el",
        }
    }
}

/// Which guest, and how long it may run.
#[derive(Args, Clone, Debug)]
pub struct GuestArgs {
    /// The guest's architecture.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub arch: Arch,
    /// Seconds before QEMU is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
}

/// The plugin, and options passed to it as they are.
#[derive(Args, Clone, Debug)]
pub struct PluginArgs {
    /// The QEMU plugin (default: built from the checkout this binary
    /// comes from, or found beside the binary).
    #[arg(long, value_name = "PATH", env = "SYSCALLS2_PLUGIN")]
    pub plugin: Option<PathBuf>,
    /// A plugin option (`returns=every-block`, `asid=0x1000`, ...; see
    /// `syscalls2::options`), repeatable.
    #[arg(long = "plugin-arg", value_name = "KEY=VALUE")]
    pub plugin_args: Vec<String>,
}

/// What `record` writes beside QEMU's `rec.bin`, for `replay`.
#[derive(Serialize, Deserialize)]
struct Recording {
    /// The guest.
    arch: Arch,
    /// The command the guest ran (on its kernel command line: a replay
    /// must boot the same one).
    command: String,
}

/// The directory of a checkout the binary was built from, if it is still
/// there.
fn checkout() -> Option<PathBuf> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    ws.join("syscalls2-qemu/plugin/Cargo.toml")
        .is_file()
        .then(|| ws.to_path_buf())
}

/// `$SYSCALLS2_HOME`, else `$XDG_CACHE_HOME/syscalls2`, else
/// `~/.cache/syscalls2`.
fn home() -> Result<PathBuf, String> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("SYSCALLS2_HOME")
        .or_else(|| var("XDG_CACHE_HOME").map(|c| c.join("syscalls2")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/syscalls2")))
        .ok_or_else(|| "set SYSCALLS2_HOME: no HOME to keep guest images in".into())
}

/// Where guest images are kept.
fn images_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("S2_GUEST_IMAGES_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match checkout() {
        Some(ws) => Ok(ws.join("target/guest-images")),
        None => Ok(home()?.join("guest-images")),
    }
}

/// Writes the bundled scripts out (when they differ) and returns their
/// directory.
fn scripts() -> Result<PathBuf, String> {
    let dir = home()?.join("scripts");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in [
        ("guest-images.sh", GUEST_IMAGES_SH),
        ("run-guest.sh", RUN_GUEST_SH),
    ] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(dir)
}

fn spinner(message: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("a valid template"),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb.set_message(message);
    pb
}

/// Fails when QEMU for `arch` is not installed.
fn check_qemu(bin: &str) -> Result<(), String> {
    match Command::new(bin).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "{bin} not found: install QEMU 10 (`scripts/install-qemu.sh` in the syscalls2 repository installs it from bookworm-backports)"
        )),
    }
}

/// The plugin to load (see the module's documentation).
fn plugin(args: &PluginArgs) -> Result<PathBuf, String> {
    if let Some(p) = &args.plugin {
        return if p.is_file() {
            Ok(p.clone())
        } else {
            Err(format!("--plugin {}: no such file", p.display()))
        };
    }
    if let Some(ws) = checkout() {
        let pb = spinner(
            "building the QEMU plugin (cargo build --release -p syscalls2-qemu-plugin)".into(),
        );
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(&ws)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "syscalls2-qemu-plugin",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        pb.finish_and_clear();
        if !out.status.success() {
            return Err(format!(
                "building the plugin failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.join("target"));
        return Ok(target.join("release").join(PLUGIN));
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(PLUGIN)));
    match beside {
        Some(p) if p.is_file() => Ok(p),
        _ => Err(format!(
            "no QEMU plugin: build it in the syscalls2 repository (cargo build --release -p syscalls2-qemu-plugin) and pass --plugin target/release/{PLUGIN}, or set SYSCALLS2_PLUGIN"
        )),
    }
}

/// Builds the guest image of `arch` unless it is there (the script is a
/// no-op then), showing the script's progress.
fn ensure_images(scripts: &Path, images: &Path, arch: Arch) -> Result<(), String> {
    let pb = spinner(format!("guest image {}", arch.name()));
    let mut child = Command::new("bash")
        .arg(scripts.join("guest-images.sh"))
        .arg(arch.name())
        .env("S2_GUEST_IMAGES_DIR", images)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("bash guest-images.sh: {e}"))?;
    let mut log = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            pb.set_message(format!("guest image {}: {line}", arch.name()));
            log.push(line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    pb.finish_and_clear();
    if !status.success() {
        return Err(format!(
            "building the {} guest image failed:\n{}",
            arch.name(),
            log.join("\n")
        ));
    }
    Ok(())
}

/// A directory for one run's files, removed when dropped.
struct RunDir(PathBuf);

impl RunDir {
    fn new() -> Result<RunDir, String> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("syscalls2-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(RunDir(dir))
    }

    fn log(&self) -> PathBuf {
        self.0.join("trace.jsonl")
    }

    fn stats(&self) -> PathBuf {
        self.0.join("stats.json")
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `-plugin` argument: the plugin, its trace as JSON lines in `run`,
/// and `options`.
fn plugin_arg(plugin: &Path, run: &RunDir, options: &[String]) -> Result<String, String> {
    let mut parts = vec![
        plugin.display().to_string(),
        format!("log={}", run.log().display()),
        "format=jsonl".into(),
        format!("stats={}", run.stats().display()),
    ];
    parts.extend(options.iter().cloned());
    if let Some(p) = parts.iter().find(|p| p.contains(',')) {
        return Err(format!("`{p}`: QEMU's -plugin option cannot hold a comma"));
    }
    Ok(parts.join(","))
}

/// What QEMU's `-icount` option needs for record/replay in `dir`.
fn icount(mode: &str, dir: &Path) -> String {
    // QEMU's option syntax: a comma in a value is written twice.
    let file = dir.join("rec.bin").display().to_string().replace(',', ",,");
    format!("shift=auto,rr={mode},rrfile={file}")
}

/// Boots `arch` from the images in `images`, the guest running `command`,
/// with `qemu_args` added; returns the console.
fn boot(
    scripts: &Path,
    images: &Path,
    arch: Arch,
    command: &str,
    qemu_args: &[String],
    timeout: u64,
    what: &str,
) -> Result<String, String> {
    let pb = spinner(format!("{what} ({} guest: `{command}`)", arch.name()));
    let out = Command::new("bash")
        .arg(scripts.join("run-guest.sh"))
        .arg(arch.name())
        .args(qemu_args)
        .env("S2CMD", command)
        .env("S2_TIMEOUT", timeout.to_string())
        .env("S2_GUEST_IMAGES_DIR", images)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("bash run-guest.sh: {e}"))?;
    pb.finish_and_clear();
    let console =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Ok(console),
        Some(124) => Err(format!(
            "the guest did not finish in {timeout} s (--timeout):\n{}",
            tail(&console)
        )),
        _ => Err(format!("QEMU failed ({}):\n{}", out.status, tail(&console))),
    }
}

fn tail(console: &str) -> String {
    let lines: Vec<&str> = console.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Prints what the command wrote on the guest's console (to stderr, as a
/// traced program's output beside strace's), and fails if it did not end.
fn guest_output(console: &str) -> Result<(), String> {
    if !console.contains(END) {
        return Err(format!(
            "the guest did not finish the command:\n{}",
            tail(console)
        ));
    }
    for line in console
        .lines()
        .skip_while(|l| !l.contains(BEGIN))
        .skip(1)
        .take_while(|l| !l.contains(END))
    {
        eprintln!("{line}");
    }
    Ok(())
}

/// The trace the plugin left in `run`, rendered as `output` says.
fn finish(run: &RunDir, output: &Output, start: SystemTime) -> Result<(), String> {
    let events = read_events(&run.log())?;
    let stats =
        std::fs::read_to_string(run.stats()).map_err(|e| format!("the plugin's summary: {e}"))?;
    let summary: Summary =
        serde_json::from_str(stats.trim()).map_err(|e| format!("the plugin's summary: {e}"))?;
    let mut sinks = output.sinks(start)?;
    render(events, &mut sinks, &summary)
}

/// The plugin's options for a trace of the guest's command (or, with
/// `all`, the whole boot).
fn guest_options(all: bool, plugin: &PluginArgs, output: &Output) -> Result<Vec<String>, String> {
    let mut o = Vec::new();
    if !all {
        o.push(format!("after={BEGIN}"));
        o.push(format!("until={END}"));
        let follow = if output.follow { "on" } else { "off" };
        o.push(format!("follow_forks={follow}"));
    }
    o.extend(output.session_options()?);
    o.extend(plugin.plugin_args.iter().cloned());
    Ok(o)
}

/// `syscalls2 trace`.
pub fn trace(
    guest: &GuestArgs,
    plugin_args: &PluginArgs,
    all: bool,
    output: &Output,
    command: &str,
) -> Result<(), String> {
    output.check()?;
    let options = guest_options(all, plugin_args, output)?;
    check_qemu(guest.arch.qemu())?;
    let plugin = plugin(plugin_args)?;
    let (scripts, images) = (scripts()?, images_dir()?);
    ensure_images(&scripts, &images, guest.arch)?;
    let run = RunDir::new()?;
    let arg = plugin_arg(&plugin, &run, &options)?;
    let start = SystemTime::now();
    let console = boot(
        &scripts,
        &images,
        guest.arch,
        command,
        &["-plugin".into(), arg],
        guest.timeout,
        "tracing",
    )?;
    guest_output(&console)?;
    finish(&run, output, start)
}

/// `syscalls2 record`.
pub fn record(guest: &GuestArgs, dir: &Path, command: &str) -> Result<(), String> {
    if dir.join("recording.json").exists() {
        return Err(format!("{} already holds a recording", dir.display()));
    }
    check_qemu(guest.arch.qemu())?;
    let (scripts, images) = (scripts()?, images_dir()?);
    ensure_images(&scripts, &images, guest.arch)?;
    // The replay boots the very same kernel and initramfs: keep a copy.
    let own = dir.join("images").join(guest.arch.name());
    std::fs::create_dir_all(&own).map_err(|e| format!("{}: {e}", own.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    for f in ["vmlinuz", "initrd.gz"] {
        let from = images.join(guest.arch.name()).join(f);
        std::fs::copy(&from, own.join(f)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    let console = boot(
        &scripts,
        &dir.join("images"),
        guest.arch,
        command,
        &["-icount".into(), icount("record", &dir)],
        guest.timeout,
        "recording",
    )?;
    guest_output(&console)?;
    let meta = Recording {
        arch: guest.arch,
        command: command.to_string(),
    };
    let json = serde_json::to_string_pretty(&meta).expect("a recording serialises");
    let path = dir.join("recording.json");
    std::fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    let size = std::fs::metadata(dir.join("rec.bin"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "recorded {} ({} KiB of events); analyze it with: syscalls2 replay {}",
        dir.display(),
        size / 1024,
        dir.display()
    );
    Ok(())
}

/// `syscalls2 replay`.
pub fn replay(dir: &Path, plugin_args: &PluginArgs, output: &Output) -> Result<(), String> {
    output.check()?;
    let path = dir.join("recording.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (not a directory `syscalls2 record` wrote)",
            path.display()
        )
    })?;
    let meta: Recording =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let options = guest_options(false, plugin_args, output)?;
    check_qemu(meta.arch.qemu())?;
    let plugin = plugin(plugin_args)?;
    let scripts = scripts()?;
    let run = RunDir::new()?;
    let args = [
        "-icount".into(),
        icount("replay", &dir),
        "-plugin".into(),
        plugin_arg(&plugin, &run, &options)?,
    ];
    let start = SystemTime::now();
    // No timeout of its own: a replay runs as long as the recording did.
    let console = boot(
        &scripts,
        &dir.join("images"),
        meta.arch,
        &meta.command,
        &args,
        86_400,
        "replaying",
    )?;
    guest_output(&console)?;
    finish(&run, output, start)
}

/// `syscalls2 qemu`.
pub fn qemu(
    profile: Option<&str>,
    plugin_args: &PluginArgs,
    output: &Output,
    qemu: &[String],
) -> Result<(), String> {
    output.check()?;
    let (bin, args) = qemu.split_first().ok_or("no QEMU command line after --")?;
    let mut options = Vec::new();
    if let Some(p) = profile {
        if syscalls2::profiles::by_name(p).is_none() {
            return Err(format!(
                "--profile {p}: not a bundled profile (see `syscalls2 tables`)"
            ));
        }
        options.push(format!("profile={p}"));
    }
    options.extend(output.session_options()?);
    options.extend(plugin_args.plugin_args.iter().cloned());
    let plugin = plugin(plugin_args)?;
    let run = RunDir::new()?;
    let start = SystemTime::now();
    let status = Command::new(bin)
        .args(args)
        .arg("-plugin")
        .arg(plugin_arg(&plugin, &run, &options)?)
        .status()
        .map_err(|e| format!("{bin}: {e}"))?;
    if !status.success() {
        return Err(format!("{bin} exited with {status}"));
    }
    finish(&run, output, start)
}
