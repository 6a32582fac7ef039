//! Linux on 32-bit ARM: `svc` (`swi`), in ARM or Thumb state.
//!
//! - EABI: `svc #0` with the number in R7.
//! - OABI: `svc #0x900000+n`, the number in the instruction (the table
//!   numbers it `n`).
//! - Arguments in R0..R6. A 64-bit argument takes an even/odd register pair
//!   (R0:R1, R2:R3, R4:R5), leaving a hole when it would start at an odd
//!   register; [`super::Abi::layout_slots`] accounts for it.
//! - The call returns to the next instruction: pc + 4 in ARM state, pc + 2
//!   in Thumb state; SP unchanged. The return value is R0.

use super::{sext32, Entry, Retval, SyscallInsn};
use crate::cpu::{Cpu, MemError, Mode, Reg};

/// How many argument slots calls can use (R0..R6).
pub const ARG_SLOTS: usize = 7;

/// The stack pointer, SP (r13).
pub const SP: Reg = Reg::Arm(13);

/// The OABI's number base: `svc #0x900000+n` makes syscall `n`.
pub const OABI_BASE: u32 = 0x90_0000;

/// Whether `insn` is an OABI call (`svc #0x900000+n`), whose 64-bit
/// arguments take the next two registers, unaligned.
pub const fn is_oabi(insn: SyscallInsn) -> bool {
    matches!(insn, SyscallInsn::ArmSvc { imm, .. } if imm >= OABI_BASE)
}

/// Decodes a call made by `insn` at `pc`.
#[inline]
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let number = match insn {
        SyscallInsn::ArmSvc { imm, .. } if imm >= OABI_BASE => u64::from(imm - OABI_BASE),
        _ => cpu.reg(Reg::Arm(7)) & 0xffff_ffff,
    };
    let sp = cpu.reg(Reg::Arm(13)) & 0xffff_ffff;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}

/// Reads argument slot `i` (R0..R6).
#[inline]
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 7 {
        cpu.reg(Reg::Arm(i as u8)) & 0xffff_ffff
    } else {
        0
    })
}

/// Reads the return value from R0.
#[inline]
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(sext32(cpu.reg(Reg::Arm(0))))
}
