//! Linux on i386, and 32-bit processes on an x86-64 kernel.
//!
//! - Number in EAX; arguments in EBX, ECX, EDX, ESI, EDI, EBP; a 64-bit
//!   argument takes two consecutive registers, low word first.
//! - `int 0x80` returns to the next instruction (pc + 2) with ESP unchanged.
//! - `sysenter` is only made from the vDSO's `__kernel_vsyscall`
//!   (`arch/x86/entry/vdso/vdso32/system_call.S` in Linux 6.1):
//!
//!   ```text
//!   push %ecx; push %edx; push %ebp; movl %esp,%ebp; sysenter
//!   int $0x80            <- restart point: the kernel rewinds here to restart
//!   int80_landing_pad:   <- where sysexit returns (do_fast_syscall_32)
//!   pop %ebp; pop %edx; pop %ecx; ret
//!   ```
//!
//!   EBP is overwritten with ESP, so the sixth argument is read at `[ESP]`,
//!   where the vDSO saved it. The call returns to `int80_landing_pad`, the
//!   instruction after the first `int $0x80` that follows the `sysenter`,
//!   with ESP unchanged. PANDA instead reads the caller's return address at
//!   `[ESP+12]` (correct too, reached four instructions later with ESP+16);
//!   the landing pad is used here because a restarted call re-enters through
//!   that `int $0x80` and so returns to the same place with the same ESP,
//!   which lets the restart replace the interrupted entry. Older kernels pad
//!   the `sysenter` with NOPs before the `int $0x80`; the scan covers them.
//! - A 32-bit vDSO on an AMD CPU may use `syscall` instead (`movl %ecx,%ebp;
//!   syscall`): the second argument is then in EBP and the sixth at `[ESP]`.

use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};
use crate::{insn, sext32, Abi, AbiDesc, Arch, Entry, Os, ReturnSite, Retval, SyscallInsn};

/// Linux on i386.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "linux_x86",
    os: Os::Linux,
    arch: Arch::X86,
    file_arch: "x86",
    number_mask: 0xffff_ffff,
    slot_bits: 32,
    pointer_bits: 32,
    legacy16_bits: 16,
    aligns_slot_pairs: false,
    arg_slots: 6,
    stack_pointer: Reg::Rsp,
    regs: &[Reg::Rax, Reg::Rbx, Reg::Rcx, Reg::Rdx, Reg::Rsi, Reg::Rdi, Reg::Rbp, Reg::Rsp],
    compat: &[],
    compat_numbers: &[],
    errno: crate::errno::tables::GENERIC,
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site,
};

const ARG_REGS: [Reg; 6] = [Reg::Rbx, Reg::Rcx, Reg::Rdx, Reg::Rsi, Reg::Rdi, Reg::Rbp];

/// How far past a vDSO `sysenter` the restart `int $0x80` may be.
const VDSO_SCAN: usize = 16;

/// `int 0x80`, `sysenter`, and the `syscall` of a 32-bit vDSO on AMD.
fn find_insn(bytes: &[u8], _mode: Mode) -> Option<SyscallInsn> {
    insn::x86(bytes).filter(|i| {
        matches!(
            i,
            SyscallInsn::Int80 | SyscallInsn::Sysenter | SyscallInsn::Syscall
        )
    })
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let number = cpu.reg(Reg::Rax) & DESC.number_mask;
    let sp = cpu.reg(Reg::Rsp) & 0xffff_ffff;
    let retaddr = match insn {
        SyscallInsn::Sysenter | SyscallInsn::Syscall => {
            let from = pc.wrapping_add(insn.len());
            let mut code = [0u8; VDSO_SCAN];
            cpu.read_mem(from, &mut code)?;
            landing_pad(from, &code).ok_or(MemError { addr: from })?
        }
        _ => pc.wrapping_add(insn.len()),
    };
    Ok(Entry {
        number,
        retaddr,
        ret_sp: sp,
        insn,
        mode,
        stack: sp,
    })
}

/// The address after the first `int $0x80` (`cd 80`) in `code`, the bytes
/// at `from`.
fn landing_pad(from: u64, code: &[u8]) -> Option<u64> {
    code.windows(2)
        .position(|w| w == [0xcd, 0x80])
        .map(|at| from.wrapping_add(at as u64 + 2))
}

/// A `sysenter` (or compat `syscall`) returns to the vDSO's landing pad;
/// `int 0x80` to the next instruction.
fn return_site(insn: SyscallInsn, pc: u64, code_after: &[u8]) -> ReturnSite {
    let next = pc.wrapping_add(insn.len());
    match insn {
        SyscallInsn::Sysenter | SyscallInsn::Syscall => {
            let code = &code_after[..code_after.len().min(VDSO_SCAN)];
            landing_pad(next, code).map_or(ReturnSite::Dynamic, ReturnSite::At)
        }
        _ => ReturnSite::At(next),
    }
}

/// Reads argument slot `i`.
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    let fast = matches!(entry.insn, SyscallInsn::Sysenter | SyscallInsn::Syscall);
    match i {
        5 if fast => cpu.read_uint(entry.stack, 4),
        1 if entry.insn == SyscallInsn::Syscall => Ok(cpu.reg(Reg::Rbp) & 0xffff_ffff),
        0..=5 => Ok(cpu.reg(ARG_REGS[i]) & 0xffff_ffff),
        _ => Ok(0),
    }
}

/// Reads the return value from EAX.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::linux(sext32(cpu.reg(Reg::Rax)))
}
