//! Linux on AArch64: `svc #0`.
//!
//! Number in X8; arguments in X0..X5; the call returns to pc + 4 with SP
//! unchanged; the return value is X0. An AArch32 process on an AArch64 guest
//! follows [`super::linux_arm`] (the engine picks that profile).

use super::{Entry, Retval, SyscallInsn};
use crate::cpu::{Cpu, MemError, Mode, Reg};

/// How many argument slots calls can use (X0..X5).
pub const ARG_SLOTS: usize = 6;

/// The stack pointer, SP.
pub const SP: Reg = Reg::Sp;

/// Decodes a call made by `insn` at `pc`.
#[inline]
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Sp);
    Ok(Entry::returning_to_next(
        cpu.reg(Reg::X(8)),
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i` (X0..X5).
#[inline]
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 6 { cpu.reg(Reg::X(i as u8)) } else { 0 })
}

/// Reads the return value from X0.
#[inline]
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(cpu.reg(Reg::X(0)) as i64)
}
