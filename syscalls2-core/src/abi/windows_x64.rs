//! Windows on x86-64: `syscall`.
//!
//! The stubs are `mov r10, rcx; mov eax, N; syscall; ret`. The number is in
//! EAX; the arguments in R10 (the copy of RCX, which `syscall` overwrites),
//! RDX, R8, R9, then on the user stack at `RSP + 0x28 + 8*(n-4)` (past the
//! stub's return address and the caller's 32-byte home area). The call
//! returns to pc + 2 with RSP unchanged; the NTSTATUS is in EAX.

use super::{Entry, SyscallInsn};
use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};

/// How many argument slots calls can use (four registers, the rest on the stack).
pub const ARG_SLOTS: usize = super::MAX_SLOTS;

/// The stack pointer, RSP.
pub const SP: Reg = Reg::Rsp;

const ARG_REGS: [Reg; 4] = [Reg::R10, Reg::Rdx, Reg::R8, Reg::R9];

/// Decodes a call made by `insn` at `pc`.
#[inline]
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Rsp);
    Ok(Entry::returning_to_next(
        cpu.reg(Reg::Rax) & 0xffff_ffff,
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i`.
#[inline]
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    match ARG_REGS.get(i) {
        Some(&r) => Ok(cpu.reg(r)),
        None => cpu.read_uint(entry.stack.wrapping_add(0x28 + 8 * (i as u64 - 4)), 8),
    }
}
