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
//!   their string (an `OBJECT_ATTRIBUTES` with a RootDirectory also with the
//!   full name, as `object`); `HANDLE`s with the name of their object
//!   ([`crate::windows_args::Handles`]); pointers to the structures of
//!   `data/windows_args.txt` as their fields, at the enter when the call
//!   reads them;
//! - Windows outputs (the arguments the table marks `@out`/`@inout`) at a
//!   successful return: a pointer to an integer as the integer it holds
//!   (`PHANDLE`: the handle, with its name), to a structure of the data as
//!   its fields (`IO_STATUS_BLOCK`), a buffer as its bytes up to the count
//!   the call reports written (its `IO_STATUS_BLOCK.Information`, else an
//!   out `ReturnLength`, else its length argument);
//! - other pointers as addresses; memory that cannot be read as such.

use crate::decode::{self, Kind};
use crate::event::{ArgValue, Args};
use crate::windows_args::{self as wa, Handles};
use syscalls2_core::{windows, ArgClass, ArgDir, ArgInfo, Cpu, CpuExt, Os, SyscallCtx, MAX_CSTR};

/// Names of the out-argument in which a Windows call reports how many
/// bytes it wrote to its buffer, when it has no `IO_STATUS_BLOCK`.
const RETURN_LENGTH_NAMES: [&str; 4] = [
    "ReturnLength",
    "ResultLength",
    "NumberOfBytesRead",
    "NumberOfBytesWritten",
];

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

/// Whether the argument is read by the call: `const` (or a Windows `PC...`
/// type), or marked so by the table's directions.
pub fn is_input(a: &ArgInfo) -> bool {
    a.dir == ArgDir::In
        || a.ctype.starts_with("const ")
        || a.ctype.contains("PCVOID")
        || a.ctype.starts_with("PC")
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
        self.enter_with(cpu, ctx, &Handles::default())
    }

    /// [`Capture::enter`], naming Windows handles from `handles`.
    pub fn enter_with(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx, handles: &Handles) -> Args {
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
                        _ if ctx.abi.os == Os::Windows => {
                            self.windows_value(cpu, ctx, handles, a, ctx.args[i], length)
                        }
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
        self.at_return_with(cpu, ctx, args, &Handles::default());
    }

    /// [`Capture::at_return`], naming the Windows handles a call wrote from
    /// `handles` (updated for this return first: [`Handles::ret`]).
    pub fn at_return_with(
        &self,
        cpu: &mut dyn Cpu,
        ctx: &SyscallCtx,
        args: &mut Args,
        handles: &Handles,
    ) {
        let (Some(info), Some(ret)) = (ctx.info, ctx.retval) else {
            return;
        };
        if ctx.abi.os == Os::Windows {
            if !ret.is_error() {
                self.windows_outputs(cpu, ctx, args, handles);
            }
            return;
        }
        let written = usize::try_from(ret.value).unwrap_or(0);
        for (i, a, value) in captured(info.args, args) {
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

    /// A Windows argument at the enter: handles with their names, the
    /// structures of the data file the call reads, else as any argument.
    fn windows_value(
        &self,
        cpu: &mut dyn Cpu,
        ctx: &SyscallCtx,
        handles: &Handles,
        a: &ArgInfo,
        v: u64,
        length: Option<usize>,
    ) -> ArgValue {
        if wa::is_handle(a) {
            let mut value = ArgValue::uint(v);
            value.object = handles.name(ctx.asid, v).map(String::from);
            return value;
        }
        let mut value = self.value(cpu, ctx, a, v, length);
        if let (ArgClass::Int { bits, .. }, Some(info)) = (a.class, ctx.info) {
            // At the argument's width: a ULONG's upper half of a 64-bit
            // register is not the value.
            let v = if bits >= 64 {
                v
            } else {
                v & ((1u64 << bits) - 1)
            };
            value.names = wa::meaning_of(info.name, a).and_then(|m| m.render(ctx.abi, v));
            return value;
        }
        if v == 0 || a.class != ArgClass::StructPtr {
            return value;
        }
        if a.pointee == "OBJECT_ATTRIBUTES" {
            let full = handles.object_name(cpu, ctx, v);
            if full.as_deref() != value.str.as_deref() {
                value.object = full;
            }
        } else if a.dir != ArgDir::Out && a.pointee != "UNICODE_STRING" {
            if let Some(s) = wa::structure(a.pointee) {
                value = fields_at(cpu, ctx, handles, s, v);
            }
        }
        value
    }

    /// What a Windows call wrote through its `@out`/`@inout` arguments.
    fn windows_outputs(
        &self,
        cpu: &mut dyn Cpu,
        ctx: &SyscallCtx,
        args: &mut Args,
        handles: &Handles,
    ) {
        let Some(info) = ctx.info else { return };
        let written_arg = |i: usize| info.args[i].dir.is_written() && ctx.args[i] != 0;
        // The bytes it reports written: IO_STATUS_BLOCK.Information, else *ReturnLength.
        let iosb = (0..info.args.len())
            .find(|&i| written_arg(i) && info.args[i].pointee == "IO_STATUS_BLOCK")
            .and_then(|i| {
                let s = wa::structure("IO_STATUS_BLOCK")?;
                let f = *s.layout(ctx.abi).get(1)?;
                cpu.read_uint(ctx.args[i].wrapping_add(f.offset), f.size)
                    .ok()
            });
        let reported = iosb.or_else(|| {
            (0..info.args.len())
                .find(|&i| written_arg(i) && RETURN_LENGTH_NAMES.contains(&info.args[i].name))
                .and_then(|i| {
                    let bits = match info.args[i].pointee_class? {
                        ArgClass::Int { bits, .. } => bits,
                        _ => return None,
                    };
                    cpu.read_uint(ctx.args[i], usize::from(bits / 8)).ok()
                })
        });
        for (i, a, value) in captured(info.args, args) {
            if !written_arg(i) {
                continue;
            }
            let addr = ctx.args[i];
            if let Some(ArgClass::Int { signed, bits }) = a.pointee_class {
                *value = match cpu.read_uint(addr, usize::from(bits / 8)) {
                    Ok(raw) => {
                        let shift = 64 - u32::from(bits);
                        let v = if signed {
                            ((raw << shift) as i64) >> shift
                        } else {
                            raw as i64
                        };
                        let mut out = ArgValue::ints(addr, vec![v]);
                        if a.pointee == "HANDLE" {
                            out.object = handles.name(ctx.asid, raw).map(String::from);
                        }
                        out
                    }
                    Err(_) => ArgValue::unreadable(addr),
                };
            } else if let Some(s) =
                wa::structure(a.pointee).filter(|_| a.class == ArgClass::StructPtr)
            {
                *value = fields_at(cpu, ctx, handles, s, addr);
            } else if let Some(j) = length_of(info.args, i) {
                let length = ctx.args[j] as usize;
                let n = reported.map_or(length, |r| (r as usize).min(length));
                *value = self.bytes(cpu, addr, n);
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

/// Each argument with its index and the value captured at the enter
/// (varargs have none).
fn captured<'a>(
    infos: &'static [ArgInfo],
    args: &'a mut Args,
) -> impl Iterator<Item = (usize, &'static ArgInfo, &'a mut ArgValue)> {
    infos
        .iter()
        .enumerate()
        .filter(|(_, a)| a.class != ArgClass::Varargs)
        .zip(args.0.iter_mut())
        .map(|((i, a), (_, v))| (i, a, v))
}

/// The Windows structure `s` at `addr` as its fields.
fn fields_at(
    cpu: &mut dyn Cpu,
    ctx: &SyscallCtx,
    handles: &Handles,
    s: &wa::Struct,
    addr: u64,
) -> ArgValue {
    wa::read_struct(cpu, ctx, handles, s, addr).map_or(ArgValue::unreadable(addr), |fields| {
        ArgValue {
            ptr: Some(addr),
            fields: Some(fields),
            ..ArgValue::default()
        }
    })
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
