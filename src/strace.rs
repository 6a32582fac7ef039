//! strace-style and JSON-lines rendering of syscalls, for the `strace`
//! example and the QEMU plugin's log.
//!
//! Rendering is driven by each argument's class and C type, never by
//! knowledge of a particular syscall:
//!
//! - integers in decimal (unsigned ones from 0x10000 in hex);
//! - `const char *` strings quoted, escaped as strace does, cut at
//!   [`Tracer::string_limit`] bytes;
//! - a `char`/`void` pointer followed by an integer named like a length
//!   (`count`, `len`, `size`, `nbytes`, `bufsiz`, `Length`, ...) is a buffer
//!   of that length: shown at enter when `const` (input, as `write`'s),
//!   and on Linux at return with the returned length when not (output, as
//!   `read`'s);
//! - `const char *const *` arrays (`argv`) as `["sh", "-c", "exit 3"]`;
//! - Windows `UNICODE_STRING` and `OBJECT_ATTRIBUTES` pointers as their string;
//! - other pointers in hex, `NULL` for 0; unreadable memory as the address.
//!
//! Return values: Linux `-1 ENOENT (No such file or directory)`, Windows
//! `0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND`.

use crate::errno::{errno_name, ntstatus_name};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use syscalls2_core::{windows, ArgClass, ArgInfo, Cpu, CpuExt, Os, SyscallCtx, MAX_CSTR};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `openat(-100, "/etc/hostname", 0, 0) = 3`, one line per call.
    Strace,
    /// One JSON object per call: profile, asid, pc, name, number, args, return value.
    Jsonl,
}

/// An argument, read from the guest for display.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Signed(i64),
    Unsigned(u64),
    Null,
    Ptr(u64),
    Str(Vec<u8>, bool),
    Wide(String),
    Bytes(Vec<u8>, bool),
    Strings(Vec<Vec<u8>>, bool),
    /// A pointer whose memory could not be read.
    Unreadable(u64),
}

/// Names that mark an integer argument as the length of the buffer before it.
const LENGTH_NAMES: [&str; 10] = [
    "count",
    "len",
    "length",
    "size",
    "nbytes",
    "nbyte",
    "bufsiz",
    "buflen",
    "bufferlength",
    "bytes",
];

/// Turns syscall contexts into lines. It keeps each call's rendered
/// arguments from its enter to its return (where pointed-to memory may
/// have changed).
#[derive(Debug)]
pub struct Tracer {
    format: Format,
    /// Bytes of a string or buffer shown before `...`.
    pub string_limit: usize,
    pending: HashMap<u64, (Vec<Shown>, u8)>,
}

impl Tracer {
    /// A tracer writing `format`, strings cut at 32 bytes as strace does.
    pub fn new(format: Format) -> Tracer {
        Tracer {
            format,
            string_limit: 32,
            pending: HashMap::new(),
        }
    }

    fn key(ctx: &SyscallCtx) -> u64 {
        ctx.seq
    }

    /// Call at every enter. Returns a line to print now: for a call that
    /// never returns (`exit_group(3) = ?`) or returns only on failure
    /// (`execve(...) <unfinished ...>`).
    pub fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<String> {
        let shown = self.show_args(cpu, ctx, false);
        let returns = ctx.info.map(|i| i.returns).unwrap_or_default();
        if returns.noreturn {
            return Some(self.render(ctx, &shown, None));
        }
        let line = returns
            .noreturn_on_success
            .then(|| self.render(ctx, &shown, None));
        self.pending.insert(Self::key(ctx), (shown, 0));
        line
    }

    /// Call at every return. Returns the completed call's line.
    pub fn exit(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<String> {
        let key = Self::key(ctx);
        let double = ctx.info.is_some_and(|i| i.returns.double_return);
        let (mut shown, seen) = match self.pending.get_mut(&key) {
            Some((shown, seen)) => {
                *seen += 1;
                (shown.clone(), *seen)
            }
            None => (self.show_args(cpu, ctx, false), 1),
        };
        if !double || seen >= 2 || ctx.retval.is_some_and(|r| r.is_error()) {
            self.pending.remove(&key);
        }
        // Output buffers, now filled: `read`'s `buf` with the returned length.
        let returned = self.show_args(cpu, ctx, true);
        for (s, r) in shown.iter_mut().zip(returned) {
            if matches!(r, Shown::Bytes(..)) {
                *s = r;
            }
        }
        Some(self.render(ctx, &shown, ctx.retval))
    }

    /// How many calls have entered and not returned.
    pub fn unfinished(&self) -> usize {
        self.pending.len()
    }

    fn show_args(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx, at_return: bool) -> Vec<Shown> {
        let Some(info) = ctx.info else {
            return ctx
                .args
                .iter()
                .take(6)
                .map(|&v| Shown::Unsigned(v))
                .collect();
        };
        let abi = ctx.table.abi;
        let args = info.args;
        args.iter()
            .enumerate()
            .filter(|(_, a)| a.class != ArgClass::Varargs)
            .map(|(i, a)| {
                let v = ctx.args[i];
                let length = length_of(args, i).map(|j| ctx.args[j] as usize);
                if at_return {
                    // Only output buffers change; the rest is as at enter.
                    return match (length, is_const(a), ctx.retval) {
                        (Some(_), false, Some(r))
                            if abi.os() == Os::Linux && !r.is_error() && v != 0 =>
                        {
                            self.bytes(cpu, v, r.value.max(0) as usize)
                        }
                        _ => Shown::Null,
                    };
                }
                self.show(cpu, ctx, a, v, length)
            })
            .collect()
    }

    fn show(
        &self,
        cpu: &mut dyn Cpu,
        ctx: &SyscallCtx,
        a: &ArgInfo,
        v: u64,
        length: Option<usize>,
    ) -> Shown {
        let abi = ctx.table.abi;
        match a.class {
            ArgClass::Int { signed: true, .. } => Shown::Signed(v as i64),
            ArgClass::Int { signed: false, .. } => Shown::Unsigned(v),
            _ if v == 0 => Shown::Null,
            ArgClass::CStr | ArgClass::Buf if length.is_some() => {
                if is_const(a) {
                    self.bytes(cpu, v, length.unwrap_or(0))
                } else {
                    Shown::Ptr(v)
                }
            }
            ArgClass::CStr => match cpu.read_cstr(v, MAX_CSTR) {
                Ok(s) => {
                    let cut = s.len() > self.string_limit * 8;
                    Shown::Str(s.into_iter().take(self.string_limit * 8).collect(), cut)
                }
                Err(_) => Shown::Unreadable(v),
            },
            ArgClass::WStr => match read_wide(cpu, v) {
                Ok(s) => Shown::Wide(s),
                Err(_) => Shown::Unreadable(v),
            },
            ArgClass::StructPtr if a.pointee == "UNICODE_STRING" => {
                windows::unicode_string(cpu, abi, v).map_or(Shown::Unreadable(v), Shown::Wide)
            }
            ArgClass::StructPtr if a.pointee == "OBJECT_ATTRIBUTES" => {
                windows::object_attributes_name(cpu, abi, v)
                    .map_or(Shown::Unreadable(v), Shown::Wide)
            }
            ArgClass::PtrPtr if a.ctype.contains("char") => {
                self.strings(cpu, v, abi.pointer_bits())
            }
            _ => Shown::Ptr(v),
        }
    }

    fn bytes(&self, cpu: &mut dyn Cpu, addr: u64, len: usize) -> Shown {
        let take = len.min(self.string_limit);
        match cpu.read_bytes(addr, take) {
            Ok(b) => Shown::Bytes(b, len > take),
            Err(_) => Shown::Unreadable(addr),
        }
    }

    fn strings(&self, cpu: &mut dyn Cpu, addr: u64, pointer_bits: u8) -> Shown {
        let size = usize::from(pointer_bits / 8);
        let mut out = Vec::new();
        for i in 0..=32u64 {
            let Ok(p) = cpu.read_uint(addr.wrapping_add(i * size as u64), size) else {
                return Shown::Unreadable(addr);
            };
            if p == 0 {
                return Shown::Strings(out, false);
            }
            if i == 32 {
                break;
            }
            match cpu.read_cstr(p, MAX_CSTR) {
                Ok(s) => out.push(s.into_iter().take(self.string_limit).collect()),
                Err(_) => return Shown::Unreadable(addr),
            }
        }
        Shown::Strings(out, true)
    }

    fn render(
        &self,
        ctx: &SyscallCtx,
        shown: &[Shown],
        ret: Option<syscalls2_core::Retval>,
    ) -> String {
        match self.format {
            Format::Strace => render_strace(ctx, shown, ret),
            Format::Jsonl => render_json(ctx, shown, ret).to_string(),
        }
    }
}

fn is_const(a: &ArgInfo) -> bool {
    a.ctype.starts_with("const ") || a.ctype.contains("PCVOID") || a.ctype.starts_with("PC")
}

/// The index of the integer argument that gives argument `i`'s length.
fn length_of(args: &[ArgInfo], i: usize) -> Option<usize> {
    let a = &args[i];
    let bytes_like = matches!(a.class, ArgClass::Buf | ArgClass::CStr);
    let next = args.get(i + 1)?;
    let named = LENGTH_NAMES.contains(&next.name.to_ascii_lowercase().as_str());
    (bytes_like && named && matches!(next.class, ArgClass::Int { .. })).then_some(i + 1)
}

fn read_wide(cpu: &mut dyn Cpu, addr: u64) -> Result<String, syscalls2_core::MemError> {
    let mut units = Vec::new();
    for i in 0..(MAX_CSTR as u64) {
        let u = cpu.read_uint(addr.wrapping_add(2 * i), 2)?;
        if u == 0 {
            break;
        }
        units.push(u as u16);
    }
    Ok(String::from_utf16_lossy(&units))
}

/// Escapes bytes as strace does: `\n`, `\t`, `\"`, `\\`, other
/// non-printables in octal.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:o}");
            }
        }
    }
    s
}

fn strace_arg(s: &Shown) -> String {
    match s {
        Shown::Signed(v) => v.to_string(),
        Shown::Unsigned(v) if *v < 0x10000 => v.to_string(),
        Shown::Unsigned(v) | Shown::Ptr(v) | Shown::Unreadable(v) => format!("{v:#x}"),
        Shown::Null => "NULL".into(),
        Shown::Str(b, cut) | Shown::Bytes(b, cut) => {
            format!("\"{}\"{}", escape(b), if *cut { "..." } else { "" })
        }
        Shown::Wide(w) => format!("L\"{}\"", escape(w.as_bytes())),
        Shown::Strings(v, more) => {
            let items: Vec<String> = v.iter().map(|b| format!("\"{}\"", escape(b))).collect();
            format!("[{}{}]", items.join(", "), if *more { ", ..." } else { "" })
        }
    }
}

/// The name as strace shows it: Linux's `sys_` prefix dropped.
pub fn display_name(ctx: &SyscallCtx) -> String {
    match ctx.info {
        Some(i) if ctx.table.abi.os() == Os::Linux => {
            i.name.strip_prefix("sys_").unwrap_or(i.name).to_string()
        }
        Some(i) => i.name.to_string(),
        None => format!("syscall_{:#x}", ctx.no),
    }
}

/// The return value as strace shows it (after `= `).
pub fn format_retval(ctx: &SyscallCtx, ret: syscalls2_core::Retval) -> String {
    let abi = ctx.table.abi;
    match (abi.os(), ret.error) {
        (Os::Linux, Some(e)) => match errno_name(abi, e) {
            Some((name, text)) => format!("-1 {name} ({text})"),
            None => format!("-1 errno {e}"),
        },
        // Addresses (mmap, brk): in hex, at the ABI's width.
        (Os::Linux, None) if ret.value > 0x10_0000 || ret.value < 0 => {
            let bits = abi.slot_bits();
            let mask = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            format!("{:#x}", ret.value as u64 & mask)
        }
        (Os::Linux, None) => ret.value.to_string(),
        (Os::Windows, _) => {
            let status = ret.value as u32;
            match ntstatus_name(status) {
                Some(n) => format!("{status:#x} {n}"),
                None => format!("{status:#x}"),
            }
        }
    }
}

fn render_strace(ctx: &SyscallCtx, shown: &[Shown], ret: Option<syscalls2_core::Retval>) -> String {
    let args: Vec<String> = shown.iter().map(strace_arg).collect();
    let returns = ctx.info.map(|i| i.returns).unwrap_or_default();
    let name = display_name(ctx);
    let head = format!("[{:#x}] {}({})", ctx.asid, name, args.join(", "));
    match ret {
        Some(r) if ctx.child => format!("{head} = {} (child)", format_retval(ctx, r)),
        Some(r) => format!("{head} = {}", format_retval(ctx, r)),
        None if returns.noreturn => format!("{head} = ?"),
        None => format!(
            "[{:#x}] {}({} <unfinished ...>",
            ctx.asid,
            name,
            args.join(", ")
        ),
    }
}

fn json_arg(s: &Shown) -> Value {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match s {
        Shown::Signed(v) => json!(v),
        Shown::Unsigned(v) => json!(v),
        Shown::Null => json!(0),
        Shown::Ptr(v) | Shown::Unreadable(v) => json!(format!("{v:#x}")),
        Shown::Str(b, cut) | Shown::Bytes(b, cut) => json!({"data": text(b), "truncated": cut}),
        Shown::Wide(w) => json!({"data": w}),
        Shown::Strings(v, more) => {
            json!({"array": v.iter().map(|b| text(b)).collect::<Vec<_>>(), "truncated": more})
        }
    }
}

fn render_json(ctx: &SyscallCtx, shown: &[Shown], ret: Option<syscalls2_core::Retval>) -> Value {
    let args: Vec<Value> = match ctx.info {
        Some(info) => info
            .args
            .iter()
            .filter(|a| a.class != ArgClass::Varargs)
            .zip(shown)
            .map(|(a, s)| json!({"name": a.name, "type": a.ctype, "value": json_arg(s)}))
            .collect(),
        None => shown.iter().map(json_arg).collect(),
    };
    json!({
        "profile": ctx.table.name,
        "vcpu": ctx.vcpu,
        "asid": format!("{:#x}", ctx.asid),
        "pc": format!("{:#x}", ctx.pc),
        "number": ctx.no,
        "name": ctx.info.map(|i| i.name),
        "args": args,
        "retval": ret.map(|r| r.value),
        "error": ret.and_then(|r| r.error),
        "errno": ret.and_then(|r| r.error).and_then(|e| if ctx.table.abi.os() == Os::Linux { errno_name(ctx.table.abi, e).map(|n| n.0) } else { ntstatus_name(e) }),
        "child": ctx.child,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_strace() {
        assert_eq!(escape(b"hi\n\t\"\\\x01"), "hi\\n\\t\\\"\\\\\\1");
    }
}
