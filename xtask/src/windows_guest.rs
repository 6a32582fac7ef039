//! `cargo xtask windows-guest [x86] [x64]`: the QEMU plugin's Windows paths
//! under real QEMU translation, on small guests that make Windows-convention
//! calls (`tests/guest/windows_x86.c` and `windows_x64.c`, with
//! `windows_common.h`: freestanding multiboot kernels, not Windows).
//!
//! The guest's "ntdll" enters its "kernel" with `sysenter` through
//! `KiFastSystemCall` (arguments at `[EDX+8]`, the return to `[EDX]` through
//! `KiFastSystemCallRet`) and with `int 0x2e` (arguments at `[EDX]`), using
//! Windows 7 SP1 x86's call numbers, which the build takes from the bundled
//! `windows7_x86` table. The x64 guest enters long mode and calls through
//! Windows 7 x64's stubs (`mov r10, rcx; mov eax, N; syscall; ret`, the
//! Microsoft calling convention, arguments past the fourth on the stack),
//! with `windows7_x64`'s numbers, under `qemu-system-x86_64`. Its kernel answers with chosen NTSTATUS values and
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
//! `--record DIR` also writes each run as a fixture (the plugin's
//! `record=`), `DIR/<profile>_qemu_guest.json`: those of
//! `tests/fixtures/` are such.

use crate::qemu::{build_plugin, check_qemu, parse_log, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use syscalls2::event::{Event, Phase};

/// The guests' linker script (both load at 1 MiB, the multiboot header first).
const SCRIPT: &str = "tests/guest/windows_x86.ld";

/// One guest: its source, the profile whose numbers it uses and the plugin
/// decodes with, QEMU's target, the compiler's flags for it, and whether
/// the x86-64 ELF is handed to QEMU as a 32-bit one (its multiboot loader
/// takes no other; the entry is 32-bit code).
struct Variant {
    name: &'static str,
    source: &'static str,
    profile: &'static str,
    target: &'static str,
    flags: &'static [&'static str],
    elf32: bool,
}

const VARIANTS: [Variant; 2] = [
    Variant {
        name: "x86",
        source: "tests/guest/windows_x86.c",
        profile: "windows7_x86",
        target: "i386",
        flags: &["-m32", "-march=i686"],
        elf32: false,
    },
    Variant {
        name: "x64",
        source: "tests/guest/windows_x64.c",
        profile: "windows7_x64",
        target: "x86_64",
        flags: &["-m64", "-mno-red-zone", "-mgeneral-regs-only"],
        elf32: true,
    },
];

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
fn build(v: &Variant, dir: &Path) -> Result<PathBuf, String> {
    let table = syscalls2::profiles::by_name(v.profile)
        .ok_or_else(|| format!("no {} profile", v.profile))?;
    let mut defines = Vec::new();
    for name in CALLS {
        let info = table
            .by_name(name)
            .ok_or_else(|| format!("{} has no {name}", v.profile))?;
        let slots: u32 = info.args.iter().map(|a| u32::from(a.slots)).sum();
        defines.push(format!("-DNR_{name}={:#x}", info.no));
        defines.push(format!("-DNARGS_{name}={slots}"));
    }
    let out = dir.join(format!("windows_{}.elf", v.name));
    let root = root();
    let cc = std::env::var("S2_WINDOWS_GUEST_CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc)
        .args(v.flags)
        .args([
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
        .arg(root.join(v.source))
        .status()
        .map_err(|e| format!("{cc}: {e} (apt-get install gcc)"))?;
    if !status.success() {
        return Err(format!("{cc} failed on {}", v.source));
    }
    if !v.elf32 {
        return Ok(out);
    }
    let elf32 = dir.join(format!("windows_{}-elf32.elf", v.name));
    let status = Command::new("objcopy")
        .args(["-O", "elf32-i386"])
        .arg(&out)
        .arg(&elf32)
        .status()
        .map_err(|e| format!("objcopy: {e} (apt-get install binutils)"))?;
    if !status.success() {
        return Err(format!("objcopy failed on {}", out.display()));
    }
    Ok(elf32)
}

/// Boots the guest with the plugin and `args`; returns the console.
fn boot(
    v: &Variant,
    kernel: &Path,
    plugin: &Path,
    args: &str,
    console: &Path,
) -> Result<String, String> {
    let qemu = format!("qemu-system-{}", v.target);
    let status = Command::new("timeout")
        .arg(TIMEOUT_SECS)
        .arg(&qemu)
        .args(["-cpu", "max", "-m", "32", "-display", "none"])
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
        .arg(format!("{},profile={},{args}", plugin.display(), v.profile))
        .status()
        .map_err(|e| format!("{qemu}: {e}"))?;
    // isa-debug-exit: QEMU exits with (0 << 1) | 1 when the guest writes 0.
    if status.code() != Some(1) {
        return Err(format!(
            "{qemu} exited with {status} (the guest's kernel exits with 1; 124 is the timeout)"
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
        // int 0x2e and syscall (2 bytes on), as the guest's kernel returned.
        let next = e.retaddr == e.pc + 2;
        if e.retaddr != t.retaddr || next == (t.insn == "sysenter") {
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

/// Entry point of `cargo xtask windows-guest [x86] [x64] [--record DIR]`.
pub fn main(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask windows-guest [x86] [x64] [--record DIR]";
    let mut record = None;
    let mut chosen = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--record" => record = Some(PathBuf::from(it.next().ok_or(usage)?)),
            name => chosen.push(
                VARIANTS
                    .iter()
                    .find(|v| v.name == name)
                    .ok_or_else(|| format!("{name}: not x86 or x64\n{usage}"))?,
            ),
        }
    }
    if chosen.is_empty() {
        chosen = VARIANTS.iter().collect();
    }
    let plugin = build_plugin()?;
    let mut failed = Vec::new();
    for v in chosen {
        check_qemu(v.target)?;
        if let Err(e) = run(v, &plugin, record.as_deref()) {
            eprintln!("{e}");
            failed.push(v.name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("windows-guest: {failed:?} failed"))
    }
}

/// One guest, booted twice (JSON lines, then strace lines), checked.
fn run(v: &Variant, plugin: &Path, record: Option<&Path>) -> Result<(), String> {
    let dir = root().join("target/windows-guest").join(v.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel = build(v, &dir)?;
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
    let record = record.map(|d| d.join(format!("{}_qemu_guest.json", v.profile)));
    if let Some(r) = &record {
        plugin_args.push_str(&format!(",record={}", r.display()));
    }
    let console = boot(v, &kernel, plugin, &plugin_args, &dir.join("console.txt"))?;
    let (truth, ended) = parse_console(&console)?;
    if !ended || truth.is_empty() {
        return Err(format!(
            "{}: the guest did not run to its end:\n{console}",
            v.name
        ));
    }
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    if let Some(r) = &record {
        // The fixture says what it is: not Windows.
        let mut f: serde_json::Value =
            serde_json::from_str(&read(r)?).map_err(|e| format!("{}: {e}", r.display()))?;
        f["source"] = format!(
            "recorded by syscalls2-qemu on qemu-system-{} from {} (cargo xtask windows-guest \
             --record): a freestanding guest making {} calls through ntdll-style stubs, \
             answered by its own small kernel; not Windows",
            v.target, v.source, v.profile
        )
        .into();
        let text = serde_json::to_string_pretty(&f).map_err(|e| e.to_string())?;
        std::fs::write(r, text + "\n").map_err(|e| format!("{}: {e}", r.display()))?;
    }
    let events = parse_log(&read(&log)?, &read(&stats)?)?;
    let mut errors = check(&truth, &events.all);
    // The strace lines: each handle with its object's name where it is used.
    boot(
        v,
        &kernel,
        plugin,
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
    let mut by_insn = std::collections::BTreeMap::<&str, usize>::new();
    for t in &truth {
        *by_insn.entry(t.insn.as_str()).or_default() += 1;
    }
    println!(
        "windows-guest {}: {} calls {by_insn:?}, {} events, {} strace lines; flushes {}",
        v.name,
        truth.len(),
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
            "windows-guest {}: {} errors:\n{}",
            v.name,
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
