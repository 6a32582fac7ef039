//! # syscalls2-qemu
//!
//! syscalls2 as a QEMU TCG plugin: every system call of a Linux guest
//! decoded by the syscalls2 engine, on a stock `qemu-system-*` (10.0 or
//! later, plugin API v4), with returns paired to their enters.
//!
//! ```text
//! cargo build --release -p syscalls2-qemu-plugin
//! qemu-system-x86_64 -kernel ... -plugin target/release/libsyscalls2_qemu_plugin.so,log=trace.txt
//! ```
//!
//! ## Arguments
//!
//! | argument | meaning |
//! |---|---|
//! | `profile=NAME` | the profile (`linux_x64`, ...); default from the QEMU target: x86_64 → `linux_x64` with compat `linux_x86`, i386 → `linux_x86`, arm → `linux_arm`, aarch64 → `linux_arm64`, mipsel → `linux_mips`, mips64el → `linux_mips64` with compat `linux_mips64n32` and `linux_mips`, riscv64 → `linux_riscv64` |
//! | `log=PATH` | where the trace goes (default: stderr); `log=none` for no trace |
//! | `format=strace\|jsonl` | strace lines (`[asid] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`) or one JSON object per enter and per return (below) |
//! | `asid=0x...` | only this address space (repeatable) |
//! | `after=TEXT` | trace nothing until a `write` containing TEXT, then only the processes the writer forks after it, and their descendants (through fork, clone and exec); `until=TEXT` stops at the writer's next write containing TEXT |
//! | `record=PATH` | write the traced events as a syscalls2 fixture (`syscalls2_core::fixture`); `record_max=N` caps them (default 600) |
//! | `returns=auto\|exits\|sites\|every-block` | how returns are found (below; default `sites`) |
//! | `stats=PATH` | where the exit summary goes (default: stderr) |
//! | `icount=on\|off` | count guest instructions for the events' `icount` (default off) |
//! | `floor=on\|off` | the same instrumentation and register reads, nothing traced: the overhead floor (default off) |
//!
//! QEMU separates plugin arguments with commas, so a TEXT cannot contain one.
//!
//! The `jsonl` events: `{"ev":"enter"|"return", "vcpu", "asid", "pc", "sp",
//! "insn", "no", "name", "args", "line"}`; a return also has `"ret"`,
//! `"errno"`, `"child"` and `"ret_asid"` (the address space it returned in:
//! the child's, for a fork's child). `line` is the strace rendering, at the
//! return (at the enter for calls that never return, and for `execve`,
//! whose success does not return). The last line is `{"ev":"exit", ...}`
//! with the engine's counters and the calls still pending.
//!
//! ## Instrumentation
//!
//! Only at translation time. Each translated instruction's bytes go through
//! [`syscalls2::abi::find_syscall_insn`]; a syscall instruction gets an
//! execution callback (reading registers) that calls
//! [`Engine::on_syscall`](syscalls2::Engine::on_syscall). On 32-bit ARM the
//! state (ARM or Thumb) is not known at translation time: a 2-byte
//! instruction is tried as Thumb `svc`, a 4-byte one as ARM `svc`, and the
//! callback drops an ARM match that executes in Thumb state (a Thumb-2
//! instruction with the same bits).
//!
//! Returns: a syscall returns to the instruction after it (`pc + len`),
//! except the i386 vDSO's `sysenter` (and the compat `syscall`), which
//! returns to the landing pad after the next `int $0x80`; the engine knows
//! each pending call's address. A kernel gets back to user code with an
//! exception-return instruction (`sysret`, `iret`, `sysexit`; `eret`;
//! `movs pc, lr`, ...: [`syscalls2::Arch::is_exception_return`]), and the
//! block the vCPU runs next is where the interrupted thread resumes — a
//! returning call's site among them. So (`returns=exits`)
//! each exception return gets an inline store of 1 to a per-vCPU
//! scoreboard word, and every block a *conditional* callback on that word
//! (QEMU's `qemu_plugin_register_vcpu_tb_exec_cond_cb`: one load and
//! compare when it is 0): the first block after an exception return clears
//! it and asks the engine whether a call returns there. Nothing depends on
//! the order in which code is translated: generated code (a JIT writing
//! `syscall; ret` stubs, running their return sites first) costs nothing
//! more, and the translation cache is never flushed.
//!
//! That check at every block costs QEMU about 29 % more CPU time on the
//! x86_64 guest's `find /` workload (`scripts/overhead.sh`), where learning
//! return sites costs nothing measurable. `returns=auto` learns sites, and
//! changes to exits for good after 8 flushes (below) — code generated at
//! run time — with a message on stderr and `returns_at_exits 1` in the
//! summary. It is not the default yet: in one run of the hostile test on
//! i386 it lost three `clone` returns across the change; and `exits`
//! itself lost one process (`wc` in `echo piped | wc -c`) in about one run
//! of four of the strace comparison on the ARM guest. So the default is
//! `returns=sites`; give `returns=exits` to a guest that generates code.
//!
//! `returns=sites` learns return sites
//! when it translates syscall instructions and gives only blocks at those
//! addresses a callback; a block translated before its syscall instruction
//! then needs a flush of the whole translation cache (`qemu_plugin_reset`)
//! — 5,176 flushes and a run slower than 200 s instead of 30 s for the
//! hostile-guest program's 5,000 generated stubs (`cargo xtask hostile`).
//! `returns=every-block` gives every block an unconditional callback that
//! asks the engine's filter.
//!
//! With several vCPUs (`-smp 2`, multi-threaded TCG) the callbacks run
//! concurrently: the engine is behind a mutex, taken only at syscall
//! instructions and at return sites.
//!
//! ## Guest state
//!
//! Registers are read by their gdbstub names (`rax`, `eax` on i386, `r0`,
//! `x0`), looked up once per vCPU. The address-space id: x86 CR3 without
//! its flag bits (and bit 12 on x86_64, flipped by page-table isolation);
//! ARM `TTBR0 & 0xffffc000`; AArch64 `TTBR0_EL1` without its ASID field.
//!
//! MIPS (`qemu-system-mipsel`, `qemu-system-mips64el`): QEMU 10.0 gives
//! its MIPS CPUs no gdb register description, so the plugin API lists no
//! registers; the plugin reads them through handles made from the
//! gdbstub's numbering (general registers 0..31, CP0 Status 32: the
//! handle is the number plus one in QEMU's `plugins/api.c`). No CP0
//! register a plugin can read identifies the address space (EntryHi,
//! Context and the KScratch registers are not readable; EntryHi's ASID
//! would not do anyway: Linux gives a process a new ASID each time it
//! flushes the process's TLB entries, at every fork). So the plugin
//! watches the kernel hand the TLB refill handler the page directory of
//! the process it switches to, in the code `arch/mips/mm/tlbex.c`
//! generates at boot (`tlbmiss_handler_setup_pgd`, run by every
//! `switch_mm`): on a 64-bit kernel the `dmtc0` to CP0 Context
//! (`CONFIG_MIPS_PGD_C0_CONTEXT`), on a 32-bit one the store to
//! `pgd_current[cpu]` after reading the CPU number from CP0 Context. The
//! address-space id is that page directory's physical address, per vCPU:
//! the one the refill handler walks for every user access until the next
//! switch, fixed for a process's life, as CR3 is on x86.
//!
//! RISC-V 64 (`qemu-system-riscv64`): QEMU 10.0's riscv gdbstub describes
//! the integer registers by their ABI names (`a0`..`a7`, `sp`;
//! `gdb-xml/riscv-64bit-cpu.xml`), a virtual register `priv` (the
//! privilege level, `riscv-64bit-virtual.xml`) and every CSR of the CPU in
//! a feature it generates, `satp` among them, and the plugin API lists and
//! reads them all. The address-space id is the root page table's physical
//! address, `satp`'s PPN times 4096 (Linux's ASID in `satp` is left out: it
//! changes when the kernel's ASIDs roll over). The kernel's own `ecall`s
//! are SBI calls to the firmware (OpenSBI), not system calls: an `ecall` in
//! the upper half of the address space (where Linux maps itself) is not
//! instrumented, and one executed with `priv` other than U (0) is skipped
//! (counted as `kernel_ecalls` in the summary: the kernel's SBI calls
//! before it turns on paging).
//!
//! The x86_64 mode: a call made with CS = 0x23 (Linux's 32-bit user code
//! selector) is a compat call; CS.L itself is not visible to plugins.
//!
//! ## Limitations
//!
//! - AArch32 processes on an AArch64 guest are not decoded: the plugin API
//!   shows the AArch64 register file only.
//! - Little-endian guests only (x86, ARM LE, AArch64 LE, MIPS LE, RISC-V).
//! - RISC-V 64: RV32 processes (a kernel with `CONFIG_COMPAT`, told by
//!   `sstatus.UXL`) would be decoded as RV64 ones: the ABI has no compat
//!   table (Debian's riscv64 kernel is built without `CONFIG_COMPAT`).
//! - MIPS: the address space is found from the code of Linux's TLB
//!   refill setup (above): another kernel's, or a 64-bit kernel without
//!   `CONFIG_MIPS_PGD_C0_CONTEXT`, gives every call address space 0.
//! - On i386, `qemu_plugin_read_memory_vaddr` fails on the vDSO's page
//!   (QEMU 10.0), or in some boots reads other bytes; the code after a
//!   `sysenter` (to find the landing pad) is taken from the translator
//!   (through the guest address or the host pointer, at translation) and
//!   preferred to a read at the call.
//! - `after=` follows an `execve` by taking the next new address space that
//!   makes a call on the same vCPU: exact with one vCPU, a heuristic with more.
//!
//! ## As a library
//!
//! A cdylib crate that depends on `syscalls2` and `syscalls2-qemu`, writes
//! `#[on_syscall]` functions and invokes [`plugin!`] is a QEMU plugin with
//! those hooks (see `examples/qemu-hook-example`). The plugin's own
//! arguments, trace and summary work as in the default plugin.

#![warn(missing_docs)]

mod cpu;
mod plugin;

pub use cpu::{QemuCpu, RegMap, Target};
pub use plugin::{Entry, QemuOptions, ReturnMode};
pub use syscalls2;

/// What the [`plugin!`] macro expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use qemu_plugin;
}

/// Makes the cdylib crate it is invoked in a QEMU plugin.
///
/// `syscalls2_qemu::plugin!();` installs the engine with every
/// `#[on_syscall]` hook linked in; `syscalls2_qemu::plugin!(setup)` also
/// calls `setup(&mut Engine)` at install, to register closures.
#[macro_export]
macro_rules! plugin {
    () => {
        $crate::plugin!(|_: &mut $crate::syscalls2::Engine| {});
    };
    ($setup:expr) => {
        $crate::__private::qemu_plugin::register!($crate::Entry::new($setup));
    };
}
