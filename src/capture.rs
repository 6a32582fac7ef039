//! Reading a call's arguments from the guest into [`ArgValue`]s: at enter
//! what the call reads, at return what it wrote.
//!
//! Driven by each argument's class and C type, never by knowledge of a
//! particular syscall:
//!
//! - integers as they are, signed or unsigned per their type;
//! - `const char *` strings (paths) in full, up to `PATH_MAX`;
//! - a `char`/`void` pointer followed by an integer named like a length
//!   (`count`, `len`, `size`, `nbytes`, `bufsiz`, `Length`, ...) is a buffer
//!   of that length: read at enter when `const` (an input, as `write`'s),
//!   and (not on Windows) at return with the returned length when not (an output,
//!   as `read`'s); at most [`Capture::string_limit`] bytes;
//! - `const char *const *` arrays (`argv`) as their strings, at most 32 of
//!   them;
//! - Windows `PWSTR`, `UNICODE_STRING` and `OBJECT_ATTRIBUTES` pointers as
//!   their string;
//! - other pointers as addresses; memory that cannot be read as such.

use crate::decode::{self, Kind};
use crate::event::{ArgValue, Args};
use syscalls2_core::{windows, ArgClass, ArgInfo, Cpu, CpuExt, Os, SyscallCtx, MAX_CSTR};

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

/// The name of the value that holds a call's signal frame (see
/// [`Capture::enter`]), after its arguments.
pub const FRAME: &str = "frame";

/// How many strings of an array (`argv`) are read.
const ARRAY_LIMIT: u64 = 32;

/// How arguments are read. `string_limit` is strace's `-s`: the bytes of a
/// buffer read before the value is marked truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capture {
    /// Bytes of a buffer kept (strace's default: 32).
    pub string_limit: usize,
}

impl Default for Capture {
    fn default() -> Capture {
        Capture { string_limit: 32 }
    }
}

/// Whether the argument is read by the call: `const` (or a Windows `PC...` type).
pub fn is_input(a: &ArgInfo) -> bool {
    a.ctype.starts_with("const ") || a.ctype.contains("PCVOID") || a.ctype.starts_with("PC")
}

/// The index of the integer argument that gives argument `i`'s length.
pub fn length_of(args: &[ArgInfo], i: usize) -> Option<usize> {
    let a = &args[i];
    let bytes_like = matches!(a.class, ArgClass::Buf | ArgClass::CStr);
    let next = args.get(i + 1)?;
    let named = LENGTH_NAMES.contains(&next.name.to_ascii_lowercase().as_str());
    (bytes_like && named && matches!(next.class, ArgClass::Int { .. })).then_some(i + 1)
}

impl Capture {
    /// Every argument of a call as it enters; for a number the table lacks,
    /// its first six slots as `arg0`..`arg5`. A call the data gives a
    /// signal frame ([`decode::frame`]: `rt_sigreturn`'s) has it too, read
    /// at the stack pointer, as [`FRAME`].
    pub fn enter(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Args {
        let Some(info) = ctx.info else {
            return Args(
                ctx.args
                    .iter()
                    .take(6)
                    .enumerate()
                    .map(|(i, &v)| (format!("arg{i}"), ArgValue::uint(v)))
                    .collect(),
            );
        };
        let frame = decode::frame(info.name)
            .filter(|f| decode::structure(ctx.abi, f).is_some())
            .map(|f| (FRAME.to_string(), structure(cpu, ctx, f, ctx.sp)));
        Args(
            info.args
                .iter()
                .enumerate()
                .filter(|(_, a)| a.class != ArgClass::Varargs)
                .map(|(i, a)| {
                    let length = length_of(info.args, i).map(|j| ctx.args[j] as usize);
                    let value = match rule(ctx, a) {
                        Some(Kind::InStr | Kind::Comm) if ctx.args[i] != 0 => {
                            self.cstr(cpu, ctx.args[i])
                        }
                        Some(Kind::InStruct(name)) if ctx.args[i] != 0 => {
                            structure(cpu, ctx, name, ctx.args[i])
                        }
                        Some(Kind::InSigset) if ctx.args[i] != 0 => sigset(cpu, ctx, ctx.args[i]),
                        _ => self.value(cpu, ctx, a, ctx.args[i], length),
                    };
                    (a.name.to_string(), value)
                })
                .chain(frame)
                .collect(),
        )
    }

    /// Updates `args`, captured at enter, with what the call wrote: a Linux
    /// output buffer (`read`'s) with the length it returned, the strings and
    /// integers [`crate::decode`]'s rules say it writes (`prctl(PR_GET_NAME,
    /// ..)`'s name, `wait4`'s status). An input string whose page was not
    /// yet present at the enter (`readlink("/proc/self/exe", ..)` at a
    /// program's start) is read again.
    pub fn at_return(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx, args: &mut Args) {
        let (Some(info), Some(ret)) = (ctx.info, ctx.retval) else {
            return;
        };
        if ctx.abi.os == Os::Windows {
            return;
        }
        let written = usize::try_from(ret.value).unwrap_or(0);
        let mut values = args.0.iter_mut();
        for (i, a) in info.args.iter().enumerate() {
            if a.class == ArgClass::Varargs {
                continue;
            }
            let Some((_, value)) = values.next() else {
                return;
            };
            let addr = ctx.args[i];
            if addr == 0 {
                continue;
            }
            if value.unreadable == Some(true) && a.class == ArgClass::CStr && is_input(a) {
                *value = self.cstr(cpu, addr);
                continue;
            }
            if ret.is_error() {
                continue;
            }
            let ints = |cpu: &mut dyn Cpu, n: u64| -> ArgValue {
                let read: Result<Vec<i64>, _> = (0..n)
                    .map(|k| {
                        cpu.read_uint(addr.wrapping_add(4 * k), 4)
                            .map(|v| v as u32 as i32 as i64)
                    })
                    .collect();
                read.map_or(ArgValue::unreadable(addr), |v| ArgValue::ints(addr, v))
            };
            match rule(ctx, a) {
                Some(Kind::OutStr) => *value = self.cstr(cpu, addr),
                // The status is written only when a child was reaped (not
                // for WNOHANG's 0).
                Some(Kind::WaitStatus) if ret.value > 0 => *value = ints(cpu, 1),
                Some(
                    Kind::WaitStatus
                    | Kind::InStr
                    | Kind::Comm
                    | Kind::InStruct(_)
                    | Kind::InSigset,
                ) => {}
                Some(Kind::OutSigset) => *value = sigset(cpu, ctx, addr),
                Some(Kind::Records(name)) => *value = records(cpu, ctx, name, addr, written),
                Some(Kind::FdPair) => *value = ints(cpu, 2),
                Some(Kind::OutStruct(name)) => *value = structure(cpu, ctx, name, addr),
                _ if length_of(info.args, i).is_some() && !is_input(a) => {
                    *value = self.bytes(cpu, addr, written);
                }
                _ => {}
            }
        }
    }

    /// The C string at `addr`, up to `PATH_MAX`.
    fn cstr(&self, cpu: &mut dyn Cpu, addr: u64) -> ArgValue {
        match cpu.read_cstr(addr, MAX_CSTR + 1) {
            Ok(s) if s.len() > MAX_CSTR => ArgValue::string(addr, &s[..MAX_CSTR], true),
            Ok(s) => ArgValue::string(addr, &s, false),
            Err(_) => ArgValue::unreadable(addr),
        }
    }

    fn value(
        &self,
        cpu: &mut dyn Cpu,
        ctx: &SyscallCtx,
        a: &ArgInfo,
        v: u64,
        length: Option<usize>,
    ) -> ArgValue {
        let abi = ctx.abi;
        match a.class {
            ArgClass::Int { signed: true, .. } => ArgValue::int(v as i64),
            ArgClass::Int { signed: false, .. } => ArgValue::uint(v),
            _ if v == 0 => ArgValue::ptr(0),
            ArgClass::CStr | ArgClass::Buf if length.is_some() => {
                if is_input(a) {
                    self.bytes(cpu, v, length.unwrap_or(0))
                } else {
                    ArgValue::ptr(v)
                }
            }
            ArgClass::CStr => self.cstr(cpu, v),
            ArgClass::WStr => match read_wide(cpu, v) {
                Ok(s) => ArgValue::string(v, s.as_bytes(), false),
                Err(_) => ArgValue::unreadable(v),
            },
            ArgClass::StructPtr if a.pointee == "UNICODE_STRING" => {
                windows::unicode_string(cpu, abi, v).map_or(ArgValue::unreadable(v), |s| {
                    ArgValue::string(v, s.as_bytes(), false)
                })
            }
            ArgClass::StructPtr if a.pointee == "OBJECT_ATTRIBUTES" => {
                windows::object_attributes_name(cpu, abi, v).map_or(ArgValue::unreadable(v), |s| {
                    ArgValue::string(v, s.as_bytes(), false)
                })
            }
            ArgClass::PtrPtr if a.ctype.contains("char") => self.strings(cpu, v, abi.pointer_bits),
            _ => ArgValue::ptr(v),
        }
    }

    fn bytes(&self, cpu: &mut dyn Cpu, addr: u64, len: usize) -> ArgValue {
        let take = len.min(self.string_limit);
        match cpu.read_bytes(addr, take) {
            Ok(b) => ArgValue::bytes(addr, &b, len > take),
            Err(_) => ArgValue::unreadable(addr),
        }
    }

    fn strings(&self, cpu: &mut dyn Cpu, addr: u64, pointer_bits: u8) -> ArgValue {
        let size = usize::from(pointer_bits / 8);
        let mut out = Vec::new();
        for i in 0..=ARRAY_LIMIT {
            let Ok(p) = cpu.read_uint(addr.wrapping_add(i * size as u64), size) else {
                return ArgValue::unreadable(addr);
            };
            if p == 0 {
                return ArgValue::array(addr, &out, false);
            }
            if i == ARRAY_LIMIT {
                break;
            }
            match cpu.read_cstr(p, MAX_CSTR) {
                Ok(s) => out.push(s),
                Err(_) => return ArgValue::unreadable(addr),
            }
        }
        ArgValue::array(addr, &out, true)
    }
}

/// The fields strace prints of the structure `name` at `addr`, as the
/// call's ABI lays it out. A signal set given in parts under one name
/// (i386's sigreturn mask) is one value, its words in order.
fn structure(cpu: &mut dyn Cpu, ctx: &SyscallCtx, name: &str, addr: u64) -> ArgValue {
    let Some(layout) = decode::structure(ctx.abi, name) else {
        return ArgValue::ptr(addr);
    };
    let mut fields: Vec<(String, ArgValue)> = Vec::new();
    for f in layout.fields {
        let at = addr.wrapping_add(f.offset as u64);
        let value = if f.text {
            cpu.read_bytes(at, f.size).map(|b| {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                ArgValue::string(at, &b[..end], false)
            })
        } else if f.kind == Some(Kind::InSigset) {
            words(cpu, ctx, at, f.size).map(|w| ArgValue::ints(at, w))
        } else {
            cpu.read_uint(at, f.size).map(ArgValue::uint)
        };
        match value {
            Ok(v) => match fields.iter_mut().find(|(n, _)| n == f.name) {
                Some((_, earlier)) => {
                    if let (Some(w), Some(more)) = (earlier.ints.as_mut(), v.ints) {
                        w.extend(more);
                    }
                }
                None => fields.push((f.name.to_string(), v)),
            },
            Err(_) => return ArgValue::unreadable(addr),
        }
    }
    ArgValue {
        ptr: Some(addr),
        fields: Some(Args(fields)),
        ..ArgValue::default()
    }
}

/// The `unsigned long` words of `size` bytes at `addr` (a signal set).
fn words(
    cpu: &mut dyn Cpu,
    ctx: &SyscallCtx,
    addr: u64,
    size: usize,
) -> Result<Vec<i64>, syscalls2_core::MemError> {
    let word = usize::from(ctx.abi.pointer_bits / 8);
    (0..size / word)
        .map(|k| {
            cpu.read_uint(addr.wrapping_add((k * word) as u64), word)
                .map(|v| v as i64)
        })
        .collect()
}

/// The kernel's signal set at `addr`, as its words (see [`decode::sigset_size`]).
fn sigset(cpu: &mut dyn Cpu, ctx: &SyscallCtx, addr: u64) -> ArgValue {
    match decode::sigset_size(ctx.abi).map(|n| words(cpu, ctx, addr, n)) {
        Some(Ok(w)) => ArgValue::ints(addr, w),
        Some(Err(_)) => ArgValue::unreadable(addr),
        None => ArgValue::ptr(addr),
    }
}

/// How many records of structure `name` the `len` bytes at `addr` hold,
/// each as long as the structure's one field says (`getdents64`'s
/// `d_reclen`): kept as the one integer of the value.
fn records(cpu: &mut dyn Cpu, ctx: &SyscallCtx, name: &str, addr: u64, len: usize) -> ArgValue {
    let Some(length) = decode::structure(ctx.abi, name).and_then(|s| s.fields.first()) else {
        return ArgValue::ptr(addr);
    };
    let (mut at, mut count) = (0usize, 0i64);
    while at < len {
        match cpu.read_uint(addr.wrapping_add((at + length.offset) as u64), length.size) {
            Ok(0) => break,
            Ok(n) => {
                at += n as usize;
                count += 1;
            }
            Err(_) => return ArgValue::unreadable(addr),
        }
    }
    ArgValue::ints(addr, vec![count])
}

/// The kind [`crate::decode`]'s rules give argument `a` of the call.
/// The name a call gives its caller if it succeeds (`prctl(PR_SET_NAME,
/// "cat")`: an argument of [`Kind::Comm`]), read from guest memory as the
/// call enters, as the kernel reads it: at most the 16 bytes of `comm`.
pub fn new_name(cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Vec<u8>> {
    let info = ctx.info?;
    if !decode::renames(info.name) {
        return None;
    }
    let i = info
        .args
        .iter()
        .position(|a| rule(ctx, a) == Some(Kind::Comm))?;
    cpu.read_cstr(ctx.args[i], syscalls2_core::introspect::COMM_LEN + 1)
        .ok()
}

fn rule(ctx: &SyscallCtx, a: &ArgInfo) -> Option<Kind> {
    let info = ctx.info?;
    let value = |name: &str| {
        info.args
            .iter()
            .position(|x| x.name == name)
            .and_then(|j| ctx.args.get(j).copied())
    };
    decode::rule(decode::sets(ctx.abi), info.name, a.name, &value).map(|r| r.kind)
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
