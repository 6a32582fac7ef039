//! The context of one syscall: PANDA's `syscall_ctx_t`.

use crate::args::SyscallArgs;
use crate::meta::{SyscallInfo, Table};
use syscalls2_abi::MemError;
use syscalls2_abi::{Abi, Retval, MAX_SLOTS};

/// Everything known about one syscall: at enter, and again at return with
/// [`SyscallCtx::retval`] filled in.
#[derive(Clone, Copy, Debug)]
pub struct SyscallCtx {
    /// A number unique to this call in its engine: its enter and its
    /// return (both returns of a fork) carry the same.
    pub seq: u64,
    /// The syscall number.
    pub no: u64,
    /// The address of the syscall instruction.
    pub pc: u64,
    /// The address space it was made in; for a child's return (see
    /// [`SyscallCtx::child`]), the child's.
    pub asid: u64,
    /// Where it returns.
    pub retaddr: u64,
    /// The stack pointer it returns with: tells threads apart. For a child's
    /// return, the child's.
    pub sp: u64,
    /// The virtual CPU that made it.
    pub vcpu: u32,
    /// The arguments, decoded and widened per their classes; for an unknown
    /// number, the raw slots. Typed views: [`SyscallCtx::args_as`].
    pub args: [u64; MAX_SLOTS],
    /// Set when an argument on the guest stack could not be read; those
    /// arguments read as 0.
    pub args_error: Option<MemError>,
    /// The table's entry, `None` for an unknown number.
    pub info: Option<&'static SyscallInfo>,
    /// The table it was decoded with (a compat table for a 32-bit process on
    /// a 64-bit guest).
    pub table: &'static Table,
    /// The ABI it follows: the table's, or in a table holding several ABIs'
    /// calls, its own (an o32 call in PANDA's `linux_mips64`).
    pub abi: Abi,
    /// The return value: `None` at enter.
    pub retval: Option<Retval>,
    /// For a double-returning call (fork, clone) reported at return: whether
    /// this is the child's return.
    pub child: bool,
}

impl SyscallCtx {
    /// The syscall's name, or `None` for an unknown number.
    pub fn name(&self) -> Option<&'static str> {
        self.info.map(|i| i.name)
    }

    /// The arguments as a typed struct (`ctx.args_as::<SysReadArgs>()`).
    pub fn args_as<A: SyscallArgs>(&self) -> A {
        A::from_raw(&self.args)
    }
}
