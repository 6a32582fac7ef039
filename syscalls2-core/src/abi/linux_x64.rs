//! Linux on x86-64: `syscall` (`0f 05`).
//!
//! Number in RAX; arguments in RDI, RSI, RDX, R10, R8, R9 (R10, not RCX,
//! which `syscall` overwrites with the return address). The call returns to
//! the next instruction (pc + 2) with RSP unchanged. An `int 0x80` or a call
//! from compatibility mode in a 64-bit guest follows [`super::linux_x86`];
//! the engine picks that profile (see `Engine::with_compat`).

use super::{Entry, Retval, SyscallInsn};
use crate::cpu::{Cpu, MemError, Mode, Reg};

/// How many argument slots calls can use (RDI, RSI, RDX, R10, R8, R9).
pub const ARG_SLOTS: usize = 6;

/// The stack pointer, RSP.
pub const SP: Reg = Reg::Rsp;

const ARG_REGS: [Reg; 6] = [Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::R10, Reg::R8, Reg::R9];

/// Decodes a call made by `insn` at `pc`.
#[inline]
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Rsp);
    Ok(Entry::returning_to_next(
        cpu.reg(Reg::Rax),
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i`.
#[inline]
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(ARG_REGS.get(i).map_or(0, |&r| cpu.reg(r)))
}

/// Reads the return value from RAX.
#[inline]
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(cpu.reg(Reg::Rax) as i64)
}
