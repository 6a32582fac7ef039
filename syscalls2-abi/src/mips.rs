//! What the three Linux MIPS ABIs share (`arch/mips/kernel/scall32-o32.S`,
//! `scall64-n64.S`, `scall64-n32.S`, `scall64-o32.S` in Linux 6.1):
//!
//! - `syscall`, with the number in `$v0` (`$2`); each ABI has its own range:
//!   o32 from 4000, n64 from 5000, n32 from 6000 (the tables number them so).
//!   A 64-bit kernel runs all three and dispatches on the range of the
//!   whole 64-bit `$v0` (`dsubu t2, v0, __NR_64_Linux; sltiu t0, t2,
//!   __NR_64_Linux_syscalls` in `scall64-n64.S`, then the n32 and o32
//!   handlers likewise): a number with high bits set is no call of any ABI,
//!   so the 64-bit decoders keep those bits (a 32-bit kernel's `$v0` has
//!   none).
//! - The call returns to pc + 4 with `$sp` unchanged. The result is in
//!   `$v0`, and `$a3` is non-zero when the call failed, `$v0` then holding
//!   a positive errno; [`retval`] turns that into the `-errno` every other
//!   Linux ABI returns.

use crate::cpu::{Cpu, Mode, Reg};
use crate::{insn, Retval, SyscallInsn};

pub(crate) const V0: Reg = Reg::Mips(2);
pub(crate) const A3: Reg = Reg::Mips(7);
pub(crate) const SP: Reg = Reg::Mips(29);

/// The registers a MIPS decoder reads: `$v0`, `$a0..$a7`, `$sp`.
pub(crate) const REGS: [Reg; 10] = [
    V0,
    Reg::Mips(4),
    Reg::Mips(5),
    Reg::Mips(6),
    A3,
    Reg::Mips(8),
    Reg::Mips(9),
    Reg::Mips(10),
    Reg::Mips(11),
    SP,
];

/// The number ranges of o32 and n32 (n64's starts at 5000).
pub(crate) const O32_BASE: u64 = 4000;
pub(crate) const N32_BASE: u64 = 6000;
/// Each range's length.
pub(crate) const RANGE: u64 = 1000;

/// `syscall`.
pub(crate) fn find_insn(bytes: &[u8], mode: Mode) -> Option<SyscallInsn> {
    insn::mips_syscall(bytes, mode)
}

/// Reads the result: `$v0` (sign-extended from 32 bits when `narrow`),
/// negated when `$a3` flags an error.
pub(crate) fn retval(cpu: &mut dyn Cpu, narrow: bool) -> Retval {
    let raw = cpu.reg(V0);
    let v0 = if narrow {
        crate::sext32(raw)
    } else {
        raw as i64
    };
    if cpu.reg(A3) != 0 {
        Retval {
            value: v0.wrapping_neg(),
            error: Some(v0 as u32),
        }
    } else {
        Retval {
            value: v0,
            error: None,
        }
    }
}
