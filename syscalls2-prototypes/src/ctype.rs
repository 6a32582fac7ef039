//! The type model: what a C argument type means, and how wide it is on an ABI.
//!
//! Classification works on the parsed parts of a type ([`TypeRef`]), never
//! on substrings: PANDA's `'mode_t' in raw` also matches `umode_t`, which is
//! 16 bits where `mode_t` may be 32. It is done in two steps:
//!
//! 1. [`classify`] gives an ABI-neutral [`CType`]: an integer whose width may
//!    still depend on the ABI ([`Width::Long`], [`Width::Pointer`]), or a
//!    pointer class;
//! 2. [`CType::resolve`] fixes the width for one [`Abi`]: `unsigned long` is
//!    32 bits on linux_x86 and 64 on linux_x64; `ULONG` is 32 on both Windows
//!    ABIs; `loff_t` is 64 everywhere.
//!
//! A typedef the classifier does not know is read as a pointer-wide unsigned
//! integer on Linux and as a 32-bit one on Windows (whose unknown by-value
//! types are enums); [`CType::Int`]'s `known` says so.

use crate::parse::TypeRef;
use syscalls2_abi::{Abi, ArgClass, Os};

/// An integer's width, possibly depending on the ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// The same number of bits on every ABI.
    Bits(u8),
    /// C `long`: the pointer width on Linux, 32 bits on Windows.
    Long,
    /// The pointer width (`size_t`, `HANDLE`, `ULONG_PTR`).
    Pointer,
    /// Linux's old 16-bit ids and modes (`old_uid_t`, `mode_t`): 16 bits on
    /// i386 and ARM, 32 elsewhere.
    Legacy16,
}

/// An integer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// Signed.
    pub signed: bool,
    /// Width.
    pub width: Width,
}

/// What an argument type means, before an ABI sizes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CType {
    /// An integer.
    Int {
        /// Its signedness and width.
        scalar: Scalar,
        /// False when the type name was not recognised and this is a guess.
        known: bool,
    },
    /// A pointer to a NUL-terminated string: `const char *`.
    CStr,
    /// A pointer to a NUL-terminated UTF-16 string: `PWSTR`.
    WStr,
    /// A pointer to bytes: `void *`, `char *` (written by the kernel), `PVOID`.
    Buf,
    /// A pointer to a named struct, union, enum or scalar type.
    StructPtr(String),
    /// A pointer to a pointer.
    PtrPtr,
    /// An array parameter.
    Array,
    /// A function pointer.
    FnPtr,
    /// `...`.
    Varargs,
}

impl CType {
    /// Sizes this type for `abi`: its class, with integer widths fixed.
    pub fn resolve(&self, abi: Abi) -> ArgClass {
        match self {
            CType::Int { scalar, .. } => ArgClass::Int {
                signed: scalar.signed,
                bits: match scalar.width {
                    Width::Bits(b) => b,
                    Width::Long => abi.long_bits(),
                    Width::Pointer => abi.pointer_bits,
                    Width::Legacy16 => abi.legacy16_bits,
                },
            },
            CType::CStr => ArgClass::CStr,
            CType::WStr => ArgClass::WStr,
            CType::Buf => ArgClass::Buf,
            CType::StructPtr(_) => ArgClass::StructPtr,
            CType::PtrPtr => ArgClass::PtrPtr,
            CType::Array => ArgClass::Array,
            CType::FnPtr => ArgClass::FnPtr,
            CType::Varargs => ArgClass::Varargs,
        }
    }

    /// The width in bits on `abi`, 0 for `...`.
    pub fn bits(&self, abi: Abi) -> u8 {
        abi.arg_bits(self.resolve(abi))
    }

    /// For a [`CType::StructPtr`], the pointee's name.
    pub fn pointee(&self) -> &str {
        match self {
            CType::StructPtr(name) => name,
            _ => "",
        }
    }

    /// The Rust type a typed hook receives, the same on every ABI: integers
    /// at their widest (`unsigned long` is `u64`, even on a 32-bit guest),
    /// every pointer a `GuestPtr`. `None` for `...`, which hooks don't get.
    pub fn rust_type(&self) -> Option<&'static str> {
        Some(match self {
            CType::Int { scalar, .. } => {
                let bits = match scalar.width {
                    Width::Bits(b) => b,
                    Width::Legacy16 => 32,
                    Width::Long | Width::Pointer => 64,
                };
                match (scalar.signed, bits) {
                    (true, 8) => "i8",
                    (false, 8) => "u8",
                    (true, 16) => "i16",
                    (false, 16) => "u16",
                    (true, 32) => "i32",
                    (false, 32) => "u32",
                    (true, _) => "i64",
                    (false, _) => "u64",
                }
            }
            CType::Varargs => return None,
            _ => "GuestPtr",
        })
    }
}

const fn int(signed: bool, width: Width) -> CType {
    CType::Int {
        scalar: Scalar { signed, width },
        known: true,
    }
}

/// Classifies an argument type for an OS (`long` and the typedefs differ
/// between Linux and Windows).
pub fn classify(ty: &TypeRef, os: Os) -> CType {
    if ty.varargs {
        return CType::Varargs;
    }
    if ty.function {
        return CType::FnPtr;
    }
    if ty.array {
        return CType::Array;
    }
    let base = base_type(ty, os);
    let depth = ty.pointers.len() + usize::from(base.is_pointer());
    match (depth, base) {
        (0, Base::Scalar(c)) => c,
        (0, Base::Unknown) => CType::Int {
            scalar: Scalar {
                signed: false,
                width: if os == Os::Windows {
                    Width::Bits(32)
                } else {
                    Width::Pointer
                },
            },
            known: false,
        },
        (0, Base::Void) => CType::Buf, // `void` by value does not occur; treat as an address.
        (1, Base::PtrTypedef(c)) => c,
        (1, Base::Char) if ty.is_const() => CType::CStr,
        (1, Base::Char | Base::Void) => CType::Buf,
        (
            1,
            Base::Scalar(CType::Int {
                scalar:
                    Scalar {
                        width: Width::Bits(8),
                        ..
                    },
                ..
            }),
        ) => CType::Buf,
        (1, _) => CType::StructPtr(pointee_name(ty)),
        _ => CType::PtrPtr,
    }
}

/// The base type under the declarator's `*`s.
enum Base {
    Void,
    Char,
    Scalar(CType),
    /// A typedef that is itself a pointer (`PVOID`, `PUNICODE_STRING`,
    /// `cap_user_data_t`): classified as that pointer.
    PtrTypedef(CType),
    Unknown,
}

impl Base {
    fn is_pointer(&self) -> bool {
        matches!(self, Base::PtrTypedef(_))
    }
}

fn pointee_name(ty: &TypeRef) -> String {
    match ty.words.as_slice() {
        [kind, tag] if matches!(kind.as_str(), "struct" | "union" | "enum") => tag.clone(),
        words => words.join(" "),
    }
}

fn base_type(ty: &TypeRef, os: Os) -> Base {
    let words: Vec<&str> = ty.words.iter().map(String::as_str).collect();
    if let [kind, tag] = words.as_slice() {
        if matches!(*kind, "struct" | "union") {
            return Base::Unknown.or_struct(tag);
        }
        if *kind == "enum" {
            return Base::Scalar(int(false, Width::Bits(32)));
        }
    }
    // C's multi-word integer types, in any order (`long unsigned int`).
    let c_words = [
        "unsigned", "signed", "long", "short", "int", "char", "void", "_Bool",
    ];
    if words.iter().all(|w| c_words.contains(w)) {
        return c_integer(&words);
    }
    match words.as_slice() {
        [name] => match os {
            Os::Linux => linux_typedef(name),
            Os::FreeBsd => freebsd_typedef(name),
            Os::Windows => windows_typedef(name),
        },
        _ => Base::Unknown,
    }
}

impl Base {
    /// A struct or union by value: only behind a pointer in practice.
    fn or_struct(self, tag: &str) -> Base {
        let _ = tag;
        Base::Unknown
    }
}

fn c_integer(words: &[&str]) -> Base {
    let has = |w: &str| words.contains(&w);
    let longs = words.iter().filter(|w| **w == "long").count();
    if has("void") {
        return Base::Void;
    }
    if has("_Bool") {
        return Base::Scalar(int(false, Width::Bits(8)));
    }
    let signed = !has("unsigned");
    if has("char") {
        // Plain `char` is a character: its pointer is a string or a buffer.
        return if words.len() == 1 {
            Base::Char
        } else {
            Base::Scalar(int(signed, Width::Bits(8)))
        };
    }
    let width = match (longs, has("short")) {
        (0, true) => Width::Bits(16),
        (0, false) => Width::Bits(32),
        (1, _) => Width::Long,
        _ => Width::Bits(64),
    };
    Base::Scalar(int(signed, width))
}

/// FreeBSD's own types (`sys/sys/_types.h`, `sys/sys/types.h` of FreeBSD
/// 11, the release PANDA's table is from); its POSIX ones are Linux's on
/// x86-64 (off_t, size_t: 64 bits).
fn freebsd_typedef(name: &str) -> Base {
    use Width::*;
    let scalar = |signed, width| Base::Scalar(int(signed, width));
    match name {
        // __uint32_t
        "__socklen_t" | "osigset_t" => scalar(false, Bits(32)),
        // int, __int32_t (enum-like selectors and ids)
        "acl_type_t" | "cpulevel_t" | "cpusetid_t" | "cpuwhich_t" | "lwpid_t" => {
            scalar(true, Bits(32))
        }
        // __int64_t
        "id_t" => scalar(true, Bits(64)),
        // __intptr_t
        "semid_t" => scalar(true, Pointer),
        _ => linux_typedef(name),
    }
}

fn linux_typedef(name: &str) -> Base {
    use Width::*;
    let scalar = |signed, width| Base::Scalar(int(signed, width));
    match name {
        "u8" | "__u8" | "uint8_t" | "bool" => scalar(false, Bits(8)),
        "s8" | "__s8" | "int8_t" => scalar(true, Bits(8)),
        "u16" | "__u16" | "uint16_t" | "umode_t" => scalar(false, Bits(16)),
        "s16" | "__s16" | "int16_t" => scalar(true, Bits(16)),
        "u32" | "__u32" | "uint32_t" | "uid_t" | "gid_t" | "qid_t" | "dev_t" | "u_int"
        | "gfp_t" | "__kernel_uid32_t" | "__kernel_gid32_t" | "nfds_t" => scalar(false, Bits(32)),
        "s32" | "__s32" | "int32_t" | "pid_t" | "key_t" | "mqd_t" | "clockid_t" | "timer_t"
        | "rwf_t" | "__kernel_rwf_t" | "key_serial_t" | "socklen_t" | "idtype_t"
        | "old_time32_t" | "__kernel_pid_t" | "__kernel_timer_t" | "__kernel_clockid_t" => {
            scalar(true, Bits(32))
        }
        "u64" | "__u64" | "uint64_t" | "__aligned_u64" => scalar(false, Bits(64)),
        "s64" | "__s64" | "int64_t" | "loff_t" | "__kernel_loff_t" | "off64_t" => {
            scalar(true, Bits(64))
        }
        "size_t" | "__kernel_size_t" | "uintptr_t" => scalar(false, Pointer),
        "ssize_t" | "__kernel_ssize_t" | "intptr_t" | "ptrdiff_t" => scalar(true, Pointer),
        "off_t"
        | "__kernel_off_t"
        | "time_t"
        | "__kernel_old_time_t"
        | "clock_t"
        | "__kernel_long_t"
        | "suseconds_t" => scalar(true, Long),
        "aio_context_t" | "old_sigset_t" | "__kernel_ulong_t" | "u_long" => scalar(false, Long),
        "mode_t" | "old_uid_t" | "old_gid_t" | "__kernel_old_uid_t" | "__kernel_old_gid_t"
        | "__kernel_mode_t" => scalar(false, Legacy16),
        "__sighandler_t" | "sighandler_t" | "__sigrestore_t" | "__signalfn_t" => {
            Base::PtrTypedef(CType::FnPtr)
        }
        "cap_user_header_t" => {
            Base::PtrTypedef(CType::StructPtr("__user_cap_header_struct".into()))
        }
        "cap_user_data_t" => Base::PtrTypedef(CType::StructPtr("__user_cap_data_struct".into())),
        // FreeBSD's `char *`.
        "caddr_t" => Base::PtrTypedef(CType::Buf),
        _ => Base::Unknown,
    }
}

/// Windows types that start with `P` but are not pointers.
const WINDOWS_P_NON_POINTERS: [&str; 6] = [
    "PROCESSINFOCLASS",
    "PORT_INFORMATION_CLASS",
    "POWER_ACTION",
    "POWER_INFORMATION_LEVEL",
    "PLUGPLAY_CONTROL_CLASS",
    "PLUGPLAY_EVENT_CATEGORY",
];

fn windows_typedef(name: &str) -> Base {
    use Width::*;
    let scalar = |signed, width| Base::Scalar(int(signed, width));
    match name {
        "BOOLEAN" | "UCHAR" | "BYTE" => return scalar(false, Bits(8)),
        "CHAR" | "CCHAR" | "KPROCESSOR_MODE" => return scalar(true, Bits(8)),
        "USHORT" | "WORD" | "LANGID" | "RTL_ATOM" | "ATOM" | "WCHAR" => {
            return scalar(false, Bits(16))
        }
        "SHORT" | "CSHORT" => return scalar(true, Bits(16)),
        "ULONG"
        | "DWORD"
        | "UINT"
        | "ULONG32"
        | "DWORD32"
        | "ACCESS_MASK"
        | "SECURITY_INFORMATION"
        | "LCID"
        | "EXECUTION_STATE"
        | "WIN32_PROTECTION_MASK"
        | "NOTIFICATION_MASK" => return scalar(false, Bits(32)),
        "LONG" | "INT" | "BOOL" | "LONG32" | "NTSTATUS" => return scalar(true, Bits(32)),
        "ULONGLONG" | "ULONG64" | "DWORD64" | "UINT64" | "ULARGE_INTEGER" | "LUID" => {
            return scalar(false, Bits(64))
        }
        "LONGLONG" | "LONG64" | "INT64" | "LARGE_INTEGER" => return scalar(true, Bits(64)),
        "HANDLE" | "ALPC_HANDLE" | "SIZE_T" | "ULONG_PTR" | "DWORD_PTR" | "UINT_PTR"
        | "KAFFINITY" => return scalar(false, Pointer),
        "LONG_PTR" | "SSIZE_T" | "INT_PTR" => return scalar(true, Pointer),
        "VOID" => return Base::Void,
        _ => {}
    }
    if WINDOWS_P_NON_POINTERS.contains(&name) {
        return scalar(false, Bits(32));
    }
    let pointee = name.strip_prefix("LP").or_else(|| name.strip_prefix('P'));
    if let Some(pointee) = pointee.filter(|p| !p.is_empty()) {
        return Base::PtrTypedef(match pointee {
            "VOID" | "CVOID" | "UCHAR" | "BYTE" => CType::Buf,
            "CHAR" | "STR" | "CSTR" => CType::CStr,
            "WSTR" | "CWSTR" | "WCHAR" => CType::WStr,
            _ if pointee.ends_with("ROUTINE") => CType::FnPtr,
            _ => CType::StructPtr(pointee.to_string()),
        });
    }
    // Windows' other by-value types are enums (`FILE_INFORMATION_CLASS`,
    // `WAIT_TYPE`, `SECTION_INHERIT`...), which are 32-bit.
    const ENUM_SUFFIXES: [&str; 8] = [
        "CLASS", "_TYPE", "_STATE", "_ACTION", "COMMAND", "_SOURCE", "_INHERIT", "_LEVEL",
    ];
    if ENUM_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return scalar(false, Bits(32));
    }
    Base::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_table;

    /// The classes and per-ABI widths of a prototype's arguments.
    fn classes(proto: &str, os: Os) -> Vec<CType> {
        let t = parse_table(proto).unwrap();
        t.prototypes[0]
            .params
            .iter()
            .map(|p| classify(&p.ty, os))
            .collect()
    }

    fn class_of(ty: &str, os: Os) -> CType {
        classes(&format!("1 long f({ty} x);"), os).remove(0)
    }

    fn bits_on(ty: &str, abi: Abi) -> u8 {
        class_of(ty, abi.os()).bits(abi)
    }

    fn signed(ty: &str) -> bool {
        matches!(
            class_of(ty, Os::Linux),
            CType::Int {
                scalar: Scalar { signed: true, .. },
                ..
            }
        )
    }

    #[test]
    fn integer_widths_per_abi() {
        use syscalls2_abi::{linux_arm64, linux_mips64n32, linux_x64, linux_x86};
        // Bits on linux_x86, linux_x64, linux_arm64 and linux_mips64n32
        // (ILP32 with 64-bit registers: long and pointers are 32-bit).
        let cases: [(&str, [u8; 4]); 15] = [
            ("int", [32, 32, 32, 32]),
            ("unsigned int", [32, 32, 32, 32]),
            ("unsigned", [32, 32, 32, 32]),
            ("long", [32, 64, 64, 32]),
            ("unsigned long", [32, 64, 64, 32]),
            ("size_t", [32, 64, 64, 32]),
            ("loff_t", [64, 64, 64, 64]),
            ("long long", [64, 64, 64, 64]),
            ("unsigned short", [16, 16, 16, 16]),
            ("umode_t", [16, 16, 16, 16]),
            ("mode_t", [16, 32, 32, 32]),
            ("old_uid_t", [16, 32, 32, 32]),
            ("u32", [32, 32, 32, 32]),
            ("__s64", [64, 64, 64, 64]),
            ("pid_t", [32, 32, 32, 32]),
        ];
        for (ty, expected) in cases {
            let got = [
                linux_x86::ABI,
                linux_x64::ABI,
                linux_arm64::ABI,
                linux_mips64n32::ABI,
            ]
            .map(|a| bits_on(ty, a));
            assert_eq!(got, expected, "{ty}");
        }
        assert!(signed("long") && signed("int") && signed("loff_t") && signed("ssize_t"));
        assert!(!signed("unsigned long") && !signed("size_t") && !signed("u64"));
    }

    #[test]
    fn mode_t_is_not_umode_t() {
        // PANDA's substring test classifies both alike.
        assert_ne!(
            class_of("mode_t", Os::Linux).resolve(syscalls2_abi::linux_x64::ABI),
            class_of("umode_t", Os::Linux).resolve(syscalls2_abi::linux_x64::ABI)
        );
    }

    #[test]
    fn windows_data_model() {
        use syscalls2_abi::{windows_x64, windows_x86};
        for (ty, x86, x64) in [
            ("ULONG", 32, 32),
            ("LONG", 32, 32),
            ("HANDLE", 32, 64),
            ("SIZE_T", 32, 64),
            ("ULONG_PTR", 32, 64),
            ("BOOLEAN", 8, 8),
            ("USHORT", 16, 16),
            ("ACCESS_MASK", 32, 32),
            ("LARGE_INTEGER", 64, 64),
            ("FILE_INFORMATION_CLASS", 32, 32),
            ("PROCESSINFOCLASS", 32, 32),
            ("PVOID", 32, 64),
        ] {
            assert_eq!(
                (bits_on(ty, windows_x86::ABI), bits_on(ty, windows_x64::ABI)),
                (x86, x64),
                "{ty}"
            );
        }
    }

    #[test]
    fn pointer_classes() {
        let l = |ty| class_of(ty, Os::Linux);
        assert_eq!(l("const char __user *"), CType::CStr);
        assert_eq!(l("char __user *"), CType::Buf);
        assert_eq!(l("void __user *"), CType::Buf);
        assert_eq!(l("unsigned char __user *"), CType::Buf);
        assert_eq!(l("struct stat __user *"), CType::StructPtr("stat".into()));
        assert_eq!(
            l("const struct sigaction __user *"),
            CType::StructPtr("sigaction".into())
        );
        assert_eq!(l("union bpf_attr *"), CType::StructPtr("bpf_attr".into()));
        assert_eq!(l("int __user *"), CType::StructPtr("int".into()));
        assert_eq!(l("loff_t __user *"), CType::StructPtr("loff_t".into()));
        assert_eq!(l("const char __user *const __user *"), CType::PtrPtr);
        assert_eq!(l("struct iocb __user * __user *"), CType::PtrPtr);
        assert_eq!(
            l("cap_user_data_t"),
            CType::StructPtr("__user_cap_data_struct".into())
        );
        assert_eq!(l("__sighandler_t"), CType::FnPtr);
        let w = |ty| class_of(ty, Os::Windows);
        assert_eq!(w("PVOID"), CType::Buf);
        assert_eq!(w("PVOID *"), CType::PtrPtr);
        assert_eq!(
            w("PUNICODE_STRING"),
            CType::StructPtr("UNICODE_STRING".into())
        );
        assert_eq!(w("LPGUID"), CType::StructPtr("GUID".into()));
        assert_eq!(w("PHANDLE"), CType::StructPtr("HANDLE".into()));
        assert_eq!(w("PWSTR"), CType::WStr);
        assert_eq!(w("PCHAR"), CType::CStr);
        assert_eq!(w("PIO_APC_ROUTINE"), CType::FnPtr);
        assert_eq!(w("ULONG *"), CType::StructPtr("ULONG".into()));
    }

    #[test]
    fn arrays_function_pointers_and_varargs() {
        let c = classes(
            "1 NTSTATUS f (ULONG Count, HANDLE KeyArray[], void (*cb)(int), ...);",
            Os::Windows,
        );
        assert_eq!(&c[1..], [CType::Array, CType::FnPtr, CType::Varargs]);
        for abi in [
            syscalls2_abi::windows_x86::ABI,
            syscalls2_abi::windows_x64::ABI,
        ] {
            assert_eq!(c[1].bits(abi), abi.pointer_bits);
            assert_eq!(c[3].bits(abi), 0);
        }
    }

    #[test]
    fn every_class_on_each_word_size() {
        let c = classes(
            "1 long f(int a, unsigned long b, loff_t c, const char *d, void *e, struct stat *f, char **g, int h[], void (*i)(void), ...);",
            Os::Linux,
        );
        let on = |abi: Abi| c.iter().map(|t| t.bits(abi)).collect::<Vec<_>>();
        assert_eq!(
            on(syscalls2_abi::linux_x86::ABI),
            [32, 32, 64, 32, 32, 32, 32, 32, 32, 0]
        );
        assert_eq!(
            on(syscalls2_abi::linux_x64::ABI),
            [32, 64, 64, 64, 64, 64, 64, 64, 64, 0]
        );
        let rust: Vec<_> = c.iter().map(CType::rust_type).collect();
        assert_eq!(
            rust,
            [
                Some("i32"),
                Some("u64"),
                Some("i64"),
                Some("GuestPtr"),
                Some("GuestPtr"),
                Some("GuestPtr"),
                Some("GuestPtr"),
                Some("GuestPtr"),
                Some("GuestPtr"),
                None
            ]
        );
    }

    #[test]
    fn unknown_typedefs_are_flagged() {
        assert!(matches!(
            class_of("frobnicator_t", Os::Linux),
            CType::Int { known: false, .. }
        ));
        assert!(matches!(
            class_of("u32", Os::Linux),
            CType::Int { known: true, .. }
        ));
    }
}
