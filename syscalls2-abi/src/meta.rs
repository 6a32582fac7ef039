//! Argument classes and return kinds: how a table's prototypes are understood.

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
    /// Whether the call writes through it, as the table's `// @out` and
    /// `// @inout` annotations say; [`ArgDir::Unknown`] where the table
    /// does not say.
    pub dir: ArgDir,
    /// For a pointer to an integer type (`PHANDLE`, `PULONG`,
    /// `PLARGE_INTEGER`, `int *`): the pointee's class on this ABI, which
    /// a call writing through it (`dir`) is read back with.
    pub pointee_class: Option<ArgClass>,
}

/// What a call does with the memory an argument points to, from the
/// table's annotations (`// @out FileHandle`, from phnt's SAL `_Out_`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ArgDir {
    /// The table does not say (Linux tables; Windows calls no SAL source covers).
    #[default]
    Unknown,
    /// Read by the call (`_In_`): in a table that annotates the call's
    /// outputs, every argument not annotated.
    In,
    /// Written by the call (`_Out_`): read again at the return.
    Out,
    /// Read and written (`_Inout_`).
    InOut,
}

impl ArgDir {
    /// Whether the call writes through the argument (`Out` or `InOut`).
    pub const fn is_written(self) -> bool {
        matches!(self, ArgDir::Out | ArgDir::InOut)
    }
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
