//! System call ABIs: where the number, the arguments, the return value and
//! the return address live, and which instruction bytes are a syscall.
//!
//! One module per ABI holds its register conventions ([`linux_x86`],
//! [`linux_x64`], [`linux_arm`], [`linux_arm64`], [`linux_mips`],
//! [`windows_x86`], [`windows_x64`]); this module dispatches on [`Abi`] and
//! holds what all of them share: the data model used to size arguments, the
//! argument-slot layout, and the return-value conventions.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::meta::{ArgClass, ArgInfo};
use std::fmt;

pub mod linux_arm;
pub mod linux_arm64;
pub mod linux_mips;
pub mod linux_x64;
pub mod linux_x86;
pub mod windows_x64;
pub mod windows_x86;

/// The most argument slots any syscall uses (Windows has 17-argument calls).
pub const MAX_SLOTS: usize = 20;

/// An operating system family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    /// Linux: errors are -errno (MIPS: a flag in `$a3`).
    Linux,
    /// Windows NT: calls return an NTSTATUS.
    Windows,
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
}

/// A system call ABI: an OS's calling convention on one architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Abi {
    /// Linux on i386 (and 32-bit processes on x86-64): `int 0x80`, `sysenter`.
    LinuxX86,
    /// Linux on x86-64: `syscall`.
    LinuxX64,
    /// Linux on 32-bit ARM, EABI (and OABI): `svc`.
    LinuxArm,
    /// Linux on AArch64: `svc #0`.
    LinuxArm64,
    /// Linux on MIPS, o32.
    LinuxMips,
    /// Linux on MIPS64, n64.
    LinuxMips64,
    /// Linux on MIPS64, n32.
    LinuxMips64N32,
    /// Windows NT on x86: `sysenter` (XP and later) and `int 0x2e` (2000).
    WindowsX86,
    /// Windows on x86-64: `syscall`.
    WindowsX64,
}

impl Abi {
    /// Every ABI.
    pub const ALL: [Abi; 9] = [
        Abi::LinuxX86,
        Abi::LinuxX64,
        Abi::LinuxArm,
        Abi::LinuxArm64,
        Abi::LinuxMips,
        Abi::LinuxMips64,
        Abi::LinuxMips64N32,
        Abi::WindowsX86,
        Abi::WindowsX64,
    ];

    /// The ABI's name, as used after `abi =` in `syscall_table!`
    /// (`"linux_x86"`, `"windows_x64"`).
    pub const fn name(self) -> &'static str {
        match self {
            Abi::LinuxX86 => "linux_x86",
            Abi::LinuxX64 => "linux_x64",
            Abi::LinuxArm => "linux_arm",
            Abi::LinuxArm64 => "linux_arm64",
            Abi::LinuxMips => "linux_mips",
            Abi::LinuxMips64 => "linux_mips64",
            Abi::LinuxMips64N32 => "linux_mips64n32",
            Abi::WindowsX86 => "windows_x86",
            Abi::WindowsX64 => "windows_x64",
        }
    }

    /// The ABI named `name` (see [`Abi::name`]).
    pub fn from_name(name: &str) -> Option<Abi> {
        Abi::ALL.into_iter().find(|abi| abi.name() == name)
    }

    /// The ABI of a table file named as PANDA names them,
    /// `{os}_{arch}_prototypes.txt`: `linux_mips64n32_prototypes.txt`,
    /// `windows_xpsp2_x86_prototypes.txt`, `windows7_x64_prototypes.txt`.
    /// The OS is the part before the last `_`, the arch the part after it.
    pub fn from_table_file_name(file_name: &str) -> Option<Abi> {
        let stem = file_name.strip_suffix(".txt").unwrap_or(file_name);
        let stem = stem.strip_suffix("_prototypes").unwrap_or(stem);
        let (os, arch) = stem.rsplit_once('_')?;
        let os = if os.starts_with("linux") {
            Os::Linux
        } else if os.starts_with("windows") {
            Os::Windows
        } else {
            return None;
        };
        Some(match (os, arch) {
            (Os::Linux, "x86") => Abi::LinuxX86,
            (Os::Linux, "x64") => Abi::LinuxX64,
            (Os::Linux, "arm") => Abi::LinuxArm,
            (Os::Linux, "arm64") => Abi::LinuxArm64,
            (Os::Linux, "mips") => Abi::LinuxMips,
            (Os::Linux, "mips64") => Abi::LinuxMips64,
            (Os::Linux, "mips64n32") => Abi::LinuxMips64N32,
            (Os::Windows, "x86") => Abi::WindowsX86,
            (Os::Windows, "x64") => Abi::WindowsX64,
            _ => return None,
        })
    }

    /// The OS family.
    pub const fn os(self) -> Os {
        match self {
            Abi::WindowsX86 | Abi::WindowsX64 => Os::Windows,
            _ => Os::Linux,
        }
    }

    /// Width of an argument slot (a register, or a stack word) in bits.
    pub const fn slot_bits(self) -> u8 {
        match self {
            Abi::LinuxX86 | Abi::LinuxArm | Abi::LinuxMips | Abi::WindowsX86 => 32,
            _ => 64,
        }
    }

    /// Width of a pointer in bits (32 on MIPS n32, whose registers are 64-bit).
    pub const fn pointer_bits(self) -> u8 {
        match self {
            Abi::LinuxMips64N32 => 32,
            _ => self.slot_bits(),
        }
    }

    /// Width of C `long` in bits: the pointer width on Linux (ILP32, LP64),
    /// always 32 on Windows (LLP64).
    pub const fn long_bits(self) -> u8 {
        match self.os() {
            Os::Windows => 32,
            Os::Linux => self.pointer_bits(),
        }
    }

    /// Whether a 64-bit argument that needs two slots starts at an even slot,
    /// leaving a hole (ARM EABI, MIPS o32), rather than at the next free one
    /// (i386, Windows x86).
    pub const fn aligns_slot_pairs(self) -> bool {
        matches!(self, Abi::LinuxArm | Abi::LinuxMips)
    }

    /// The width in bits an argument of `class` has on this ABI, given the
    /// width its C type declares (`declared_bits`, 0 for pointers).
    pub const fn arg_bits(self, class: ArgClass, declared_bits: u8) -> u8 {
        match class {
            ArgClass::Int { bits, .. } => bits,
            ArgClass::Varargs => 0,
            _ if declared_bits != 0 => declared_bits,
            _ => self.pointer_bits(),
        }
    }

    /// Lays out arguments of the given widths in bits (0 for `...`) over
    /// argument slots: returns `(first slot, slot count)` for each.
    ///
    /// A value wider than a slot takes two; on ARM EABI and MIPS o32 the
    /// pair starts at an even slot, which shifts every later argument
    /// (`pread64(fd, buf, count, pos)` on ARM: `pos` in r4:r5, r3 unused).
    pub fn layout_slots(self, widths: &[u8]) -> Vec<(u8, u8)> {
        let mut next = 0u8;
        widths
            .iter()
            .map(|&bits| {
                if bits == 0 {
                    return (next, 0);
                }
                let count = if bits > self.slot_bits() { 2 } else { 1 };
                if count == 2 && self.aligns_slot_pairs() && next % 2 == 1 {
                    next += 1;
                }
                let first = next;
                next += count;
                (first, count)
            })
            .collect()
    }

    /// The architecture whose syscall instructions this ABI uses, for
    /// [`find_syscall_insn`].
    pub const fn arch(self) -> Arch {
        match self {
            Abi::LinuxX86 | Abi::WindowsX86 => Arch::X86,
            Abi::LinuxX64 | Abi::WindowsX64 => Arch::X86_64,
            Abi::LinuxArm => Arch::Arm,
            Abi::LinuxArm64 => Arch::Aarch64,
            Abi::LinuxMips => Arch::Mips,
            Abi::LinuxMips64 | Abi::LinuxMips64N32 => Arch::Mips64,
        }
    }

    /// The ABI a call made by `insn` in `mode` follows, on a guest whose
    /// native ABI is `self`: `int 0x80`, or any call from a 32-bit process,
    /// on x86-64 Linux follows linux_x86; an AArch32 `svc` on AArch64 Linux
    /// follows linux_arm. Otherwise `self`.
    pub fn for_call(self, insn: SyscallInsn, mode: Mode) -> Abi {
        match (self, insn) {
            (Abi::LinuxX64, SyscallInsn::Int80) => Abi::LinuxX86,
            (Abi::LinuxArm64, SyscallInsn::ArmSvc { .. }) => Abi::LinuxArm,
            _ => self.for_mode(mode),
        }
    }

    /// The ABI whose registers are live in `mode` on a guest whose native
    /// ABI is `self`: a 32-bit process on x86-64 (compatibility mode) or on
    /// AArch64 (AArch32 state) has the 32-bit register file.
    pub fn for_mode(self, mode: Mode) -> Abi {
        match self {
            Abi::LinuxX64 if !mode.wide => Abi::LinuxX86,
            Abi::LinuxArm64 if !mode.wide => Abi::LinuxArm,
            _ => self,
        }
    }

    /// Decodes the syscall being made by `insn` at `pc` in `mode`: its
    /// number, where it will return, and where its arguments are.
    #[inline]
    pub fn enter(
        self,
        cpu: &mut dyn Cpu,
        insn: SyscallInsn,
        pc: u64,
        mode: Mode,
    ) -> Result<Entry, MemError> {
        match self {
            Abi::LinuxX86 => linux_x86::enter(cpu, insn, pc, mode),
            Abi::LinuxX64 => linux_x64::enter(cpu, insn, pc, mode),
            Abi::LinuxArm => linux_arm::enter(cpu, insn, pc, mode),
            Abi::LinuxArm64 => linux_arm64::enter(cpu, insn, pc, mode),
            Abi::LinuxMips | Abi::LinuxMips64 | Abi::LinuxMips64N32 => {
                linux_mips::enter(self, cpu, insn, pc, mode)
            }
            Abi::WindowsX86 => windows_x86::enter(cpu, insn, pc, mode),
            Abi::WindowsX64 => windows_x64::enter(cpu, insn, pc, mode),
        }
    }

    /// Reads argument slot `i` of the call described by `entry`, as a raw
    /// slot-wide value.
    #[inline]
    pub fn slot(self, cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
        match self {
            Abi::LinuxX86 => linux_x86::slot(cpu, entry, i),
            Abi::LinuxX64 => linux_x64::slot(cpu, entry, i),
            Abi::LinuxArm => linux_arm::slot(cpu, entry, i),
            Abi::LinuxArm64 => linux_arm64::slot(cpu, entry, i),
            Abi::LinuxMips | Abi::LinuxMips64 | Abi::LinuxMips64N32 => {
                linux_mips::slot(self, cpu, entry, i)
            }
            Abi::WindowsX86 => windows_x86::slot(cpu, entry, i),
            Abi::WindowsX64 => windows_x64::slot(cpu, entry, i),
        }
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
        let mut error = None;
        let slot_bits = self.slot_bits();
        // ARM's old ABI packs 64-bit pairs without the EABI's alignment: its
        // slots are recounted here (the tables are laid out for EABI).
        let unaligned = self == Abi::LinuxArm && linux_arm::is_oabi(entry.insn);
        let mut next = 0u8;
        for (value, arg) in out.iter_mut().zip(args) {
            let first = if unaligned { next } else { arg.slot };
            next = first + arg.slots;
            let raw = match arg.slots {
                1 => self.slot(cpu, entry, usize::from(first)),
                0 => Ok(0),
                _ => self
                    .slot(cpu, entry, usize::from(first))
                    .and_then(|low_slot| {
                        let high_slot = self.slot(cpu, entry, usize::from(first) + 1)?;
                        let (lo, hi) = if entry.mode.big_endian {
                            (high_slot, low_slot)
                        } else {
                            (low_slot, high_slot)
                        };
                        let bits = u32::from(slot_bits);
                        Ok((lo & mask(bits)) | (hi << bits))
                    }),
            };
            *value = match raw {
                Ok(raw) => widen(raw, arg.class, slot_bits),
                Err(e) => {
                    error.get_or_insert(e);
                    0
                }
            };
        }
        error
    }

    /// How many argument slots a call can use on this ABI.
    pub const fn arg_slots(self) -> usize {
        match self {
            Abi::LinuxX86 => linux_x86::ARG_SLOTS,
            Abi::LinuxX64 => linux_x64::ARG_SLOTS,
            Abi::LinuxArm => linux_arm::ARG_SLOTS,
            Abi::LinuxArm64 => linux_arm64::ARG_SLOTS,
            Abi::LinuxMips | Abi::LinuxMips64 | Abi::LinuxMips64N32 => linux_mips::ARG_SLOTS,
            Abi::WindowsX86 => windows_x86::ARG_SLOTS,
            Abi::WindowsX64 => windows_x64::ARG_SLOTS,
        }
    }

    /// The stack pointer register.
    pub const fn stack_pointer(self) -> Reg {
        match self {
            Abi::LinuxX86 => linux_x86::SP,
            Abi::LinuxX64 => linux_x64::SP,
            Abi::LinuxArm => linux_arm::SP,
            Abi::LinuxArm64 => linux_arm64::SP,
            Abi::LinuxMips | Abi::LinuxMips64 | Abi::LinuxMips64N32 => linux_mips::SP,
            Abi::WindowsX86 => windows_x86::SP,
            Abi::WindowsX64 => windows_x64::SP,
        }
    }

    /// Reads the stack pointer, at the ABI's width.
    #[inline]
    pub fn read_sp(self, cpu: &mut dyn Cpu) -> u64 {
        cpu.reg(self.stack_pointer()) & mask(u32::from(self.slot_bits()))
    }

    /// Reads the return value of the call that has just returned.
    #[inline]
    pub fn retval(self, cpu: &mut dyn Cpu) -> Retval {
        match self {
            Abi::LinuxX86 => linux_x86::retval(cpu),
            Abi::LinuxX64 => linux_x64::retval(cpu),
            Abi::LinuxArm => linux_arm::retval(cpu),
            Abi::LinuxArm64 => linux_arm64::retval(cpu),
            Abi::LinuxMips | Abi::LinuxMips64 | Abi::LinuxMips64N32 => {
                linux_mips::retval(self, cpu)
            }
            Abi::WindowsX86 | Abi::WindowsX64 => windows_x86::retval(cpu),
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Truncates `raw` to the width of `class` and widens it back to 64 bits,
/// sign-extending signed integers. Pointers are zero-extended.
#[inline]
fn widen(raw: u64, class: ArgClass, slot_bits: u8) -> u64 {
    let (signed, bits) = match class {
        ArgClass::Int { signed, bits } => (signed, u32::from(bits)),
        _ => (false, u32::from(slot_bits)),
    };
    if bits >= 64 {
        return raw;
    }
    let value = raw & mask(bits);
    let sign = 1u64 << (bits - 1);
    if signed && value & sign != 0 {
        value | !mask(bits)
    } else {
        value
    }
}

/// A syscall instruction, as found in the guest's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyscallInsn {
    /// x86 `int 0x80` (`cd 80`).
    Int80,
    /// x86 `sysenter` (`0f 34`).
    Sysenter,
    /// x86 `syscall` (`0f 05`).
    Syscall,
    /// x86 `int 0x2e` (`cd 2e`), Windows 2000 and the XP fallback.
    Int2e,
    /// AArch32 `svc #imm` (`swi`); `thumb` when it is the 2-byte Thumb encoding.
    ArmSvc {
        /// The immediate: 0 for EABI, `0x900000 + n` for OABI.
        imm: u32,
        /// The 2-byte Thumb encoding.
        thumb: bool,
    },
    /// AArch64 `svc #imm`.
    A64Svc,
    /// MIPS `syscall`.
    MipsSyscall,
}

impl SyscallInsn {
    /// The instruction's length in bytes.
    pub const fn len(self) -> u64 {
        match self {
            SyscallInsn::ArmSvc { thumb: false, .. }
            | SyscallInsn::A64Svc
            | SyscallInsn::MipsSyscall => 4,
            _ => 2,
        }
    }

    /// Whether the instruction is empty; never (every encoding has bytes).
    pub const fn is_empty(self) -> bool {
        false
    }
}

/// Recognises a syscall instruction at the start of `bytes`, code of `arch`
/// executing in `mode`. Backends call it when they translate code, so only
/// syscall instructions get an execution callback.
pub fn find_syscall_insn(arch: Arch, bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    let word = || -> Option<u32> {
        let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
        Some(if mode.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    match arch {
        Arch::X86 | Arch::X86_64 => match bytes.get(..2)? {
            [0xcd, 0x80] => Some(SyscallInsn::Int80),
            [0x0f, 0x34] => Some(SyscallInsn::Sysenter),
            [0x0f, 0x05] => Some(SyscallInsn::Syscall),
            [0xcd, 0x2e] => Some(SyscallInsn::Int2e),
            _ => None,
        },
        Arch::Arm | Arch::Aarch64 if arch == Arch::Arm || !mode.wide => {
            if mode.thumb {
                let half = bytes.get(..2)?;
                let half = if mode.big_endian {
                    u16::from_be_bytes([half[0], half[1]])
                } else {
                    u16::from_le_bytes([half[0], half[1]])
                };
                (half & 0xff00 == 0xdf00).then_some(SyscallInsn::ArmSvc {
                    imm: u32::from(half & 0xff),
                    thumb: true,
                })
            } else {
                let insn = word()?;
                // SVC: cond != 0b1111, bits 27..24 = 0b1111.
                (insn & 0x0f00_0000 == 0x0f00_0000 && insn >> 28 != 0xf).then_some(
                    SyscallInsn::ArmSvc {
                        imm: insn & 0x00ff_ffff,
                        thumb: false,
                    },
                )
            }
        }
        Arch::Aarch64 | Arch::Arm => {
            let insn = word()?;
            (insn & 0xffe0_001f == 0xd400_0001).then_some(SyscallInsn::A64Svc)
        }
        Arch::Mips | Arch::Mips64 => {
            let insn = word()?;
            (insn & 0xfc00_003f == 0x0000_000c).then_some(SyscallInsn::MipsSyscall)
        }
    }
}

/// What an ABI decoder learned at a syscall instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The syscall number, as the table numbers it.
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
            retaddr: pc + insn.len(),
            ret_sp: sp,
            insn,
            mode,
            stack: sp,
        }
    }
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
            ("linux_x86_prototypes.txt", Some(Abi::LinuxX86)),
            ("linux_mips64n32_prototypes.txt", Some(Abi::LinuxMips64N32)),
            ("linux_arm64_prototypes.txt", Some(Abi::LinuxArm64)),
            ("windows_xpsp2_x86_prototypes.txt", Some(Abi::WindowsX86)),
            ("windows_2003sp12_x64_prototypes.txt", Some(Abi::WindowsX64)),
            ("windows7_x64_prototypes.txt", Some(Abi::WindowsX64)),
            ("windowsxp_sp2_x86_prototypes.txt", Some(Abi::WindowsX86)),
            ("freebsd_x64_prototypes.txt", None),
            ("linux_sparc_prototypes.txt", None),
            ("prototypes.txt", None),
        ];
        for (name, abi) in cases {
            assert_eq!(Abi::from_table_file_name(name), abi, "{name}");
        }
    }

    #[test]
    fn data_models() {
        assert_eq!(Abi::LinuxX86.long_bits(), 32);
        assert_eq!(Abi::LinuxX64.long_bits(), 64);
        assert_eq!(Abi::WindowsX64.long_bits(), 32);
        assert_eq!(Abi::WindowsX64.pointer_bits(), 64);
        assert_eq!(Abi::LinuxMips64N32.pointer_bits(), 32);
        assert_eq!(Abi::LinuxMips64N32.slot_bits(), 64);
    }

    #[test]
    fn pair_layouts() {
        // pread64(unsigned int fd, char *buf, size_t count, loff_t pos)
        let pread = [32, 32, 32, 64];
        assert_eq!(
            Abi::LinuxX86.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (3, 2)]
        );
        assert_eq!(
            Abi::LinuxArm.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (4, 2)]
        );
        assert_eq!(
            Abi::LinuxMips.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (4, 2)]
        );
        assert_eq!(
            Abi::LinuxX64.layout_slots(&[32, 64, 64, 64]),
            [(0, 1), (1, 1), (2, 1), (3, 1)]
        );
        assert_eq!(
            Abi::LinuxMips64N32.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (3, 1)]
        );
        // fadvise64_64(int fd, loff_t offset, loff_t len, int advice) on i386:
        // consecutive pairs, no hole.
        assert_eq!(
            Abi::LinuxX86.layout_slots(&[32, 64, 64, 32]),
            [(0, 1), (1, 2), (3, 2), (5, 1)]
        );
        assert_eq!(
            Abi::LinuxArm.layout_slots(&[32, 64, 64, 32]),
            [(0, 1), (2, 2), (4, 2), (6, 1)]
        );
        assert_eq!(
            Abi::WindowsX86.layout_slots(&[32, 64, 32]),
            [(0, 1), (1, 2), (3, 1)]
        );
        // Varargs take no slot.
        assert_eq!(Abi::LinuxX86.layout_slots(&[32, 0]), [(0, 1), (1, 0)]);
    }

    #[test]
    fn widening_follows_the_class() {
        let int = |signed, bits| ArgClass::Int { signed, bits };
        assert_eq!(widen(0xffff_ffff, int(true, 32), 32), u64::MAX);
        assert_eq!(widen(0xffff_ffff, int(false, 32), 32), 0xffff_ffff);
        assert_eq!(widen(0x1_ffff_ffff, int(false, 32), 64), 0xffff_ffff);
        assert_eq!(widen(0x8000, int(true, 16), 32), 0xffff_ffff_ffff_8000);
        assert_eq!(widen(0xdead_beef_0000_0001, ArgClass::Buf, 32), 1);
        assert_eq!(
            widen(0xdead_beef_0000_0001, ArgClass::Buf, 64),
            0xdead_beef_0000_0001
        );
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

    #[test]
    fn syscall_instructions_are_recognised() {
        let le = Mode::default();
        let wide = Mode { wide: true, ..le };
        assert_eq!(
            find_syscall_insn(Arch::X86, &[0xcd, 0x80], le),
            Some(SyscallInsn::Int80)
        );
        assert_eq!(
            find_syscall_insn(Arch::X86_64, &[0x0f, 0x05, 0x90], wide),
            Some(SyscallInsn::Syscall)
        );
        assert_eq!(
            find_syscall_insn(Arch::X86, &[0x0f, 0x34], le),
            Some(SyscallInsn::Sysenter)
        );
        assert_eq!(
            find_syscall_insn(Arch::X86, &[0xcd, 0x2e], le),
            Some(SyscallInsn::Int2e)
        );
        assert_eq!(find_syscall_insn(Arch::X86, &[0xcd, 0x21], le), None);
        // svc #0 (ARM), svc #0x900004 (OABI write), svc 0 (Thumb).
        assert_eq!(
            find_syscall_insn(Arch::Arm, &0xef00_0000u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: false
            })
        );
        assert_eq!(
            find_syscall_insn(Arch::Arm, &0xef90_0004u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0x90_0004,
                thumb: false
            })
        );
        let thumb = Mode { thumb: true, ..le };
        assert_eq!(
            find_syscall_insn(Arch::Arm, &[0x00, 0xdf], thumb),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: true
            })
        );
        // An unconditional-space encoding with the same bits is not an SVC.
        assert_eq!(
            find_syscall_insn(Arch::Arm, &0xff00_0000u32.to_le_bytes(), le),
            None
        );
        assert_eq!(
            find_syscall_insn(Arch::Aarch64, &0xd400_0001u32.to_le_bytes(), wide),
            Some(SyscallInsn::A64Svc)
        );
        // An AArch32 process on an AArch64 CPU.
        assert_eq!(
            find_syscall_insn(Arch::Aarch64, &0xef00_0000u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: false
            })
        );
        let be = Mode {
            big_endian: true,
            ..le
        };
        assert_eq!(
            find_syscall_insn(Arch::Mips, &[0, 0, 0, 0x0c], be),
            Some(SyscallInsn::MipsSyscall)
        );
        assert_eq!(
            find_syscall_insn(Arch::Mips, &[0x0c, 0, 0, 0], le),
            Some(SyscallInsn::MipsSyscall)
        );
    }
}
