//! Linux on 32-bit ARM: `svc` (`swi`), in ARM or Thumb state.
//!
//! - EABI: the number in R7, whatever the `svc`'s immediate. A kernel
//!   built without `CONFIG_OABI_COMPAT` ignores the immediate
//!   (`arch/arm/kernel/entry-common.S`, Linux 6.1: "Pure EABI user space
//!   always put syscall number into scno (r7)"), and so does an AArch64
//!   kernel for AArch32 processes (`do_el0_svc_compat` reads `regs[7]`).
//!   Debian's 6.1 `armmp` kernel is such a kernel (`# CONFIG_OABI_COMPAT is
//!   not set`), so `svc #0x900005` with R7 = 322 is an `openat`, never the
//!   old ABI's `open`: the old ABI (`svc #0x900000+n`), which only an
//!   `OABI_COMPAT` kernel runs, is not decoded.
//! - Arguments in R0..R6. A 64-bit argument takes an even/odd register pair
//!   (R0:R1, R2:R3, R4:R5), leaving a hole when it would start at an odd
//!   register ([`crate::Abi::layout_slots`]).
//! - The call returns to the next instruction: pc + 4 in ARM state, pc + 2
//!   in Thumb state; SP unchanged. The return value is R0.

use crate::cpu::{Cpu, MemError, Mode, Reg};
use crate::{insn, sext32, Abi, AbiDesc, Arch, Entry, Os, Retval, SyscallInsn};

/// Linux on 32-bit ARM (EABI).
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_arm",
    os: Os::Linux,
    arch: Arch::Arm,
    file_arch: "arm",
    number_mask: 0xffff_ffff,
    slot_bits: 32,
    pointer_bits: 32,
    legacy16_bits: 16,
    aligns_slot_pairs: true,
    arg_slots: 7,
    stack_pointer: Reg::Arm(13),
    regs: &[
        Reg::Arm(0),
        Reg::Arm(1),
        Reg::Arm(2),
        Reg::Arm(3),
        Reg::Arm(4),
        Reg::Arm(5),
        Reg::Arm(6),
        Reg::Arm(7),
        Reg::Arm(13),
    ],
    compat: &[],
    compat_numbers: &[],
    errno: crate::errno::tables::GENERIC,
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site: crate::next_instruction,
};

/// `svc`, in AArch32 state (ARM, or Thumb when `mode.thumb`).
fn find_insn(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    if mode.wide {
        None
    } else {
        insn::arm_svc(bytes, mode)
    }
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let number = cpu.reg(Reg::Arm(7)) & DESC.number_mask;
    let sp = cpu.reg(Reg::Arm(13)) & 0xffff_ffff;
    Ok(Entry::returning_to_next(number, pc, sp, insn, mode))
}

/// Reads argument slot `i` (R0..R6).
pub fn slot(cpu: &mut dyn Cpu, _entry: &Entry, i: usize) -> Result<u64, MemError> {
    Ok(if i < 7 {
        cpu.reg(Reg::Arm(i as u8)) & 0xffff_ffff
    } else {
        0
    })
}

/// Reads the return value from R0.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(sext32(cpu.reg(Reg::Arm(0))))
}
