//! Windows on x86-64: `syscall`.
//!
//! The stubs are `mov r10, rcx; mov eax, N; syscall; ret`. The number is in
//! EAX, of which the kernel uses the low 13 bits, as on x86
//! ([`crate::windows_x86::NUMBER_MASK`]); the arguments in R10 (the copy of RCX, which `syscall` overwrites),
//! RDX, R8, R9, then on the user stack at `RSP + 0x28 + 8*(n-4)` (past the
//! stub's return address and the caller's 32-byte home area). The call
//! returns to pc + 2 with RSP unchanged; the NTSTATUS is in EAX.

use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};
use crate::{insn, Abi, AbiDesc, Arch, Entry, Os, SyscallInsn};

/// Windows on x86-64.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "windows_x64",
    os: Os::Windows,
    arch: Arch::X86_64,
    file_arch: "x64",
    number_mask: crate::windows_x86::NUMBER_MASK,
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: crate::MAX_SLOTS,
    stack_pointer: Reg::Rsp,
    regs: &[Reg::Rax, Reg::R10, Reg::Rdx, Reg::R8, Reg::R9, Reg::Rsp],
    compat: &[],
    compat_numbers: &[],
    errno: &[],
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval: crate::windows_x86::retval,
    return_site: crate::next_instruction,
};

/// `syscall`.
fn find_insn(bytes: &[u8], _mode: Mode) -> Option<SyscallInsn> {
    insn::x86(bytes).filter(|i| *i == SyscallInsn::Syscall)
}

const ARG_REGS: [Reg; 4] = [Reg::R10, Reg::Rdx, Reg::R8, Reg::R9];

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

/// Reads argument slot `i`.
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    match ARG_REGS.get(i) {
        Some(&r) => Ok(cpu.reg(r)),
        None => cpu.read_uint(entry.stack.wrapping_add(0x28 + 8 * (i as u64 - 4)), 8),
    }
}
