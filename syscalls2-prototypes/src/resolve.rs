//! A table resolved for one ABI: every argument classified, sized and
//! placed in slots, with the names the generated Rust code uses. This is
//! what `syscall_table!` prints as code, and what `#[on_syscall]` checks a
//! hook's signature against.

use crate::ctype::{classify, CType};
use crate::parse::{Diagnostic, Prototype, TableSource};
use syscalls2_abi::{Abi, ArgClass, ArgDir, ReturnKind, MAX_SLOTS};

/// A table ready for code generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTable {
    /// The profile name (`"linux_x86"`).
    pub name: String,
    /// The ABI.
    pub abi: Abi,
    /// The syscalls, sorted by number.
    pub syscalls: Vec<ResolvedSyscall>,
}

/// One syscall, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedSyscall {
    /// Its number.
    pub number: u64,
    /// Its name as in the table.
    pub name: String,
    /// Its C return type.
    pub rettype: String,
    /// Its arguments.
    pub args: Vec<ResolvedArg>,
    /// Its return behaviour.
    pub returns: ReturnKind,
    /// The prototype line.
    pub prototype: String,
    /// The line in the table.
    pub line: usize,
    /// The ABI it follows: the table's, or for a table holding several
    /// ABIs' calls, the one its number belongs to
    /// ([`Abi::abi_of_number`]).
    pub abi: Abi,
}

/// One argument, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedArg {
    /// The name in the prototype, or `arg{i}` when it has none.
    pub name: String,
    /// The Rust field name: snake case, not a keyword (`file_handle`, `r#type`).
    pub field: String,
    /// The C type as written.
    pub ctype: String,
    /// The ABI-neutral class.
    pub ctype_class: CType,
    /// The class on this ABI.
    pub class: ArgClass,
    /// The first slot.
    pub slot: u8,
    /// The slot count.
    pub slots: u8,
    /// What the call does with it (`// @out`, `// @inout`).
    pub dir: ArgDir,
    /// For a pointer to an integer type (`PHANDLE`): the pointee's class.
    pub pointee_class: Option<ArgClass>,
}

impl ResolvedArg {
    /// The Rust type typed hooks receive (`None` for `...`).
    pub fn rust_type(&self) -> Option<&'static str> {
        self.ctype_class.rust_type()
    }
}

impl ResolvedSyscall {
    /// The arch-neutral signature, `"u32,GuestPtr,u64"`: the Rust types of
    /// the arguments a typed hook receives.
    pub fn signature(&self) -> String {
        self.args
            .iter()
            .filter_map(ResolvedArg::rust_type)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The Rust type name: `SysRead` for `sys_read`, `NtReadFile` as is.
    pub fn type_name(&self) -> String {
        camel_case(&self.name)
    }
}

/// Resolves a parsed table for `abi`, reporting every problem found:
/// duplicates, unknown annotations, missing numbers, too many slots.
pub fn resolve(
    source: &TableSource,
    abi: Abi,
    name: &str,
) -> Result<ResolvedTable, Vec<Diagnostic>> {
    let mut errors = source.validate();
    let mut syscalls = Vec::new();
    // A name may repeat at other numbers (PANDA's linux_mips64 holds o32,
    // n64 and n32 calls; its freebsd_x64 old compat calls): each is
    // decoded as its own; see `primaries` in syscalls2-codegen for which
    // one the typed items serve.
    for p in &source.prototypes {
        let entry_abi = p.number.map_or(abi, |n| abi.abi_of_number(n));
        if let Some(n) = p.number.filter(|n| n & !entry_abi.number_mask != 0) {
            errors.push(Diagnostic {
                line: p.line,
                message: format!(
                    "`{}`: number {n:#x} is beyond {entry_abi}'s call numbers (its kernel reads them in {:#x}): no call can have it",
                    p.name, entry_abi.number_mask
                ),
            });
            continue;
        }
        match resolve_one(p, entry_abi) {
            Ok(s) => syscalls.push(s),
            Err(e) => errors.push(e),
        }
    }
    if syscalls.len() >= usize::from(u16::MAX) {
        errors.push(Diagnostic {
            line: 1,
            message: format!("{} syscalls: at most 65534 fit", syscalls.len()),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|d| d.line);
        return Err(errors);
    }
    syscalls.sort_by_key(|s| s.number);
    Ok(ResolvedTable {
        name: name.to_string(),
        abi,
        syscalls,
    })
}

fn resolve_one(p: &Prototype, abi: Abi) -> Result<ResolvedSyscall, Diagnostic> {
    let number = p.number.ok_or_else(|| Diagnostic {
        line: p.line,
        message: format!(
            "`{}` has no number: a signature-only table cannot be a profile",
            p.name
        ),
    })?;
    let classes: Vec<CType> = p.params.iter().map(|a| classify(&a.ty, abi.os())).collect();
    let widths: Vec<u8> = classes.iter().map(|c| c.bits(abi)).collect();
    let layout = abi.layout_slots(&widths);
    if let Some(&(first, count)) = layout.last() {
        let limit = abi.arg_slots.min(MAX_SLOTS);
        if usize::from(first) + usize::from(count) > limit {
            return Err(Diagnostic {
                line: p.line,
                message: format!(
                    "`{}` needs {} argument slots, but {abi} calls pass at most {limit}",
                    p.name,
                    first + count
                ),
            });
        }
    }
    let mut fields: Vec<String> = Vec::new();
    let args = p
        .params
        .iter()
        .zip(classes)
        .zip(layout)
        .enumerate()
        .map(|(i, ((param, ctype_class), (slot, slots)))| {
            let name = p.param_name(i);
            let dir = p.direction(&name);
            let mut field = field_name(&name);
            if fields.contains(&field) {
                field = format!("{field}_{i}");
            }
            fields.push(field.clone());
            let pointee_class = match &ctype_class {
                CType::StructPtr(name) => {
                    let words = vec![name.clone()];
                    let pointee = crate::parse::TypeRef {
                        words,
                        ..Default::default()
                    };
                    match classify(&pointee, abi.os()) {
                        c @ CType::Int { known: true, .. } => Some(c.resolve(abi)),
                        _ => None,
                    }
                }
                _ => None,
            };
            ResolvedArg {
                pointee_class,
                name,
                field,
                ctype: param.ty.to_string(),
                class: ctype_class.resolve(abi),
                ctype_class,
                slot,
                slots,
                dir,
            }
        })
        .collect();
    Ok(ResolvedSyscall {
        number,
        name: p.name.clone(),
        rettype: p.rettype.clone(),
        args,
        returns: p.returns(),
        prototype: p.text.trim().to_string(),
        line: p.line,
        abi,
    })
}

/// Rust's reserved words, which a field cannot be named without `r#`.
const KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// A prototype's argument name as a Rust field: snake case (`FileHandle`
/// becomes `file_handle`), `r#type` for a keyword, `self_` for the words
/// `r#` cannot take.
pub fn field_name(name: &str) -> String {
    let snake = snake_case(name);
    match snake.as_str() {
        "self" | "Self" | "super" | "crate" | "_" => format!("{snake}_"),
        s if KEYWORDS.contains(&s) => format!("r#{s}"),
        _ => snake,
    }
}

/// `FileHandle` → `file_handle`, `IoStatusBlock` → `io_status_block`,
/// `ObjectAttributes` → `object_attributes`, `fd` → `fd`, `PID` → `pid`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `sys_read` → `SysRead`, `NtReadFile` → `NtReadFile`, `ARM_breakpoint` →
/// `ArmBreakpoint`, `__getcwd` → `Getcwd`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let all_caps = part.chars().all(|c| !c.is_lowercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            if all_caps {
                out.extend(chars.flat_map(char::to_lowercase));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert_str(0, "Sys");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_table;

    fn table(src: &str, abi: Abi) -> ResolvedTable {
        resolve(&parse_table(src).unwrap(), abi, "t").unwrap()
    }

    #[test]
    fn names_become_rust_identifiers() {
        assert_eq!(field_name("FileHandle"), "file_handle");
        assert_eq!(field_name("IoStatusBlock"), "io_status_block");
        assert_eq!(field_name("fd"), "fd");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("newSp"), "new_sp");
        assert_eq!(field_name("PID"), "pid");
        assert_eq!(camel_case("sys_read"), "SysRead");
        assert_eq!(camel_case("NtReadFile"), "NtReadFile");
        assert_eq!(camel_case("ARM_breakpoint"), "ArmBreakpoint");
        assert_eq!(camel_case("__getcwd"), "Getcwd");
    }

    #[test]
    fn unnamed_and_duplicate_arguments_get_distinct_fields() {
        let t = table(
            "1 long f(int, int, int x, long x);",
            syscalls2_abi::linux_x64::ABI,
        );
        let fields: Vec<_> = t.syscalls[0]
            .args
            .iter()
            .map(|a| a.field.as_str())
            .collect();
        assert_eq!(fields, ["arg0", "arg1", "x", "x_3"]);
    }

    #[test]
    fn slots_and_signatures() {
        let src =
            "180 long sys_pread64(unsigned int fd, char __user *buf, size_t count, loff_t pos);";
        let x86 = table(src, syscalls2_abi::linux_x86::ABI);
        let arm = table(src, syscalls2_abi::linux_arm::ABI);
        let x64 = table(src, syscalls2_abi::linux_x64::ABI);
        let slots = |t: &ResolvedTable| {
            t.syscalls[0]
                .args
                .iter()
                .map(|a| (a.slot, a.slots))
                .collect::<Vec<_>>()
        };
        assert_eq!(slots(&x86), [(0, 1), (1, 1), (2, 1), (3, 2)]);
        assert_eq!(slots(&arm), [(0, 1), (1, 1), (2, 1), (4, 2)]);
        assert_eq!(slots(&x64), [(0, 1), (1, 1), (2, 1), (3, 1)]);
        // One hook serves every ABI: the Rust signature does not change.
        assert_eq!(x86.syscalls[0].signature(), "u32,GuestPtr,u64,i64");
        assert_eq!(x86.syscalls[0].signature(), x64.syscalls[0].signature());
        assert_eq!(
            x86.syscalls[0].args[3].class,
            ArgClass::Int {
                signed: true,
                bits: 64
            }
        );
        assert_eq!(
            x86.syscalls[0].args[2].class,
            ArgClass::Int {
                signed: false,
                bits: 32
            }
        );
        assert_eq!(
            x64.syscalls[0].args[2].class,
            ArgClass::Int {
                signed: false,
                bits: 64
            }
        );
    }

    #[test]
    fn problems_are_all_reported() {
        let src = "1 long a(void);\n1 long b(void);\nlong c(void);\n";
        let errors = resolve(
            &parse_table(src).unwrap(),
            syscalls2_abi::linux_x86::ABI,
            "t",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].message.contains("duplicate syscall number 1"));
        assert!(errors[1].message.contains("no number"));
    }

    #[test]
    fn numbers_beyond_the_abis_are_refused_at_their_line() {
        use syscalls2_abi::{linux_mips64, linux_x64, windows_x64};
        let refused = |src: &str, abi| {
            let e = resolve(&parse_table(src).unwrap(), abi, "t").unwrap_err();
            assert_eq!(e.len(), 1, "{e:?}");
            (e[0].line, e[0].message.clone())
        };
        // x86-64's kernel reads 32 bits: 1 << 32 | 1 is call 1.
        let (line, m) = refused("1 long a(void);\n0x100000001 long b(void);", linux_x64::ABI);
        assert_eq!(line, 2);
        assert!(m.contains("beyond linux_x64's call numbers"), "{m}");
        let (line, _) = refused("0x2000 NTSTATUS NtX(void);", windows_x64::ABI);
        assert_eq!(line, 1);
        // MIPS64 reads the whole register.
        let src = "0x100000000 long a(void);";
        assert!(resolve(&parse_table(src).unwrap(), linux_mips64::ABI, "t").is_ok());
    }

    #[test]
    fn too_many_arguments_for_the_registers() {
        let src = "1 long f(int a, int b, int c, int d, int e, int g, int h);";
        let e = resolve(
            &parse_table(src).unwrap(),
            syscalls2_abi::linux_x64::ABI,
            "t",
        )
        .unwrap_err();
        assert!(
            e[0].message
                .contains("needs 7 argument slots, but linux_x64 calls pass at most 6"),
            "{e:?}"
        );
        assert!(resolve(
            &parse_table(src).unwrap(),
            syscalls2_abi::linux_arm::ABI,
            "t"
        )
        .is_ok());
        // A 64-bit pair after five words does not fit ARM's seven registers.
        let src = "1 long f(int a, int b, int c, int d, int e, loff_t pos);";
        assert!(resolve(
            &parse_table(src).unwrap(),
            syscalls2_abi::linux_arm::ABI,
            "t"
        )
        .is_err());
    }

    #[test]
    fn directions_and_integer_pointees_reach_the_arguments() {
        let src = parse_table(
            "// @out FileHandle\n2 NTSTATUS NtOpenFile (PHANDLE FileHandle, PUNICODE_STRING Name, PLARGE_INTEGER Offset);",
        )
        .unwrap();
        let t = resolve(&src, syscalls2_abi::windows_x64::ABI, "w").unwrap();
        let args = &t.syscalls[0].args;
        assert_eq!(args[0].dir, ArgDir::Out);
        assert_eq!(args[1].dir, ArgDir::In);
        assert_eq!(
            args[0].pointee_class,
            Some(ArgClass::Int {
                signed: false,
                bits: 64
            })
        );
        assert_eq!(args[1].pointee_class, None);
        assert_eq!(
            args[2].pointee_class,
            Some(ArgClass::Int {
                signed: true,
                bits: 64
            })
        );
        let x86 = resolve(&src, syscalls2_abi::windows_x86::ABI, "w").unwrap();
        assert_eq!(
            x86.syscalls[0].args[0].pointee_class,
            Some(ArgClass::Int {
                signed: false,
                bits: 32
            })
        );
    }

    #[test]
    fn sorted_by_number_with_annotations() {
        let t = table(
            "// @doublereturn\n2 long sys_fork(void);\n// @noreturn\n1 long sys_exit(int code);\n",
            syscalls2_abi::linux_x86::ABI,
        );
        assert_eq!(t.syscalls[0].name, "sys_exit");
        assert!(t.syscalls[0].returns.noreturn);
        assert!(t.syscalls[1].returns.double_return);
    }

    #[test]
    fn names_may_repeat_at_other_numbers() {
        use syscalls2_abi::{linux_mips, linux_mips64, linux_mips64n32};
        // FreeBSD's old compat calls keep their names.
        let src = "30 int accept(int s, void *name, int *anamelen);\n99 int accept(int s, void *name, int *anamelen);\n";
        let t = resolve(
            &parse_table(src).unwrap(),
            syscalls2_abi::freebsd_x64::ABI,
            "t",
        )
        .unwrap();
        assert_eq!(t.syscalls.len(), 2);
        // PANDA's linux_mips64 holds o32, n64 and n32 calls: each resolved
        // with its own ABI's data model.
        let src = "4179 long sys_pread64(unsigned int fd, char *buf, size_t count, loff_t pos);\n\
                   5016 long sys_pread64(unsigned int fd, char *buf, size_t count, loff_t pos);\n\
                   6016 long sys_pread64(unsigned int fd, char *buf, size_t count, loff_t pos);\n";
        let t = resolve(&parse_table(src).unwrap(), linux_mips64::ABI, "m").unwrap();
        let abis: Vec<_> = t.syscalls.iter().map(|s| s.abi).collect();
        assert_eq!(
            abis,
            [linux_mips::ABI, linux_mips64::ABI, linux_mips64n32::ABI]
        );
        // o32: `pos` in an aligned pair of 32-bit slots; n64, n32: one register.
        let pos: Vec<_> = t
            .syscalls
            .iter()
            .map(|s| (s.args[3].slot, s.args[3].slots))
            .collect();
        assert_eq!(pos, [(4, 2), (3, 1), (3, 1)]);
    }
}
