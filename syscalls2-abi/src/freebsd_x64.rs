//! FreeBSD on x86-64: `syscall` (`0f 05`), as PANDA's `freebsd_x64` table
//! numbers it (`sys/amd64/amd64/trap.c`, `cpu_fetch_syscall_args`):
//!
//! - the number in RAX; arguments in RDI, RSI, RDX, R10, R8, R9, then on
//!   the user stack past the return address (`RSP + 8`, `RSP + 16`);
//! - the call returns to the next instruction with RSP unchanged;
//! - a failed call sets the carry flag (RFLAGS bit 0) and returns its
//!   positive errno in RAX ([`retval`] makes it `-errno`, as Linux's).
//!
//! FreeBSD's errno numbers past 34 differ from Linux's (EAGAIN is 35) and
//! no FreeBSD header is among this project's sources: errors print as
//! numbers.

use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};
use crate::{insn, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// FreeBSD on x86-64.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "freebsd_x64",
    os: Os::FreeBsd,
    arch: Arch::X86_64,
    file_arch: "x64",
    number_mask: u64::MAX,
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 8,
    stack_pointer: Reg::Rsp,
    regs: &[
        Reg::Rax,
        Reg::Rdi,
        Reg::Rsi,
        Reg::Rdx,
        Reg::R10,
        Reg::R8,
        Reg::R9,
        Reg::Rsp,
        Reg::Rflags,
    ],
    compat: &[],
    compat_numbers: &[],
    errno: &[],
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// `syscall`.
fn find_insn(bytes: &[u8], _mode: Mode) -> Option<SyscallInsn> {
    insn::x86(bytes).filter(|i| *i == SyscallInsn::Syscall)
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Rsp);
    Ok(Entry::returning_to_next(
        cpu.reg(Reg::Rax) & DESC.number_mask,
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i`: six registers, then the stack.
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    match i {
        0..=5 => crate::linux_x64::slot(cpu, entry, i),
        _ => cpu.read_uint(entry.stack.wrapping_add(8 * (i as u64 - 5)), 8),
    }
}

/// Reads the result: RAX, an errno when the carry flag is set.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    let rax = cpu.reg(Reg::Rax) as i64;
    if cpu.reg(Reg::Rflags) & 1 != 0 {
        Retval {
            value: rax.wrapping_neg(),
            error: Some(rax as u32),
        }
    } else {
        Retval {
            value: rax,
            error: None,
        }
    }
}
