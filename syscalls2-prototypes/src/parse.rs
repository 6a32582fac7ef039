//! The parser: pest grammar to [`TableSource`].

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;
use std::collections::HashMap;
use std::fmt;
use syscalls2_abi::{ArgDir, ReturnKind};

#[derive(Parser)]
#[grammar = "prototypes.pest"]
struct PrototypeParser;

/// A parsed table: its prototypes in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSource {
    /// The prototypes, in the order of the file.
    pub prototypes: Vec<Prototype>,
    /// FreeBSD's placeholder lines (`252 AUE_POLL OBSOL openbsd_poll`):
    /// numbers with no callable syscall.
    pub placeholders: Vec<Placeholder>,
    /// Annotations not directly followed by a prototype.
    pub dangling: Vec<Annotation>,
}

/// One syscall prototype line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prototype {
    /// The number, absent in signature-only tables.
    pub number: Option<u64>,
    /// The return type as written (`"long"`, `"NTSTATUS"`).
    pub rettype: String,
    /// The syscall's name (`"sys_read"`, `"NtReadFile"`).
    pub name: String,
    /// The arguments; empty for `(void)` and `()`.
    pub params: Vec<Param>,
    /// The annotations on the comment lines just before it.
    pub annotations: Vec<Annotation>,
    /// The 1-based line number.
    pub line: usize,
    /// The line as written, without its line ending.
    pub text: String,
}

impl Prototype {
    /// The return behaviour its annotations declare.
    pub fn returns(&self) -> ReturnKind {
        let mut kind = ReturnKind::default();
        for a in &self.annotations {
            match a.name.as_str() {
                "noreturn" => kind.noreturn = true,
                "noreturn-on-success" => kind.noreturn_on_success = true,
                "doublereturn" => kind.double_return = true,
                _ => {}
            }
        }
        kind
    }

    /// Whether its annotations give argument directions (`@out`, `@inout`).
    pub fn has_directions(&self) -> bool {
        self.annotations.iter().any(|a| a.direction().is_some())
    }

    /// The direction of the argument named `name` (or unnamed at `index`,
    /// `arg{index}`): `Out`/`InOut` where an `@out`/`@inout` annotation
    /// names it, `In` for the others of a prototype with such an
    /// annotation, `Unknown` where the prototype has none.
    pub fn direction(&self, name: &str) -> ArgDir {
        let mut dir = ArgDir::Unknown;
        for a in &self.annotations {
            if let Some(d) = a.direction() {
                if a.words.iter().any(|w| w == name) {
                    return d;
                }
                dir = ArgDir::In;
            }
        }
        dir
    }

    /// The name an argument goes by in annotations: its own, or `arg{i}`.
    pub fn param_name(&self, index: usize) -> String {
        self.params[index]
            .name
            .clone()
            .unwrap_or_else(|| format!("arg{index}"))
    }
}

/// A `// @name` annotation line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The name after `@`.
    pub name: String,
    /// The words after the name (`FileHandle IoStatusBlock` of
    /// `// @out FileHandle IoStatusBlock`).
    pub words: Vec<String>,
    /// Its 1-based line number.
    pub line: usize,
}

impl Annotation {
    /// The direction an `@out` or `@inout` annotation gives its arguments.
    pub fn direction(&self) -> Option<ArgDir> {
        match self.name.as_str() {
            "out" => Some(ArgDir::Out),
            "inout" => Some(ArgDir::InOut),
            _ => None,
        }
    }
}

/// The annotations syscalls2 knows (see [`ReturnKind`] and [`ArgDir`]).
pub const ANNOTATIONS: [&str; 5] = [
    "noreturn",
    "noreturn-on-success",
    "doublereturn",
    "out",
    "inout",
];

/// A FreeBSD placeholder line: a number with no syscall behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The number.
    pub number: u64,
    /// The 1-based line number.
    pub line: usize,
}

/// One argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The name, when the prototype gives one.
    pub name: Option<String>,
    /// The type.
    pub ty: TypeRef,
}

/// A C type as written in a prototype, in parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeRef {
    /// Qualifiers of the base type (`const`, `__user`).
    pub qualifiers: Vec<String>,
    /// The base type's words (`["unsigned", "long"]`, `["struct", "stat"]`, `["HANDLE"]`).
    pub words: Vec<String>,
    /// One entry per `*`, each with the qualifiers that follow it
    /// (`const char __user *const __user *argv`: `[["const", "__user"], []]`).
    pub pointers: Vec<Vec<String>>,
    /// Declared as an array (`HANDLE KeyArray[]`).
    pub array: bool,
    /// Declared as a function pointer (`void (*handler)(int)`).
    pub function: bool,
    /// `...`.
    pub varargs: bool,
}

impl TypeRef {
    /// Whether the base type is `const` (`const char *`, `char const *`).
    pub fn is_const(&self) -> bool {
        self.qualifiers.iter().any(|q| q == "const")
    }
}

impl fmt::Display for TypeRef {
    /// The type in the tables' spelling: `const char __user *const __user *`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.varargs {
            return f.write_str("...");
        }
        let mut parts: Vec<&str> = Vec::new();
        // Leading `const`/`volatile`, then the base words, then `__user` & co,
        // as the kernel writes them.
        let leading = |q: &&String| q.as_str() == "const" || q.as_str() == "volatile";
        parts.extend(self.qualifiers.iter().filter(leading).map(String::as_str));
        parts.extend(self.words.iter().map(String::as_str));
        parts.extend(
            self.qualifiers
                .iter()
                .filter(|q| !leading(q))
                .map(String::as_str),
        );
        let mut out = parts.join(" ");
        for (i, quals) in self.pointers.iter().enumerate() {
            out.push_str(if i == 0 { " *" } else { "*" });
            for q in quals {
                out.push_str(q);
                out.push(' ');
            }
        }
        if self.function {
            out.push_str(" (*)()");
        }
        if self.array {
            out.push_str("[]");
        }
        f.write_str(out.trim_end())
    }
}

/// A syntax error: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What the grammar expected, as pest words it.
    pub message: String,
    /// The offending line.
    pub text: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n  | {}",
            self.line, self.column, self.message, self.text
        )
    }
}

impl std::error::Error for ParseError {}

/// A problem with a table that parses: a duplicate number or name, an
/// unknown annotation, an annotation attached to nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The 1-based line it is reported at.
    pub line: usize,
    /// What is wrong, naming the other line where there is one.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// Where each line of a source starts, with the grammar's line endings
/// (`\n`, `\r\n`, and a lone `\r`): a byte offset becomes a line and
/// column with one binary search, so locating every prototype of a table
/// costs no more than reading it (pest's own `line_col` counts from the
/// start each time, and counts no lone `\r`).
struct Lines<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(source: &'a str) -> Self {
        let bytes = source.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends {
                starts.push(i + 1);
            }
        }
        Lines { source, starts }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .source
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    /// Line `line` (1-based) as written, without its line ending.
    fn text(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).copied().unwrap_or(self.source.len());
        self.source[start..end].trim_end_matches(['\n', '\r'])
    }

    /// An error at byte `offset`.
    fn error(&self, offset: usize, message: String) -> ParseError {
        let (line, column) = self.locate(offset);
        ParseError {
            line,
            column,
            message,
            text: self.text(line).to_string(),
        }
    }
}

/// Parses a table in PANDA's prototype format.
///
/// Syntax only; [`TableSource::validate`] checks for duplicates. A number
/// that does not fit in 64 bits is a syntax error here.
pub fn parse_table(source: &str) -> Result<TableSource, ParseError> {
    let lines = Lines::new(source);
    let mut pairs = PrototypeParser::parse(Rule::table, source).map_err(|e| to_error(e, &lines))?;
    let table = pairs.next().expect("the table rule always yields one pair");
    let mut out = TableSource::default();
    let mut pending: Vec<Annotation> = Vec::new();
    for pair in table.into_inner() {
        let line = lines.locate(pair.as_span().start()).0;
        match pair.as_rule() {
            Rule::annotation => {
                let mut inner = pair.into_inner();
                let name = inner
                    .next()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                let words = inner
                    .next()
                    .map(|p| p.as_str().split_whitespace().map(String::from).collect())
                    .unwrap_or_default();
                pending.push(Annotation { name, words, line });
            }
            Rule::prototype => {
                let mut p = prototype(pair, line, &lines)?;
                p.annotations = std::mem::take(&mut pending);
                out.prototypes.push(p);
            }
            Rule::placeholder => {
                let number = match pair.into_inner().next() {
                    Some(n) => number(&n, &lines)?,
                    None => 0,
                };
                out.placeholders.push(Placeholder { number, line });
            }
            // An annotation belongs to the prototype on the next line: any
            // other line in between leaves it dangling, which `validate`
            // reports.
            Rule::comment | Rule::blank if !pending.is_empty() => {
                out.dangling.append(&mut pending);
            }
            _ => {}
        }
    }
    // Annotations on the last lines, with no prototype after them.
    out.dangling.append(&mut pending);
    Ok(out)
}

fn to_error(e: pest::error::Error<Rule>, lines: &Lines<'_>) -> ParseError {
    let offset = match e.location {
        pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
    };
    let e = e.renamed_rules(|rule| describe(*rule).to_string());
    lines.error(offset, e.variant.message().into_owned())
}

/// Human words for grammar rules, for error messages.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::number => "a syscall number",
        Rule::return_type | Rule::return_word => "a return type",
        Rule::syscall_name => "the syscall's name followed by `(`",
        Rule::params => "the argument list",
        Rule::param => "an argument",
        Rule::varargs => "`...`",
        Rule::declarator | Rule::param_name => "an argument name",
        Rule::pointer => "`*`",
        Rule::array => "`[]`",
        Rule::qualifier => "a type qualifier",
        Rule::keyword | Rule::typedef_name | Rule::tagged | Rule::type_spec => "a type",
        Rule::comment | Rule::annotation => "a `//` comment",
        Rule::placeholder | Rule::placeholder_kind => "a placeholder (`OBSOL`)",
        Rule::prototype => "a prototype `NUMBER TYPE NAME(ARGS);`",
        Rule::identifier => "an identifier",
        Rule::comma => "`,`",
        Rule::rparen => "`)`",
        Rule::semicolon => "`;`",
        _ => "a valid prototype line",
    }
}

/// A number token's value; the grammar admits only digits, or 0x and hex
/// digits, so the one failure is a value beyond 64 bits.
fn number(pair: &Pair<'_, Rule>, lines: &Lines<'_>) -> Result<u64, ParseError> {
    let s = pair.as_str();
    let value = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    value.map_err(|_| {
        lines.error(
            pair.as_span().start(),
            format!("syscall number `{s}` does not fit in 64 bits"),
        )
    })
}

fn prototype(
    pair: Pair<'_, Rule>,
    line: usize,
    lines: &Lines<'_>,
) -> Result<Prototype, ParseError> {
    let mut p = Prototype {
        number: None,
        rettype: String::new(),
        name: String::new(),
        params: Vec::new(),
        annotations: Vec::new(),
        line,
        text: lines.text(line).to_string(),
    };
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::number => p.number = Some(number(&part, lines)?),
            Rule::return_type => {
                p.rettype = part
                    .as_str()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Rule::syscall_name => p.name = part.as_str().to_string(),
            Rule::params => p.params = params(part),
            _ => {}
        }
    }
    Ok(p)
}

fn params(pair: Pair<'_, Rule>) -> Vec<Param> {
    pair.into_inner()
        .filter_map(|p| match p.as_rule() {
            Rule::param => Some(param(p)),
            Rule::varargs => Some(Param {
                name: None,
                ty: TypeRef {
                    varargs: true,
                    ..TypeRef::default()
                },
            }),
            _ => None,
        })
        .collect()
}

fn param(pair: Pair<'_, Rule>) -> Param {
    let mut ty = TypeRef::default();
    let mut name = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::type_spec => {
                for word in part.into_inner() {
                    match word.as_rule() {
                        Rule::qualifier => ty.qualifiers.push(word.as_str().to_string()),
                        Rule::tagged => ty
                            .words
                            .extend(word.into_inner().map(|w| w.as_str().to_string())),
                        _ => ty.words.push(word.as_str().to_string()),
                    }
                }
            }
            Rule::declarator => {
                for d in part.into_inner() {
                    match d.as_rule() {
                        Rule::pointer => ty
                            .pointers
                            .push(d.into_inner().map(|q| q.as_str().to_string()).collect()),
                        Rule::param_name => name = Some(d.as_str().to_string()),
                        Rule::array => ty.array = true,
                        Rule::fn_declarator => {
                            ty.function = true;
                            name = d
                                .into_inner()
                                .find(|x| x.as_rule() == Rule::param_name)
                                .map(|x| x.as_str().to_string());
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    // `aio_context_t` alone: the grammar reads the lone word as a name, but
    // an argument always has a type, so it is the type.
    if ty.words.is_empty() && !ty.function {
        if let Some(n) = name.take() {
            ty.words.push(n);
        }
    }
    Param { name, ty }
}

impl TableSource {
    /// Finds what makes a table unusable though it parses, whatever its
    /// ABI: two prototypes with one number; an unknown annotation; an
    /// annotation that no prototype follows. (Names repeated within one ABI
    /// are found by [`crate::resolve`], which knows the ABIs.)
    pub fn validate(&self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self
            .dangling
            .iter()
            .map(|a| Diagnostic {
                line: a.line,
                message: format!(
                    "annotation `@{}` is not directly followed by a prototype",
                    a.name
                ),
            })
            .collect();
        let mut numbers: HashMap<u64, &Prototype> = HashMap::new();
        for p in &self.prototypes {
            if let Some(n) = p.number {
                if let Some(first) = numbers.insert(n, p) {
                    out.push(Diagnostic {
                        line: p.line,
                        message: format!(
                            "duplicate syscall number {n}: `{}` here and `{}` at line {}",
                            p.name, first.name, first.line
                        ),
                    });
                    numbers.insert(n, first);
                }
            }
            for a in &p.annotations {
                if a.direction().is_some() {
                    let names: Vec<String> = (0..p.params.len()).map(|i| p.param_name(i)).collect();
                    for w in a.words.iter().filter(|w| !names.contains(w)) {
                        out.push(Diagnostic {
                            line: a.line,
                            message: format!(
                                "`@{} {w}`: `{}` has no argument named `{w}` (it has: {})",
                                a.name,
                                p.name,
                                names.join(", ")
                            ),
                        });
                    }
                    if a.words.is_empty() {
                        out.push(Diagnostic {
                            line: a.line,
                            message: format!("`@{}` names no argument", a.name),
                        });
                    }
                }
                if !ANNOTATIONS.contains(&a.name.as_str()) {
                    out.push(Diagnostic {
                        line: a.line,
                        message: format!(
                            "unknown annotation `@{}` (known: {})",
                            a.name,
                            ANNOTATIONS.map(|n| format!("@{n}")).join(", ")
                        ),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Prototype {
        let t = parse_table(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(t.prototypes.len(), 1, "{line}");
        t.prototypes.into_iter().next().unwrap()
    }

    fn types(p: &Prototype) -> Vec<String> {
        p.params.iter().map(|a| a.ty.to_string()).collect()
    }

    fn names(p: &Prototype) -> Vec<Option<&str>> {
        p.params.iter().map(|a| a.name.as_deref()).collect()
    }

    #[test]
    fn linux_prototype() {
        let p = one("3 long sys_read(unsigned int fd, char __user *buf, size_t count);");
        assert_eq!(p.number, Some(3));
        assert_eq!(p.rettype, "long");
        assert_eq!(p.name, "sys_read");
        assert_eq!(names(&p), [Some("fd"), Some("buf"), Some("count")]);
        assert_eq!(types(&p), ["unsigned int", "char __user *", "size_t"]);
    }

    #[test]
    fn windows_prototype_with_space_before_paren() {
        let p = one("273 NTSTATUS NtReadFile (HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key);");
        assert_eq!(p.name, "NtReadFile");
        assert_eq!(p.params.len(), 9);
        assert_eq!(p.params[8].ty.words, ["PULONG"]);
    }

    #[test]
    fn signature_only() {
        let p = one("NTSTATUS NtAddAtom (PWSTR AtomName, ULONG Length, PRTL_ATOM Atom);");
        assert_eq!(p.number, None);
        assert_eq!(p.name, "NtAddAtom");
    }

    #[test]
    fn void_and_empty_argument_lists() {
        assert!(one("2 long sys_fork(void);").params.is_empty());
        assert!(one("2 long sys_fork();").params.is_empty());
        assert!(one("7 NTSTATUS NtTestAlert ();").params.is_empty());
    }

    #[test]
    fn unnamed_arguments() {
        let p = one("2 long sys_io_submit(aio_context_t, long, struct iocb __user * __user *);");
        assert_eq!(names(&p), [None, None, None]);
        assert_eq!(
            types(&p),
            ["aio_context_t", "long", "struct iocb __user *__user *"]
        );
        let p = one("134 long sys_rt_sigaction(int, const struct sigaction __user *, struct sigaction __user *, size_t);");
        assert_eq!(p.params[1].ty.words, ["struct", "sigaction"]);
        assert!(p.params[1].ty.is_const());
        let p = one("1 long f(unsigned, const cap_user_data_t, __s32);");
        assert_eq!(types(&p), ["unsigned", "const cap_user_data_t", "__s32"]);
    }

    #[test]
    fn multi_word_types_and_names() {
        let p = one(
            "1 long f(unsigned long addr, unsigned fd, long long x, unsigned short y, u32 flags);",
        );
        assert_eq!(
            names(&p),
            [
                Some("addr"),
                Some("fd"),
                Some("x"),
                Some("y"),
                Some("flags")
            ]
        );
        assert_eq!(
            types(&p),
            [
                "unsigned long",
                "unsigned",
                "long long",
                "unsigned short",
                "u32"
            ]
        );
    }

    #[test]
    fn pointers_to_pointers_with_qualifiers() {
        let p = one("11 long sys_execve(const char __user *filename, const char __user *const __user *argv, const char __user *const __user *envp);");
        let argv = &p.params[1];
        assert_eq!(argv.name.as_deref(), Some("argv"));
        assert_eq!(
            argv.ty.pointers,
            vec![vec!["const".to_string(), "__user".to_string()], vec![]]
        );
        assert_eq!(argv.ty.to_string(), "const char __user *const __user *");
    }

    #[test]
    fn arrays_varargs_and_function_pointers() {
        let p = one("1 NTSTATUS NtCompactKeys (ULONG Count, HANDLE KeyArray[]);");
        assert!(p.params[1].ty.array);
        assert_eq!(p.params[1].name.as_deref(), Some("KeyArray"));
        let p = one("1 long sys_prctl(int option, ...);");
        assert!(p.params[1].ty.varargs);
        let p = one("1 long sys_signal(int sig, void (*handler)(int));");
        assert!(p.params[1].ty.function);
        assert_eq!(p.params[1].name.as_deref(), Some("handler"));
        let p = one("1 long f(volatile int __user *uaddr, union bpf_attr *attr, enum foo e);");
        assert_eq!(
            types(&p),
            ["volatile int __user *", "union bpf_attr *", "enum foo"]
        );
    }

    #[test]
    fn comments_blank_lines_annotations_and_placeholders() {
        let t = parse_table(
            "// header\n\n// TODO: 425 long sys_io_uring_setup\n// @noreturn\n1 long sys_exit(int error_code);\n\
             252 AUE_POLL OBSOL openbsd_poll\r\n2 long sys_fork(void);",
        )
        .unwrap();
        assert_eq!(t.prototypes.len(), 2);
        assert!(t.prototypes[0].returns().noreturn);
        assert_eq!(t.prototypes[0].line, 5);
        assert!(!t.prototypes[1].returns().noreturn);
        assert_eq!(
            t.placeholders,
            [Placeholder {
                number: 252,
                line: 6
            }]
        );
    }

    #[test]
    fn out_and_inout_annotations_give_argument_directions() {
        let t = parse_table(
            "// @out FileHandle IoStatusBlock\n// @inout arg2\n\
             5 NTSTATUS NtOpenFile (PHANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock, PULONG, ULONG Options);\n\
             6 NTSTATUS NtClose (HANDLE Handle);",
        )
        .unwrap();
        assert!(t.validate().is_empty(), "{:?}", t.validate());
        let p = &t.prototypes[0];
        let dirs: Vec<ArgDir> = (0..4).map(|i| p.direction(&p.param_name(i))).collect();
        assert_eq!(dirs, [ArgDir::Out, ArgDir::Out, ArgDir::InOut, ArgDir::In]);
        assert_eq!(p.annotations[0].words, ["FileHandle", "IoStatusBlock"]);
        // Without any direction annotation nothing is claimed.
        assert_eq!(t.prototypes[1].direction("Handle"), ArgDir::Unknown);
        let bad = parse_table("// @out Handel\n6 NTSTATUS NtClose (HANDLE Handle);").unwrap();
        let d = bad.validate();
        assert_eq!(d.len(), 1);
        assert!(
            d[0].message.contains("has no argument named `Handel`"),
            "{}",
            d[0].message
        );
        let empty = parse_table("// @out\n6 NTSTATUS NtClose (HANDLE Handle);").unwrap();
        assert!(empty.validate()[0].message.contains("names no argument"));
    }

    #[test]
    fn syntax_errors_have_line_column_and_expectation() {
        let e = parse_table("3 long sys_read(unsigned int fd;\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.column > 1, "{e}");
        assert!(e.message.contains("expected"), "{e}");
        let e =
            parse_table("1 long sys_exit(int error_code);\n2 long sys_fork(void)\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(e.text, "2 long sys_fork(void)");
        let e = parse_table("1 long f(int a, , int b);").unwrap_err();
        assert_eq!((e.line, e.column), (1, 17), "{e}");
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        // The grammar's NEWLINE takes `\r` alone: so do the line numbers.
        let t = parse_table("1 long a(void);\r2 long b(void);\r\n\r3 long c(void)").unwrap_err();
        assert_eq!((t.line, t.text.as_str()), (4, "3 long c(void)"), "{t}");
        let t = parse_table("1 long a(void);\r// @noreturn\r2 long b(void);").unwrap();
        let lines: Vec<(usize, &str)> = t
            .prototypes
            .iter()
            .map(|p| (p.line, p.text.as_str()))
            .collect();
        assert_eq!(lines, [(1, "1 long a(void);"), (3, "2 long b(void);")]);
        assert_eq!(t.prototypes[1].annotations[0].line, 2);
    }

    #[test]
    fn columns_count_characters() {
        let e = parse_table("// é\n1 long é(void);").unwrap_err();
        assert_eq!((e.line, e.column), (2, 8), "{e}");
    }

    #[test]
    fn numbers_beyond_64_bits_are_errors_at_their_place() {
        let e = parse_table("1 long a(void);\n  18446744073709551616 long b(void);\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3), "{e}");
        assert!(e.message.contains("does not fit in 64 bits"), "{e}");
        let e = parse_table("0x10000000000000000 long b(void);").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1), "{e}");
        let t = parse_table("0xffffffffffffffff long b(void);").unwrap();
        assert_eq!(t.prototypes[0].number, Some(u64::MAX));
        let e = parse_table("99999999999999999999 AUE_X OBSOL x").unwrap_err();
        assert!(e.message.contains("does not fit"), "{e}");
    }

    #[test]
    fn duplicate_numbers_name_both_lines() {
        let t = parse_table("1 long a(void);\n2 long b(void);\n1 long c(void);\n3 long a(void);\n")
            .unwrap();
        let d = t.validate();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].line, 3);
        assert!(d[0].message.contains("at line 1"), "{}", d[0]);
        let t = parse_table("// @noretrun\n1 long a(void);\n").unwrap();
        assert!(t.validate()[0]
            .message
            .contains("unknown annotation `@noretrun`"));
    }
}
