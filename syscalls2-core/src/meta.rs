//! Syscall metadata: what `syscall_table!` generates for every syscall.
//!
//! These are the Rust counterparts of PANDA's `syscall_info_t` and
//! `syscall_meta_t` (what `load-info` gives), as `'static` data.

use syscalls2_abi::{Abi, ArgInfo, ReturnKind};

/// One syscall of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    /// The number as the table gives it (and as the guest puts it in the
    /// number register: 4003 for `read` on MIPS o32).
    pub no: u64,
    /// The name as the table gives it (`"sys_read"`, `"NtReadFile"`).
    pub name: &'static str,
    /// The C return type (`"long"`, `"NTSTATUS"`).
    pub rettype: &'static str,
    /// The arguments in order.
    pub args: &'static [ArgInfo],
    /// How it returns.
    pub returns: ReturnKind,
    /// The arch-neutral Rust types of the typed hook's arguments, comma
    /// separated (`"u32,GuestPtr,u64"`): hooks written by `#[on_syscall]`
    /// are installed where this matches.
    pub signature: &'static str,
    /// The prototype line as written in the table.
    pub prototype: &'static str,
}

impl SyscallInfo {
    /// The number of argument slots the decoder reads.
    pub fn slots(&self) -> usize {
        self.args
            .iter()
            .map(|a| usize::from(a.slot) + usize::from(a.slots))
            .max()
            .unwrap_or(0)
    }
}

/// A whole table: one OS release on one ABI. `syscall_table!` generates one
/// `static TABLE: Table` per invocation.
#[derive(Debug)]
pub struct Table {
    /// The profile name (`"linux_x86"`, `"windows7_x86"`).
    pub name: &'static str,
    /// The ABI its numbers and arguments follow.
    pub abi: Abi,
    /// The syscalls, sorted by number.
    pub syscalls: &'static [SyscallInfo],
    /// Indices into `syscalls`, sorted by name, for [`Table::by_name`].
    pub by_name_index: &'static [u16],
}

impl Table {
    /// The syscall numbered `no`, if the table has it.
    pub fn by_number(&self, no: u64) -> Option<&'static SyscallInfo> {
        let syscalls = self.syscalls;
        syscalls
            .binary_search_by_key(&no, |s| s.no)
            .ok()
            .map(|i| &syscalls[i])
    }

    /// The syscall named `name` (`"sys_read"`, `"NtReadFile"`), if the
    /// table has it; in a table holding several ABIs' calls, the one with
    /// the lowest number.
    pub fn by_name(&self, name: &str) -> Option<&'static SyscallInfo> {
        self.indices_named(name).next().map(|i| &self.syscalls[i])
    }

    /// The positions in [`Table::syscalls`] of every syscall named `name`:
    /// one, or in a table holding several ABIs' calls (PANDA's
    /// `linux_mips64`: o32, n64 and n32), one per ABI.
    pub fn indices_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        let syscalls = self.syscalls;
        let start = self
            .by_name_index
            .partition_point(|&i| syscalls[usize::from(i)].name < name);
        self.by_name_index[start..]
            .iter()
            .map(|&i| usize::from(i))
            .take_while(move |&i| syscalls[i].name == name)
    }

    /// The position of `info` in [`Table::syscalls`].
    pub fn index_of(&self, info: &SyscallInfo) -> Option<usize> {
        self.syscalls.binary_search_by_key(&info.no, |s| s.no).ok()
    }
}
