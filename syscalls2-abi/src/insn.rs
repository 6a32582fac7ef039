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
        /// The immediate (0 in EABI code; Linux's EABI ignores it, the old
        /// ABI put `0x900000 + n` there).
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

impl crate::Arch {
    /// Whether `bytes`, one whole instruction, returns from an exception or
    /// a system call: how a kernel gets back to the interrupted code
    /// (x86 `iret`, `sysret`, `sysexit`; AArch32 `movs pc, lr` and the
    /// other ALU forms writing the PC with S set, `ldm {..pc}^`, `rfe`,
    /// `eret`, Thumb-2 `subs pc, lr, #imm` and `rfe`; AArch64 `eret`,
    /// `eretaa`, `eretab`; MIPS `eret`, `eretnc`, `rfe`; RISC-V `sret`, `mret`). The first block a
    /// CPU executes after one is where an interrupted thread resumes, a
    /// system call's return among them: a backend that cannot know return
    /// sites before their code runs watches these instead. On AArch32 a
    /// 4-byte word is tried in both states (it may be either), so a Thumb-2
    /// instruction may be taken for an ARM one: a false alarm, never a
    /// miss. `mode.big_endian` selects the byte order of the words.
    pub fn is_exception_return(self, bytes: &[u8], mode: Mode) -> bool {
        use crate::Arch;
        match self {
            Arch::X86 | Arch::X86_64 => {
                // Operand-size and REX prefixes (`iretq` is `48 cf`).
                let op = bytes
                    .iter()
                    .position(|&b| b != 0x66 && !(0x40..=0x4f).contains(&b))
                    .map_or(&[][..], |i| &bytes[i..]);
                matches!(op, [0xcf] | [0x0f, 0x07] | [0x0f, 0x35])
            }
            Arch::Arm => {
                let Some(w) = word(bytes, mode) else {
                    return false;
                };
                let cond = w >> 28;
                // Data processing, S set, Rd = pc; not TST/TEQ/CMP/CMN.
                let alu = w & 0x0c10_f000 == 0x0010_f000
                    && !(8..=11).contains(&((w >> 21) & 0xf))
                    && cond != 0xf;
                // LDM with the S bit (^) and the pc in the list.
                let ldm = w & 0x0e50_8000 == 0x0850_8000 && cond != 0xf;
                let rfe = w & 0xfe50_ffff == 0xf810_0a00;
                let eret = w & 0x0fff_ffff == 0x0160_006e && cond != 0xf;
                // Thumb-2: two halfwords, the first at the lower address.
                let h = |i: usize| {
                    let b = [bytes[i], bytes[i + 1]];
                    if mode.big_endian {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    }
                };
                let (h1, h2) = (h(0), h(2));
                let t_subs = h1 == 0xf3de && h2 & 0xff00 == 0x8f00;
                let t_rfe = matches!(h1 & 0xfff0, 0xe810 | 0xe990) && h2 == 0xc000;
                alu || ldm || rfe || eret || t_subs || t_rfe
            }
            Arch::Aarch64 => {
                matches!(
                    word(bytes, mode),
                    Some(0xd69f_03e0 | 0xd69f_0bff | 0xd69f_0fff)
                )
            }
            Arch::Mips | Arch::Mips64 => {
                matches!(
                    word(bytes, mode),
                    Some(0x4200_0018 | 0x4200_0058 | 0x4200_0010)
                )
            }
            // `sret` (the kernel's return to user mode) and `mret`.
            Arch::Riscv64 => matches!(word(bytes, mode), Some(0x1020_0073 | 0x3020_0073)),
        }
    }
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
    #[test]
    fn exception_returns_are_recognised() {
        let le = Mode::default();
        let x = Arch::X86_64;
        for insn in [
            &[0x48, 0xcf][..],
            &[0xcf],
            &[0x48, 0x0f, 0x07],
            &[0x0f, 0x07],
            &[0x0f, 0x35],
        ] {
            assert!(x.is_exception_return(insn, le), "{insn:x?}");
        }
        // `syscall`, `ret`, `int 0x80`, `iret`'s byte inside a longer one.
        for insn in [
            &[0x0f, 0x05][..],
            &[0xc3],
            &[0xcd, 0x80],
            &[0xb8, 0xcf, 0, 0, 0],
        ] {
            assert!(!x.is_exception_return(insn, le), "{insn:x?}");
        }
        let arm = |w: u32| Arch::Arm.is_exception_return(&w.to_le_bytes(), le);
        // Linux: `movs pc, lr` (restore_user_regs), `subs pc, lr, #4`,
        // `ldmia sp, {r0-pc}^` (svc_exit), `rfeia sp!`, `eret`.
        for w in [
            0xe1b0_f00e,
            0xe25e_f004,
            0xe8dd_ffff,
            0xf8bd_0a00,
            0xe160_006e,
        ] {
            assert!(arm(w), "{w:08x}");
        }
        // `mov pc, lr` (no S), `cmp` (Rd ignored), `ldmia sp!, {r4, pc}`, `svc 0`.
        for w in [0xe1a0_f00e, 0xe15e_f000, 0xe8bd_8010, 0xef00_0000] {
            assert!(!arm(w), "{w:08x}");
        }
        // Thumb-2 `subs pc, lr, #0` (its `eret`), as halfwords f3de 8f00.
        assert!(Arch::Arm.is_exception_return(&[0xde, 0xf3, 0x00, 0x8f], le));
        let a64 = |w: u32| Arch::Aarch64.is_exception_return(&w.to_le_bytes(), le);
        assert!(a64(0xd69f_03e0));
        assert!(!a64(0xd65f_03c0)); // ret
        let be = Mode {
            big_endian: true,
            ..le
        };
        assert!(Arch::Mips.is_exception_return(&0x4200_0018u32.to_be_bytes(), be));
        assert!(!Arch::Mips.is_exception_return(&0x0000_000cu32.to_be_bytes(), be));
    }
}
