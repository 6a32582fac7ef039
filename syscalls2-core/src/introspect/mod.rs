//! Who made the call: the process and thread running on a vCPU, read from
//! the guest (PANDA's OSI `get_current_process`, DRAKVUF's PID/PPID/TID and
//! process name on every event).
//!
//! The contract is [`Introspect`]: given the CPU at a syscall's enter or
//! return, the [`Process`] running there, each answer saying which
//! [`Source`] gave it. Implementations:
//!
//! - [`LinuxKernel`]: reads the guest kernel's own `task_struct` of the
//!   running task (pid, tgid, parent, `comm`), through guest memory only,
//!   with the kernel's layout given as a small [`KernelLayout`] file (made
//!   from the kernel's symbols and debug information or BTF). The KASLR
//!   offset is found at run time.
//! - [`SyscallDerived`]: what the calls themselves reveal (a fork's return
//!   is the child's pid, `getpid`'s is the pid, an `execve` names the
//!   program), tracked per address space; works for any Linux guest, knows
//!   only what it has seen.
//! - [`Attribution`]: the kernel first, the calls where the kernel cannot
//!   be read.
//!
//! A Windows implementation (EPROCESS/ETHREAD from the KPCR) has the same
//! shape: a layout, and reads through [`Cpu`].
//!
//! ```
//! use syscalls2_core::introspect::{Introspect, SyscallDerived};
//! let mut osi = SyscallDerived::default();
//! // Fed every enter and return, it answers from what the calls revealed:
//! # let _ = &mut osi;
//! ```

mod linux;
mod syscalls;

pub use linux::{KernelLayout, LayoutError, LinuxKernel};
pub use syscalls::SyscallDerived;

use crate::context::SyscallCtx;
use syscalls2_abi::Cpu;
pub use syscalls2_abi::{Process, Source};

/// The longest process name Linux keeps (`TASK_COMM_LEN` less its NUL).
pub const COMM_LEN: usize = 15;

/// Introspection of a guest: the process making each call.
///
/// A backend's session calls [`Introspect::enter`] and [`Introspect::ret`]
/// for every call (traced or not), and [`Introspect::current`] where it
/// needs the answer; all three in the vCPU's state at that moment.
pub trait Introspect: Send {
    /// The process running on `cpu`, making the call `ctx` (at its enter,
    /// or its return); `None` when this method does not know.
    fn current(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Process>;

    /// A call entered (after [`Introspect::current`] was asked about it).
    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let _ = (cpu, ctx);
    }

    /// A call returned (after [`Introspect::current`] was asked about it).
    fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let _ = (cpu, ctx);
    }

    /// The call `ctx`, which has returned successfully, named its caller
    /// `comm` (`prctl(PR_SET_NAME, "cat")`; which calls do is the
    /// caller's data, not this layer's).
    fn renamed(&mut self, ctx: &SyscallCtx, comm: &[u8]) {
        let _ = (ctx, comm);
    }
}

/// The guest kernel where it can be read, else what the calls revealed.
#[derive(Debug, Default)]
pub struct Attribution {
    /// The kernel reader, when a layout was given.
    pub kernel: Option<LinuxKernel>,
    /// The fallback, always fed.
    pub syscalls: SyscallDerived,
}

impl Attribution {
    /// Kernel reading with `layout`, the calls as the fallback.
    pub fn with_kernel(layout: KernelLayout) -> Attribution {
        Attribution {
            kernel: Some(LinuxKernel::new(layout)),
            syscalls: SyscallDerived::default(),
        }
    }
}

impl Introspect for Attribution {
    fn current(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Process> {
        if let Some(p) = self.kernel.as_mut().and_then(|k| k.current(cpu, ctx)) {
            return Some(p);
        }
        self.syscalls.current(cpu, ctx)
    }

    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        self.syscalls.enter(cpu, ctx);
    }

    fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        self.syscalls.ret(cpu, ctx);
    }

    fn renamed(&mut self, ctx: &SyscallCtx, comm: &[u8]) {
        self.syscalls.renamed(ctx, comm);
    }
}

/// `name` cut to what Linux keeps in `comm` ([`COMM_LEN`] bytes).
pub fn comm_of(name: &[u8]) -> String {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end.min(COMM_LEN)]).into_owned()
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake CPU: registers, a flat memory map and the vCPU index.
    use std::collections::BTreeMap;
    use syscalls2_abi::{Cpu, MemError, Mode, Reg};

    /// Memory as (address, bytes) regions; everything else unreadable.
    #[derive(Default)]
    pub struct FakeCpu {
        pub mem: BTreeMap<u64, Vec<u8>>,
        pub vcpu: u32,
        pub asid: u64,
        pub reads: usize,
    }

    impl FakeCpu {
        pub fn put(&mut self, addr: u64, bytes: &[u8]) {
            self.mem.insert(addr, bytes.to_vec());
        }
        pub fn put_u64(&mut self, addr: u64, v: u64) {
            self.put(addr, &v.to_le_bytes());
        }
        pub fn put_u32(&mut self, addr: u64, v: u32) {
            self.put(addr, &v.to_le_bytes());
        }
    }

    impl Cpu for FakeCpu {
        fn reg(&mut self, _reg: Reg) -> u64 {
            0
        }
        fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
            self.reads += 1;
            for (i, b) in buf.iter_mut().enumerate() {
                let a = addr + i as u64;
                let (start, bytes) = self
                    .mem
                    .range(..=a)
                    .next_back()
                    .ok_or(MemError { addr: a })?;
                *b = *bytes
                    .get((a - start) as usize)
                    .ok_or(MemError { addr: a })?;
            }
            Ok(())
        }
        fn pc(&mut self) -> u64 {
            0
        }
        fn asid(&mut self) -> u64 {
            self.asid
        }
        fn mode(&mut self) -> Mode {
            Mode::default()
        }
        fn index(&self) -> u32 {
            self.vcpu
        }
    }
}
