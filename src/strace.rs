//! strace-style text: an [`Event`] (with its call's table entry) as the
//! line strace would print.
//!
//! - the call at its return, `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`; a
//!   call that never returns at its enter, `exit_group(3) = ?`, or with
//!   the mask and the return its signal frame restores,
//!   `rt_sigreturn({mask=[]}) = 97` (the data's `frame`); one that
//!   returns only on failure (`execve`) at its enter as
//!   `execve(...) <unfinished ...>`, and again at its return, which for a
//!   success is the session's when it retires the call (`= 0`);
//! - a call a signal interrupted, where the process saw `EINTR`, with the
//!   kernel's restart code strace sees at its exit, `rt_sigsuspend([], 8) =
//!   ? ERESTARTNOHAND (To be restarted if no handler)` (the data's
//!   `restart`);
//! - integers in decimal, pointers in hex, `NULL` for 0, unreadable memory
//!   as its address;
//! - what [`crate::decode`]'s data says an argument is: `AT_FDCWD`,
//!   `O_RDONLY|O_CLOEXEC`, `SIGTERM`, octal modes, a wait status, `pipe`'s
//!   fds, `envp` as `0x... /* 5 vars */`; arguments strace leaves out (an
//!   `openat`'s mode without `O_CREAT`) left out, `clone`'s named and in
//!   strace's order;
//! - strings quoted and escaped as strace does, buffers cut at the string
//!   limit with `...`, arrays as `["sh", "-c", "exit 3"]`, Windows strings
//!   as `L"..."`;
//! - return values: Linux `-1 ENOENT (No such file or directory)`, addresses
//!   in hex; Windows `0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND`.
//!
//! Each line starts with the calling thread as `strace -f` prints it,
//! `[pid 97]` (the thread id, which is the pid for a main thread), or the
//! address space, `[0x29ba000]`, where the thread is not known.

use crate::capture::FRAME;
use crate::decode;
use crate::event::{ArgValue, Event, Phase};
use std::fmt::Write as _;
use syscalls2_core::{errno, Abi, ArgClass, ArgInfo, Os, Retval, SyscallInfo};

/// Renders events as strace lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strace {
    /// Bytes of a buffer or array string shown before `...` (strace's `-s`).
    pub string_limit: usize,
}

impl Default for Strace {
    fn default() -> Strace {
        Strace { string_limit: 32 }
    }
}

/// The line's prefix: `[pid TID]`, else `[ASID]`.
fn who(event: &Event) -> String {
    match event.tid.or(event.pid) {
        Some(tid) => format!("[pid {tid}]"),
        None => format!("[{:#x}]", event.asid),
    }
}

impl Strace {
    /// The line for `event`, whose table entry is `info` (`None` for an
    /// unknown number), on `abi`; `None` when strace prints nothing for it
    /// (the enter of a call that returns).
    pub fn line(&self, event: &Event, info: Option<&SyscallInfo>, abi: Abi) -> Option<String> {
        let returns = info.map(|i| i.returns).unwrap_or_default();
        let args = self.args(event, info, abi);
        let head = format!("{} {}({}", who(event), display_name(event, abi), args);
        match event.ev {
            Phase::Return => {
                let error = event.errno.as_ref().map(|e| e.no);
                let ret = match interrupted(event, info, abi) {
                    Some(code) => format!("? {} ({})", code.name, code.text),
                    None => format_retval(abi, event.ret.unwrap_or(0), error),
                };
                let child = if event.child == Some(true) {
                    " (child)"
                } else {
                    ""
                };
                Some(format!("{head}) = {ret}{child}"))
            }
            Phase::Enter if returns.noreturn => Some(match frame_return(event, info, abi) {
                Some(v) => format!(
                    "{head}) = {}",
                    format_retval(abi, v, Retval::linux(v).error)
                ),
                None => format!("{head}) = ?"),
            }),
            Phase::Enter if returns.noreturn_on_success => Some(format!("{head} <unfinished ...>")),
            Phase::Enter => None,
        }
    }

    /// The line strace prints for a call entered and never returned (its
    /// thread was killed in the call, or the trace ended first):
    /// `[pid 115] openat(AT_FDCWD, "/dev/null", O_RDONLY <unfinished ...>`,
    /// from its enter `event`.
    pub fn unfinished(&self, event: &Event, info: Option<&SyscallInfo>, abi: Abi) -> String {
        let args = self.args(event, info, abi);
        format!(
            "{} {}({} <unfinished ...>",
            who(event),
            display_name(event, abi),
            args
        )
    }

    fn args(&self, event: &Event, info: Option<&SyscallInfo>, abi: Abi) -> String {
        let typed: Vec<&ArgInfo> = info
            .map(|i| {
                i.args
                    .iter()
                    .filter(|a| a.class != ArgClass::Varargs)
                    .collect()
            })
            .unwrap_or_default();
        let sets = decode::sets(abi);
        let value = |name: &str| event.args.get(name).and_then(raw);
        let mut shown: Vec<(usize, String)> = event
            .args
            .iter()
            .enumerate()
            .filter_map(|(i, (name, v))| {
                let a = typed.get(i).copied();
                let syscall = info.map_or("", |s| s.name);
                let frame = decode::frame(syscall).filter(|_| name == FRAME);
                if let (Some(frame), Some(fields)) = (frame, &v.fields) {
                    return Some((i, self.fields(fields, decode::Kind::InStruct(frame), abi)));
                }
                let text = match info
                    .and(a)
                    .and_then(|a| decode::rule(sets, syscall, a.name, &value))
                {
                    Some(r) => self.decoded(r, v, a, sets, abi)?,
                    None => self.arg(v, a, abi.os),
                };
                let text = match decode::label(syscall, name) {
                    Some(l) => format!("{l}={text}"),
                    None => text,
                };
                Some((i, text))
            })
            .collect();
        if let Some(order) = info.and_then(|s| decode::order(s.name)) {
            let rank = |i: usize| {
                let name = event.args.0.get(i).map_or("", |(n, _)| n.as_str());
                order.iter().position(|o| *o == name).unwrap_or(order.len())
            };
            shown.sort_by_key(|(i, _)| rank(*i));
        }
        shown
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A structure the capture read, as strace prints it:
    /// `{tv_sec=15, tv_nsec=78578247}`, `{st_mode=S_IFDIR|0755, st_size=320, ...}`.
    fn fields(&self, fields: &crate::event::Args, kind: decode::Kind, abi: Abi) -> String {
        let sets = decode::sets(abi);
        let layout = match kind {
            decode::Kind::InStruct(n) | decode::Kind::OutStruct(n) => decode::structure(abi, n),
            _ => None,
        };
        let shown = |f: &decode::StructField| {
            f.when.is_none_or(|c| {
                fields
                    .get(c.arg)
                    .and_then(|v| v.uint)
                    .is_some_and(|o| c.holds(sets, o))
            })
        };
        let mut parts: Vec<String> = fields
            .iter()
            .filter_map(|(name, v)| {
                let field = layout.and_then(|l| l.fields.iter().find(|f| f.name == name));
                if field.is_some_and(|f| {
                    !shown(f) || matches!(f.kind, Some(decode::Kind::Return | decode::Kind::Failed))
                }) {
                    return None;
                }
                let text = match (&v.str, v.uint, field.and_then(|f| f.kind)) {
                    (Some(t), _, _) => format!("\"{}\"", escape(t.as_bytes())),
                    (None, _, Some(decode::Kind::InSigset)) => {
                        sigset(v, abi).unwrap_or_else(|| "?".into())
                    }
                    (None, Some(w), Some(k)) => {
                        word_text(k, w, sets).unwrap_or_else(|| w.to_string())
                    }
                    (None, Some(w), None) => w.to_string(),
                    _ => "?".into(),
                };
                Some(format!("{name}={text}"))
            })
            .collect();
        if layout.is_some_and(|l| l.more) {
            parts.push("...".into());
        }
        format!("{{{}}}", parts.join(", "))
    }

    /// An argument the data says the meaning of (see [`decode`]); `None`
    /// when strace leaves it out.
    fn decoded(
        &self,
        rule: &decode::ArgRule,
        v: &ArgValue,
        a: Option<&ArgInfo>,
        sets: &'static [decode::ConstSet],
        abi: Abi,
    ) -> Option<String> {
        if rule.kind == decode::Kind::Omit {
            return None;
        }
        if v.unreadable == Some(true) {
            return Some(self.arg(v, a, abi.os));
        }
        match rule.kind {
            decode::Kind::Envp => {
                return Some(match (&v.array, v.ptr) {
                    (Some(items), Some(p)) => format!("{p:#x} /* {} vars */", items.len()),
                    _ => self.arg(v, a, abi.os),
                })
            }
            decode::Kind::WaitStatus | decode::Kind::FdPair => {
                return Some(match v.ints.as_deref() {
                    Some([s]) if rule.kind == decode::Kind::WaitStatus => {
                        format!("[{}]", wait_status(*s as u32, sets))
                    }
                    Some([r, w]) => format!("[{r}, {w}]"),
                    _ => self.arg(v, a, abi.os),
                });
            }
            decode::Kind::InStr | decode::Kind::Comm | decode::Kind::OutStr => {
                return Some(self.arg(v, a, abi.os))
            }
            decode::Kind::HexBuf => {
                return Some(match v.bytes_data() {
                    Some(bytes) => {
                        let shown = &bytes[..bytes.len().min(self.string_limit)];
                        let cut = v.truncated == Some(true) || shown.len() < bytes.len();
                        format!("\"{}\"{}", hex(shown), if cut { "..." } else { "" })
                    }
                    None => self.arg(v, a, abi.os),
                })
            }
            decode::Kind::Records(_) => {
                return Some(match (v.ints.as_deref(), v.ptr) {
                    (Some([n]), Some(p)) => format!("{p:#x} /* {n} entries */"),
                    _ => self.address(v, a, abi),
                })
            }
            decode::Kind::InSigset | decode::Kind::OutSigset => {
                return Some(sigset(v, abi).unwrap_or_else(|| self.address(v, a, abi)))
            }
            decode::Kind::InStruct(_) | decode::Kind::OutStruct(_) => {
                return Some(match &v.fields {
                    Some(fields) => self.fields(fields, rule.kind, abi),
                    None => self.address(v, a, abi),
                })
            }
            _ => {}
        }
        let Some(word) = raw(v) else {
            return Some(self.arg(v, a, abi.os));
        };
        // The value at the argument's width: `int` flags are 32 bits.
        let bits = match a.map(|a| a.class) {
            Some(ArgClass::Int { bits, .. }) => u32::from(bits),
            _ => u32::from(abi.slot_bits),
        };
        let word = if bits >= 64 {
            word
        } else {
            word & ((1u64 << bits) - 1)
        };
        Some(word_text(rule.kind, word, sets).unwrap_or_else(|| self.arg(v, a, abi.os)))
    }

    /// A structure or set that was not read (a failed call's, `NULL`) as
    /// its address, also where the prototype holds it in an integer
    /// (`ioctl`'s `arg`).
    fn address(&self, v: &ArgValue, a: Option<&ArgInfo>, abi: Abi) -> String {
        match (v.unreadable, raw(v)) {
            (None | Some(false), Some(p)) => {
                word_text(decode::Kind::Ptr, p, decode::sets(abi)).unwrap_or_default()
            }
            _ => self.arg(v, a, abi.os),
        }
    }

    fn arg(&self, v: &ArgValue, info: Option<&ArgInfo>, os: Os) -> String {
        let wide = info.is_some_and(|a| {
            a.class == ArgClass::WStr || matches!(a.pointee, "UNICODE_STRING" | "OBJECT_ATTRIBUTES")
        });
        if v.unreadable == Some(true) {
            return format!("{:#x}", v.ptr.unwrap_or(0));
        }
        let more = |cut: bool| if cut { "..." } else { "" };
        if let Some(s) = &v.str {
            let prefix = if wide { "L" } else { "" };
            return format!(
                "{prefix}\"{}\"{}",
                escape(s.as_bytes()),
                more(v.truncated == Some(true))
            );
        }
        if let Some(bytes) = v.bytes_data() {
            let shown = &bytes[..bytes.len().min(self.string_limit)];
            let cut = v.truncated == Some(true) || shown.len() < bytes.len();
            return format!("\"{}\"{}", escape(shown), more(cut));
        }
        if let Some(items) = &v.array {
            let items: Vec<String> = items
                .iter()
                .map(|s| {
                    let b = s.as_bytes();
                    let shown = &b[..b.len().min(self.string_limit)];
                    format!("\"{}\"{}", escape(shown), more(shown.len() < b.len()))
                })
                .collect();
            return format!(
                "[{}{}]",
                items.join(", "),
                if v.truncated == Some(true) {
                    ", ..."
                } else {
                    ""
                }
            );
        }
        if let Some(fields) = &v.fields {
            let layout = info.and_then(|a| crate::windows_args::structure(a.pointee));
            let parts: Vec<String> = fields
                .iter()
                .map(|(name, f)| {
                    let status = layout.is_some_and(|l| {
                        l.fields.iter().any(|d| {
                            d.name == name && d.kind == crate::windows_args::FieldKind::Status
                        })
                    });
                    format!("{name}={}", self.field(f, status, os))
                })
                .collect();
            return format!("{{{}}}", parts.join(", "));
        }
        let named = |text: String| match &v.object {
            Some(o) => format!("{text}<{o}>"),
            None => text,
        };
        // A Windows integer the data gives a meaning: by its names.
        if let Some(names) = &v.names {
            return named(names.clone());
        }
        if let Some(ints) = &v.ints {
            let items: Vec<String> = ints.iter().map(|i| named(i.to_string())).collect();
            return format!("[{}]", items.join(", "));
        }
        named(match (v.int, v.uint, v.ptr) {
            (Some(i), _, _) => i.to_string(),
            // Windows masks and flags (ACCESS_MASK) in hex, as its tools print them.
            (_, Some(u), _) if os == Os::Windows && u >= 0x10000 => format!("{u:#x}"),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(0)) => "NULL".into(),
            (_, _, Some(p)) => format!("{p:#x}"),
            _ => "?".into(),
        })
    }

    /// A field of a Windows structure: an NTSTATUS (`status`) by its name,
    /// the rest as any argument.
    fn field(&self, v: &ArgValue, status: bool, os: Os) -> String {
        match v.int.map(|i| i as u32) {
            Some(s) if status => match errno::ntstatus_by_value(errno::tables::NTSTATUS, s) {
                Some(n) => n.name.to_string(),
                None => format!("{s:#x}"),
            },
            _ => self.arg(v, None, os),
        }
    }
}

/// Escapes bytes as strace does: `\n`, `\t`, `\r`, `\v`, `\f`, `\"`,
/// `\\`, other non-printables in octal, with three digits where a digit
/// follows (`\0\0011` is 0, 1, '1'; `\011` would read back as a tab); a
/// string with a byte from 0x80 on entirely in hex (`\x5f\xbe`).
pub fn escape(bytes: &[u8]) -> String {
    if bytes.iter().any(|&b| b >= 0x80) {
        return hex(bytes);
    }
    let mut s = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x0b => s.push_str("\\v"),
            0x0c => s.push_str("\\f"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ if bytes.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n)) => {
                let _ = write!(s, "\\{b:03o}");
            }
            _ => {
                let _ = write!(s, "\\{b:o}");
            }
        }
    }
    s
}

/// Every byte in hex, as strace prints a string it quotes in hex: `\x5f\xbe`.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    for b in bytes {
        let _ = write!(s, "\\x{b:02x}");
    }
    s
}

/// The name strace prints: the table's name of the event's call as strace
/// names it, or `syscall_0x..` for an unknown number.
fn display_name(event: &Event, abi: Abi) -> String {
    match (&event.syscall, &event.name) {
        (Some(s), _) => strace_name(abi, s),
        (None, Some(n)) => n.clone(),
        (None, None) => format!("syscall_{:#x}", event.no),
    }
}

/// The name strace prints for a table's name: the name strace's own table
/// gives a kernel entry point (`sys_newuname` is `uname`, from
/// `data/linux_args.txt`), else Linux's `sys_` prefix dropped.
pub fn strace_name(abi: Abi, name: &str) -> String {
    match abi.os {
        Os::Linux => match decode::strace_name(abi, name) {
            Some(n) => n.to_string(),
            None => name.strip_prefix("sys_").unwrap_or(name).to_string(),
        },
        Os::Windows | Os::FreeBsd => name.to_string(),
    }
}

/// An integer as `kind` says strace prints it; `None` for a kind that is
/// not an integer's.
fn word_text(kind: decode::Kind, word: u64, sets: &'static [decode::ConstSet]) -> Option<String> {
    Some(match kind {
        decode::Kind::Set(name) => decode::set(sets, name)?.render(sets, word),
        decode::Kind::Fd => (word as u32 as i32).to_string(),
        decode::Kind::Dirfd => {
            let fd = word as u32 as i32;
            match decode::value_of(sets, "AT_FDCWD") {
                Some(cwd) if cwd as u32 as i32 == fd => "AT_FDCWD".into(),
                _ => fd.to_string(),
            }
        }
        decode::Kind::Mode | decode::Kind::Octal => octal(word),
        decode::Kind::FileMode => match decode::set(sets, "file_type") {
            Some(types) => {
                let (names, rest) = types.decode(sets, word);
                match names.first() {
                    Some(_) => format!("{}|{}", names.join("|"), octal(rest)),
                    None => octal(word),
                }
            }
            None => octal(word),
        },
        decode::Kind::Hex => format!("{word:#x}"),
        decode::Kind::Dev => decode::dev_text(word),
        decode::Kind::Ptr if word == 0 => "NULL".into(),
        decode::Kind::Ptr => format!("{word:#x}"),
        _ => return None,
    })
}

/// A captured signal set (its words) as strace prints it, `[INT QUIT]`.
fn sigset(v: &ArgValue, abi: Abi) -> Option<String> {
    let words: Vec<u64> = v.ints.as_ref()?.iter().map(|&w| w as u64).collect();
    let bits = u32::from(abi.pointer_bits);
    Some(decode::sigset_text(decode::sets(abi), &words, bits))
}

/// A wait status as strace prints it: `{WIFEXITED(s) && WEXITSTATUS(s) == 0}`,
/// `{WIFSIGNALED(s) && WTERMSIG(s) == SIGTERM}`.
pub fn wait_status(s: u32, sets: &'static [decode::ConstSet]) -> String {
    let signal =
        |n: u32| match decode::set(sets, "signal").and_then(|set| set.name_of(u64::from(n))) {
            Some(name) => name.to_string(),
            None => n.to_string(),
        };
    let low = s & 0x7f;
    if low == 0 {
        format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (s >> 8) & 0xff)
    } else if s & 0xff == 0x7f {
        format!(
            "{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}",
            signal((s >> 8) & 0xff)
        )
    } else if s == 0xffff {
        "{WIFCONTINUED(s)}".to_string()
    } else {
        let core = if s & 0x80 != 0 {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!("{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}", signal(low))
    }
}

/// The kernel's restart code strace prints for a call a signal interrupted
/// (`? ERESTARTNOHAND (To be restarted if no handler)`): the process saw
/// `EINTR`, and the data says which code the call returned at its exit,
/// before the handler ran ([`decode::restart`]).
fn interrupted(
    event: &Event,
    info: Option<&SyscallInfo>,
    abi: Abi,
) -> Option<&'static errno::ErrnoName> {
    let code = decode::restart(info?.name)?;
    let eintr = errno::errno_by_name(abi.errno, "EINTR")?;
    (event.errno.as_ref()?.no == eintr.no)
        .then(|| errno::errno_by_name(abi.errno, code))
        .flatten()
}

/// What a call that does not return to its site returns, where its signal
/// frame says ([`decode::frame`]: the return register `rt_sigreturn`
/// restores), sign-extended from the register's width; negated where the
/// frame's [`decode::Kind::Failed`] field says it is an errno.
fn frame_return(event: &Event, info: Option<&SyscallInfo>, abi: Abi) -> Option<i64> {
    let layout = decode::structure(abi, decode::frame(info?.name)?)?;
    let fields = event.args.get(FRAME)?.fields.as_ref()?;
    let value = |kind| {
        let field = layout.fields.iter().find(|f| f.kind == Some(kind))?;
        let raw = fields.get(field.name)?.uint?;
        let bits = 8 * field.size.min(8) as u32;
        Some(((raw << (64 - bits)) as i64) >> (64 - bits))
    };
    let ret = value(decode::Kind::Return)?;
    Some(match value(decode::Kind::Failed) {
        Some(f) if f != 0 => ret.wrapping_neg(),
        _ => ret,
    })
}

/// A raw integer argument, as its bits.
fn raw(v: &ArgValue) -> Option<u64> {
    v.int.map(|i| i as u64).or(v.uint).or(v.ptr)
}

/// A number in octal as strace prints modes: `0755`, `022`, `000`.
fn octal(v: u64) -> String {
    let s = if v == 0 {
        "0".to_string()
    } else {
        format!("0{v:o}")
    };
    format!("{s:0>3}")
}

/// A return value as strace shows it (after `= `), given the error the
/// call reports (see [`syscalls2_core::Retval::error`]): Linux `-1 ENOENT
/// (No such file or directory)` or an address in hex, Windows the NTSTATUS
/// and its name.
pub fn format_retval(abi: Abi, value: i64, error: Option<u32>) -> String {
    match (abi.os, error) {
        (Os::Linux | Os::FreeBsd, Some(e)) => match abi.errno_name(e) {
            Some(n) => format!("-1 {} ({})", n.name, n.text),
            None => format!("-1 errno {e}"),
        },
        // Addresses (mmap, brk): in hex, at the ABI's width.
        (Os::Linux | Os::FreeBsd, None) if !(0..=0x10_0000).contains(&value) => {
            let bits = u32::from(abi.slot_bits);
            let mask = if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            format!("{:#x}", value as u64 & mask)
        }
        (Os::Linux | Os::FreeBsd, None) => value.to_string(),
        (Os::Windows, _) => {
            let status = value as u32;
            match errno::ntstatus_by_value(errno::tables::NTSTATUS, status) {
                Some(n) => format!("{status:#x} {}", n.name),
                None => format!("{status:#x}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls2_core::abi::{linux_mips, linux_x64, linux_x86, windows_x86};

    #[test]
    fn escaping_follows_strace() {
        assert_eq!(escape(b"hi\n\t\"\\\x01"), "hi\\n\\t\\\"\\\\\\1");
        // A digit after an escape: three octal digits, so it reads back the same.
        assert_eq!(escape(b"\0\x011\n"), "\\0\\0011\\n");
        // A byte from 0x80 on: the whole string in hex.
        assert_eq!(escape(b"\x5f\xbe"), "\\x5f\\xbe");
    }

    #[test]
    fn wait_statuses_read_as_strace_prints_them() {
        let sets = decode::sets(linux_x64::ABI);
        assert_eq!(
            wait_status(0, sets),
            "{WIFEXITED(s) && WEXITSTATUS(s) == 0}"
        );
        assert_eq!(
            wait_status(3 << 8, sets),
            "{WIFEXITED(s) && WEXITSTATUS(s) == 3}"
        );
        assert_eq!(
            wait_status(15, sets),
            "{WIFSIGNALED(s) && WTERMSIG(s) == SIGTERM}"
        );
        assert_eq!(
            wait_status(0x80 | 11, sets),
            "{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}"
        );
    }

    #[test]
    fn structures_print_the_fields_strace_prints() {
        use crate::event::Args;
        let s = Strace::default();
        let field = |n: &str, v: ArgValue| (n.to_string(), v);
        // A character device: its st_rdev, not its st_size.
        let stat = |mode: u64| {
            Args(vec![
                field("st_mode", ArgValue::uint(mode)),
                field("st_rdev", ArgValue::uint(0x501)),
                field("st_size", ArgValue::uint(11)),
            ])
        };
        let kind = decode::Kind::OutStruct("stat");
        assert_eq!(
            s.fields(&stat(0o20600), kind, linux_x64::ABI),
            "{st_mode=S_IFCHR|0600, st_rdev=makedev(0x5, 0x1), ...}"
        );
        assert_eq!(
            s.fields(&stat(0o41777), kind, linux_x64::ABI),
            "{st_mode=S_IFDIR|S_ISVTX|0777, st_size=11, ...}"
        );
        // sa_restorer only with SA_RESTORER; the mask as a signal set.
        let act = |flags: u64| {
            Args(vec![
                field("sa_handler", ArgValue::uint(0x525892)),
                field("sa_mask", ArgValue::ints(0, vec![!(0b11i64 << 31)])),
                field("sa_flags", ArgValue::uint(flags)),
                field("sa_restorer", ArgValue::uint(0x416390)),
            ])
        };
        let kind = decode::Kind::InStruct("sigaction");
        assert_eq!(
            s.fields(&act(0x0400_0000), kind, linux_x64::ABI),
            "{sa_handler=0x525892, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, sa_restorer=0x416390}"
        );
        assert_eq!(
            s.fields(&act(0), kind, linux_x64::ABI),
            "{sa_handler=0x525892, sa_mask=~[RTMIN RT_1], sa_flags=0}"
        );
        let limit = Args(vec![
            field("rlim_cur", ArgValue::uint(8192 * 1024)),
            field("rlim_max", ArgValue::uint(u64::MAX)),
        ]);
        assert_eq!(
            s.fields(&limit, decode::Kind::OutStruct("rlimit64"), linux_x64::ABI),
            "{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}"
        );
    }

    #[test]
    fn getrandoms_bytes_are_in_hex_as_strace_prints_them() {
        // A hand-written return event, as the arm guest's getrandom gave it:
        // printable bytes among them, all in hex all the same.
        let line = r#"{"v":1,"ev":"return","seq":1,"ts":0,"icount":null,"vcpu":0,"asid":1,"pc":0,"sp":0,"retaddr":0,"insn":null,"profile":"linux_arm","abi":"linux_arm","no":384,"name":"getrandom","syscall":"sys_getrandom","pid":null,"tid":null,"ppid":null,"comm":null,"attribution":null,"args":{"ubuf":{"ptr":4096,"bytes":"5504326c","truncated":false},"len":{"uint":4},"flags":{"uint":1}},"ret":4,"errno":null,"duration_ns":null,"child":false}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        let table = crate::profiles::by_name("linux_arm").unwrap();
        let text = Strace::default().line(&event, table.by_number(384), table.abi);
        assert_eq!(
            text.as_deref(),
            Some(r#"[0x1] getrandom("\x55\x04\x32\x6c", 4, GRND_NONBLOCK) = 4"#)
        );
    }

    #[test]
    fn modes_are_octal_as_strace_prints_them() {
        assert_eq!(octal(0o777), "0777");
        assert_eq!(octal(0o22), "022");
        assert_eq!(octal(0), "000");
    }

    #[test]
    fn return_values() {
        assert_eq!(
            format_retval(linux_x64::ABI, -2, Some(2)),
            "-1 ENOENT (No such file or directory)"
        );
        assert_eq!(format_retval(linux_x64::ABI, 3, None), "3");
        assert_eq!(format_retval(linux_x86::ABI, -0x1000, None), "0xfffff000");
        // MIPS numbers its errors its own way: 89 is ENOSYS there.
        assert_eq!(
            format_retval(linux_mips::ABI, -89, Some(89)),
            "-1 ENOSYS (Function not implemented)"
        );
        assert_eq!(
            format_retval(
                windows_x86::ABI,
                0xC000_0034u32 as i32 as i64,
                Some(0xC000_0034)
            ),
            "0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND"
        );
    }
}
