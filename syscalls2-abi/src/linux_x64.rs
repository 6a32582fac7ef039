//! Linux on x86-64: `syscall` (`0f 05`).
//!
//! - The number in RAX, of which the kernel uses the low 32 bits
//!   (`do_syscall_64(struct pt_regs *regs, int nr)` in
//!   `arch/x86/entry/common.c`, Linux 6.1): RAX = `1 << 32 | 257` is an
//!   `openat`. A number with x32's bit (`__X32_SYSCALL_BIT`, 0x40000000) is
//!   kept whole: Debian's kernels run no x32 calls (`cloud-amd64` is built
//!   without `CONFIG_X86_X32_ABI`, `amd64` with `CONFIG_X86_X32_DISABLED`),
//!   so such a call fails with `ENOSYS` there, and is traced as the unknown
//!   number it is (a kernel booted with `syscall.x32=y` would need an x32
//!   profile, which is not bundled).
//! - Arguments in RDI, RSI, RDX, R10, R8, R9 (R10, not RCX, which `syscall`
//!   overwrites with the return address).
//! - The call returns to the next instruction (pc + 2) with RSP unchanged;
//!   the result is in RAX.
//! - An `int 0x80`, or any call from a 32-bit process (compatibility mode,
//!   CS = 0x23), follows [`crate::linux_x86`], this ABI's compat partner.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{insn, linux_x86, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on x86-64.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_x64",
    os: Os::Linux,
    arch: Arch::X86_64,
    file_arch: "x64",
    number_mask: 0xffff_ffff,
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 6,
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
    ],
    compat: &[linux_x86::ABI],
    compat_numbers: &[],
    errno: crate::errno::tables::GENERIC,
    find_insn,
    call_abi,
    mode_abi,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

const ARG_REGS: [Reg; 6] = [Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::R10, Reg::R8, Reg::R9];

/// `syscall`.
fn find_insn(bytes: &[u8], _mode: Mode) -> Option<SyscallInsn> {
    insn::x86(bytes).filter(|i| *i == SyscallInsn::Syscall)
}

/// `int 0x80` and `sysenter`, and every call from compatibility mode, are
/// 32-bit calls.
fn call_abi(_cpu: &mut dyn Cpu, insn: SyscallInsn, mode: Mode) -> Option<Abi> {
    (insn != SyscallInsn::Syscall || !mode.wide).then_some(linux_x86::ABI)
}

/// A 32-bit process has the 32-bit register file.
fn mode_abi(mode: Mode) -> Option<Abi> {
    (!mode.wide).then_some(linux_x86::ABI)
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Rsp);
    let number = cpu.reg(Reg::Rax) & DESC.number_mask;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}

/// Reads argument slot `i`.
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(ARG_REGS.get(i).map_or(0, |&r| cpu.reg(r)))
}

/// Reads the return value from RAX.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(cpu.reg(Reg::Rax) as i64)
}
