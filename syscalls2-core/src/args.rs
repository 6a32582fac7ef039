//! Typed arguments: the values hooks receive, and the traits generated code
//! implements.

use crate::meta::{SyscallInfo, Table};
use std::fmt;
use syscalls2_abi::MAX_SLOTS;
use syscalls2_abi::{Cpu, CpuExt, MemError};

/// The most bytes [`GuestPtr::read_cstr`] reads before it stops looking for
/// the NUL (Linux's `PATH_MAX`).
pub const MAX_CSTR: usize = 4096;

/// A guest virtual address passed as a syscall argument.
///
/// Every pointer class (string, buffer, struct, array, function) is a
/// `GuestPtr` in typed hooks, so one hook serves 32- and 64-bit guests.
/// Reading through it needs the CPU, and fails as a value:
///
/// ```
/// # use syscalls2_core::{GuestPtr, Cpu, MemError};
/// fn path_of(cpu: &mut dyn Cpu, filename: GuestPtr) -> String {
///     match filename.read_cstr(cpu) {
///         Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
///         Err(MemError { addr }) => format!("<unreadable at {addr:#x}>"),
///     }
/// }
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GuestPtr(pub u64);

impl GuestPtr {
    /// The address.
    pub const fn addr(self) -> u64 {
        self.0
    }

    /// Whether the address is 0.
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// Reads the NUL-terminated string it points to (at most [`MAX_CSTR`] bytes).
    pub fn read_cstr(self, cpu: &mut dyn Cpu) -> Result<Vec<u8>, MemError> {
        cpu.read_cstr(self.0, MAX_CSTR)
    }

    /// Reads `len` bytes it points to.
    pub fn read_bytes(self, cpu: &mut dyn Cpu, len: usize) -> Result<Vec<u8>, MemError> {
        cpu.read_bytes(self.0, len)
    }

    /// Reads `N` bytes it points to, for a struct of known size.
    pub fn read_array<const N: usize>(self, cpu: &mut dyn Cpu) -> Result<[u8; N], MemError> {
        let mut out = [0; N];
        cpu.read_mem(self.0, &mut out)?;
        Ok(out)
    }
}

impl fmt::Debug for GuestPtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Display for GuestPtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// A type a decoded argument converts to. The decoder has already widened
/// the value per its class (see [`Abi::read_args`](crate::Abi::read_args)), so conversion
/// is a cast.
pub trait ArgValue: Copy {
    /// Converts the widened 64-bit value.
    fn from_raw(raw: u64) -> Self;
}

macro_rules! int_arg_values {
    ($($t:ty),*) => {$(
        impl ArgValue for $t {
            #[inline]
            fn from_raw(raw: u64) -> Self {
                raw as $t
            }
        }
    )*};
}
int_arg_values!(u8, i8, u16, i16, u32, i32, u64, i64);

impl ArgValue for GuestPtr {
    #[inline]
    fn from_raw(raw: u64) -> Self {
        GuestPtr(raw)
    }
}

/// The typed arguments of one syscall: the `SysReadArgs` struct that
/// `syscall_table!` generates for `sys_read`.
pub trait SyscallArgs: Copy + fmt::Debug {
    /// Builds the struct from the decoded, widened argument values.
    fn from_raw(raw: &[u64; MAX_SLOTS]) -> Self;
}

/// A syscall of a table, as a type: `syscall_table!` generates one marker
/// type per syscall (`SysRead` for `sys_read`) to register typed closures
/// with [`crate::Engine::on_enter`].
pub trait Syscall {
    /// Its typed arguments.
    type Args: SyscallArgs;
    /// The table it belongs to.
    fn table() -> &'static Table;
    /// Its metadata.
    fn info() -> &'static SyscallInfo;
}
