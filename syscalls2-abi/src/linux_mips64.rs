//! Linux on MIPS64, n64.
//!
//! - The number in `$v0`, from 5000 ([`crate::mips`] conventions). The
//!   kernel runs o32 (4000..) and n32 (6000..) calls too, and dispatches on
//!   the number's range: those follow [`crate::linux_mips`] and
//!   [`crate::linux_mips64n32`], this ABI's compat partners.
//! - Arguments in `$a0..$a7` (`$4..$11`), each register 64 bits wide.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{
    linux_mips, linux_mips64n32, mips, Abi, AbiDesc, Arch, Entry, NumberRange, Os, Retval,
    SyscallInsn,
};

/// Linux on MIPS64, n64.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_mips64",
    os: Os::Linux,
    arch: Arch::Mips64,
    file_arch: "mips64",
    number_mask: u64::MAX,
    slot_bits: 64,
    pointer_bits: 64,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: 8,
    stack_pointer: mips::SP,
    regs: &mips::REGS,
    compat: &[linux_mips64n32::ABI, linux_mips::ABI],
    compat_numbers: &[
        NumberRange {
            first: mips::O32_BASE,
            end: mips::O32_BASE + mips::RANGE,
            abi: linux_mips::ABI,
        },
        NumberRange {
            first: mips::N32_BASE,
            end: mips::N32_BASE + mips::RANGE,
            abi: linux_mips64n32::ABI,
        },
    ],
    errno: crate::errno::tables::MIPS,
    find_insn: mips::find_insn,
    call_abi,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// The ABI of a call, by the range its number is in, as the kernel
/// dispatches it; a number in none of the ranges is an n64 call the table
/// may lack.
fn call_abi(cpu: &mut dyn Cpu, _insn: SyscallInsn, _mode: Mode) -> Option<Abi> {
    let number = cpu.reg(mips::V0) & DESC.number_mask;
    let abi = ABI.abi_of_number(number);
    (abi != ABI).then_some(abi)
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let sp = cpu.reg(mips::SP);
    let number = cpu.reg(mips::V0) & DESC.number_mask;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}

/// Reads argument slot `i` (`$a0..$a7`).
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 8 { cpu.reg(Reg::Mips(4 + i as u8)) } else { 0 })
}

/// Reads the result.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    mips::retval(cpu, false)
}
