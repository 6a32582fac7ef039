//! strace-style text: an [`Event`] (with its call's table entry) as the
//! line strace would print.
//!
//! - the call at its return, `openat(-100, "/etc/hostname", 0, 0) = 3`; a
//!   call that never returns at its enter, `exit_group(3) = ?`; one that
//!   returns only on failure (`execve`) at its enter as
//!   `execve(...) <unfinished ...>`;
//! - integers in decimal (unsigned ones from 0x10000 in hex), pointers in
//!   hex, `NULL` for 0, unreadable memory as its address;
//! - strings quoted and escaped as strace does, buffers cut at the string
//!   limit with `...`, arrays as `["sh", "-c", "exit 3"]`, Windows strings
//!   as `L"..."`;
//! - return values: Linux `-1 ENOENT (No such file or directory)`, addresses
//!   in hex; Windows `0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND`.
//!
//! Each line starts with the calling thread as `strace -f` prints it,
//! `[pid 97]` (the thread id, which is the pid for a main thread), or the
//! address space, `[0x29ba000]`, where the thread is not known.

use crate::event::{ArgValue, Event, Phase};
use std::fmt::Write as _;
use syscalls2_core::{errno, Abi, ArgClass, ArgInfo, Os, SyscallInfo};

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
        let args = self.args(event, info);
        let head = format!("{} {}({}", who(event), display_name(event), args);
        match event.ev {
            Phase::Return => {
                let error = event.errno.as_ref().map(|e| e.no);
                let ret = format_retval(abi, event.ret.unwrap_or(0), error);
                let child = if event.child == Some(true) {
                    " (child)"
                } else {
                    ""
                };
                Some(format!("{head}) = {ret}{child}"))
            }
            Phase::Enter if returns.noreturn => Some(format!("{head}) = ?")),
            Phase::Enter if returns.noreturn_on_success => Some(format!("{head} <unfinished ...>")),
            Phase::Enter => None,
        }
    }

    fn args(&self, event: &Event, info: Option<&SyscallInfo>) -> String {
        let typed: Vec<&ArgInfo> = info
            .map(|i| {
                i.args
                    .iter()
                    .filter(|a| a.class != ArgClass::Varargs)
                    .collect()
            })
            .unwrap_or_default();
        event
            .args
            .iter()
            .enumerate()
            .map(|(i, (_, v))| self.arg(v, typed.get(i).copied()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn arg(&self, v: &ArgValue, info: Option<&ArgInfo>) -> String {
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
        match (v.int, v.uint, v.ptr) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) if u < 0x10000 => u.to_string(),
            (_, Some(u), _) => format!("{u:#x}"),
            (_, _, Some(0)) => "NULL".into(),
            (_, _, Some(p)) => format!("{p:#x}"),
            _ => "?".into(),
        }
    }
}

/// Escapes bytes as strace does: `\n`, `\t`, `\"`, `\\`, other
/// non-printables in octal.
pub fn escape(bytes: &[u8]) -> String {
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

/// The name strace prints: the event's, or `syscall_0x..` for an unknown
/// number.
fn display_name(event: &Event) -> String {
    match &event.name {
        Some(n) => n.clone(),
        None => format!("syscall_{:#x}", event.no),
    }
}

/// The name strace prints for a table's name: Linux's `sys_` prefix
/// dropped.
pub fn strace_name(abi: Abi, name: &str) -> String {
    match abi.os {
        Os::Linux => name.strip_prefix("sys_").unwrap_or(name).to_string(),
        Os::Windows | Os::FreeBsd => name.to_string(),
    }
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
