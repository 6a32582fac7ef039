//! Syscall instructions and their encodings. Each ABI's
//! [`AbiDesc::find_insn`](crate::AbiDesc::find_insn) says which of these it
//! uses; the encodings themselves are facts of the instruction sets.

use crate::cpu::Mode;

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
    /// RISC-V `ecall` (`0x00000073`; there is no compressed form).
    Ecall,
}

impl SyscallInsn {
    /// The instruction's length in bytes.
    pub const fn len(self) -> u64 {
        match self {
            SyscallInsn::ArmSvc { thumb: false, .. }
            | SyscallInsn::A64Svc
            | SyscallInsn::MipsSyscall
            | SyscallInsn::Ecall => 4,
            _ => 2,
        }
    }

    /// Whether the instruction is empty; never (every encoding has bytes).
    pub const fn is_empty(self) -> bool {
        false
    }

    /// A short name (`"sysenter"`, `"svc-thumb"`), for traces.
    pub const fn name(self) -> &'static str {
        match self {
            SyscallInsn::Int80 => "int80",
            SyscallInsn::Sysenter => "sysenter",
            SyscallInsn::Syscall | SyscallInsn::MipsSyscall => "syscall",
            SyscallInsn::Int2e => "int2e",
            SyscallInsn::ArmSvc { thumb: true, .. } => "svc-thumb",
            SyscallInsn::ArmSvc { thumb: false, .. } => "svc-arm",
            SyscallInsn::A64Svc => "svc",
            SyscallInsn::Ecall => "ecall",
        }
    }
}

/// The x86 system call instructions at the start of `bytes`.
pub(crate) fn x86(bytes: &[u8]) -> Option<SyscallInsn> {
    match bytes.get(..2)? {
        [0xcd, 0x80] => Some(SyscallInsn::Int80),
        [0x0f, 0x34] => Some(SyscallInsn::Sysenter),
        [0x0f, 0x05] => Some(SyscallInsn::Syscall),
        [0xcd, 0x2e] => Some(SyscallInsn::Int2e),
        _ => None,
    }
}

fn word(bytes: &[u8], mode: Mode) -> Option<u32> {
    let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(if mode.big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// An AArch32 `svc` (ARM or, in Thumb state, Thumb) at the start of `bytes`.
pub(crate) fn arm_svc(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    if mode.thumb {
        let half: [u8; 2] = bytes.get(..2)?.try_into().ok()?;
        let half = if mode.big_endian {
            u16::from_be_bytes(half)
        } else {
            u16::from_le_bytes(half)
        };
        (half & 0xff00 == 0xdf00).then_some(SyscallInsn::ArmSvc {
            imm: u32::from(half & 0xff),
            thumb: true,
        })
    } else {
        let insn = word(bytes, mode)?;
        // SVC: cond != 0b1111, bits 27..24 = 0b1111.
        (insn & 0x0f00_0000 == 0x0f00_0000 && insn >> 28 != 0xf).then_some(SyscallInsn::ArmSvc {
            imm: insn & 0x00ff_ffff,
            thumb: false,
        })
    }
}

/// An AArch64 `svc #imm` at the start of `bytes`.
pub(crate) fn a64_svc(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    let insn = word(bytes, mode)?;
    (insn & 0xffe0_001f == 0xd400_0001).then_some(SyscallInsn::A64Svc)
}

/// A MIPS `syscall` at the start of `bytes`.
pub(crate) fn mips_syscall(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    let insn = word(bytes, mode)?;
    (insn & 0xfc00_003f == 0x0000_000c).then_some(SyscallInsn::MipsSyscall)
}

/// A RISC-V `ecall` at the start of `bytes` (instructions are little-endian).
pub(crate) fn riscv_ecall(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    (word(bytes, mode)? == 0x0000_0073).then_some(SyscallInsn::Ecall)
}

#[cfg(test)]
mod tests {
    use crate::*;

    #[test]
    fn syscall_instructions_are_recognised_per_abi() {
        let le = Mode::default();
        let wide = Mode { wide: true, ..le };
        let x86 = linux_x86::ABI;
        assert_eq!(
            x86.find_syscall_insn(&[0xcd, 0x80], le),
            Some(SyscallInsn::Int80)
        );
        assert_eq!(
            x86.find_syscall_insn(&[0x0f, 0x34], le),
            Some(SyscallInsn::Sysenter)
        );
        // A Linux i386 kernel has no `int 0x2e`; Windows x86 has.
        assert_eq!(x86.find_syscall_insn(&[0xcd, 0x2e], le), None);
        assert_eq!(
            windows_x86::ABI.find_syscall_insn(&[0xcd, 0x2e], le),
            Some(SyscallInsn::Int2e)
        );
        assert_eq!(x86.find_syscall_insn(&[0xcd, 0x21], le), None);
        // x86-64 Linux: `syscall`, and its compat partner's `int 0x80`.
        let x64 = linux_x64::ABI;
        assert_eq!(
            x64.find_syscall_insn(&[0x0f, 0x05, 0x90], wide),
            Some(SyscallInsn::Syscall)
        );
        assert_eq!(
            x64.find_syscall_insn(&[0xcd, 0x80], wide),
            Some(SyscallInsn::Int80)
        );
        // svc #0 (ARM), svc #0x900004 (OABI write), svc 0 (Thumb).
        let arm = linux_arm::ABI;
        assert_eq!(
            arm.find_syscall_insn(&0xef00_0000u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: false
            })
        );
        assert_eq!(
            arm.find_syscall_insn(&0xef90_0004u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0x90_0004,
                thumb: false
            })
        );
        let thumb = Mode { thumb: true, ..le };
        assert_eq!(
            arm.find_syscall_insn(&[0x00, 0xdf], thumb),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: true
            })
        );
        // An unconditional-space encoding with the same bits is not an SVC.
        assert_eq!(
            arm.find_syscall_insn(&0xff00_0000u32.to_le_bytes(), le),
            None
        );
        let arm64 = linux_arm64::ABI;
        assert_eq!(
            arm64.find_syscall_insn(&0xd400_0001u32.to_le_bytes(), wide),
            Some(SyscallInsn::A64Svc)
        );
        // An AArch32 process on an AArch64 CPU.
        assert_eq!(
            arm64.find_syscall_insn(&0xef00_0000u32.to_le_bytes(), le),
            Some(SyscallInsn::ArmSvc {
                imm: 0,
                thumb: false
            })
        );
        // ...but not in AArch64 state.
        assert_eq!(
            arm64.find_syscall_insn(&0xef00_0000u32.to_le_bytes(), wide),
            None
        );
        let be = Mode {
            big_endian: true,
            ..le
        };
        assert_eq!(
            linux_mips::ABI.find_syscall_insn(&[0, 0, 0, 0x0c], be),
            Some(SyscallInsn::MipsSyscall)
        );
        assert_eq!(
            linux_mips64::ABI.find_syscall_insn(&[0x0c, 0, 0, 0], le),
            Some(SyscallInsn::MipsSyscall)
        );
        let rv = linux_riscv64::ABI;
        assert_eq!(
            rv.find_syscall_insn(&[0x73, 0, 0, 0], wide),
            Some(SyscallInsn::Ecall)
        );
        // ebreak (0x00100073) and csrrw (0x34011073) share the SYSTEM opcode.
        assert_eq!(
            rv.find_syscall_insn(&0x0010_0073u32.to_le_bytes(), wide),
            None
        );
        assert_eq!(
            rv.find_syscall_insn(&0x3401_1073u32.to_le_bytes(), wide),
            None
        );
    }
}
