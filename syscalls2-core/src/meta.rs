//! Syscall metadata: what `syscall_table!` generates for every syscall.
//!
//! These are the Rust counterparts of PANDA's `syscall_info_t` and
//! `syscall_meta_t` (what `load-info` gives), as `'static` data.

use crate::abi::Abi;

/// How a syscall argument is understood, after its C type has been resolved
/// against an ABI's data model (see `syscalls2-prototypes` for the
/// classifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgClass {
    /// An integer of `bits` bits (8, 16, 32 or 64), signed or not.
    Int {
        /// Whether the value is sign-extended when widened.
        signed: bool,
        /// The width on this ABI: `unsigned long` is 32 on a 32-bit ABI, 64 on a 64-bit one.
        bits: u8,
    },
    /// A pointer to a NUL-terminated string (`const char *`, `PCSTR`).
    CStr,
    /// A pointer to a NUL-terminated UTF-16 string (`PWSTR`, `PCWSTR`).
    WStr,
    /// A pointer to a buffer of bytes (`void *`, `char *` written by the kernel).
    Buf,
    /// A pointer to a named struct, union or typedef'd type (`struct stat *`,
    /// `PUNICODE_STRING`); [`ArgInfo::pointee`] names it.
    StructPtr,
    /// A pointer to a pointer (`const char *const *argv`, `PVOID *`).
    PtrPtr,
    /// An array parameter (`HANDLE KeyArray[]`), passed as a pointer.
    Array,
    /// A function pointer (`__sighandler_t`, `PIO_APC_ROUTINE`).
    FnPtr,
    /// `...`: variadic arguments, which occupy no slot and are not decoded.
    Varargs,
}

impl ArgClass {
    /// Whether the value is a guest address.
    pub const fn is_pointer(self) -> bool {
        !matches!(self, ArgClass::Int { .. } | ArgClass::Varargs)
    }
}

/// One argument of a syscall, with where it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgInfo {
    /// The argument's name in the prototype (`"fd"`); `"arg0"`.. when unnamed.
    pub name: &'static str,
    /// The C type as written, qualifiers included (`"const char __user *"`).
    pub ctype: &'static str,
    /// The class, resolved for this table's ABI.
    pub class: ArgClass,
    /// For [`ArgClass::StructPtr`]: the pointee (`"stat"`, `"UNICODE_STRING"`); else `""`.
    pub pointee: &'static str,
    /// The first argument slot (register or stack word) the value occupies.
    pub slot: u8,
    /// How many slots it occupies: 2 for a 64-bit integer on a 32-bit ABI, 0 for `...`.
    pub slots: u8,
}

/// What a syscall does with its return, as annotated in the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReturnKind {
    /// Never returns to its call site (`exit_group`, `rt_sigreturn`, `NtContinue`).
    /// PANDA: `panda_noreturn`. Table annotation: `// @noreturn`.
    pub noreturn: bool,
    /// Returns only when it fails (`execve`, `execveat`): a success replaces
    /// the process image. Table annotation: `// @noreturn-on-success`.
    pub noreturn_on_success: bool,
    /// Returns twice, in the parent and in the child (`fork`, `vfork`,
    /// `clone`, `clone3`). PANDA: `panda_doublereturn`. Table annotation: `// @doublereturn`.
    pub double_return: bool,
}

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

    /// The syscall named `name` (`"sys_read"`, `"NtReadFile"`), if the table has it.
    pub fn by_name(&self, name: &str) -> Option<&'static SyscallInfo> {
        let syscalls = self.syscalls;
        self.by_name_index
            .binary_search_by(|&i| syscalls[usize::from(i)].name.cmp(name))
            .ok()
            .map(|i| &syscalls[usize::from(self.by_name_index[i])])
    }

    /// The position of `info` in [`Table::syscalls`].
    pub fn index_of(&self, info: &SyscallInfo) -> Option<usize> {
        self.syscalls.binary_search_by_key(&info.no, |s| s.no).ok()
    }
}
