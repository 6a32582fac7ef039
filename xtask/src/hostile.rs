//! `cargo xtask hostile`: the QEMU plugin against a guest program that tries
//! to hide its system calls (`tests/guest/hostile.c`, in the
//! `<arch>-hostile` images of `scripts/guest-images.sh --with-hostile`).
//!
//! The program prints what it really called and what the kernel answered
//! (`HOSTILE <pc> <no> <name> <ret> <count>`); the test asserts that the
//! plugin's JSON lines show exactly those calls at those instructions — no
//! call missing, none extra, the same numbers, names and results — that no
//! return is paired with another thread's or another call's enter, that the
//! counters add up, that no translation-cache flush was needed with
//! `returns=exits` (the program runs thousands of generated `syscall; ret`
//! stubs whose return sites executed before their syscalls), and that QEMU's peak memory with
//! the plugin stays within a bound of QEMU's without it, on the same
//! program.
//!
//! Runs: x86_64 and i386 with one vCPU, x86_64 with `-smp 4`, and x86_64
//! without the plugin (the memory baseline).

use crate::qemu::{build_plugin, check_qemu, counters_add_up, parse_log, root, Events};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use syscalls2::event::{Event, Phase};
use syscalls2::options::summary_line;

/// The architectures the program is built for.
const ARCHES: [&str; 2] = ["x86_64", "i386"];

/// How much more memory (peak RSS, KiB) QEMU may use with the plugin
/// writing its JSON lines than without the plugin, on the same program:
/// the plugin's own tables and buffers, not a function of the number of
/// calls (the run makes about 17,000).
const MAX_EXTRA_RSS_KIB: u64 = 96 * 1024;

/// One call as the program saw it: where, which number the kernel ran,
/// its name (`-`: unknown to the kernel), its result (`None`: it did not
/// return, a successful execve).
type Call = (u64, u64, String, Option<i64>);

/// What the program printed.
#[derive(Default)]
struct Report {
    calls: BTreeMap<Call, u64>,
    /// Calls reported, by process (`HOSTILE-END`).
    ends: Vec<(u32, u64)>,
}

fn parse_report(console: &str) -> Result<Report, String> {
    let mut r = Report::default();
    for line in console.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("HOSTILE") if f.len() == 6 => {
                let bad = || format!("a HOSTILE line that does not parse: {line}");
                let pc =
                    u64::from_str_radix(f[1].trim_start_matches("0x"), 16).map_err(|_| bad())?;
                let no = f[2].parse().map_err(|_| bad())?;
                let ret = match f[4] {
                    "?" => None,
                    v => Some(v.parse().map_err(|_| bad())?),
                };
                let count: u64 = f[5].parse().map_err(|_| bad())?;
                *r.calls.entry((pc, no, f[3].to_string(), ret)).or_default() += count;
            }
            Some("HOSTILE-END") if f.len() == 3 => {
                let pid = f[1].parse().map_err(|_| format!("bad line: {line}"))?;
                let n = f[2].parse().map_err(|_| format!("bad line: {line}"))?;
                r.ends.push((pid, n));
            }
            Some("HOSTILE") => return Err(format!("a HOSTILE line that does not parse: {line}")),
            _ => {}
        }
    }
    // The parent and its exec'd child each end their report.
    if r.ends.len() != 2 {
        return Err(format!(
            "expected two HOSTILE-END lines (the program and its child), found {}",
            r.ends.len()
        ));
    }
    let total: u64 = r.calls.values().sum();
    let ended: u64 = r.ends.iter().map(|e| e.1).sum();
    if total != ended {
        return Err(format!(
            "the console holds {total} reported calls, the program says it reported {ended}"
        ));
    }
    Ok(r)
}

/// The calls the trace shows at the instructions the program reported.
fn traced_calls(ev: &Events, pcs: &[u64]) -> BTreeMap<Call, u64> {
    let returned: std::collections::HashSet<u64> = ev
        .all
        .iter()
        .filter(|e| e.ev == Phase::Return)
        .map(|e| e.seq)
        .collect();
    // A call the kernel restarts is entered again at the same instruction
    // from the same stack: its first enter has no return of its own.
    let mut later = std::collections::HashSet::new();
    let mut restarted = std::collections::HashSet::new();
    for e in ev.all.iter().rev().filter(|e| e.ev == Phase::Enter) {
        if !later.insert((e.asid, e.sp, e.pc, e.no)) {
            restarted.insert(e.seq);
        }
    }
    let mut out = BTreeMap::new();
    for e in &ev.all {
        if pcs.binary_search(&e.pc).is_err() {
            continue;
        }
        // A call that returns to its site only on failure and succeeded
        // (the session reports an execve's 0 when it retires it) did not
        // return for the program either.
        let succeeded_away = syscalls2::profiles::by_name(&e.profile)
            .and_then(|t| t.by_number(e.no))
            .is_some_and(|i| i.returns.noreturn_on_success)
            && e.errno.is_none();
        let ret = match e.ev {
            Phase::Return if succeeded_away => None,
            Phase::Return => Some(e.ret.unwrap_or(i64::MIN)),
            // An enter that never returned: the execve that succeeded.
            Phase::Enter if !returned.contains(&e.seq) && !restarted.contains(&e.seq) => None,
            Phase::Enter => continue,
        };
        let name = e.name.clone().unwrap_or_else(|| "-".into());
        *out.entry((e.pc, e.no, name, ret)).or_default() += 1;
    }
    out
}

/// Every return has its enter (same seq), made at the same instruction with
/// the same number by the same thread (address space and stack pointer; a
/// fork's child returns in its own); a successful `write` returns the count
/// it was given (the program's threads write distinct counts, so a return
/// paired with another thread's enter shows). Returns the number of child
/// returns, for the counters.
fn check_pairs(ev: &Events, fails: &mut Vec<String>) -> i64 {
    let mut enters: BTreeMap<u64, &Event> = BTreeMap::new();
    let mut child_returns = 0;
    for e in &ev.all {
        if e.ev == Phase::Enter {
            enters.insert(e.seq, e);
            continue;
        }
        let child = e.child == Some(true);
        child_returns += i64::from(child);
        let Some(enter) = enters.get(&e.seq) else {
            fails.push(format!(
                "a return with no enter: seq {} {:?}",
                e.seq, e.name
            ));
            continue;
        };
        if enter.pc != e.pc
            || enter.no != e.no
            || (!child && (enter.asid != e.asid || enter.sp != e.sp))
        {
            fails.push(format!(
                "seq {}: return (pc {:#x}, no {}, asid {:#x}, sp {:#x}) paired with another call's enter (pc {:#x}, no {}, asid {:#x}, sp {:#x})",
                e.seq, e.pc, e.no, e.asid, e.sp, enter.pc, enter.no, enter.asid, enter.sp
            ));
        }
        if e.name.as_deref() == Some("write") && e.errno.is_none() {
            let count = e.args.get("count").and_then(|v| v.number());
            if e.ret.map(|r| r as u64) != count {
                fails.push(format!(
                    "seq {}: write returned {:?} for a count of {count:?}",
                    e.seq, e.ret
                ));
            }
        }
    }
    child_returns
}

/// One boot of `image` running `/hostile`; with the plugin unless
/// `plugin_args` is None. Returns the console, the log and stats, and
/// QEMU's peak RSS in KiB.
struct Run {
    console: String,
    log: String,
    stats: String,
    max_rss_kib: u64,
    seconds: f64,
}

fn boot(image: &str, plugin: Option<(&Path, &str)>, smp: u32, tag: &str) -> Result<Run, String> {
    let dir = root().join("target/qemu-runs");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = dir.join(format!("{tag}.jsonl"));
    let stats = dir.join(format!("{tag}.stats"));
    let console = dir.join(format!("{tag}.console"));
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&stats);
    let mut c = Command::new(root().join("scripts/run-guest.sh"));
    c.arg(image);
    if let Some((so, args)) = plugin {
        c.arg("-plugin").arg(format!(
            "{},log={},stats={}{}{args}",
            so.display(),
            log.display(),
            stats.display(),
            if args.is_empty() { "" } else { "," }
        ));
    }
    if smp > 1 {
        c.args(["-smp", &smp.to_string()]);
    }
    let out = std::fs::File::create(&console).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let child = c
        .env("S2CMD", "/hostile")
        .env("S2_TIMEOUT", "300")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("scripts/run-guest.sh: {e}"))?;
    // wait4: the exit status and the peak RSS of the child and its
    // descendants (run-guest.sh execs `timeout`, which waits for QEMU).
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    if pid < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let seconds = start.elapsed().as_secs_f64();
    let console = std::fs::read_to_string(&console).map_err(|e| e.to_string())?;
    let status = std::process::ExitStatus::from_raw(status);
    if !status.success() {
        return Err(format!(
            "{tag}: qemu exited with {status} after {seconds:.1}s:\n{}",
            tail(&console)
        ));
    }
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    Ok(Run {
        log: if plugin.is_some() {
            read(&log)?
        } else {
            String::new()
        },
        stats: if plugin.is_some() {
            read(&stats)?
        } else {
            String::new()
        },
        console,
        max_rss_kib: usage.ru_maxrss as u64,
        seconds,
    })
}

/// The last lines of a console, for error messages.
fn tail(console: &str) -> String {
    let lines: Vec<&str> = console
        .lines()
        .filter(|l| !l.starts_with("HOSTILE "))
        .collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Compares one run's trace with the program's report; returns what failed.
fn check(run: &Run) -> Result<Vec<String>, String> {
    if !run.console.contains("S2GUEST: WORKLOAD END rc=0") {
        return Err(format!(
            "the program did not finish:\n{}",
            tail(&run.console)
        ));
    }
    let report = parse_report(&run.console)?;
    let ev = parse_log(&run.log, &run.stats)?;
    let mut fails = Vec::new();
    let mut pcs: Vec<u64> = report.calls.keys().map(|c| c.0).collect();
    pcs.sort_unstable();
    pcs.dedup();
    let traced = traced_calls(&ev, &pcs);
    let show = |c: &Call| {
        let ret = c.3.map_or("?".into(), |r| r.to_string());
        format!("{} (no {}) at {:#x} = {ret}", c.2, c.1, c.0)
    };
    let mut missing = Vec::new();
    for (call, &n) in &report.calls {
        let t = traced.get(call).copied().unwrap_or(0);
        if t != n {
            missing.push(format!("{}: made {n}, traced {t}", show(call)));
        }
    }
    let extra: Vec<String> = traced
        .iter()
        .filter(|(c, _)| !report.calls.contains_key(*c))
        .map(|(c, n)| format!("{}: traced {n}, never made", show(c)))
        .collect();
    for (what, list) in [
        ("calls the trace gets wrong", missing),
        ("calls the trace invents", extra),
    ] {
        if !list.is_empty() {
            fails.push(format!(
                "{} {what}, e.g.:\n    {}",
                list.len(),
                list[..list.len().min(8)].join("\n    ")
            ));
        }
    }
    let child_returns = check_pairs(&ev, &mut fails);
    let x = &ev.summary.counters;
    let unknown: u64 = report
        .calls
        .iter()
        .filter(|(c, _)| c.2 == "-")
        .map(|(_, n)| n)
        .sum();
    if x.unknown != unknown {
        fails.push(format!(
            "the engine counted {} unknown calls, the program made {unknown}",
            x.unknown
        ));
    }
    for (k, n) in [("evicted", x.evicted), ("decode_errors", x.decode_errors)] {
        if n != 0 {
            fails.push(format!("{k} = {n}"));
        }
    }
    if let Err(e) = counters_add_up(&ev.summary, child_returns) {
        fails.push(e);
    }
    // returns=exits: the program's 5,000 generated stubs cost no flush.
    let flushes = ev.summary.backend.get("flushes").copied().unwrap_or(0);
    if flushes != 0 {
        fails.push(format!(
            "{flushes} translation-cache flushes (generated code must not cost a flush each)"
        ));
    }
    eprintln!(
        "    {} reported calls, {} events, {:.1}s, peak RSS {} MiB; {}",
        report.calls.values().sum::<u64>(),
        ev.all.len(),
        run.seconds,
        run.max_rss_kib / 1024,
        summary_line(&ev.summary)
    );
    Ok(fails)
}

/// `cargo xtask hostile [ARCH...]`
pub fn main(args: &[String]) -> Result<(), String> {
    let arches: Vec<&str> = if args.is_empty() {
        ARCHES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for a in &arches {
        if !ARCHES.contains(a) {
            return Err(format!(
                "hostile: no program for {a} (expected one of {ARCHES:?})"
            ));
        }
        check_qemu(a)?;
    }
    let plugin = build_plugin()?;
    let status = Command::new(root().join("scripts/guest-images.sh"))
        .arg("--with-hostile")
        .args(&arches)
        .status()
        .map_err(|e| format!("scripts/guest-images.sh: {e}"))?;
    if !status.success() {
        return Err("building the hostile guest images failed".into());
    }
    let mut cases: Vec<(&str, u32)> = arches.iter().map(|a| (*a, 1)).collect();
    if arches.contains(&"x86_64") {
        cases.push(("x86_64", 4));
    }
    let mut failed = 0;
    let mut rss = BTreeMap::new();
    for (arch, smp) in cases {
        let tag = format!("hostile-{arch}-smp{smp}");
        let image = format!("{arch}-hostile");
        let result = boot(
            &image,
            Some((&plugin, "format=jsonl,returns=exits")),
            smp,
            &tag,
        )
        .and_then(|run| {
            rss.insert((arch, smp), run.max_rss_kib);
            check(&run)
        });
        match result {
            Ok(fails) if fails.is_empty() => println!("test hostile::{tag} ... ok"),
            Ok(fails) => {
                println!("test hostile::{tag} ... FAILED\n  {}", fails.join("\n  "));
                failed += 1;
            }
            Err(e) => {
                println!("test hostile::{tag} ... FAILED\n  {e}");
                failed += 1;
            }
        }
    }
    // The memory baseline: the same program without the plugin.
    let arch = arches[0];
    if let Some(&with) = rss.get(&(arch, 1)) {
        let tag = format!("hostile-{arch}-bare");
        let result = boot(&format!("{arch}-hostile"), None, 1, &tag).and_then(|bare| {
            let extra = with.saturating_sub(bare.max_rss_kib);
            eprintln!(
                "    peak RSS: {} MiB with the plugin, {} MiB without ({:.1}s)",
                with / 1024,
                bare.max_rss_kib / 1024,
                bare.seconds
            );
            if extra > MAX_EXTRA_RSS_KIB {
                Err(format!(
                    "the plugin adds {} MiB to QEMU's peak RSS (at most {} MiB)",
                    extra / 1024,
                    MAX_EXTRA_RSS_KIB / 1024
                ))
            } else {
                Ok(())
            }
        });
        match result {
            Ok(()) => println!("test hostile::{tag}-rss ... ok"),
            Err(e) => {
                println!("test hostile::{tag}-rss ... FAILED\n  {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        Err(format!("{failed} hostile-guest test(s) failed"))
    } else {
        Ok(())
    }
}
