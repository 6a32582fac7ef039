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

const ARCHES: [&str; 4] = ["x86_64", "i386", "arm", "aarch64"];

/// The workload the integration test runs in every guest.
/// (busybox `cat` copies with `sendfile`; `head` reads and writes.)
pub const WORKLOAD: &str = "cat /etc/hostname; echo hello > /tmp/f; cat /tmp/f; \
ls /nonexistent; sh -c 'exit 3'; head -n 1 /etc/hostname; (echo forked); sh -c 'exec echo execd'";

/// The workspace's root directory.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// Builds the default plugin (release) and returns its path.
pub fn build_plugin() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "syscalls2-qemu-plugin",
        ])
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("building the plugin failed".into());
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release/libsyscalls2_qemu_plugin.so"))
}

fn qemu_binary(arch: &str) -> &'static str {
    match arch {
        "x86_64" => "qemu-system-x86_64",
        "i386" => "qemu-system-i386",
        "arm" => "qemu-system-arm",
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

fn build_images(arches: &[&str]) -> Result<(), String> {
    let status = Command::new(root().join("scripts/guest-images.sh"))
        .args(arches)
        .status()
        .map_err(|e| format!("scripts/guest-images.sh: {e}"))?;
    if !status.success() {
        return Err("building guest images failed".into());
    }
    for a in arches {
        let dir = root().join("target/guest-images").join(a);
        for f in ["vmlinuz", "initrd.gz"] {
            if !dir.join(f).is_file() {
                return Err(format!("guest image {} missing", dir.join(f).display()));
            }
        }
    }
    Ok(())
}

/// One guest boot with the plugin.
pub struct Run {
    /// The guest's console.
    pub console: String,
    /// The plugin's log.
    pub log: String,
    /// The plugin's exit summary.
    pub stats: String,
    /// Wall time of the boot.
    pub seconds: f64,
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
    let dir = root().join("target/qemu-runs");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = dir.join(format!("{tag}.log"));
    let stats = dir.join(format!("{tag}.stats"));
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&stats);
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
        .env("S2_TIMEOUT", "240")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("scripts/run-guest.sh: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let console =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{arch}: qemu exited with {} after {seconds:.1}s:\n{console}",
            out.status
        ));
    }
    Ok(Run {
        console,
        log: std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?,
        stats: std::fs::read_to_string(&stats).map_err(|e| format!("{}: {e}", stats.display()))?,
        seconds,
    })
}

/// One run's output, read with the event schema's own types.
struct Events {
    all: Vec<Event>,
    summary: Summary,
}

/// The JSON Schema every event line must conform to.
const SCHEMA: &str = include_str!("../../schema/event-v1.schema.json");

/// Reads a JSONL log and a `stats=` summary, validating every line against
/// the event schema.
fn parse_log(log: &str, stats: &str) -> Result<Events, String> {
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

/// Checks one run's JSONL log; returns what failed.
fn check_events(arch: &str, ev: &Events, smp: u32) -> Vec<String> {
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
    // The counters add up: every enter is returned, retired or pending.
    let x = &ev.summary.counters;
    for (k, n) in [
        ("evicted", x.evicted),
        ("decode_errors", x.decode_errors),
        ("unknown", x.unknown),
    ] {
        if n != 0 {
            fail(format!("{k} = {n}"));
        }
    }
    let pending = ev.summary.pending.len() as i64;
    let settled = x.returns as i64 - child_returns
        + x.noreturn as i64
        + x.exec_succeeded as i64
        + x.restarted as i64
        + pending;
    if settled != x.enters as i64 {
        fail(format!(
            "enters {} != returns {} - child returns {child_returns} + noreturn {} + exec_succeeded {} + restarted {} + pending {pending}",
            x.enters, x.returns, x.noreturn, x.exec_succeeded, x.restarted
        ));
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

/// `cargo xtask qemu-test`: boots every guest with the plugin and checks
/// its log. Fails (never skips) when QEMU or an image is missing.
pub fn test(args: &[String]) -> Result<(), String> {
    let arches: Vec<&str> = if args.is_empty() {
        ARCHES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for a in &arches {
        check_qemu(a)?;
    }
    let plugin = build_plugin()?;
    build_images(&arches)?;
    let mut cases: Vec<(&str, u32)> = arches.iter().map(|a| (*a, 1)).collect();
    if arches.contains(&"aarch64") {
        cases.push(("aarch64", 2));
    }
    let mut passed = 0;
    let mut failed = 0;
    for (arch, smp) in cases {
        let tag = format!("test-{arch}-smp{smp}");
        let result = boot(arch, &plugin, "format=jsonl", WORKLOAD, smp, &tag).and_then(|run| {
            if !run.console.contains("S2GUEST: WORKLOAD END rc=0") {
                return Err(format!(
                    "{arch}: the workload did not finish:\n{}",
                    run.console
                ));
            }
            let ev = parse_log(&run.log, &run.stats)?;
            let fails = check_events(arch, &ev, smp);
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
        match result {
            Ok(()) => {
                println!("test qemu::{tag} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test qemu::{tag} ... FAILED\n{e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        Err(format!("{failed} QEMU guest test(s) failed"))
    } else {
        Ok(())
    }
}
