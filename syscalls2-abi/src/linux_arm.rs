//! Linux on 32-bit ARM: `svc` (`swi`), in ARM or Thumb state.
//!
//! - EABI: `svc #0` with the number in R7.
//! - OABI: `svc #0x900000+n`, the number in the instruction (the table
//!   numbers it `n`); its 64-bit arguments take the next two registers,
//!   without the EABI's alignment ([`Entry::unaligned_pairs`]).
//! - Arguments in R0..R6. A 64-bit argument takes an even/odd register pair
//!   (R0:R1, R2:R3, R4:R5), leaving a hole when it would start at an odd
//!   register ([`crate::Abi::layout_slots`]).
//! - The call returns to the next instruction: pc + 4 in ARM state, pc + 2
//!   in Thumb state; SP unchanged. The return value is R0.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{insn, sext32, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on 32-bit ARM (EABI, and OABI calls).
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_arm",
    os: Os::Linux,
    arch: Arch::Arm,
    file_arch: "arm",
    slot_bits: 32,
    pointer_bits: 32,
    legacy16_bits: 16,
    aligns_slot_pairs: true,
    arg_slots: 7,
    stack_pointer: Reg::Arm(13),
    regs: &[
        Reg::Arm(0),
        Reg::Arm(1),
        Reg::Arm(2),
        Reg::Arm(3),
        Reg::Arm(4),
        Reg::Arm(5),
        Reg::Arm(6),
        Reg::Arm(7),
        Reg::Arm(13),
    ],
    compat: &[],
    compat_numbers: &[],
    errno: crate::errno::tables::GENERIC,
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// The OABI's number base: `svc #0x900000+n` makes syscall `n`.
pub const OABI_BASE: u32 = 0x90_0000;

/// Whether `insn` is an OABI call (`svc #0x900000+n`).
pub const fn is_oabi(insn: SyscallInsn) -> bool {
    matches!(insn, SyscallInsn::ArmSvc { imm, .. } if imm >= OABI_BASE)
}

/// `svc`, in AArch32 state (ARM, or Thumb when `mode.thumb`).
fn find_insn(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    if mode.wide {
        None
    } else {
        insn::arm_svc(bytes, mode)
    }
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let number = match insn {
        SyscallInsn::ArmSvc { imm, .. } if imm >= OABI_BASE => u64::from(imm - OABI_BASE),
        _ => cpu.reg(Reg::Arm(7)) & 0xffff_ffff,
    };
    let sp = cpu.reg(Reg::Arm(13)) & 0xffff_ffff;
    Ok(Entry {
        unaligned_pairs: is_oabi(insn),
        ..Entry::returning_to_next(number, pc, sp, insn, mode)
    })
}

/// Reads argument slot `i` (R0..R6).
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 7 {
        cpu.reg(Reg::Arm(i as u8)) & 0xffff_ffff
    } else {
        0
    })
}

/// Reads the return value from R0.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(sext32(cpu.reg(Reg::Arm(0))))
}
