//! `cargo xtask prototypes`: generates the project's prototype tables in
//! `syscalls2-prototypes/tables/` (PANDA's `NUMBER RETTYPE NAME(ARGS);` format) from a Linux
//! kernel source tree and from the Windows reference data in `../shared`.
//!
//! Every table starts with a comment header saying how it was generated.
//! Annotations are comment lines directly before a prototype (so the files stay
//! valid PANDA tables): `// @noreturn`, `// @noreturn-on-success`,
//! `// @doublereturn` (see [`annotation_for`]). Calls the sources give no
//! signature for are kept as `// NO SIGNATURE: NUMBER NAME` lines and printed in
//! a summary on stderr; unimplemented numbers (`sys_ni_syscall`, no entry point)
//! are kept as `// NOT IMPLEMENTED: ...` lines.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod cpp;
mod linux;
mod windows;

/// Entry point of `cargo xtask prototypes ...`.
pub fn main(args: &[String]) -> Result<(), String> {
    let (os, rest) = args.split_first().ok_or_else(usage)?;
    let mut source = None;
    let mut reference = None;
    let mut out = None;
    let mut versioned = false;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--source" => source = Some(PathBuf::from(value()?)),
            "--reference" => reference = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--versioned" => versioned = true,
            _ => return Err(format!("unknown argument {a:?}\n{}", usage())),
        }
    }
    let workspace = workspace_root();
    let out = out.unwrap_or_else(|| workspace.join("syscalls2-prototypes/tables"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let tables = match os.as_str() {
        "linux" => {
            let source =
                source.ok_or_else(|| format!("linux needs --source KERNEL_DIR\n{}", usage()))?;
            let mut tables = linux::generate(&source)?;
            if versioned {
                // `linux_6_1_x64_prototypes.txt`: the profile `linux_6_1_x64`.
                let version = linux::kernel_version(&source)?;
                let mut parts = version.split(['.', '-']);
                let prefix = format!(
                    "linux_{}_{}_",
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default()
                );
                for t in &mut tables {
                    t.file_name = t.file_name.replacen("linux_", &prefix, 1);
                }
            }
            tables
        }
        "windows" => {
            let reference = reference.unwrap_or_else(|| workspace.join("../shared/reference"));
            let generated = windows::generate(&reference)?;
            let index = out.join("windows/README.md");
            let aliases = out.join("windows/aliases.txt");
            std::fs::create_dir_all(out.join("windows"))
                .and_then(|()| std::fs::write(&index, &generated.index))
                .and_then(|()| std::fs::write(&aliases, &generated.aliases))
                .map_err(|e| format!("{}: {e}", index.display()))?;
            eprintln!("{}: the release index", index.display());
            generated.tables
        }
        _ => return Err(usage()),
    };
    let mut missing_total = 0;
    for table in &tables {
        let path = out.join(&table.file_name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, table.render()).map_err(|e| format!("{}: {e}", path.display()))?;
        let missing: Vec<&Line> = table
            .lines
            .iter()
            .filter(|l| l.kind == Kind::NoSignature)
            .collect();
        let skipped = table
            .lines
            .iter()
            .filter(|l| l.kind == Kind::NotImplemented)
            .count();
        let protos = table
            .lines
            .iter()
            .filter(|l| l.kind == Kind::Prototype)
            .count();
        eprintln!(
            "{}: {protos} prototypes, {} without signature, {skipped} not implemented",
            path.display(),
            missing.len()
        );
        for l in &missing {
            eprintln!("    NO SIGNATURE: {} {}", l.number, l.name);
        }
        missing_total += missing.len();
    }
    eprintln!(
        "{} tables written, {missing_total} syscalls without signature in total",
        tables.len()
    );
    Ok(())
}

fn usage() -> String {
    "usage: cargo xtask prototypes linux --source KERNEL_DIR [--versioned] [--out DIR]\n\
     \x20      (--versioned: name the tables for the kernel's version, linux_6_1_x64, as\n\
     \x20      older kernels' are; the newest kernel's are linux_x64)\n\
     \x20      cargo xtask prototypes windows [--reference SHARED_REFERENCE_DIR] [--out DIR]"
        .to_string()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// What a table line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A real prototype line.
    Prototype,
    /// A numbered call whose signature the sources lack (`// NO SIGNATURE:`).
    NoSignature,
    /// A number that is reserved or wired to `sys_ni_syscall` (`// NOT IMPLEMENTED:`).
    NotImplemented,
}

/// One numbered entry of a generated table.
#[derive(Debug, Clone)]
pub struct Line {
    /// The syscall number exactly as the guest passes it.
    pub number: u64,
    /// Return type (empty unless `kind` is [`Kind::Prototype`]).
    pub rettype: String,
    /// The name written in the table.
    pub name: String,
    /// Formatted arguments (`type name`), empty for `(void)`.
    pub args: Vec<String>,
    /// Prototype, missing signature, or unimplemented.
    pub kind: Kind,
    /// Extra explanation for comment lines (e.g. where a signature came from).
    pub note: String,
    /// Annotation lines written before a prototype besides the return
    /// behaviour's (without `// `): `@out FileHandle IoStatusBlock`.
    pub annotations: Vec<String>,
}

/// A generated table: file name, header comment lines and entries.
#[derive(Debug, Clone)]
pub struct Table {
    /// File name inside the output directory.
    pub file_name: String,
    /// Header comment lines (without the leading `// `).
    pub header: Vec<String>,
    /// Entries; rendered sorted by number.
    pub lines: Vec<Line>,
    /// Windows tables keep PANDA's space between the name and `(`.
    pub space_before_paren: bool,
}

/// The annotation implied by a call's name, if any.
///
/// The name is reduced to its base first (`sys_`, `compat_sys_`, `__sys_`,
/// `sys32_`, `sysn32_` prefixes dropped), so arch/ABI variants such as mips's
/// `sysn32_rt_sigreturn` are covered too.
///
/// - `@noreturn`: the call never comes back to the instruction after the
///   syscall: `exit`, `exit_group`, `sigreturn`, `rt_sigreturn`. (A sigreturn
///   with a corrupt frame kills the task with SIGSEGV; it still does not return.)
/// - `@noreturn-on-success`: returns only when it fails: `execve`, `execveat`;
///   on Windows `NtContinue`/`NtContinueEx` (resume a context; they return only
///   if the context record cannot be read), `NtRaiseException` (the exception is
///   dispatched and execution continues at a handler's context or the process
///   dies; it returns only if its arguments cannot be captured) and
///   `NtCallbackReturn` (resumes the kernel's `KeUserModeCallback`; returns only
///   with STATUS_NO_CALLBACK_ACTIVE).
/// - `@doublereturn`: returns once in the parent and once in the child: `fork`,
///   `vfork`, `clone`, `clone3`.
///
/// Deliberately *not* annotated: `NtTerminateProcess`/`NtTerminateThread`
/// (they return normally when the handle names another process/thread, so
/// whether they return depends on an argument, not on success),
/// `NtSetContextThread` (same, for the current thread), `NtCreateProcess*`/
/// `NtCreateUserProcess` (the child starts at its own entry point, the call
/// returns once), Linux `vhangup`/`reboot` (return on failure, and `reboot`
/// also when it only changes Ctrl-Alt-Del behaviour), `setcontext` (not a
/// Linux syscall; PANDA's context_target.json lists it for the mips/x86 ports
/// of other OSes).
pub fn annotation_for(name: &str) -> Option<&'static str> {
    let mut base = name;
    for prefix in ["compat_sys_", "__sys_", "sysn32_", "sys32_", "sys_"] {
        if let Some(b) = base.strip_prefix(prefix) {
            base = b;
            break;
        }
    }
    match base {
        "exit" | "exit_group" | "sigreturn" | "rt_sigreturn" => Some("@noreturn"),
        "execve" | "execveat" | "NtContinue" | "NtContinueEx" | "NtRaiseException"
        | "NtCallbackReturn" => Some("@noreturn-on-success"),
        "fork" | "vfork" | "clone" | "clone3" => Some("@doublereturn"),
        _ => None,
    }
}

impl Table {
    /// The table's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            if h.is_empty() {
                out.push_str("//\n");
            } else {
                let _ = writeln!(out, "// {h}");
            }
        }
        let mut lines: Vec<&Line> = self.lines.iter().collect();
        lines.sort_by_key(|l| l.number);
        for l in lines {
            let note = if l.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", l.note)
            };
            match l.kind {
                Kind::NotImplemented => {
                    let _ = writeln!(out, "// NOT IMPLEMENTED: {} {}{note}", l.number, l.name);
                }
                Kind::NoSignature => {
                    // No `// @...` line here: a parser would carry it over the
                    // comment to the next prototype. Say it inside the comment.
                    let ann = annotation_for(&l.name)
                        .map(|a| format!(" [{a}]"))
                        .unwrap_or_default();
                    let _ = writeln!(out, "// NO SIGNATURE: {} {}{note}{ann}", l.number, l.name);
                }
                Kind::Prototype => {
                    if let Some(a) = annotation_for(&l.name) {
                        let _ = writeln!(out, "// {a}");
                    }
                    for a in &l.annotations {
                        let _ = writeln!(out, "// {a}");
                    }
                    let args = if l.args.is_empty() {
                        "void".to_string()
                    } else {
                        l.args.join(", ")
                    };
                    let sp = if self.space_before_paren { " " } else { "" };
                    let _ = writeln!(out, "{} {} {}{sp}({args});", l.number, l.rettype, l.name);
                }
            }
        }
        out
    }
}

/// Normalises a C type or declaration: single spaces, no space inside `( )`,
/// `*` attached to what follows it (`char __user *buf`, `struct iocb __user **`
/// stays as spelled except for whitespace).
pub fn normalize_c(s: &str) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    let chars: Vec<char> = collapsed.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            // "* buf" -> "*buf", "( x" -> "(x", "x )" -> "x)", "a [" -> "a[".
            if prev == Some('*')
                && next.is_some_and(|n| n.is_alphanumeric() || n == '_' || n == '*')
            {
                // Keep "* __user", "* const" (qualifiers after a star) readable.
                let word: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                if word.starts_with("__") || word == "const" || word == "volatile" {
                    out.push(' ');
                }
                continue;
            }
            if prev == Some('(') || matches!(next, Some(')' | '[' | ',')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Joins a type and a parameter name the way PANDA's tables spell them.
pub fn join_type_name(ty: &str, name: &str) -> String {
    let ty = normalize_c(ty);
    if name.is_empty() {
        ty
    } else if ty.ends_with('*') {
        format!("{ty}{name}")
    } else {
        format!("{ty} {name}")
    }
}

/// The arguments between a prototype's parentheses, each normalised; none
/// for `void` or an empty list.
pub fn parse_arg_list(inner: &str) -> Vec<String> {
    let inner = inner.trim();
    if inner.is_empty() || inner == "void" {
        return Vec::new();
    }
    split_top_level(inner)
        .iter()
        .map(|a| normalize_c(a))
        .collect()
}

/// Splits `a, b(c, d), e` at top-level commas.
pub fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Given `text[open]` == `(`, the index of the matching `)`.
pub fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_kernel_spellings() {
        assert_eq!(join_type_name("char __user *", "buf"), "char __user *buf");
        assert_eq!(
            join_type_name("const char __user *const  __user *", "argv"),
            "const char __user *const __user *argv"
        );
        assert_eq!(
            join_type_name("struct iocb __user * __user *", "iocbpp"),
            "struct iocb __user * __user *iocbpp"
        );
        assert_eq!(join_type_name("unsigned\tlong", "len"), "unsigned long len");
        assert_eq!(normalize_c("char __user * buf"), "char __user *buf");
        assert_eq!(
            normalize_c("struct stat __user *  statbuf"),
            "struct stat __user *statbuf"
        );
    }

    #[test]
    fn annotations() {
        assert_eq!(annotation_for("sys_execve"), Some("@noreturn-on-success"));
        assert_eq!(
            annotation_for("compat_sys_execveat"),
            Some("@noreturn-on-success")
        );
        assert_eq!(annotation_for("sysn32_rt_sigreturn"), Some("@noreturn"));
        assert_eq!(annotation_for("sys_clone3"), Some("@doublereturn"));
        assert_eq!(annotation_for("NtContinue"), Some("@noreturn-on-success"));
        assert_eq!(annotation_for("NtTerminateProcess"), None);
        assert_eq!(annotation_for("sys_exit_group"), Some("@noreturn"));
        assert_eq!(annotation_for("sys_exitx"), None);
    }

    #[test]
    fn renders_void_annotations_and_comments() {
        let mk = |number, name: &str, kind, args: Vec<&str>| Line {
            number,
            rettype: "long".into(),
            name: name.into(),
            args: args.into_iter().map(String::from).collect(),
            kind,
            note: String::new(),
            annotations: Vec::new(),
        };
        let t = Table {
            file_name: "x".into(),
            header: vec!["generated".into()],
            lines: vec![
                mk(2, "sys_fork", Kind::Prototype, vec![]),
                mk(1, "sys_exit", Kind::Prototype, vec!["int error_code"]),
                mk(17, "break", Kind::NotImplemented, vec![]),
                mk(9, "sys_mystery", Kind::NoSignature, vec![]),
                mk(10, "NtContinueEx", Kind::NoSignature, vec![]),
            ],
            space_before_paren: false,
        };
        assert_eq!(
            t.render(),
            "// generated\n// @noreturn\n1 long sys_exit(int error_code);\n// @doublereturn\n\
             2 long sys_fork(void);\n// NO SIGNATURE: 9 sys_mystery\n\
             // NO SIGNATURE: 10 NtContinueEx [@noreturn-on-success]\n// NOT IMPLEMENTED: 17 break\n"
        );
    }

    #[test]
    fn splits_and_matches() {
        assert_eq!(split_top_level("a, b(c, d), e"), vec!["a", "b(c, d)", "e"]);
        assert_eq!(matching_paren("f(a(b)c)d", 1), Some(7));
    }
}
