//! Linux on RISC-V 64 (RV64, LP64): `ecall` from user mode.
//!
//! Number in `a7` (`x17`); arguments in `a0..a5` (`x10..x15`); the result
//! in `a0`. The kernel advances `sepc` past the 4-byte `ecall` before it
//! dispatches (`handle_syscall` in `arch/riscv/kernel/entry.S`, Linux 6.1:
//! "Advance SEPC to avoid executing the original scall instruction on
//! sret"), so the call returns to pc + 4 with `sp` unchanged; a number at
//! or above `__NR_syscalls` goes to `sys_ni_syscall` (-ENOSYS). A call
//! interrupted by a signal is restarted at the `ecall` itself, with `a0`
//! restored from `orig_a0` and `a7` unchanged (`do_signal` in
//! `arch/riscv/kernel/signal.c`), so it re-enters at the same site. The
//! numbers are the generic ones (`include/uapi/asm-generic/unistd.h`, as
//! `arch/riscv/include/uapi/asm/unistd.h` includes it) plus
//! `riscv_flush_icache` at 259. RV32 processes on an RV64 kernel
//! (`CONFIG_COMPAT`, told apart by `sstatus.UXL`) are not described here.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{insn, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on RISC-V 64.
pub const ABI: Abi = Abi::new(&DESC);

/// `a7`, the number.
const A7: Reg = Reg::Riscv(17);
/// `sp`.
const SP: Reg = Reg::Riscv(2);

/// `a0..a5`: `x10` is `a0`.
const fn a(i: u8) -> Reg {
    Reg::Riscv(10 + i)
}

static DESC: AbiDesc = AbiDesc {
    name: "linux_riscv64",
    os: Os::Linux,
    arch: Arch::Riscv64,
    file_arch: "riscv64",
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 6,
    // `handle_syscall` (arch/riscv/kernel/entry.S) compares the whole of
    // a7 with `__NR_syscalls` (`bgeu a7, t0`): no bit is ignored.
    number_mask: u64::MAX,
    stack_pointer: SP,
    regs: &[a(0), a(1), a(2), a(3), a(4), a(5), A7, SP],
    compat: &[],
    compat_numbers: &[],
    errno: crate::errno::tables::GENERIC,
    find_insn: insn::riscv_ecall,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(SP);
    Ok(Entry::returning_to_next(cpu.reg(A7) & DESC.number_mask, pc, sp, insn, mode))
}

/// Reads argument slot `i` (`a0..a5`).
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 6 { cpu.reg(a(i as u8)) } else { 0 })
}

/// Reads the return value from `a0`.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(cpu.reg(a(0)) as i64)
}
