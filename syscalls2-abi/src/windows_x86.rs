//! Windows NT on x86.
//!
//! The number is in EAX (bit 12 set for win32k.sys calls). The kernel
//! dispatches on its low 13 bits and ignores the rest: the low 12 are the
//! index into a service table, bit 12 picks the table (`shr edi, 8; and
//! edi, 10h` and `and eax, 0FFFh` in `KiFastCallEntry`; `shr edi, 7; and
//! edi, 20h` in x64's `KiSystemCall64`; ReactOS's `SERVICE_NUMBER_MASK`
//! 0xfff and `SERVICE_TABLE_SHIFT`/`SERVICE_TABLE_MASK`), so EAX =
//! 0x10052 is call 0x52 and is decoded as such ([`NUMBER_MASK`]).
//!
//! ntdll's stubs pass the arguments on the user stack and point EDX at it:
//!
//! - `sysenter` (XP and later): the stub `mov eax, N; mov edx, 0x7ffe0300;
//!   call [edx]; ret 4*argc` calls `KiFastSystemCall: mov edx, esp;
//!   sysenter`. At the `sysenter`, `[EDX]` is the return address into the
//!   stub (its `ret 4*argc`), `[EDX+4]` the stub's own return address, and
//!   the arguments start at `EDX+8`. The call returns, through
//!   `KiFastSystemCallRet`, to `[EDX]` with ESP = EDX + 4: that is the
//!   return site used here, as in PANDA.
//! - `int 0x2e` (2000; XP's `KiIntSystemCall` fallback): the stub does
//!   `lea edx, [esp+4]; int 0x2e; ret 4*argc`, so the arguments start at
//!   `EDX`. The call returns to the next instruction (pc + 2, the stub's
//!   `ret`) with ESP unchanged. PANDA reads the return address at `[ESP]`,
//!   which is the stub's caller, one `ret` later.
//!
//! The return value, in EAX, is an NTSTATUS.

use crate::cpu::{Cpu, CpuExt, MemError, Mode, Reg};
use crate::{insn, Abi, AbiDesc, Arch, Entry, Os, ReturnSite, Retval, SyscallInsn};

/// The bits of EAX an NT kernel dispatches on: the service index (bits
/// 0..12) and the service table (bit 12).
pub const NUMBER_MASK: u64 = 0x1fff;

/// Windows NT on x86.
pub const ABI: Abi = Abi::new(&DESC);

static DESC: AbiDesc = AbiDesc {
    name: "windows_x86",
    os: Os::Windows,
    arch: Arch::X86,
    file_arch: "x86",
    number_mask: NUMBER_MASK,
    slot_bits: 32,
    pointer_bits: 32,
    legacy16_bits: 32,
    aligns_slot_pairs: false,
    arg_slots: crate::MAX_SLOTS,
    stack_pointer: Reg::Rsp,
    regs: &[Reg::Rax, Reg::Rdx, Reg::Rsp],
    compat: &[],
    compat_numbers: &[],
    errno: &[],
    find_insn,
    call_abi: crate::no_compat_call,
    mode_abi: crate::no_compat_mode,
    enter,
    slot,
    retval,
    return_site,
};

/// `sysenter` and `int 0x2e`.
fn find_insn(bytes: &[u8], _mode: Mode) -> Option<SyscallInsn> {
    insn::x86(bytes).filter(|i| matches!(i, SyscallInsn::Sysenter | SyscallInsn::Int2e))
}

/// `int 0x2e` returns to the next instruction; `sysenter` to `[EDX]`, known
/// only when the call is made.
fn return_site(insn: SyscallInsn, pc: u64, _code_after: &[u8]) -> ReturnSite {
    match insn {
        SyscallInsn::Int2e => ReturnSite::At(pc.wrapping_add(insn.len())),
        _ => ReturnSite::Dynamic,
    }
}

/// Decodes a call made by `insn` at `pc`.
pub fn enter(cpu: &mut dyn Cpu, insn: SyscallInsn, pc: u64, mode: Mode) -> Result<Entry, MemError> {
    let number = cpu.reg(Reg::Rax) & DESC.number_mask;
    let edx = cpu.reg(Reg::Rdx) & 0xffff_ffff;
    let (retaddr, ret_sp, stack) = match insn {
        SyscallInsn::Int2e => (
            pc.wrapping_add(insn.len()),
            cpu.reg(Reg::Rsp) & 0xffff_ffff,
            edx,
        ),
        _ => (
            cpu.read_uint(edx, 4)?,
            edx.wrapping_add(4),
            edx.wrapping_add(8),
        ),
    };
    Ok(Entry {
        number,
        retaddr,
        ret_sp,
        insn,
        mode,
        stack,
    })
}

/// Reads argument slot `i` from the user stack.
pub fn slot(cpu: &mut dyn Cpu, entry: &Entry, i: usize) -> Result<u64, MemError> {
    cpu.read_uint(entry.stack.wrapping_add(4 * i as u64), 4)
}

/// Reads the NTSTATUS from EAX.
pub fn retval(cpu: &mut dyn Cpu) -> Retval {
    Retval::ntstatus(cpu.reg(Reg::Rax) as u32)
}
