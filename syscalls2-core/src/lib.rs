//! The engine of syscalls2: decode each guest system call, run typed hooks
//! on enter and on return, and pair every return with its enter.
//!
//! There is no emulator in this crate. A backend implements [`Cpu`] and
//! calls the [`Engine`] at syscall instructions and at the blocks it marks
//! as return sites.

#![warn(missing_docs)]

pub mod abi;
pub mod cpu;
pub mod meta;

pub use abi::{Abi, Arch, Entry, Os, Retval, SyscallInsn};
pub use cpu::{Cpu, CpuExt, MemError, Mode, Reg};
pub use meta::{ArgClass, ArgInfo, ReturnKind, SyscallInfo, Table};
