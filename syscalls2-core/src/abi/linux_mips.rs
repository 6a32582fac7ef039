//! Linux on MIPS: `syscall`, for the o32, n32 and n64 ABIs.
//!
//! - The number in `$v0` (`$2`): o32 numbers start at 4000, n64 at 5000,
//!   n32 at 6000, as the tables give them.
//! - o32: arguments in `$a0..$a3` (`$4..$7`), then on the user stack at
//!   `$sp+16`, `$sp+20`, ... (the caller reserves 16 bytes for the first
//!   four). A 64-bit argument takes an aligned pair, high word first on a
//!   big-endian guest.
//! - n32, n64: arguments in `$a0..$a7` (`$4..$11`), each register 64 bits wide.
//! - The call returns to pc + 4, `$sp` unchanged. The result is in `$v0`,
//!   and `$a3` is non-zero when it failed, `$v0` then holding a positive
//!   errno; [`retval`] turns that into the `-errno` every other Linux ABI
//!   returns.

use super::{Abi, Entry, Retval, SyscallInsn};
use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};

const V0: Reg = Reg::Mips(2);
const A3: Reg = Reg::Mips(7);
/// How many argument slots calls can use (o32: four registers and four stack words; n32/n64: eight registers).
pub const ARG_SLOTS: usize = 8;

/// The stack pointer, `$sp` (`$29`).
pub const SP: Reg = Reg::Mips(29);

/// Decodes a call made by `insn` at `pc`.
#[inline]
pub fn enter(
    abi: Abi,
    cpu: &mut dyn Cpu,
    insn: SyscallInsn,
    pc: u64,
    mode: Mode,
) -> Result<Entry, MemError> {
    let narrow = abi.slot_bits() == 32;
    let trunc = |v: u64| if narrow { v & 0xffff_ffff } else { v };
    let sp = trunc(cpu.reg(SP));
    Ok(Entry::returning_to_next(
        trunc(cpu.reg(V0)),
        pc,
        sp,
        insn,
        mode,
    ))
}

/// Reads argument slot `i`.
#[inline]
pub fn slot(abi: Abi, cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    if abi == Abi::LinuxMips {
        match i {
            0..=3 => Ok(cpu.reg(Reg::Mips(4 + i as u8)) & 0xffff_ffff),
            _ => cpu.read_uint(entry.stack.wrapping_add(16 + 4 * (i as u64 - 4)), 4),
        }
    } else {
        Ok(if i < 8 {
            cpu.reg(Reg::Mips(4 + i as u8))
        } else {
            0
        })
    }
}

/// Reads the return value: `$v0` (sign-extended from 32 bits on o32),
/// negated when `$a3` flags an error.
#[inline]
pub fn retval(abi: Abi, cpu: &mut dyn Cpu) -> Retval {
    let raw = cpu.reg(V0);
    let v0 = if abi == Abi::LinuxMips {
        super::sext32(raw)
    } else {
        raw as i64
    };
    if cpu.reg(A3) != 0 {
        Retval {
            value: -v0,
            error: Some(v0 as u32),
        }
    } else {
        Retval {
            value: v0,
            error: None,
        }
    }
}
