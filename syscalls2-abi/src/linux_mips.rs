//! Linux on MIPS, o32 (and o32 processes on a 64-bit kernel).
//!
//! - The number in `$v0`, from 4000 ([`crate::mips`] conventions).
//! - Arguments in `$a0..$a3` (`$4..$7`), then on the user stack at
//!   `$sp+16`, `$sp+20`, ... (the caller reserves 16 bytes for the first
//!   four). A 64-bit argument takes an aligned pair, high word first on a
//!   big-endian guest.

use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};
use crate::{mips, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on MIPS, o32.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_mips",
    os: Os::Linux,
    arch: Arch::Mips,
    file_arch: "mips",
    number_mask: 0xffff_ffff,
    slot_bits: 32,
    pointer_bits: 32,
    legacy16_bits: 32,
    aligns_slot_pairs: true,
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
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(mips::SP) & 0xffff_ffff;
    let number = cpu.reg(mips::V0) & DESC.number_mask;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}

/// Reads argument slot `i`: four registers, then the stack.
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    match i {
        0..=3 => Ok(cpu.reg(Reg::Mips(4 + i as u8)) & 0xffff_ffff),
        _ => cpu.read_uint(entry.stack.wrapping_add(16 + 4 * (i as u64 - 4)), 4),
    }
}

/// Reads the result, sign-extended from 32 bits.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    mips::retval(cpu, true)
}
