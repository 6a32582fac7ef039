//! What Windows syscall arguments point to, and which object each handle
//! is: the structures of `data/windows_args.txt` laid out per ABI, and a
//! per-process handle table built from the calls that create, duplicate
//! and close handles, so a handle prints as strace `-y` prints an fd,
//! `124<\??\C:\Users\alice\secret.txt>`.
//!
//! Nothing here names a syscall: which arguments a call writes is in its
//! table (`// @out`, from phnt's SAL annotations), what a pointer points to
//! is its type, and the two handle rules (`close`, `dup`) are data.
//!
//! ```
//! use syscalls2::windows_args::structure;
//! use syscalls2::abi::{windows_x64, windows_x86};
//! let iosb = structure("IO_STATUS_BLOCK").unwrap();
//! // Information follows a pointer-sized union.
//! assert_eq!(iosb.layout(windows_x86::ABI)[1].offset, 4);
//! assert_eq!(iosb.layout(windows_x64::ABI)[1].offset, 8);
//! ```

use std::collections::HashMap;
use std::sync::LazyLock;
use syscalls2_core::{errno, windows, Abi, ArgDir, ArgInfo, Cpu, CpuExt, MemError, SyscallCtx};

/// The data file, compiled in.
const DATA: &str = include_str!("../data/windows_args.txt");

/// How a structure field is read and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An unsigned integer of this many bytes.
    Uint(usize),
    /// A signed integer of this many bytes.
    Int(usize),
    /// A pointer-sized address (`PVOID`).
    Ptr,
    /// A pointer-sized count or id (`ULONG_PTR`, CLIENT_ID's ids).
    Size,
    /// A pointer-sized `HANDLE`, shown with its name.
    Handle,
    /// An `NTSTATUS` in a pointer-sized union (`IO_STATUS_BLOCK.Status`).
    Status,
    /// A `PUNICODE_STRING`, shown as its string.
    Ustr,
}

/// A field of a [`Struct`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Its name (`Information`).
    pub name: &'static str,
    /// Its kind.
    pub kind: FieldKind,
    /// The set of `data/windows_constants.txt` that names its value
    /// (`OBJECT_ATTRIBUTES.Attributes`: `object_attributes`), if one does.
    pub set: Option<&'static str>,
}

/// What an integer argument's value means (`data/windows_args.txt`'s
/// `type` and per-call lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// One of the sets of `data/windows_constants.txt`, by its name:
    /// `file_access` renders `0x120089` as
    /// `FILE_READ_DATA|FILE_READ_EA|FILE_READ_ATTRIBUTES|READ_CONTROL|SYNCHRONIZE`.
    Set(&'static str),
    /// An `NTSTATUS`, by its name (`STATUS_SUCCESS`).
    Status,
}

impl Meaning {
    /// `value` by its names on `abi`, as strace prints flags
    /// (`FILE_READ_DATA|SYNCHRONIZE`, what no name covers in hex) or a
    /// value (`FileBasicInformation`, else the number); an NTSTATUS by its
    /// name, else `None`.
    pub fn render(self, abi: Abi, value: u64) -> Option<String> {
        match self {
            Meaning::Set(name) => {
                let sets = crate::decode::sets(abi);
                Some(crate::decode::set(sets, name)?.render(sets, value))
            }
            Meaning::Status => errno::ntstatus_by_value(errno::tables::NTSTATUS, value as u32)
                .map(|n| n.name.to_string()),
        }
    }
}

/// A structure of the data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Struct {
    /// Its name (`IO_STATUS_BLOCK`).
    pub name: &'static str,
    /// Its fields in order.
    pub fields: Vec<FieldDef>,
}

/// A field placed for an ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The field.
    pub def: FieldDef,
    /// Its offset in bytes.
    pub offset: u64,
    /// Its size in bytes (what is read).
    pub size: usize,
}

impl Struct {
    /// The fields with their offsets on `abi`: natural alignment, pointers
    /// of the ABI's size.
    pub fn layout(&self, abi: Abi) -> Vec<Placed> {
        let p = usize::from(abi.pointer_bits / 8);
        let mut offset = 0usize;
        self.fields
            .iter()
            .map(|&def| {
                let (size, align, read) = match def.kind {
                    FieldKind::Uint(n) | FieldKind::Int(n) => (n, n, n),
                    FieldKind::Ptr | FieldKind::Size | FieldKind::Handle | FieldKind::Ustr => {
                        (p, p, p)
                    }
                    FieldKind::Status => (p, p, 4),
                };
                offset = offset.div_ceil(align) * align;
                let placed = Placed {
                    def,
                    offset: offset as u64,
                    size: read,
                };
                offset += size;
                placed
            })
            .collect()
    }
}

/// What a call does with a handle argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleRule {
    /// Closes it when the call succeeds.
    Close,
    /// The handle written through it is the object `source` is, when
    /// `source_process` and `target_process` are the calling process.
    Dup {
        /// The argument holding the source handle.
        source: &'static str,
        /// The argument holding the source process handle.
        source_process: &'static str,
        /// The argument holding the target process handle.
        target_process: &'static str,
    },
}

/// The parsed data file.
#[derive(Debug, Default)]
pub struct Data {
    /// The structures.
    pub structs: Vec<Struct>,
    /// (syscall, argument, rule).
    pub rules: Vec<(&'static str, &'static str, HandleRule)>,
    /// (C type, meaning): `type` lines.
    pub types: Vec<(&'static str, Meaning)>,
    /// (syscall, argument, meaning): a call's own lines.
    pub meanings: Vec<(&'static str, &'static str, Meaning)>,
}

/// A meaning's word of the data file: `status`, or a set the generated
/// Windows constants have.
fn meaning(word: &'static str) -> Option<Meaning> {
    if word == "status" {
        return Some(Meaning::Status);
    }
    let sets = crate::decode::sets(syscalls2_core::abi::windows_x86::ABI);
    crate::decode::set(sets, word).map(|_| Meaning::Set(word))
}

/// Parses the data file's text; an error names the line.
pub fn parse(text: &'static str) -> Result<Data, String> {
    let mut data = Data::default();
    for (i, line) in text.lines().enumerate() {
        let words: Vec<&'static str> = line.split_whitespace().collect();
        let err = |m: &str| format!("data/windows_args.txt:{}: {m}: {line:?}", i + 1);
        match words.as_slice() {
            [] => {}
            [w, ..] if w.starts_with('#') => {}
            ["struct", name, fields @ ..] if !fields.is_empty() => {
                let fields = fields
                    .iter()
                    .map(|f| {
                        let (name, kind) = f.split_once(':').ok_or_else(|| err("FIELD:KIND"))?;
                        let (kind, set) = match kind.split_once(':') {
                            Some((kind, set)) => match meaning(set) {
                                Some(Meaning::Set(set)) => (kind, Some(set)),
                                _ => {
                                    return Err(err(&format!(
                                        "{set}: no set of data/windows_constants.txt"
                                    )))
                                }
                            },
                            None => (kind, None),
                        };
                        let kind = match kind {
                            "u16" => FieldKind::Uint(2),
                            "u32" => FieldKind::Uint(4),
                            "i32" => FieldKind::Int(4),
                            "i64" => FieldKind::Int(8),
                            "ptr" => FieldKind::Ptr,
                            "size" => FieldKind::Size,
                            "handle" => FieldKind::Handle,
                            "status" => FieldKind::Status,
                            "ustr" => FieldKind::Ustr,
                            _ => return Err(err(&format!("unknown kind {kind:?}"))),
                        };
                        Ok(FieldDef { name, kind, set })
                    })
                    .collect::<Result<_, _>>()?;
                data.structs.push(Struct { name, fields });
            }
            [calls, arg, "close"] => {
                for c in calls.split(',') {
                    data.rules.push((c, arg, HandleRule::Close));
                }
            }
            [calls, arg, "dup", source, source_process, target_process] => {
                for c in calls.split(',') {
                    let rule = HandleRule::Dup {
                        source,
                        source_process,
                        target_process,
                    };
                    data.rules.push((c, arg, rule));
                }
            }
            ["type", ctype, word] => {
                let m = meaning(word).ok_or_else(|| {
                    err(&format!(
                        "{word}: not status or a set of data/windows_constants.txt"
                    ))
                })?;
                data.types.push((ctype, m));
            }
            [calls, arg, word] => {
                let m = meaning(word).ok_or_else(|| {
                    err(&format!(
                        "{word}: not close, status or a set of data/windows_constants.txt"
                    ))
                })?;
                for c in calls.split(',') {
                    data.meanings.push((c, arg, m));
                }
            }
            _ => return Err(err("not a struct, handle rule, type or argument line")),
        }
    }
    Ok(data)
}

static DATA_PARSED: LazyLock<Data> = LazyLock::new(|| {
    // The file is compiled in and a unit test parses it: an error here is
    // a build of a broken file, reported in full.
    parse(DATA).unwrap_or_else(|e| panic!("{e}"))
});

/// The structure `name` of the data file.
pub fn structure(name: &str) -> Option<&'static Struct> {
    DATA_PARSED.structs.iter().find(|s| s.name == name)
}

/// The handle rule of `syscall`'s argument `arg`.
pub fn rule(syscall: &str, arg: &str) -> Option<HandleRule> {
    DATA_PARSED
        .rules
        .iter()
        .find(|(s, a, _)| *s == syscall && *a == arg)
        .map(|&(_, _, r)| r)
}

/// What the value of `syscall`'s argument `a` means: the call's own line,
/// else its type's.
pub fn meaning_of(syscall: &str, a: &ArgInfo) -> Option<Meaning> {
    let data = &*DATA_PARSED;
    let own = data
        .meanings
        .iter()
        .find(|(s, n, _)| *s == syscall && *n == a.name)
        .map(|(_, _, m)| *m);
    own.or_else(|| {
        data.types
            .iter()
            .find(|(t, _)| *t == a.ctype)
            .map(|(_, m)| *m)
    })
}

/// Whether an argument is a handle by value (`HANDLE`).
pub fn is_handle(a: &ArgInfo) -> bool {
    a.ctype == "HANDLE"
}

/// The pseudo-handle of the calling process, `NtCurrentProcess()`, at the ABI's width.
fn current_process(abi: Abi) -> u64 {
    if abi.pointer_bits >= 64 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    }
}

/// The most handles a table keeps (the oldest entries go first when a
/// guest opens more without closing; their names are then unknown).
pub const MAX_HANDLES: usize = 1 << 16;

/// Handle names per address space, from what the calls did.
#[derive(Debug, Default)]
pub struct Handles {
    names: HashMap<(u64, u64), String>,
    order: std::collections::VecDeque<(u64, u64)>,
    /// Calls in flight that will write a handle: seq -> (address, name).
    pending: HashMap<u64, Vec<(u64, String)>>,
}

impl Handles {
    /// The name of `handle` in address space `asid`, if a call named it.
    pub fn name(&self, asid: u64, handle: u64) -> Option<&str> {
        self.names.get(&(asid, handle)).map(String::as_str)
    }

    fn insert(&mut self, asid: u64, handle: u64, name: String) {
        if self.names.insert((asid, handle), name).is_none() {
            self.order.push_back((asid, handle));
            if self.order.len() > MAX_HANDLES {
                if let Some(old) = self.order.pop_front() {
                    self.names.remove(&old);
                }
            }
        }
    }

    /// The full name an `OBJECT_ATTRIBUTES` at `addr` gives: its
    /// RootDirectory's name (when set and known), `\`, its ObjectName.
    pub fn object_name(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx, addr: u64) -> Option<String> {
        let name = windows::object_attributes_name(cpu, ctx.abi, addr).ok()?;
        let root = structure("OBJECT_ATTRIBUTES")?
            .layout(ctx.abi)
            .into_iter()
            .find(|f| f.def.kind == FieldKind::Handle)
            .and_then(|f| cpu.read_uint(addr.wrapping_add(f.offset), f.size).ok())
            .unwrap_or(0);
        match self.name(ctx.asid, root) {
            Some(r) if root != 0 => Some(format!("{}\\{name}", r.trim_end_matches('\\'))),
            _ => Some(name),
        }
    }

    /// At a call's enter: the names of the handles it will write, by the
    /// address it writes each to.
    pub fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let Some(info) = ctx.info else { return };
        let value = |name: &str| {
            info.args
                .iter()
                .position(|a| a.name == name)
                .map(|i| ctx.args[i])
        };
        let mut out = Vec::new();
        for (i, a) in info.args.iter().enumerate() {
            if a.dir != ArgDir::Out || a.pointee != "HANDLE" || ctx.args[i] == 0 {
                continue;
            }
            let name = match rule(info.name, a.name) {
                Some(HandleRule::Dup {
                    source,
                    source_process,
                    target_process,
                }) => {
                    let me = current_process(ctx.abi);
                    let local =
                        value(source_process) == Some(me) && value(target_process) == Some(me);
                    value(source)
                        .filter(|_| local)
                        .and_then(|h| self.name(ctx.asid, h))
                        .map(String::from)
                }
                _ => self.named_by(cpu, ctx),
            };
            if let Some(name) = name {
                out.push((ctx.args[i], name));
            }
        }
        if !out.is_empty() {
            self.pending.insert(ctx.seq, out);
        }
    }

    /// What names the handles a call creates: its OBJECT_ATTRIBUTES, else its CLIENT_ID.
    fn named_by(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<String> {
        let info = ctx.info?;
        let arg = |pointee: &str| {
            info.args
                .iter()
                .position(|a| a.pointee == pointee)
                .map(|i| ctx.args[i])
                .filter(|&p| p != 0)
        };
        if let Some(oa) = arg("OBJECT_ATTRIBUTES") {
            if let Some(name) = self.object_name(cpu, ctx, oa).filter(|n| !n.is_empty()) {
                return Some(name);
            }
        }
        let cid = arg("CLIENT_ID")?;
        let layout = structure("CLIENT_ID")?.layout(ctx.abi);
        let read =
            |cpu: &mut dyn Cpu, f: &Placed| cpu.read_uint(cid.wrapping_add(f.offset), f.size);
        let (process, thread) = (
            read(cpu, layout.first()?).ok()?,
            read(cpu, layout.get(1)?).ok()?,
        );
        match (process, thread) {
            (_, t) if t != 0 => Some(format!("tid:{t}")),
            (p, _) if p != 0 => Some(format!("pid:{p}")),
            _ => None,
        }
    }

    /// At a call's return: the handles it wrote get their names, the one
    /// it closed loses its. Call it before the return's arguments are captured.
    pub fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let pending = self.pending.remove(&ctx.seq);
        let (Some(info), Some(ret)) = (ctx.info, ctx.retval) else {
            return;
        };
        if ret.is_error() {
            return;
        }
        let width = usize::from(ctx.abi.pointer_bits / 8);
        for (addr, name) in pending.into_iter().flatten() {
            if let Ok(h) = cpu.read_uint(addr, width) {
                self.insert(ctx.asid, h, name);
            }
        }
        for (i, a) in info.args.iter().enumerate() {
            if rule(info.name, a.name) == Some(HandleRule::Close) {
                let key = (ctx.asid, ctx.args[i]);
                if self.names.remove(&key).is_some() {
                    self.order.retain(|k| *k != key);
                }
            }
        }
    }

    /// Forgets what a call dropped by the engine would have written.
    pub fn dropped(&mut self, seq: u64) {
        self.pending.remove(&seq);
    }
}

/// Reads the structure `s` at `addr` as named values: integers, handles
/// with their names in `handles`, strings.
pub fn read_struct(
    cpu: &mut dyn Cpu,
    ctx: &SyscallCtx,
    handles: &Handles,
    s: &Struct,
    addr: u64,
) -> Result<crate::event::Args, MemError> {
    use crate::event::ArgValue;
    let mut out = Vec::new();
    for f in s.layout(ctx.abi) {
        let at = addr.wrapping_add(f.offset);
        let raw = cpu.read_uint(at, f.size)?;
        let mut value = match f.def.kind {
            FieldKind::Int(n) => {
                let shift = 64 - 8 * n as u32;
                ArgValue::int(((raw << shift) as i64) >> shift)
            }
            FieldKind::Status => ArgValue::int(i64::from(raw as u32 as i32)),
            FieldKind::Handle => {
                let mut v = ArgValue::uint(raw);
                v.object = handles.name(ctx.asid, raw).map(String::from);
                v
            }
            FieldKind::Ustr if raw != 0 => windows::unicode_string(cpu, ctx.abi, raw)
                .map_or(ArgValue::unreadable(raw), |t| {
                    ArgValue::string(raw, t.as_bytes(), false)
                }),
            FieldKind::Ustr | FieldKind::Ptr => ArgValue::ptr(raw),
            FieldKind::Uint(_) | FieldKind::Size => ArgValue::uint(raw),
        };
        value.names = match (f.def.kind, f.def.set) {
            (FieldKind::Status, _) => Meaning::Status.render(ctx.abi, raw),
            (_, Some(set)) => Meaning::Set(set).render(ctx.abi, raw),
            _ => None,
        };
        out.push((f.def.name.to_string(), value));
    }
    Ok(crate::event::Args(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls2_core::abi::{windows_x64, windows_x86};

    #[test]
    fn the_data_file_parses_and_lays_out_as_the_ddk() {
        let data = parse(DATA).unwrap();
        assert!(data.structs.len() >= 5);
        let oa = structure("OBJECT_ATTRIBUTES").unwrap();
        let offsets = |abi| oa.layout(abi).iter().map(|f| f.offset).collect::<Vec<_>>();
        // ntdef.h: Length, RootDirectory, ObjectName, Attributes, SD, SQOS.
        assert_eq!(offsets(windows_x86::ABI), vec![0, 4, 8, 12, 16, 20]);
        assert_eq!(offsets(windows_x64::ABI), vec![0, 8, 16, 24, 32, 40]);
        let us = structure("UNICODE_STRING")
            .unwrap()
            .layout(windows_x64::ABI);
        assert_eq!(us[2].offset, 8);
        assert_eq!(rule("NtClose", "Handle"), Some(HandleRule::Close));
        assert!(matches!(
            rule("NtDuplicateObject", "TargetHandle"),
            Some(HandleRule::Dup {
                source: "SourceHandle",
                ..
            })
        ));
        assert!(parse("struct X a:u8\n").is_err());
        assert!(parse("NtClose Handle frobnicate\n").is_err());
    }

    /// Guest memory as a map, for the handle table's reads.
    struct Mem(HashMap<u64, u8>, u64);

    impl Mem {
        fn put(&mut self, addr: u64, bytes: &[u8]) {
            for (i, b) in bytes.iter().enumerate() {
                self.0.insert(addr + i as u64, *b);
            }
        }
        fn put32(&mut self, addr: u64, v: u32) {
            self.put(addr, &v.to_le_bytes());
        }
        /// An OBJECT_ATTRIBUTES (x86) at `addr` naming `name` under `root`.
        fn object_attributes(&mut self, addr: u64, root: u32, name: &str) {
            let wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
            self.put32(addr, 24);
            self.put32(addr + 4, root);
            self.put32(addr + 8, (addr + 0x20) as u32);
            self.put(addr + 0x20, &(wide.len() as u16).to_le_bytes());
            self.put(addr + 0x22, &(wide.len() as u16).to_le_bytes());
            self.put32(addr + 0x24, (addr + 0x40) as u32);
            self.put(addr + 0x40, &wide);
        }
    }

    impl Cpu for Mem {
        fn reg(&mut self, _: syscalls2_core::Reg) -> u64 {
            0
        }
        fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
            for (i, b) in buf.iter_mut().enumerate() {
                let a = addr + i as u64;
                *b = *self.0.get(&a).ok_or(MemError { addr: a })?;
            }
            Ok(())
        }
        fn pc(&mut self) -> u64 {
            0
        }
        fn asid(&mut self) -> u64 {
            self.1
        }
        fn mode(&mut self) -> syscalls2_core::Mode {
            syscalls2_core::Mode::default()
        }
    }

    /// A call of windows7_x86 with arguments by name, returning `status`.
    fn call(seq: u64, name: &str, args: &[(&str, u64)], status: u32) -> SyscallCtx {
        let table = syscalls2_profiles::by_name("windows7_x86").unwrap();
        let info = table.by_name(name).unwrap();
        let mut raw = [0; syscalls2_core::MAX_SLOTS];
        for (n, v) in args {
            raw[info.args.iter().position(|a| a.name == *n).unwrap()] = *v;
        }
        SyscallCtx {
            seq,
            no: info.no,
            pc: 0,
            asid: 7,
            retaddr: 0,
            sp: 0,
            vcpu: 0,
            args: raw,
            args_error: None,
            info: Some(info),
            table,
            abi: table.abi,
            retval: Some(syscalls2_core::Retval::ntstatus(status)),
            child: false,
        }
    }

    /// A directory opened, a file opened relative to it, the file's handle
    /// duplicated within the process, then closed: the names follow.
    #[test]
    fn handles_follow_creation_root_directories_duplication_and_close() {
        let mut mem = Mem(HashMap::new(), 7);
        let mut h = Handles::default();
        let run = |mem: &mut Mem, h: &mut Handles, ctx: SyscallCtx| {
            h.enter(mem, &ctx);
            h.ret(mem, &ctx);
        };
        mem.object_attributes(0x1000, 0, r"\??\C:\dir");
        mem.put32(0x3000, 0x10);
        let open = [("FileHandle", 0x3000), ("ObjectAttributes", 0x1000)];
        run(&mut mem, &mut h, call(1, "NtCreateFile", &open, 0));
        assert_eq!(h.name(7, 0x10), Some(r"\??\C:\dir"));
        mem.object_attributes(0x2000, 0x10, "a.txt");
        mem.put32(0x3004, 0x20);
        let relative = [("FileHandle", 0x3004), ("ObjectAttributes", 0x2000)];
        run(&mut mem, &mut h, call(2, "NtCreateFile", &relative, 0));
        assert_eq!(h.name(7, 0x20), Some(r"\??\C:\dir\a.txt"));
        // Another address space has its own handles.
        assert_eq!(h.name(8, 0x20), None);
        // A failed open names nothing.
        mem.put32(0x3008, 0x24);
        let failed = [("FileHandle", 0x3008), ("ObjectAttributes", 0x2000)];
        run(
            &mut mem,
            &mut h,
            call(3, "NtCreateFile", &failed, 0xc000_0034),
        );
        assert_eq!(h.name(7, 0x24), None);
        mem.put32(0x300c, 0x30);
        let me = u64::from(u32::MAX);
        let dup = [
            ("SourceProcessHandle", me),
            ("SourceHandle", 0x20),
            ("TargetProcessHandle", me),
            ("TargetHandle", 0x300c),
        ];
        run(&mut mem, &mut h, call(4, "NtDuplicateObject", &dup, 0));
        assert_eq!(h.name(7, 0x30), Some(r"\??\C:\dir\a.txt"));
        // Into another process: not a handle of this one.
        mem.put32(0x3010, 0x34);
        let elsewhere = [
            ("SourceProcessHandle", me),
            ("SourceHandle", 0x20),
            ("TargetProcessHandle", 0x44),
            ("TargetHandle", 0x3010),
        ];
        run(
            &mut mem,
            &mut h,
            call(5, "NtDuplicateObject", &elsewhere, 0),
        );
        assert_eq!(h.name(7, 0x34), None);
        run(&mut mem, &mut h, call(6, "NtClose", &[("Handle", 0x20)], 0));
        assert_eq!(h.name(7, 0x20), None);
        assert_eq!(h.name(7, 0x30), Some(r"\??\C:\dir\a.txt"));
    }

    /// The meanings render with mingw-w64's values: each object type's
    /// rights, values, flags, information classes, NTSTATUS names.
    #[test]
    fn meanings_name_values_as_the_headers_do() {
        let abi = windows_x86::ABI;
        let table = syscalls2_profiles::by_name("windows7_x86").unwrap();
        let arg = |call: &str, name: &str| {
            let info = table.by_name(call).unwrap();
            let a = info.args.iter().find(|a| a.name == name).unwrap();
            meaning_of(call, a)
        };
        let show =
            |call: &str, name: &str, v: u64| arg(call, name).unwrap().render(abi, v).unwrap();
        // FILE_GENERIC_READ, then the same bits as a key's rights.
        assert_eq!(
            show("NtOpenFile", "DesiredAccess", 0x120089),
            "FILE_READ_DATA|FILE_READ_EA|FILE_READ_ATTRIBUTES|READ_CONTROL|SYNCHRONIZE"
        );
        assert_eq!(
            show("NtOpenKey", "DesiredAccess", 0x20019),
            "KEY_QUERY_VALUE|KEY_ENUMERATE_SUB_KEYS|KEY_NOTIFY|READ_CONTROL"
        );
        assert_eq!(
            show("NtOpenProcess", "DesiredAccess", 0x1410),
            "PROCESS_VM_READ|PROCESS_QUERY_INFORMATION|PROCESS_QUERY_LIMITED_INFORMATION"
        );
        // A call that does not say which object: the standard and generic
        // rights by name, the specific ones in hex.
        assert_eq!(
            show("NtDuplicateObject", "DesiredAccess", 0x80100003),
            "SYNCHRONIZE|GENERIC_READ|0x3"
        );
        assert_eq!(show("NtCreateFile", "CreateDisposition", 3), "FILE_OPEN_IF");
        assert_eq!(show("NtCreateFile", "CreateDisposition", 9), "9");
        assert_eq!(show("NtCreateFile", "ShareAccess", 0), "0");
        assert_eq!(
            show("NtCreateFile", "ShareAccess", 7),
            "FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE"
        );
        assert_eq!(
            show("NtQueryInformationFile", "FileInformationClass", 4),
            "FileBasicInformation"
        );
        assert_eq!(
            show("NtQueryInformationProcess", "ProcessInformationClass", 0),
            "ProcessBasicInformation"
        );
        assert_eq!(
            show("NtAllocateVirtualMemory", "AllocationType", 0x3000),
            "MEM_COMMIT|MEM_RESERVE"
        );
        assert_eq!(
            show("NtAllocateVirtualMemory", "Protect", 4),
            "PAGE_READWRITE"
        );
        assert_eq!(
            show("NtTerminateProcess", "ExitStatus", 0xc000013a),
            "STATUS_CONTROL_C_EXIT"
        );
        // An integer nothing names.
        assert_eq!(arg("NtReadFile", "Length"), None);
        // OBJECT_ATTRIBUTES.Attributes takes its set.
        let oa = structure("OBJECT_ATTRIBUTES").unwrap();
        assert_eq!(oa.fields[3].set, Some("object_attributes"));
        assert!(parse("struct X a:u32:nosuch\n").is_err());
        assert!(parse("type ULONG nosuch\n").is_err());
        assert!(parse("NtOpenFile OpenOptions nosuch\n").is_err());
    }

    /// Every rule names a call and arguments of the bundled Windows tables.
    #[test]
    fn rules_name_real_arguments() {
        let table = syscalls2_profiles::by_name("windows7_x86").unwrap();
        for (call, arg, r) in &parse(DATA).unwrap().rules {
            let info = table.by_name(call).unwrap_or_else(|| panic!("no {call}"));
            let mut names = vec![*arg];
            if let HandleRule::Dup {
                source,
                source_process,
                target_process,
            } = r
            {
                names.extend([*source, *source_process, *target_process]);
            }
            for n in names {
                assert!(info.args.iter().any(|a| a.name == n), "{call} has no {n}");
            }
        }
        // A call's meanings: in some Windows table, with that argument, an integer.
        let windows: Vec<_> = syscalls2_profiles::all()
            .iter()
            .filter(|t| t.name.starts_with("windows"))
            .collect();
        for (call, arg, _) in &parse(DATA).unwrap().meanings {
            let found = windows
                .iter()
                .filter_map(|t| t.by_name(call))
                .flat_map(|i| i.args.iter())
                .find(|a| a.name == *arg)
                .unwrap_or_else(|| panic!("no Windows table has {call}({arg})"));
            assert!(
                matches!(found.class, syscalls2_core::ArgClass::Int { .. }),
                "{call}({arg}) is not an integer"
            );
        }
    }
}
