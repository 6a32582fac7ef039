//! Linux on MIPS64, n32: 64-bit registers, 32-bit pointers and `long`.
//!
//! - The number in `$v0`, from 6000 ([`crate::mips`] conventions).
//! - Arguments in `$a0..$a7` (`$4..$11`); a 64-bit value takes one register.
//! - The result is the whole 64-bit `$v0`: the kernel's handlers return a
//!   64-bit `long` there, and n32's `lseek` returns a 64-bit offset in it.

use crate::cpu::{Cpu, MemError, Mode};
use crate::{linux_mips64, mips, Abi, AbiDesc, Arch, Entry, Os, SyscallInsn};

/// Linux on MIPS64, n32.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_mips64n32",
    os: Os::Linux,
    arch: Arch::Mips64,
    file_arch: "mips64n32",
    number_mask: u64::MAX,
    slot_bits: 64,
    pointer_bits: 32,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 8,
    stack_pointer: mips::SP,
    regs: &mips::REGS,
    compat: &[],
    compat_numbers: &[],
    errno: crate::errno::tables::MIPS,
    find_insn: mips::find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot: linux_mips64::slot,
    retval: linux_mips64::retval,
    return_site: crate::next_instruction,
};

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(mips::SP) & 0xffff_ffff;
    let number = cpu.reg(mips::V0) & DESC.number_mask;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}
