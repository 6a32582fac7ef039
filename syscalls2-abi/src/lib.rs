//! The vocabulary of syscalls2: system call ABIs, described once each.
//!
//! An ABI is an operating system's system call convention on one
//! instruction set: which instructions make a call, where the number, each
//! argument, the return value and the return address are. Each ABI is one
//! module of this crate exporting one [`AbiDesc`] as `ABI`, and [`ALL`]
//! lists them:
//!
//! | ABI | module |
//! |---|---|
//! | Linux i386 (and 32-bit processes on x86-64) | [`linux_x86`] |
//! | Linux x86-64 | [`linux_x64`] |
//! | Linux ARM EABI (and AArch32 processes on AArch64) | [`linux_arm`] |
//! | Linux AArch64 | [`linux_arm64`] |
//! | Linux MIPS o32, n64, n32 | [`linux_mips`], [`linux_mips64`], [`linux_mips64n32`] |
//! | Linux RISC-V 64 (LP64) | [`linux_riscv64`] |
//! | Windows NT x86, x64 | [`windows_x86`], [`windows_x64`] |
//! | FreeBSD x86-64 (for PANDA's `freebsd_x64` table) | [`freebsd_x64`] |
//!
//! Adding an ABI is one file (a module with its `ABI` constant, its decoder
//! functions and its documentation) and one line (its name in the
//! [`abis!`](crate#adding-an-abi) list below).
//!
//! Besides the ABIs, this crate holds what every other syscalls2 crate
//! shares and nothing more, with no dependencies, so that the proc-macro
//! build stays lean: the [`Cpu`] trait a backend implements, the argument
//! classes ([`ArgClass`], [`ArgInfo`]), the return conventions ([`Retval`],
//! [`ReturnKind`]) and the error names ([`errno`]).
//!
//! # Adding an ABI
//!
//! Write `src/myos_myarch.rs` after the model of [`linux_arm64`]: a doc
//! comment saying where every value lives (with the kernel source that says
//! so), the decoder functions, and
//! `pub const ABI: Abi = Abi::new(&AbiDesc { .. })`. Then add its name to
//! the `abis!` invocation in `lib.rs`. Table files named
//! `{os}_{file_arch}_prototypes.txt` then resolve to it, and the backends
//! instrument the instructions its [`AbiDesc::find_insn`] recognises.

#![warn(missing_docs)]

pub mod cpu;
pub mod errno;
mod insn;
mod layout;
mod meta;
mod process;

pub use cpu::{Cpu, CpuExt, MemError, Mode, Reg};
pub use insn::SyscallInsn;
pub use meta::{ArgClass, ArgDir, ArgInfo, ReturnKind};
pub use process::{Process, Source};

use std::fmt;
use std::hash::{Hash, Hasher};

/// Declares the ABI modules and [`ALL`], in one list.
macro_rules! abis {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $($(#[$doc])* pub mod $name;)*
        /// Every ABI this crate describes.
        pub const ALL: &[Abi] = &[$($name::ABI),*];
    };
}

abis! {
    linux_x86,
    linux_x64,
    linux_arm,
    linux_arm64,
    linux_mips,
    linux_mips64,
    linux_mips64n32,
    linux_riscv64,
    windows_x86,
    windows_x64,
    freebsd_x64,
}

mod mips;

/// The most argument slots any syscall uses (Windows has 17-argument calls).
pub const MAX_SLOTS: usize = 20;

/// An operating system family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    /// Linux: errors are -errno (MIPS: a flag in `$a3`).
    Linux,
    /// Windows NT: calls return an NTSTATUS.
    Windows,
    /// FreeBSD: errors are a positive errno with the carry flag set.
    FreeBsd,
}

impl Os {
    /// The prefix of table file names of this OS (`linux`, `windows`).
    pub const fn prefix(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::FreeBsd => "freebsd",
        }
    }
}

/// A guest instruction-set architecture, as an emulator target names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// i386.
    X86,
    /// x86-64 (which also runs 32-bit code).
    X86_64,
    /// AArch32 (ARM and Thumb).
    Arm,
    /// AArch64 (which may also run AArch32 code).
    Aarch64,
    /// 32-bit MIPS.
    Mips,
    /// 64-bit MIPS (o32, n32 and n64 processes).
    Mips64,
    /// RV64 (RISC-V, 64-bit).
    Riscv64,
}

/// Everything about one system call ABI. Each ABI module of this crate
/// defines one, as its `ABI` constant; nothing about an ABI is decided
/// anywhere else.
pub struct AbiDesc {
    /// The name, as `syscall_table!(.., abi = NAME)` takes it and as the
    /// module is named (`"linux_x64"`).
    pub name: &'static str,
    /// The OS family.
    pub os: Os,
    /// The instruction set whose syscall instructions the ABI uses.
    pub arch: Arch,
    /// The architecture part of table file names (`x64` in
    /// `linux_x64_prototypes.txt`, `windows7_x64_prototypes.txt`).
    pub file_arch: &'static str,
    /// The bits of the number register the kernel dispatches on: the
    /// decoder drops the others, as the kernel does, and a table cannot
    /// number a call beyond them (x86-64 Linux 0xffff_ffff, NT 0x1fff).
    pub number_mask: u64,
    /// The width of an argument slot (a register, or a stack word) in bits.
    pub slot_bits: u8,
    /// The width of a pointer in bits (32 on MIPS n32, whose registers are 64-bit).
    pub pointer_bits: u8,
    /// The width of the legacy 16-bit id types (`mode_t`, `old_uid_t`): 16
    /// where the kernel's old ABI kept them 16-bit (i386, ARM), else 32.
    pub legacy16_bits: u8,
    /// Whether a 64-bit argument that needs two slots starts at an even
    /// slot, leaving a hole (ARM EABI, MIPS o32), rather than at the next
    /// free one (i386, Windows x86).
    pub aligns_slot_pairs: bool,
    /// How many argument slots a call can use.
    pub arg_slots: usize,
    /// The stack pointer register.
    pub stack_pointer: Reg,
    /// Every register the decoders read, so a backend can look them up once.
    pub regs: &'static [Reg],
    /// The ABIs whose calls a guest of this ABI also makes (32-bit processes
    /// on a 64-bit kernel); [`AbiDesc::call_abi`] picks among them.
    pub compat: &'static [Abi],
    /// The compat ABIs this ABI's kernel tells apart by the call number
    /// alone (MIPS64: o32 from 4000, n32 from 6000), so that one table may
    /// hold the calls of all of them, as PANDA's `linux_mips64` does.
    pub compat_numbers: &'static [NumberRange],
    /// The error names of this ABI's kernel, sorted by number; empty for
    /// Windows, whose calls return NTSTATUS values ([`errno::tables::NTSTATUS`]).
    pub errno: &'static [errno::ErrnoName],
    /// Recognises one of this ABI's syscall instructions at the start of
    /// `bytes`, code executing in `mode`.
    pub find_insn: fn(bytes: &[u8], mode: Mode) -> Option<SyscallInsn>,
    /// The compat ABI a call made by `insn` in `mode` follows, read from the
    /// CPU if the kernel decides by the number; `None`: this ABI.
    pub call_abi: fn(cpu: &mut dyn Cpu, insn: SyscallInsn, mode: Mode) -> Option<Abi>,
    /// The compat ABI whose registers are live in `mode` (a 32-bit process
    /// on a 64-bit guest), at a return site; `None`: this ABI.
    pub mode_abi: fn(mode: Mode) -> Option<Abi>,
    /// Decodes the call being made by `insn` at `pc`: its number, where it
    /// returns, where its arguments are.
    pub enter:
        fn(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError>,
    /// Reads argument slot `i` of a call, as a raw slot-wide value.
    pub slot: fn(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError>,
    /// Reads the return value of the call that has just returned.
    pub retval: fn(cpu: &mut dyn Cpu) -> Retval,
    /// Where a call made by `insn` at `pc` returns, from the code bytes
    /// that follow the instruction: what a backend instruments when it
    /// translates the instruction.
    pub return_site: fn(insn: SyscallInsn, pc: u64, code_after: &[u8]) -> ReturnSite,
}

/// A range of call numbers that belongs to another ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberRange {
    /// The first number of the range.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// The ABI whose calls these are.
    pub abi: Abi,
}

/// Where a call returns, as known when its instruction is translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnSite {
    /// At this address.
    At(u64),
    /// Known only when the call executes ([`Entry::retaddr`]): Windows x86's
    /// `sysenter` returns to the address at `[EDX]`.
    Dynamic,
}

/// A system call ABI: a handle on its [`AbiDesc`] (dereferences to it).
#[derive(Clone, Copy)]
pub struct Abi(&'static AbiDesc);

impl Abi {
    /// The handle on `desc`, for an ABI module's `ABI` constant.
    pub const fn new(desc: &'static AbiDesc) -> Abi {
        Abi(desc)
    }

    /// The description.
    pub const fn desc(self) -> &'static AbiDesc {
        self.0
    }

    /// The ABI's name (see [`AbiDesc::name`]).
    pub const fn name(self) -> &'static str {
        self.0.name
    }

    /// The OS family.
    pub const fn os(self) -> Os {
        self.0.os
    }

    /// The ABI named `name` (see [`AbiDesc::name`]).
    pub fn from_name(name: &str) -> Option<Abi> {
        ALL.iter().copied().find(|abi| abi.name == name)
    }

    /// The ABI of a table file named as PANDA names them,
    /// `{os}_{arch}_prototypes.txt`: `linux_mips64n32_prototypes.txt`,
    /// `windows_xpsp2_x86_prototypes.txt`, `windows7_x64_prototypes.txt`.
    /// The OS is the part before the last `_`, the arch the part after it.
    pub fn from_table_file_name(file_name: &str) -> Option<Abi> {
        let stem = file_name.strip_suffix(".txt").unwrap_or(file_name);
        let stem = stem.strip_suffix("_prototypes").unwrap_or(stem);
        let (os, arch) = stem.rsplit_once('_')?;
        ALL.iter()
            .copied()
            .find(|abi| os.starts_with(abi.os.prefix()) && abi.file_arch == arch)
    }

    /// The ABI a Linux (or Windows) kernel on `arch` uses for its own
    /// processes: the one of that OS and instruction set that is no other
    /// ABI's compat partner on the same instruction set (MIPS64's n64, not
    /// its n32).
    pub fn native(os: Os, arch: Arch) -> Option<Abi> {
        let is_compat_here = |abi: &Abi| {
            ALL.iter()
                .any(|other| other.arch == arch && other.compat.contains(abi))
        };
        ALL.iter()
            .copied()
            .find(|abi| abi.os == os && abi.arch == arch && !is_compat_here(abi))
    }

    /// The ABI a call numbered `number` follows, where the kernel tells
    /// ABIs apart by number ([`AbiDesc::compat_numbers`]); else this one.
    pub fn abi_of_number(self, number: u64) -> Abi {
        self.0
            .compat_numbers
            .iter()
            .find(|r| (r.first..r.end).contains(&number))
            .map_or(self, |r| r.abi)
    }

    /// Width of C `long` in bits: the pointer width on Linux (ILP32, LP64),
    /// always 32 on Windows (LLP64).
    pub const fn long_bits(self) -> u8 {
        match self.0.os {
            Os::Windows => 32,
            Os::Linux | Os::FreeBsd => self.0.pointer_bits,
        }
    }

    /// The width in bits an argument of `class` has on this ABI.
    pub const fn arg_bits(self, class: ArgClass) -> u8 {
        match class {
            ArgClass::Int { bits, .. } => bits,
            ArgClass::Varargs => 0,
            _ => self.0.pointer_bits,
        }
    }

    /// Lays out arguments of the given widths in bits (0 for `...`) over
    /// argument slots: returns `(first slot, slot count)` for each.
    ///
    /// A value wider than a slot takes two; on ARM EABI and MIPS o32 the
    /// pair starts at an even slot, which shifts every later argument
    /// (`pread64(fd, buf, count, pos)` on ARM: `pos` in r4:r5, r3 unused).
    pub fn layout_slots(self, widths: &[u8]) -> Vec<(u8, u8)> {
        layout::layout_slots(widths, self.0.slot_bits, self.0.aligns_slot_pairs)
    }

    /// The ABI a call made by `insn` in `mode` follows: this one, or one of
    /// its [`AbiDesc::compat`] ABIs (`int 0x80` on x86-64 follows linux_x86).
    #[inline]
    pub fn for_call(self, cpu: &mut dyn Cpu, insn: SyscallInsn, mode: Mode) -> Abi {
        (self.0.call_abi)(cpu, insn, mode).unwrap_or(self)
    }

    /// The ABI whose registers are live in `mode`: this one, or a compat ABI
    /// (a 32-bit process on a 64-bit guest has the 32-bit register file).
    #[inline]
    pub fn for_mode(self, mode: Mode) -> Abi {
        (self.0.mode_abi)(mode).unwrap_or(self)
    }

    /// Recognises a syscall instruction of this ABI or of one of its compat
    /// ABIs at the start of `bytes`. Backends call it when they translate
    /// code, so only syscall instructions get an execution callback.
    pub fn find_syscall_insn(self, bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
        (self.0.find_insn)(bytes, mode).or_else(|| {
            self.0
                .compat
                .iter()
                .find_map(|c| (c.find_insn)(bytes, mode))
        })
    }

    /// Decodes the syscall being made by `insn` at `pc` in `mode`.
    #[inline]
    pub fn enter(
        self,
        cpu: &mut dyn Cpu,
        insn: SyscallInsn,
        pc: u64,
        mode: Mode,
    ) -> Result<Entry, MemError> {
        (self.0.enter)(cpu, insn, pc, mode)
    }

    /// Reads argument slot `i` of the call described by `entry`.
    #[inline]
    pub fn slot(self, cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
        (self.0.slot)(cpu, entry, i)
    }

    /// Reads every argument of a call into `out`: each value assembled from
    /// its slots (a register pair in the guest's byte order) and widened to
    /// 64 bits, sign-extended where its class is signed. `...` reads as 0.
    ///
    /// An argument whose stack slot cannot be read reads as 0; the first such
    /// error is returned.
    pub fn read_args(
        self,
        cpu: &mut dyn Cpu,
        entry: &Entry,
        args: &[ArgInfo],
        out: &mut [u64; MAX_SLOTS],
    ) -> Option<MemError> {
        layout::read_args(self, cpu, entry, args, out)
    }

    /// Reads the stack pointer, at the ABI's width.
    #[inline]
    pub fn read_sp(self, cpu: &mut dyn Cpu) -> u64 {
        cpu.reg(self.0.stack_pointer) & layout::mask(u32::from(self.0.slot_bits))
    }

    /// Reads the return value of the call that has just returned.
    #[inline]
    pub fn retval(self, cpu: &mut dyn Cpu) -> Retval {
        (self.0.retval)(cpu)
    }

    /// Where a call made by `insn` at `pc` returns, given the code after it.
    pub fn return_site(self, insn: SyscallInsn, pc: u64, code_after: &[u8]) -> ReturnSite {
        (self.0.return_site)(insn, pc, code_after)
    }

    /// The name of Linux error number `errno` on this ABI, with its
    /// message (`("ENOENT", "No such file or directory")`).
    pub fn errno_name(self, errno: u32) -> Option<&'static errno::ErrnoName> {
        errno::errno_by_number(self.0.errno, errno)
    }
}

impl std::ops::Deref for Abi {
    type Target = AbiDesc;

    fn deref(&self) -> &AbiDesc {
        self.0
    }
}

impl PartialEq for Abi {
    fn eq(&self, other: &Abi) -> bool {
        std::ptr::eq(self.0, other.0) || self.0.name == other.0.name
    }
}

impl Eq for Abi {}

impl Hash for Abi {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// What an ABI decoder learned at a syscall instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The syscall number, as the table numbers it (and as the kernel
    /// dispatches on it: the bits the kernel ignores are dropped).
    pub number: u64,
    /// The address the call returns to.
    pub retaddr: u64,
    /// The stack pointer when the call returns there. It tells apart
    /// threads of one process waiting at the same return address.
    pub ret_sp: u64,
    /// The instruction that made the call.
    pub insn: SyscallInsn,
    /// The mode bits at the call.
    pub mode: Mode,
    /// Where stack-passed arguments start (ABI-specific: EDX on Windows x86,
    /// SP on MIPS o32 and Windows x64).
    pub stack: u64,
}

impl Entry {
    /// The common case: a call that returns to the instruction after `insn`
    /// with the stack pointer unchanged, stack arguments (if any) above `sp`.
    #[inline]
    pub const fn returning_to_next(
        number: u64,
        pc: u64,
        sp: u64,
        insn: SyscallInsn,
        mode: Mode,
    ) -> Entry {
        Entry {
            number,
            retaddr: pc.wrapping_add(insn.len()),
            ret_sp: sp,
            insn,
            mode,
            stack: sp,
        }
    }
}

/// The return site of the calls that return to the instruction after theirs.
pub fn next_instruction(insn: SyscallInsn, pc: u64, _code_after: &[u8]) -> ReturnSite {
    ReturnSite::At(pc.wrapping_add(insn.len()))
}

/// For [`AbiDesc::call_abi`] of an ABI without compat partners.
pub fn no_compat_call(_cpu: &mut dyn Cpu, _insn: SyscallInsn, _mode: Mode) -> Option<Abi> {
    None
}

/// For [`AbiDesc::mode_abi`] of an ABI without compat partners.
pub fn no_compat_mode(_mode: Mode) -> Option<Abi> {
    None
}

/// A syscall's return value, read at its return site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Retval {
    /// The return register, sign-extended from the ABI's width.
    pub value: i64,
    /// The error the call reports, if it failed: errno on Linux (`ENOENT` is
    /// 2), the NTSTATUS on Windows (`0xC0000034`).
    pub error: Option<u32>,
}

impl Retval {
    /// A Linux return: `value` in -4095..=-1 is `-errno`.
    pub fn linux(value: i64) -> Retval {
        Retval {
            value,
            error: (-4095..=-1)
                .contains(&value)
                .then(|| value.unsigned_abs() as u32),
        }
    }

    /// A Windows NTSTATUS: error when its severity bits are `11`.
    pub fn ntstatus(status: u32) -> Retval {
        Retval {
            value: i64::from(status as i32),
            error: (status >> 30 == 3).then_some(status),
        }
    }

    /// Whether the call failed.
    pub const fn is_error(self) -> bool {
        self.error.is_some()
    }
}

/// Sign-extends the low 32 bits of `v`.
pub(crate) const fn sext32(v: u64) -> i64 {
    v as u32 as i32 as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_file_names_resolve_to_abis() {
        let cases = [
            ("linux_x86_prototypes.txt", Some(linux_x86::ABI)),
            ("linux_mips64n32_prototypes.txt", Some(linux_mips64n32::ABI)),
            ("linux_mips64_prototypes.txt", Some(linux_mips64::ABI)),
            ("linux_arm64_prototypes.txt", Some(linux_arm64::ABI)),
            ("linux_riscv64_prototypes.txt", Some(linux_riscv64::ABI)),
            ("windows_xpsp2_x86_prototypes.txt", Some(windows_x86::ABI)),
            (
                "windows_2003sp12_x64_prototypes.txt",
                Some(windows_x64::ABI),
            ),
            ("windows7_x64_prototypes.txt", Some(windows_x64::ABI)),
            ("windowsxp_sp2_x86_prototypes.txt", Some(windows_x86::ABI)),
            ("freebsd_x64_prototypes.txt", Some(freebsd_x64::ABI)),
            ("freebsd_arm_prototypes.txt", None),
            ("linux_sparc_prototypes.txt", None),
            ("prototypes.txt", None),
        ];
        for (name, abi) in cases {
            assert_eq!(Abi::from_table_file_name(name), abi, "{name}");
        }
    }

    #[test]
    fn every_abi_is_listed_once_and_found_by_name() {
        for abi in ALL {
            assert_eq!(Abi::from_name(abi.name), Some(*abi));
            assert_eq!(ALL.iter().filter(|a| a.name == abi.name).count(), 1);
            assert!(abi.arg_slots <= MAX_SLOTS, "{abi}");
            assert!(abi.regs.contains(&abi.stack_pointer), "{abi}");
            for c in abi.compat {
                assert_ne!(c, abi);
            }
        }
    }

    #[test]
    fn native_abis() {
        assert_eq!(Abi::native(Os::Linux, Arch::X86_64), Some(linux_x64::ABI));
        assert_eq!(Abi::native(Os::Linux, Arch::X86), Some(linux_x86::ABI));
        assert_eq!(Abi::native(Os::Linux, Arch::Arm), Some(linux_arm::ABI));
        assert_eq!(
            Abi::native(Os::Linux, Arch::Aarch64),
            Some(linux_arm64::ABI)
        );
        assert_eq!(Abi::native(Os::Linux, Arch::Mips), Some(linux_mips::ABI));
        assert_eq!(
            Abi::native(Os::Linux, Arch::Mips64),
            Some(linux_mips64::ABI)
        );
        assert_eq!(
            Abi::native(Os::Linux, Arch::Riscv64),
            Some(linux_riscv64::ABI)
        );
        assert_eq!(Abi::native(Os::Windows, Arch::X86), Some(windows_x86::ABI));
        assert_eq!(Abi::native(Os::Windows, Arch::Arm), None);
    }

    #[test]
    fn data_models() {
        assert_eq!(linux_x86::ABI.long_bits(), 32);
        assert_eq!(linux_x64::ABI.long_bits(), 64);
        assert_eq!(windows_x64::ABI.long_bits(), 32);
        assert_eq!(windows_x64::ABI.pointer_bits, 64);
        assert_eq!(linux_mips64n32::ABI.pointer_bits, 32);
        assert_eq!(linux_mips64n32::ABI.slot_bits, 64);
    }

    #[test]
    fn linux_and_windows_return_conventions() {
        assert_eq!(Retval::linux(-2).error, Some(2));
        assert_eq!(Retval::linux(-4096).error, None);
        assert_eq!(Retval::linux(3).error, None);
        assert_eq!(Retval::ntstatus(0xC000_0034).error, Some(0xC000_0034));
        assert_eq!(Retval::ntstatus(0x0000_0103).error, None); // STATUS_PENDING
        assert_eq!(Retval::ntstatus(0x8000_0005).error, None); // a warning
    }
}

/// Each ABI's call number read as its kernel reads it (Linux 6.1; NT's
/// dispatcher): the bits the kernel ignores dropped, the ones it checks kept.
#[cfg(test)]
mod number_tests {
    use super::*;
    use std::collections::HashMap;

    /// Registers only; no readable memory.
    struct Regs(HashMap<Reg, u64>, Mode);

    impl Cpu for Regs {
        fn reg(&mut self, reg: Reg) -> u64 {
            self.0.get(&reg).copied().unwrap_or(0)
        }
        fn read_mem(&mut self, addr: u64, _buf: &mut [u8]) -> Result<(), MemError> {
            Err(MemError { addr })
        }
        fn pc(&mut self) -> u64 {
            0
        }
        fn asid(&mut self) -> u64 {
            0
        }
        fn mode(&mut self) -> Mode {
            self.1
        }
    }

    const WIDE: Mode = Mode {
        thumb: false,
        wide: true,
        big_endian: false,
    };

    /// The number `abi` decodes for a call made by `insn` with `reg` = `value`,
    /// and the ABI the call follows.
    fn number(abi: Abi, insn: SyscallInsn, mode: Mode, reg: Reg, value: u64) -> (u64, Abi) {
        let mut cpu = Regs(HashMap::from([(reg, value)]), mode);
        let call = abi.for_call(&mut cpu, insn, mode);
        (
            call.enter(&mut cpu, insn, 0x1000, mode).unwrap().number,
            call,
        )
    }

    #[test]
    fn x86_64_uses_the_low_32_bits_and_keeps_x32s_bit() {
        let n = |v| number(linux_x64::ABI, SyscallInsn::Syscall, WIDE, Reg::Rax, v).0;
        // syscall((1UL << 32) | SYS_openat, ..) is an openat.
        assert_eq!(n(1 << 32 | 257), 257);
        // An x32 call fails with ENOSYS on Debian's kernels: an unknown number.
        assert_eq!(n(0x4000_0000 | 257), 0x4000_0101);
        // int 0x80 from a 64-bit process: the 32-bit ABI, EAX.
        let (no, abi) = number(
            linux_x64::ABI,
            SyscallInsn::Int80,
            WIDE,
            Reg::Rax,
            1 << 32 | 5,
        );
        assert_eq!((no, abi), (5, linux_x86::ABI));
    }

    #[test]
    fn aarch64_uses_the_low_32_bits_of_x8() {
        let svc = SyscallInsn::A64Svc;
        assert_eq!(
            number(linux_arm64::ABI, svc, WIDE, Reg::X(8), 1 << 32 | 56).0,
            56
        );
    }

    #[test]
    fn arm_ignores_the_svc_immediate() {
        // Debian's armmp kernel has no OABI_COMPAT: svc #0x900005 (the old
        // ABI's open) with r7 = 322 runs openat.
        let oabi_open = SyscallInsn::ArmSvc {
            imm: 0x90_0005,
            thumb: false,
        };
        assert_eq!(
            number(linux_arm::ABI, oabi_open, Mode::default(), Reg::Arm(7), 322).0,
            322
        );
    }

    #[test]
    fn mips64_checks_the_whole_register() {
        let sys = SyscallInsn::MipsSyscall;
        let mips64 = linux_mips64::ABI;
        // The kernel's range checks are on the 64-bit $v0.
        let (no, abi) = number(mips64, sys, WIDE, Reg::Mips(2), 1 << 32 | 4003);
        assert_eq!((no, abi), (1 << 32 | 4003, mips64), "no o32 call");
        let (no, abi) = number(mips64, sys, WIDE, Reg::Mips(2), 6001);
        assert_eq!((no, abi), (6001, linux_mips64n32::ABI));
        let (no, abi) = number(mips64, sys, WIDE, Reg::Mips(2), 1 << 32 | 6001);
        assert_eq!((no, abi), (1 << 32 | 6001, mips64), "no n32 call");
        assert_eq!(
            number(
                linux_mips64n32::ABI,
                sys,
                WIDE,
                Reg::Mips(2),
                1 << 32 | 6001
            )
            .0,
            1 << 32 | 6001
        );
    }

    #[test]
    fn windows_dispatches_on_13_bits() {
        for (abi, insn, mode) in [
            (windows_x64::ABI, SyscallInsn::Syscall, WIDE),
            (windows_x86::ABI, SyscallInsn::Int2e, Mode::default()),
        ] {
            let mut cpu = Regs(HashMap::from([(Reg::Rax, 0x7fff_f052)]), mode);
            let entry = abi.enter(&mut cpu, insn, 0x1000, mode);
            assert_eq!(
                entry.map(|e| e.number),
                Ok(0x1052),
                "{abi}: win32k call 0x52"
            );
        }
    }

    #[test]
    fn no_address_overflows_near_the_top() {
        for abi in ALL {
            for insn in [
                SyscallInsn::Syscall,
                SyscallInsn::Int80,
                SyscallInsn::Int2e,
                SyscallInsn::A64Svc,
                SyscallInsn::MipsSyscall,
                SyscallInsn::ArmSvc {
                    imm: 0,
                    thumb: false,
                },
            ] {
                let mut cpu = Regs(HashMap::from([(Reg::Rsp, u64::MAX)]), WIDE);
                let _ = abi.enter(&mut cpu, insn, u64::MAX - 1, WIDE);
                let _ = abi.return_site(insn, u64::MAX, &[0xcd, 0x80]);
            }
        }
    }

    #[test]
    fn mips_error_flag_with_the_most_negative_result() {
        let mut cpu = Regs(
            HashMap::from([(Reg::Mips(2), i64::MIN as u64), (Reg::Mips(7), 1)]),
            WIDE,
        );
        let r = linux_mips64::ABI.retval(&mut cpu);
        assert!(r.is_error());
    }
}
