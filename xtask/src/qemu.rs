//! `cargo xtask qemu-trace` and `cargo xtask qemu-test`: syscalls2's QEMU
//! plugin on real Linux guests (built by `scripts/guest-images.sh`, booted by
//! `scripts/run-guest.sh`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const ARCHES: [&str; 4] = ["x86_64", "i386", "arm", "aarch64"];

/// The workload the integration test runs in every guest.
/// (busybox `cat` copies with `sendfile`; `head` reads and writes.)
pub const WORKLOAD: &str = "cat /etc/hostname; echo hello > /tmp/f; cat /tmp/f; \
ls /nonexistent; sh -c 'exit 3'; head -n 1 /etc/hostname; (echo forked); sh -c 'exec echo execd'";

/// What `/init` writes around the workload (see scripts/guest-images.sh).
const BEGIN: &str = "S2GUEST: WORKLOAD BEGIN";
const END: &str = "S2GUEST: WORKLOAD END";

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

/// `cargo xtask qemu-trace --arch ARCH [--all] [--jsonl] [--smp N] -- COMMAND`
pub fn trace(args: &[String]) -> Result<(), String> {
    let mut arch = "x86_64".to_string();
    let mut all = false;
    let mut jsonl = false;
    let mut smp = 1;
    let mut extra = String::new();
    let mut cmd = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--arch" => arch = it.next().ok_or("--arch needs a value")?.clone(),
            "--all" => all = true,
            "--jsonl" => jsonl = true,
            "--smp" => {
                smp = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--smp needs a number")?
            }
            "--plugin-args" => extra = it.next().ok_or("--plugin-args needs a value")?.clone(),
            "--" => {
                cmd.extend(it.by_ref().cloned());
            }
            other => cmd.push(other.to_string()),
        }
    }
    if !ARCHES.contains(&arch.as_str()) {
        return Err(format!("--arch {arch}: expected one of {ARCHES:?}"));
    }
    let cmd = if cmd.is_empty() {
        "ls /".to_string()
    } else {
        cmd.join(" ")
    };
    check_qemu(&arch)?;
    let plugin = build_plugin()?;
    build_images(&[&arch])?;
    let mut pargs = Vec::new();
    if !all {
        pargs.push(format!("after={BEGIN}"));
        pargs.push(format!("until={END}"));
    }
    if jsonl {
        pargs.push("format=jsonl".into());
    }
    if !extra.is_empty() {
        pargs.push(extra);
    }
    let run = boot(&arch, &plugin, &pargs.join(","), &cmd, smp, "trace")?;
    let output: Vec<&str> = run
        .console
        .lines()
        .skip_while(|l| !l.contains(BEGIN))
        .skip(1)
        .take_while(|l| !l.contains(END))
        .collect();
    eprintln!("--- guest output of `{cmd}` ---");
    for l in output {
        eprintln!("{l}");
    }
    eprintln!(
        "--- syscalls ({}) ---",
        if all {
            "whole boot"
        } else {
            "the command's processes"
        }
    );
    print!("{}", run.log);
    eprintln!(
        "--- {:.1}s; {}",
        run.seconds,
        run.stats.lines().next().unwrap_or("")
    );
    Ok(())
}

struct Events {
    all: Vec<Value>,
    exit: Value,
}

fn parse_log(log: &str) -> Result<Events, String> {
    let mut all = Vec::new();
    let mut exit = None;
    for (i, line) in log.lines().enumerate() {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("log line {}: {e}: {line}", i + 1))?;
        if v["ev"] == "exit" {
            exit = Some(v);
        } else {
            all.push(v);
        }
    }
    Ok(Events {
        all,
        exit: exit.ok_or("the log has no exit summary (atexit did not run)")?,
    })
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(s(v).trim_start_matches("0x"), 16).unwrap_or(0)
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
    let returns: Vec<&Value> = ev.all.iter().filter(|v| v["ev"] == "return").collect();
    let line_has = |v: &Value, needles: &[&str]| {
        let l = s(&v["line"]);
        needles.iter().all(|n| l.contains(n))
    };
    // openat/open of /etc/hostname returning a descriptor.
    let open = returns.iter().find(|v| {
        matches!(s(&v["name"]), "openat" | "open")
            && line_has(v, &["\"/etc/hostname\""])
            && v["ret"].as_i64().unwrap_or(-1) >= 0
            && ev
                .all
                .iter()
                .any(|e| e["ev"] == "enter" && e["asid"] == v["asid"] && e["pc"] == v["pc"])
    });
    let Some(open) = open else {
        fail("no openat(..., \"/etc/hostname\", ...) = fd".into());
        return fails;
    };
    let opens: Vec<(Value, i64)> = returns
        .iter()
        .filter(|v| {
            matches!(s(&v["name"]), "openat" | "open")
                && line_has(v, &["\"/etc/hostname\""])
                && v["ret"].as_i64().unwrap_or(-1) >= 0
        })
        .map(|v| (v["asid"].clone(), v["ret"].as_i64().unwrap_or(-1)))
        .collect();
    let _ = open;
    let by = |asid: &Value, name: &str, f: &dyn Fn(&Value) -> bool| {
        returns
            .iter()
            .any(|v| &v["asid"] == asid && v["name"] == name && f(v))
    };
    if !opens.iter().any(|(asid, fd)| {
        by(asid, "read", &|v| {
            hex(&v["args"][0]) == *fd as u64
                && line_has(v, &["\"syscalls2-guest\\n\""])
                && v["ret"] == 16
        }) && by(asid, "write", &|v| {
            line_has(v, &["write(1, \"syscalls2-guest\\n\", 16) = 16"])
        })
    }) {
        fail("no process that opened /etc/hostname, read \"syscalls2-guest\\n\" from it and wrote it to stdout".into());
    }
    if !opens.iter().any(|(asid, fd)| {
        returns.iter().any(|v| {
            &v["asid"] == asid
                && matches!(s(&v["name"]), "sendfile" | "sendfile64")
                && hex(&v["args"][0]) == 1
                && hex(&v["args"][1]) == *fd as u64
                && v["ret"] == 16
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
    if !ev.all.iter().any(|v| {
        v["ev"] == "enter"
            && v["name"] == "execve"
            && line_has(v, &["[\"cat\", \"/etc/hostname\"]"])
    }) {
        fail("no execve(..., [\"cat\", \"/etc/hostname\"], ...)".into());
    }
    if !ev.all.iter().any(|v| {
        v["ev"] == "enter"
            && v["name"] == "execve"
            && line_has(v, &["[\"sh\", \"-c\", \"exec echo execd\"]"])
    }) {
        fail("no execve of `exec echo execd`".into());
    }
    if !ev
        .all
        .iter()
        .any(|v| v["ev"] == "enter" && line_has(v, &["exit_group(3) = ?"]))
    {
        fail("no exit_group(3)".into());
    }
    // fork/clone returning in the parent and in the child.
    let forks = ["clone", "fork", "vfork", "clone3"];
    let parent = returns
        .iter()
        .filter(|v| {
            forks.contains(&s(&v["name"]))
                && v["child"] == false
                && v["ret"].as_i64().unwrap_or(0) > 0
        })
        .count();
    let child = returns
        .iter()
        .filter(|v| forks.contains(&s(&v["name"])) && v["child"] == true && v["ret"] == 0)
        .count();
    if parent == 0 || child == 0 {
        fail(format!(
            "fork/clone returns: {parent} in parents, {child} in children"
        ));
    }
    if !returns.iter().any(|c| {
        c["child"] == true
            && returns
                .iter()
                .any(|p| p["child"] == false && p["pc"] == c["pc"] && p["asid"] != c["asid"])
    }) {
        fail("no fork child returning in a new address space".into());
    }
    if arch == "i386" {
        for kind in ["int80", "sysenter"] {
            if !ev.all.iter().any(|v| v["insn"] == kind) {
                fail(format!("no syscall made by {kind}"));
            }
        }
    }
    // Pairing: replay the log; each return must take an enter of the same
    // call that came before it and is still open; a thread (asid, sp) has
    // one call open at a time (a restart replaces it).
    type Key = (String, String, String, u64);
    // (key, event index, double, parent returned, child returned)
    let mut open_calls: Vec<(Key, usize, bool, bool, bool)> = Vec::new();
    let mut child_returns = 0i64;
    for (i, v) in ev.all.iter().enumerate() {
        let key: Key = (
            s(&v["asid"]).to_string(),
            s(&v["pc"]).to_string(),
            s(&v["sp"]).to_string(),
            v["no"].as_u64().unwrap_or(u64::MAX),
        );
        let name = s(&v["name"]);
        let double = forks.contains(&name);
        if v["ev"] == "enter" {
            // A new enter of the same thread at the same site replaces a
            // call that has not returned (a restart).
            open_calls.retain(|e| e.0 != key || e.3);
            open_calls.push((key, i, double, false, false));
            continue;
        }
        let child = v["child"] == true;
        let found = if child {
            child_returns += 1;
            // A child returns in its own address space, maybe on its own
            // stack: the oldest open fork at this site waiting for a child.
            open_calls
                .iter()
                .position(|e| e.2 && !e.4 && e.0 .1 == key.1 && e.0 .3 == key.3)
        } else {
            open_calls.iter().rposition(|e| e.0 == key && !e.3)
        };
        match found {
            None => fail(format!("return without an open enter: {v}")),
            Some(at) => {
                if !child && v["ret_asid"] != v["asid"] {
                    fail(format!(
                        "return in another address space than its enter: {v}"
                    ));
                }
                let e = &mut open_calls[at];
                if child {
                    e.4 = true;
                } else {
                    e.3 = true;
                }
                let errored = v["errno"].is_number();
                if !e.2 || (e.3 && e.4) || (!child && errored) {
                    open_calls.remove(at);
                }
            }
        }
        // Return values consistent with the arguments.
        if matches!(name, "read" | "write" | "pread64" | "readv" | "getdents64")
            && !v["errno"].is_number()
        {
            let count = hex(&v["args"][2]);
            let ret = v["ret"].as_i64().unwrap_or(-1);
            if name != "readv" && (ret < 0 || ret as u64 > count) {
                fail(format!("{name} returned {ret} for a count of {count}: {v}"));
            }
        }
    }
    // The counters add up: every enter is returned, retired or pending.
    let x = &ev.exit;
    let n = |k: &str| x[k].as_i64().unwrap_or(i64::MIN / 4);
    for k in ["evicted", "decode_errors", "unknown"] {
        if n(k) != 0 {
            fail(format!("{k} = {}", n(k)));
        }
    }
    let pending = n("pending");
    let settled = n("returns") - child_returns
        + n("noreturn")
        + n("exec_succeeded")
        + n("restarted")
        + pending;
    if settled != n("enters") {
        fail(format!(
            "enters {} != returns {} - child returns {child_returns} + noreturn {} + exec_succeeded {} + restarted {} + pending {pending}",
            n("enters"), n("returns"), n("noreturn"), n("exec_succeeded"), n("restarted")
        ));
    }
    // What is legitimately pending at poweroff: /init's shell waiting in
    // wait4 for `poweroff -f`, and that process's reboot(), which powers the
    // machine off and never returns.
    let mut names: Vec<String> = x["pending_calls"]
        .as_array()
        .map(|a| a.iter().map(|c| s(&c["name"]).to_string()).collect())
        .unwrap_or_default();
    names.sort();
    if names != ["reboot", "wait4"] {
        fail(format!(
            "unpaired at exit: {names:?}, expected [reboot, wait4]"
        ));
    }
    let replay_open: Vec<&Key> = open_calls
        .iter()
        .filter(|e| {
            let r = s(&ev.all[e.1]["name"]);
            !e.3 && !e.4
                && !matches!(
                    r,
                    "exit_group" | "exit" | "execve" | "rt_sigreturn" | "sigreturn"
                )
        })
        .map(|e| &e.0)
        .collect();
    if replay_open.len() as i64 != pending {
        fail(format!(
            "{} calls open in the log, {pending} pending in the engine",
            replay_open.len()
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
            let ev = parse_log(&run.log)?;
            let fails = check_events(arch, &ev, smp);
            eprintln!(
                "{tag}: {:.1}s, {} events; {}",
                run.seconds,
                ev.all.len(),
                run.stats.lines().next().unwrap_or("")
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
