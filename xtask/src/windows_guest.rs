//! `cargo xtask windows-guest`: the QEMU plugin's Windows x86 paths under
//! real QEMU translation, on a small guest that makes Windows-convention
//! calls (`tests/guest/windows_x86.c`: a freestanding i386 multiboot
//! kernel, not Windows).
//!
//! The guest's "ntdll" enters its "kernel" with `sysenter` through
//! `KiFastSystemCall` (arguments at `[EDX+8]`, the return to `[EDX]` through
//! `KiFastSystemCallRet`) and with `int 0x2e` (arguments at `[EDX]`), using
//! Windows 7 SP1 x86's call numbers, which the build takes from the bundled
//! `windows7_x86` table. Its kernel answers with chosen NTSTATUS values and
//! handles, writes the out-parameters, and prints every call it answered on
//! the serial console (`WIN <insn> <no> <status> <return address>
//! <handle>:<object> <written handle>:<object>`). The test runs it under `qemu-system-i386
//! -kernel` with the plugin (`profile=windows7_x86`) and asserts that the
//! plugin's JSON lines show exactly those calls, in order, returning where
//! the guest returned (`[EDX]`, `pc + 2`), with the same numbers, statuses, handles and handle names
//! (the plugin's handle table against the kernel's own), the out-parameters
//! the kernel wrote (`IO_STATUS_BLOCK`, the bytes read), and that the
//! program's last call, in which the kernel stops the machine, is entered
//! and never returns. A second run prints the strace lines, checked for the
//! handles with their names where the kernel used them.
//!
//! `--record FILE` also writes the run as a fixture (the plugin's
//! `record=`): `tests/fixtures/windows7_x86_qemu_guest.json` is one.

use crate::qemu::{build_plugin, check_qemu, parse_log, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use syscalls2::event::{Event, Phase};

/// The guest's source and linker script.
const SOURCE: &str = "tests/guest/windows_x86.c";
const SCRIPT: &str = "tests/guest/windows_x86.ld";
/// The profile whose numbers the guest uses and the plugin decodes with.
const PROFILE: &str = "windows7_x86";
/// The calls the guest makes (its stubs' numbers and argument counts).
const CALLS: [&str; 7] = [
    "NtCreateFile",
    "NtOpenFile",
    "NtReadFile",
    "NtQueryInformationFile",
    "NtOpenKey",
    "NtOpenProcess",
    "NtClose",
];
/// What the guest's NtReadFile reads.
const FILE_TEXT: &str = "hello from the guest\n";
/// How long a run may take (it takes well under a second).
const TIMEOUT_SECS: &str = "60";

/// One call as the guest's kernel answered it.
#[derive(Debug, PartialEq)]
struct Truth {
    insn: String,
    no: u64,
    status: u32,
    /// Where it returned to ([EDX] for sysenter, after the instruction for int 0x2e).
    retaddr: u64,
    /// The handle it was given, and that handle's object in the kernel.
    given: Option<(u64, Option<String>)>,
    /// The handle it wrote, and its object.
    written: Option<(u64, String)>,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// `-:-`, `0x24:-`, `0x24:\??\C:\x.txt`.
fn handle(s: &str) -> Result<Option<(u64, Option<String>)>, String> {
    let (h, object) = s
        .split_once(':')
        .ok_or_else(|| format!("{s}: not HANDLE:OBJECT"))?;
    if h == "-" {
        return Ok(None);
    }
    let h = hex(h).ok_or_else(|| format!("{s}: not a handle"))?;
    Ok(Some((h, (object != "-").then(|| object.to_string()))))
}

fn parse_console(console: &str) -> Result<(Vec<Truth>, bool), String> {
    let mut calls = Vec::new();
    let mut ended = false;
    for line in console.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            ["WIN", insn, no, status, retaddr, given, written] => {
                let bad = || format!("a WIN line that does not parse: {line}");
                let written = match handle(written)? {
                    Some((h, Some(o))) => Some((h, o)),
                    Some((_, None)) => return Err(bad()),
                    None => None,
                };
                calls.push(Truth {
                    insn: insn.to_string(),
                    no: hex(no).ok_or_else(bad)?,
                    status: hex(status).ok_or_else(bad)? as u32,
                    retaddr: hex(retaddr).ok_or_else(bad)?,
                    given: handle(given)?,
                    written,
                });
            }
            ["WIN-END"] => ended = true,
            [w, ..] if w.starts_with("WIN-FAULT") => {
                return Err(format!("the guest faulted: {line}"))
            }
            _ => {}
        }
    }
    Ok((calls, ended))
}

/// Builds the guest with Debian's gcc, its call numbers from the table.
fn build(dir: &Path) -> Result<PathBuf, String> {
    let table = syscalls2::profiles::by_name(PROFILE).ok_or("no windows7_x86 profile")?;
    let mut defines = Vec::new();
    for name in CALLS {
        let info = table
            .by_name(name)
            .ok_or_else(|| format!("{PROFILE} has no {name}"))?;
        let slots: u32 = info.args.iter().map(|a| u32::from(a.slots)).sum();
        defines.push(format!("-DNR_{name}={:#x}", info.no));
        defines.push(format!("-DNARGS_{name}={slots}"));
    }
    let out = dir.join("windows_x86.elf");
    let root = root();
    let cc = std::env::var("S2_WINDOWS_GUEST_CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc)
        .args([
            "-m32",
            "-march=i686",
            "-ffreestanding",
            "-fno-pic",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-nostdlib",
            "-static",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wl,--build-id=none",
            "-Wl,--no-warn-rwx-segments",
        ])
        .arg(format!("-Wl,-T,{}", root.join(SCRIPT).display()))
        .args(&defines)
        .arg("-o")
        .arg(&out)
        .arg(root.join(SOURCE))
        .status()
        .map_err(|e| format!("{cc}: {e} (apt-get install gcc)"))?;
    if !status.success() {
        return Err(format!("{cc} failed on {SOURCE}"));
    }
    Ok(out)
}

/// Boots the guest with the plugin and `args`; returns the console.
fn boot(kernel: &Path, plugin: &Path, args: &str, console: &Path) -> Result<String, String> {
    let status = Command::new("timeout")
        .arg(TIMEOUT_SECS)
        .args([
            "qemu-system-i386",
            "-cpu",
            "max",
            "-m",
            "32",
            "-display",
            "none",
        ])
        .args([
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4",
        ])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-kernel")
        .arg(kernel)
        .arg("-plugin")
        .arg(format!("{},profile={PROFILE},{args}", plugin.display()))
        .status()
        .map_err(|e| format!("qemu-system-i386: {e}"))?;
    // isa-debug-exit: QEMU exits with (0 << 1) | 1 when the guest writes 0.
    if status.code() != Some(1) {
        return Err(format!(
            "qemu-system-i386 exited with {status} (the guest's kernel exits with 1; 124 is the timeout)"
        ));
    }
    std::fs::read_to_string(console).map_err(|e| format!("{}: {e}", console.display()))
}

/// The errors of the plugin's events against the guest's calls.
fn check(truth: &[Truth], events: &[Event]) -> Vec<String> {
    let mut errors = Vec::new();
    let returns: Vec<&Event> = events.iter().filter(|e| e.ev == Phase::Return).collect();
    let enters: Vec<&Event> = events.iter().filter(|e| e.ev == Phase::Enter).collect();
    // Every call the kernel answered, and the last one, which it stops in.
    if enters.len() != truth.len() + 1 {
        errors.push(format!(
            "{} calls entered, the guest made {} (and a last one)",
            enters.len(),
            truth.len()
        ));
    }
    if returns.len() != truth.len() {
        errors.push(format!(
            "{} returns, the guest's kernel answered {} calls",
            returns.len(),
            truth.len()
        ));
    }
    for (i, (t, e)) in truth.iter().zip(&returns).enumerate() {
        let mut wrong = |what: &str| errors.push(format!("call {}: {what}: {t:?} vs {e:?}", i + 1));
        // The return site: [EDX] after sysenter, the next instruction after
        // int 0x2e (2 bytes on), as the guest's kernel returned.
        if e.retaddr != t.retaddr || (t.insn == "int2e") != (e.retaddr == e.pc + 2) {
            wrong("another return address");
        }
        if e.no != t.no {
            wrong("another number");
        }
        if e.ret.map(|r| r as u32) != Some(t.status) {
            wrong("another status");
        }
        // The handle argument and the object the plugin names it by.
        if let Some((h, object)) = &t.given {
            let arg = ["FileHandle", "Handle"].iter().find_map(|n| e.args.get(n));
            match arg {
                Some(a) if a.uint == Some(*h) && a.object == *object => {}
                _ => wrong("another handle argument or name"),
            }
        }
        // The handle written through the out-pointer, with its name.
        let written = e
            .args
            .iter()
            .find(|(_, v)| v.ints.is_some())
            .map(|(_, v)| v);
        match (&t.written, written) {
            (Some((h, object)), Some(v)) => {
                if v.ints.as_deref() != Some(&[*h as i64][..]) || v.object.as_ref() != Some(object)
                {
                    wrong("another handle written, or name");
                }
            }
            (None, Some(_)) => wrong("a handle written by a failed call"),
            (Some(_), None) => wrong("no handle written"),
            (None, None) => {}
        }
        // What NtReadFile wrote: its IO_STATUS_BLOCK and bytes.
        if e.name.as_deref() == Some("NtReadFile") && t.status == 0 {
            let iosb = e.args.get("IoStatusBlock").and_then(|v| v.fields.as_ref());
            let information = iosb.and_then(|f| f.get("Information")).and_then(|v| v.uint);
            if information != Some(FILE_TEXT.len() as u64) {
                wrong("another IO_STATUS_BLOCK.Information");
            }
            let bytes = e.args.get("Buffer").and_then(|v| v.bytes_data());
            if bytes.as_deref() != Some(FILE_TEXT.as_bytes()) {
                wrong("other bytes read");
            }
        }
    }
    if let Some(last) = enters.last() {
        let closes_nothing = last.name.as_deref() == Some("NtClose")
            && last.args.get("Handle").and_then(|v| v.uint) == Some(0);
        if !closes_nothing || returns.iter().any(|r| r.seq == last.seq) {
            errors.push(format!(
                "the last call is not an unreturned NtClose(0): {last:?}"
            ));
        }
    }
    errors
}

/// Entry point of `cargo xtask windows-guest [--record FILE]`.
pub fn main(args: &[String]) -> Result<(), String> {
    let record = match args {
        [] => None,
        [flag, file] if flag == "--record" => Some(PathBuf::from(file)),
        _ => return Err("usage: cargo xtask windows-guest [--record FILE]".into()),
    };
    check_qemu("i386")?;
    let plugin = build_plugin()?;
    let dir = root().join("target/windows-guest");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel = build(&dir)?;
    let (log, stats, text) = (
        dir.join("trace.jsonl"),
        dir.join("stats.json"),
        dir.join("trace.txt"),
    );
    let mut plugin_args = format!(
        "format=jsonl,log={},stats={}",
        log.display(),
        stats.display()
    );
    if let Some(r) = &record {
        plugin_args.push_str(&format!(",record={}", r.display()));
    }
    let console = boot(&kernel, &plugin, &plugin_args, &dir.join("console.txt"))?;
    let (truth, ended) = parse_console(&console)?;
    if !ended || truth.is_empty() {
        return Err(format!("the guest did not run to its end:\n{console}"));
    }
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(r) = &record {
        // The fixture says what it is: not Windows.
        let mut f: serde_json::Value =
            serde_json::from_str(&read(r)?).map_err(|e| format!("{}: {e}", r.display()))?;
        f["source"] = format!(
            "recorded by syscalls2-qemu on qemu-system-i386 from {SOURCE} (cargo xtask windows-guest \
             --record): a freestanding i386 guest making Windows 7 SP1 x86 calls through ntdll-style \
             stubs (sysenter via KiFastSystemCall, int 0x2e), answered by its own small kernel; not Windows"
        )
        .into();
        let text = serde_json::to_string_pretty(&f).map_err(|e| e.to_string())?;
        std::fs::write(r, text + "\n").map_err(|e| format!("{}: {e}", r.display()))?;
    }
    let events = parse_log(&read(&log)?, &read(&stats)?)?;
    let mut errors = check(&truth, &events.all);
    // The strace lines: each handle with its object's name where it is used.
    boot(
        &kernel,
        &plugin,
        &format!("log={}", text.display()),
        &dir.join("console-strace.txt"),
    )?;
    let lines = read(&text)?;
    let lines: Vec<&str> = lines.lines().collect();
    for (t, line) in truth.iter().zip(&lines) {
        if let Some((h, o)) = &t.written {
            if !line.contains(&format!("[{h}<{o}>]")) {
                errors.push(format!("no [{h}<{o}>] in {line}"));
            }
        }
        if let Some((h, Some(o))) = &t.given {
            if !line.contains(&format!("({h}<{o}>")) {
                errors.push(format!("no ({h}<{o}> in {line}"));
            }
        }
    }
    let sysenter = truth.iter().filter(|t| t.insn == "sysenter").count();
    println!(
        "windows-guest: {} calls ({sysenter} by sysenter, {} by int 0x2e), {} events, {} strace lines; flushes {}",
        truth.len(),
        truth.len() - sysenter,
        events.all.len(),
        lines.len(),
        events
            .summary
            .backend
            .get("flushes")
            .copied()
            .unwrap_or_default()
    );
    for l in &lines {
        println!("  {l}");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "windows-guest: {} errors:\n{}",
            errors.len(),
            errors.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guests_lines_parse() {
        let console = "WIN-BOOT\nWIN sysenter 0x42 0x0 0x100059 -:- 0x24:\\??\\C:\\x.txt\n\
                       WIN int2e 0x111 0xc0000008 0x1000c0 0x99:- -:-\nWIN-END\n";
        let (calls, ended) = parse_console(console).unwrap();
        assert!(ended);
        assert_eq!(calls[0].written, Some((0x24, r"\??\C:\x.txt".to_string())));
        assert_eq!(calls[1].given, Some((0x99, None)));
        assert_eq!(calls[1].status, 0xc000_0008);
        assert!(parse_console("WIN sysenter 0x42\n").is_ok());
        assert_eq!(calls[0].retaddr, 0x100059);
        assert!(parse_console("WIN sysenter x 0 0x1 -:- -:-\n").is_err());
        assert!(parse_console("WIN-FAULT 0x0 0xd 0x100000\n").is_err());
    }
}
