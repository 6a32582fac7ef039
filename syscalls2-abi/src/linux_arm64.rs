//! Linux on AArch64: `svc #0`.
//!
//! Number in X8; arguments in X0..X5; the call returns to pc + 4 with SP
//! unchanged; the return value is X0 (`arch/arm64/kernel/syscall.c`,
//! Linux 6.1). An AArch32 process on an AArch64 guest follows
//! [`crate::linux_arm`], this ABI's compat partner.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{insn, linux_arm, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on AArch64.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_arm64",
    os: Os::Linux,
    arch: Arch::Aarch64,
    file_arch: "arm64",
    number_mask: 0xffff_ffff,
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 6,
    stack_pointer: Reg::Sp,
    regs: &[
        Reg::X(0),
        Reg::X(1),
        Reg::X(2),
        Reg::X(3),
        Reg::X(4),
        Reg::X(5),
        Reg::X(8),
        Reg::Sp,
    ],
    compat: &[linux_arm::ABI],
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

/// `svc #imm`, in AArch64 state.
fn find_insn(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    if mode.wide {
        insn::a64_svc(bytes, mode)
    } else {
        None
    }
}

/// An AArch32 `svc`, or any call in AArch32 state, follows linux_arm.
fn call_abi(_cpu: &mut dyn Cpu, insn: SyscallInsn, mode: Mode) -> Option<Abi> {
    (matches!(insn, SyscallInsn::ArmSvc { .. }) || !mode.wide).then_some(linux_arm::ABI)
}

/// An AArch32 process has the AArch32 register file.
fn mode_abi(mode: Mode) -> Option<Abi> {
    (!mode.wide).then_some(linux_arm::ABI)
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(Reg::Sp);
    // The kernel takes the low 32 bits of X8 (`el0_svc_common(regs, int
    // scno, ..)` in `arch/arm64/kernel/syscall.c`, Linux 6.1).
    Ok(Entry::returning_to_next(
        cpu.reg(Reg::X(8)) & DESC.number_mask,
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i` (X0..X5).
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 6 { cpu.reg(Reg::X(i as u8)) } else { 0 })
}

/// Reads the return value from X0.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(cpu.reg(Reg::X(0)) as i64)
}
