//! Linux tables from a kernel source tree (written against linux-source-6.1
//! and 6.12).
//!
//! Numbers come from the architecture's syscall table (`*.tbl`, or
//! `include/uapi/asm-generic/unistd.h` for arm64 and riscv64, up to 6.10, and
//! `scripts/syscall.tbl` from 6.11 on); signatures from
//! `SYSCALL_DEFINEn`/`COMPAT_SYSCALL_DEFINEn` in the `.c` files and from
//! `asmlinkage` declarations/definitions. The table names the entry point the
//! kernel's table names, except for pure assembly trampolines named after their
//! target (`sys_sigreturn_wrapper`, mips `__sys_fork`), which are written under
//! the target's name as PANDA does. Other trampolines (ARM `sys_mmap2`, which
//! branches to `sys_mmap_pgoff`) keep their own name and take the target's
//! signature.

use super::cpp::{self, CondStack, Env};
use super::{
    join_type_name, matching_paren, normalize_c, parse_arg_list, split_top_level, Kind, Line, Table,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// How one table gets its numbers.
enum Numbers {
    /// A `.tbl` file: keep the listed ABIs, take the entry point from `column`
    /// (0-based: number, abi, name, entry, compat), add `offset`.
    Tbl {
        path: &'static str,
        abis: &'static [&'static str],
        column: usize,
        mips_sim: Option<&'static str>,
    },
    /// The generic table: up to Linux 6.10,
    /// `include/uapi/asm-generic/unistd.h` with the arch's
    /// `uapi/asm/unistd.h` defines; from 6.11 on, `scripts/syscall.tbl` (or
    /// the arch's own copy) with the ABIs the arch's
    /// `kernel/Makefile.syscalls` adds ([`generic_tbl`]).
    Generic {
        arch_unistd: &'static str,
        bits: i64,
    },
}

/// One output table.
struct Spec {
    file: &'static str,
    title: &'static str,
    arch: &'static str,
    numbers: Numbers,
    /// Kconfig symbols that are true for this kernel flavour; the arch's
    /// `select`s are followed from them (used only to pick between `#if`-ed
    /// alternative definitions of the same syscall, e.g. `clone`).
    kconfig: &'static [&'static str],
    /// Add ARM's private `__ARM_NR_*` calls.
    arm_private: bool,
}

const SPECS: &[Spec] = &[
    Spec {
        file: "linux_x86_prototypes.txt",
        title: "x86 (i386)",
        arch: "x86",
        numbers: Numbers::Tbl {
            path: "arch/x86/entry/syscalls/syscall_32.tbl",
            abis: &["i386"],
            column: 3,
            mips_sim: None,
        },
        kconfig: &["X86", "X86_32"],
        arm_private: false,
    },
    Spec {
        file: "linux_x64_prototypes.txt",
        title: "x86_64 (64-bit ABI, not x32)",
        arch: "x86",
        numbers: Numbers::Tbl {
            path: "arch/x86/entry/syscalls/syscall_64.tbl",
            abis: &["common", "64"],
            column: 3,
            mips_sim: None,
        },
        kconfig: &["X86", "X86_64", "64BIT"],
        arm_private: false,
    },
    Spec {
        file: "linux_arm_prototypes.txt",
        title: "arm (EABI)",
        arch: "arm",
        numbers: Numbers::Tbl {
            path: "arch/arm/tools/syscall.tbl",
            abis: &["common", "eabi"],
            column: 3,
            mips_sim: None,
        },
        kconfig: &["ARM", "AEABI"],
        arm_private: true,
    },
    Spec {
        file: "linux_arm64_prototypes.txt",
        title: "arm64 (AArch64)",
        arch: "arm64",
        numbers: Numbers::Generic {
            arch_unistd: "arch/arm64/include/uapi/asm/unistd.h",
            bits: 64,
        },
        kconfig: &["ARM64", "64BIT"],
        arm_private: false,
    },
    Spec {
        file: "linux_riscv64_prototypes.txt",
        title: "riscv64 (RV64, LP64)",
        arch: "riscv",
        numbers: Numbers::Generic {
            arch_unistd: "arch/riscv/include/uapi/asm/unistd.h",
            bits: 64,
        },
        kconfig: &["RISCV", "64BIT", "MMU"],
        arm_private: false,
    },
    Spec {
        file: "linux_mips_prototypes.txt",
        title: "mips o32 (32-bit kernel)",
        arch: "mips",
        numbers: Numbers::Tbl {
            path: "arch/mips/kernel/syscalls/syscall_o32.tbl",
            abis: &["o32"],
            column: 3,
            mips_sim: Some("_MIPS_SIM_ABI32"),
        },
        kconfig: &["MIPS", "32BIT"],
        arm_private: false,
    },
    Spec {
        file: "linux_mips64_prototypes.txt",
        title: "mips64 n64",
        arch: "mips",
        numbers: Numbers::Tbl {
            path: "arch/mips/kernel/syscalls/syscall_n64.tbl",
            abis: &["n64"],
            column: 3,
            mips_sim: Some("_MIPS_SIM_ABI64"),
        },
        kconfig: &["MIPS", "64BIT"],
        arm_private: false,
    },
    Spec {
        file: "linux_mips64n32_prototypes.txt",
        title: "mips64 n32",
        arch: "mips",
        numbers: Numbers::Tbl {
            path: "arch/mips/kernel/syscalls/syscall_n32.tbl",
            abis: &["n32"],
            column: 3,
            mips_sim: Some("_MIPS_SIM_NABI32"),
        },
        kconfig: &["MIPS", "64BIT", "MIPS32_N32", "MIPS32_COMPAT", "COMPAT"],
        arm_private: false,
    },
];

/// One row of a `.tbl` file.
#[derive(Debug, Clone, PartialEq)]
pub struct TblEntry {
    /// The number as written in the file (before any ABI offset).
    pub number: u64,
    /// The ABI column (`common`, `64`, `i386`, `eabi`, ...).
    pub abi: String,
    /// The syscall's name.
    pub name: String,
    /// The entry point in the requested column, if the row has one.
    pub entry: Option<String>,
}

/// Parses a kernel `syscall*.tbl` file, keeping rows of the given ABIs and
/// reading the entry point from `column` (0-based). A row without that column
/// (e.g. the i386 table's `17 i386 break`) has no entry point.
pub fn parse_tbl(text: &str, abis: &[&str], column: usize) -> Result<Vec<TblEntry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 3 {
            return Err(format!(
                "line {}: malformed syscall table row {line:?}",
                i + 1
            ));
        }
        if !abis.contains(&cols[1]) {
            continue;
        }
        let number = cols[0]
            .parse()
            .map_err(|e| format!("line {}: bad number {:?}: {e}", i + 1, cols[0]))?;
        out.push(TblEntry {
            number,
            abi: cols[1].to_string(),
            name: cols[2].to_string(),
            entry: cols.get(column).map(|s| s.to_string()),
        });
    }
    Ok(out)
}

/// Object-like and function-like macros collected while walking headers, with
/// C preprocessor semantics (an undefined name is not defined and is 0).
#[derive(Default, Debug, Clone)]
pub struct Macros {
    /// name -> (parameters for function-like macros, body)
    defs: HashMap<String, (Option<Vec<String>>, String)>,
}

impl Env for Macros {
    fn defined(&self, name: &str) -> Option<bool> {
        Some(self.defs.contains_key(name))
    }
    fn value(&self, name: &str) -> Option<i64> {
        self.int(name, 0)
    }
}

impl Macros {
    /// Defines an object-like macro.
    pub fn define(&mut self, name: &str, body: &str) {
        self.defs.insert(name.to_string(), (None, body.to_string()));
    }

    fn int(&self, name: &str, depth: u32) -> Option<i64> {
        match self.defs.get(name) {
            None => Some(0),
            Some((Some(_), _)) => None,
            Some((None, body)) if depth < 16 => self.eval_int_depth(body, depth + 1),
            Some(_) => None,
        }
    }

    /// Evaluates an integer expression whose identifiers are macros.
    pub fn eval_int(&self, expr: &str) -> Option<i64> {
        self.eval_int_depth(expr, 0)
    }

    fn eval_int_depth(&self, expr: &str, depth: u32) -> Option<i64> {
        // Substitute identifiers by their values, then evaluate the arithmetic.
        let mut text = String::new();
        let mut ident = String::new();
        for c in expr.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                ident.push(c);
                continue;
            }
            if !ident.is_empty() {
                if ident.chars().next().is_some_and(|f| f.is_ascii_digit()) {
                    text.push_str(&ident);
                } else {
                    text.push_str(&self.int(&ident, depth)?.to_string());
                }
                ident.clear();
            }
            text.push(c);
        }
        eval_arith(&text)
    }

    /// Walks a header: applies `#define`/`#undef` in active branches and calls
    /// `on_line` for every other active line.
    pub fn walk(&mut self, text: &str, mut on_line: impl FnMut(&Macros, &str)) {
        let lines = cpp::join_continuations(&cpp::strip_comments(text));
        // Conditions are evaluated when the directive is met (include guards
        // define what they test), so keep (active, some branch taken) frames.
        let mut frames: Vec<(bool, bool)> = Vec::new();
        for line in &lines {
            let active = frames.last().is_none_or(|f| f.0);
            let t = line.trim();
            if let Some(d) = t.strip_prefix('#') {
                let d = d.trim_start();
                let (word, arg) = d
                    .split_once(|c: char| c.is_whitespace())
                    .map_or((d, ""), |(w, a)| (w, a.trim()));
                let parent = frames.len() < 2 || frames[frames.len() - 2].0;
                let test = |cond: &str| cpp::eval(cond, self) == Some(true);
                match word {
                    "if" | "ifdef" | "ifndef" => {
                        let cond = match word {
                            "ifdef" => format!("defined({arg})"),
                            "ifndef" => format!("!defined({arg})"),
                            _ => arg.to_string(),
                        };
                        let on = active && test(&cond);
                        frames.push((on, on));
                        continue;
                    }
                    "elif" | "else" => {
                        let cond = if word == "else" { "1" } else { arg };
                        let on = parent && !frames.last().is_some_and(|f| f.1) && test(cond);
                        if let Some(f) = frames.last_mut() {
                            *f = (on, f.1 || on);
                        }
                        continue;
                    }
                    "endif" => {
                        frames.pop();
                        continue;
                    }
                    _ => {}
                }
            }
            if !active {
                continue;
            }
            if let Some(rest) = t.strip_prefix('#') {
                let rest = rest.trim_start();
                if let Some(def) = rest.strip_prefix("define") {
                    let def = def.trim_start();
                    let name_end = def
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(def.len());
                    let name = &def[..name_end];
                    let after = &def[name_end..];
                    if after.starts_with('(') {
                        let close = after.find(')').unwrap_or(after.len() - 1);
                        let params = after[1..close]
                            .split(',')
                            .map(|p| p.trim().to_string())
                            .collect();
                        self.defs.insert(
                            name.to_string(),
                            (Some(params), after[close + 1..].trim().to_string()),
                        );
                    } else {
                        self.defs
                            .insert(name.to_string(), (None, after.trim().to_string()));
                    }
                } else if let Some(undef) = rest.strip_prefix("undef") {
                    self.defs.remove(undef.trim());
                }
                continue;
            }
            on_line(self, t);
        }
    }

    /// Expands a function-like macro call `M(a, b)` once per step until it is a
    /// call of `target`; returns `target`'s arguments.
    pub fn expand_to(&self, call: &str, target: &str) -> Option<Vec<String>> {
        let mut call = call.trim().to_string();
        for _ in 0..8 {
            let open = call.find('(')?;
            let name = call[..open].trim();
            let close = matching_paren(&call, open)?;
            let args = split_top_level(&call[open + 1..close]);
            if name == target {
                return Some(args);
            }
            let (Some(params), body) = self.defs.get(name)? else {
                return None;
            };
            if params.len() != args.len() {
                return None;
            }
            let mut out = String::new();
            let mut ident = String::new();
            for c in body.chars().chain(std::iter::once(' ')) {
                if c.is_ascii_alphanumeric() || c == '_' {
                    ident.push(c);
                    continue;
                }
                if !ident.is_empty() {
                    match params.iter().position(|p| *p == ident) {
                        Some(i) => out.push_str(&args[i]),
                        None => out.push_str(&ident),
                    }
                    ident.clear();
                }
                out.push(c);
            }
            call = out;
        }
        None
    }
}

/// Evaluates `+ - * << >> ( )` arithmetic on integer literals.
fn eval_arith(text: &str) -> Option<i64> {
    let toks: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let v = arith_sum(&toks, &mut pos)?;
    (pos == toks.len()).then_some(v)
}

fn arith_sum(t: &[char], p: &mut usize) -> Option<i64> {
    let mut v = arith_prod(t, p)?;
    while *p < t.len() {
        match t[*p] {
            '+' => {
                *p += 1;
                v += arith_prod(t, p)?;
            }
            '-' => {
                *p += 1;
                v -= arith_prod(t, p)?;
            }
            '<' if t.get(*p + 1) == Some(&'<') => {
                *p += 2;
                v <<= arith_prod(t, p)?;
            }
            _ => break,
        }
    }
    Some(v)
}

fn arith_prod(t: &[char], p: &mut usize) -> Option<i64> {
    let mut v = arith_atom(t, p)?;
    while *p < t.len() && t[*p] == '*' {
        *p += 1;
        v *= arith_atom(t, p)?;
    }
    Some(v)
}

fn arith_atom(t: &[char], p: &mut usize) -> Option<i64> {
    match t.get(*p)? {
        '(' => {
            *p += 1;
            let v = arith_sum(t, p)?;
            (t.get(*p) == Some(&')')).then_some(())?;
            *p += 1;
            Some(v)
        }
        '-' => {
            *p += 1;
            Some(-arith_atom(t, p)?)
        }
        c if c.is_ascii_digit() => {
            let s = *p;
            while *p < t.len() && t[*p].is_ascii_alphanumeric() {
                *p += 1;
            }
            let lit: String = t[s..*p].iter().collect();
            let lit = lit.trim_end_matches(['u', 'U', 'l', 'L']);
            match lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                Some(h) => i64::from_str_radix(h, 16).ok(),
                None if lit.len() > 1 && lit.starts_with('0') => {
                    i64::from_str_radix(&lit[1..], 8).ok()
                }
                None => lit.parse().ok(),
            }
        }
        _ => None,
    }
}

/// The text of an architecture's `uapi/asm/unistd.h` with the generic
/// header spliced in where it includes it, so that the arch's `#define`s
/// before the `#include` and its own calls after it (riscv's
/// `__NR_riscv_flush_icache`) are read in order; `None` if it does not
/// include the generic header.
pub fn include_generic_unistd(arch_unistd: &str, generic: &str) -> Option<String> {
    let mut found = false;
    let text = arch_unistd
        .lines()
        .map(|l| {
            let t = l.trim_start().strip_prefix('#').map(str::trim_start);
            match t.and_then(|d| d.strip_prefix("include")).map(str::trim) {
                Some("<asm-generic/unistd.h>") => {
                    found = true;
                    generic
                }
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    found.then_some(text)
}

/// Reads `include/uapi/asm-generic/unistd.h` the way an arch including it sees
/// it (`predefs` are the arch's `#define`s), returning `(number, entry point)`.
pub fn parse_generic_unistd(text: &str, predefs: Macros) -> Result<Vec<(u64, String)>, String> {
    let mut macros = predefs;
    let mut calls: Vec<(String, String)> = Vec::new();
    let mut pending = String::new();
    macros.walk(text, |m, line| {
        if pending.is_empty() && !line.starts_with("__S") {
            return;
        }
        pending.push_str(line);
        pending.push(' ');
        let Some(open) = pending.find('(') else {
            return;
        };
        if matching_paren(&pending, open).is_none() {
            return; // continues on the next line
        }
        let call = std::mem::take(&mut pending);
        if let Some(args) = m.expand_to(&call, "__SYSCALL") {
            if let [nr, entry] = args.as_slice() {
                calls.push((nr.clone(), entry.clone()));
            }
        }
    });
    // Numbers are resolved with the final macro set: `__NR_fcntl` and friends
    // are defined after their `__SYSCALL` lines.
    let mut out = Vec::new();
    for (nr, entry) in calls {
        let n = macros
            .eval_int(&nr)
            .ok_or_else(|| format!("cannot evaluate syscall number {nr}"))?;
        if !macros.defs.contains_key(nr.as_str()) {
            return Err(format!(
                "syscall number macro {nr} (for {entry}) is not defined"
            ));
        }
        out.push((n as u64, entry));
    }
    Ok(out)
}

/// A signature found in the sources.
#[derive(Debug, Clone, PartialEq)]
pub struct Sig {
    /// Return type.
    pub ret: String,
    /// Function name (`sys_read`, `compat_sys_ioctl`, `sysm_pipe`).
    pub name: String,
    /// Formatted arguments; empty for `void`.
    pub args: Vec<String>,
    /// Preprocessor conditions around it.
    pub conds: Vec<String>,
    /// Where it was found (`kernel/fork.c:2887`).
    pub at: String,
}

/// Extracts every `SYSCALL_DEFINEn(...)`, `COMPAT_SYSCALL_DEFINEn(...)` and
/// `SYSCALL32_DEFINEn(...)` from a C file (`path` is only used to say where
/// each one was found). `SYSCALL32_DEFINEn` (Linux 6.12's i386 `sigreturn`)
/// is `include/linux/syscalls.h`'s `COMPAT_SYSCALL_DEFINEn` in a kernel with
/// `CONFIG_COMPAT`, else `SYSCALL_DEFINEn`: it defines both names, each
/// table takes the one its entry point column names.
pub fn extract_syscall_defines(text: &str, path: &str) -> Vec<Sig> {
    extract_with(text, path, |lines, idx, out| {
        let line = &lines[idx];
        let mut from = 0;
        while let Some((at, keyword)) = ["SYSCALL_DEFINE", "SYSCALL32_DEFINE"]
            .iter()
            .filter_map(|k| line[from..].find(k).map(|p| (from + p, *k)))
            .min()
        {
            from = at + 1;
            let before = &line[..at];
            let both = keyword == "SYSCALL32_DEFINE";
            let compat = !both && before.ends_with("COMPAT_");
            let prefix_ok = if compat {
                before.len() == 7 || !is_ident_char(before[..before.len() - 7].chars().last())
            } else {
                !is_ident_char(before.chars().last())
            };
            if !prefix_ok || line.trim_start().starts_with('#') {
                continue;
            }
            let rest = &line[at + keyword.len()..];
            let Some(n) = rest.chars().next().and_then(|c| c.to_digit(10)) else {
                continue;
            };
            // Gather text from this line on until the parentheses balance.
            let mut text = rest[1..].to_string();
            let mut j = idx + 1;
            while !text.trim_start().starts_with('(')
                || matching_paren(&text, text.find('(').unwrap_or(0)).is_none()
            {
                if j >= lines.len() || j > idx + 40 || !text.trim_start().starts_with('(') {
                    break;
                }
                text.push(' ');
                text.push_str(&lines[j]);
                j += 1;
            }
            let Some(open) = text.find('(').filter(|o| text[..*o].trim().is_empty()) else {
                continue;
            };
            let Some(close) = matching_paren(&text, open) else {
                continue;
            };
            let parts = split_top_level(&text[open + 1..close]);
            if parts.len() != 1 + 2 * n as usize
                || parts[0].is_empty()
                || !parts[0]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                continue;
            }
            let args: Vec<String> = parts[1..]
                .chunks(2)
                .map(|p| join_type_name(&p[0], &p[1]))
                .collect();
            let name = format!("{}sys_{}", if compat { "compat_" } else { "" }, parts[0]);
            if both {
                let compat = format!("compat_sys_{}", parts[0]);
                out.push((compat, "long".to_string(), args.clone()));
            }
            out.push((name, "long".to_string(), args));
        }
    })
}

/// Extracts `asmlinkage RET NAME(ARGS)` declarations and definitions.
pub fn extract_asmlinkage(text: &str, path: &str) -> Vec<Sig> {
    extract_with(text, path, |lines, idx, out| {
        let line = &lines[idx];
        let Some(pos) = line.find("asmlinkage") else {
            return;
        };
        if line.trim_start().starts_with('#') || is_ident_char(line[..pos].chars().last()) {
            return;
        }
        let mut text = line[pos + "asmlinkage".len()..].to_string();
        let mut j = idx + 1;
        while !text.contains(')')
            || text
                .find('(')
                .and_then(|o| matching_paren(&text, o))
                .is_none()
        {
            if j >= lines.len() || j > idx + 20 {
                return;
            }
            text.push(' ');
            text.push_str(&lines[j]);
            j += 1;
        }
        let Some(open) = text.find('(') else { return };
        let Some(close) = matching_paren(&text, open) else {
            return;
        };
        let head = text[..open].trim();
        let name_start = head
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &head[name_start..];
        let ret: Vec<&str> = head[..name_start]
            .split_whitespace()
            .filter(|w| {
                !matches!(
                    *w,
                    "__visible"
                        | "notrace"
                        | "__weak"
                        | "noinstr"
                        | "static"
                        | "inline"
                        | "__used"
                        | "extern"
                )
            })
            .collect();
        let ret = normalize_c(&ret.join(" "));
        if name.is_empty() || ret.is_empty() || ret.contains('(') {
            return;
        }
        let after = text[close + 1..].trim_start();
        if !(after.starts_with(';') || after.starts_with('{') || after.is_empty()) {
            return;
        }
        let args = parse_arg_list(&text[open + 1..close]);
        out.push((name.to_string(), ret, args));
    })
}

fn is_ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

type Found = Vec<(String, String, Vec<String>)>;

fn extract_with(
    text: &str,
    path: &str,
    mut f: impl FnMut(&[String], usize, &mut Found),
) -> Vec<Sig> {
    let lines = cpp::join_continuations(&cpp::strip_comments(text));
    let mut st = CondStack::default();
    let mut out = Vec::new();
    for idx in 0..lines.len() {
        if st.feed(&lines[idx]) {
            continue;
        }
        let mut found = Vec::new();
        f(&lines, idx, &mut found);
        for (name, ret, args) in found {
            out.push(Sig {
                ret,
                name,
                args,
                conds: st.conditions(),
                at: format!("{path}:{}", idx + 1),
            });
        }
    }
    out
}

/// Assembly trampolines in `.S` files: a label followed (before the function
/// ends) by an unconditional branch, e.g. ARM's
/// `sys_mmap2: str r5, [sp, #4]; b sys_mmap_pgoff`. Returns (label, target).
pub fn extract_asm_trampolines(text: &str) -> Vec<(String, String)> {
    let lines = cpp::join_continuations(&cpp::strip_comments(text));
    let mut out = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for line in lines.iter().map(|l| l.trim()) {
        let label = line
            .strip_suffix(':')
            .filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(str::to_string)
            .or_else(|| {
                ["ENTRY(", "SYM_FUNC_START(", "LEAF(", "NESTED("]
                    .iter()
                    .find_map(|p| line.strip_prefix(p))
                    .and_then(|r| r.split([')', ',']).next())
                    .map(|s| s.trim().to_string())
            });
        if let Some(l) = label {
            current = Some((l, 0));
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some((label, count)) = current.as_mut() else {
            continue;
        };
        *count += 1;
        let mut words = line.split_whitespace();
        let op = words.next().unwrap_or("");
        if matches!(op, "b" | "j" | "jmp") {
            if let Some(target) = words.next() {
                if target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    out.push((label.clone(), target.to_string()));
                }
            }
            current = None;
        } else if *count > 4
            || op.starts_with("END")
            || op.starts_with("ret")
            || op == "jr"
            || op == "bx"
        {
            current = None;
        }
    }
    out
}

/// The signature index for one architecture.
struct Index {
    /// name -> candidates, in tier order (arch SYSCALL_DEFINE, generic
    /// SYSCALL_DEFINE, arch asmlinkage, generic asmlinkage).
    sigs: HashMap<String, Vec<(u8, Sig)>>,
    /// label -> branch target, from the arch's `.S` files and mips's
    /// `save_static_function(sym)` (which emits the label `__sym`, see
    /// arch/mips/kernel/syscall.c).
    trampolines: HashMap<String, String>,
}

/// All the sources a kernel tree offers, scanned once.
struct Scan {
    /// (path relative to the tree, signatures) for SYSCALL_DEFINEs.
    defines: Vec<(String, Vec<Sig>)>,
    /// asmlinkage signatures per file.
    asmlinkage: Vec<(String, Vec<Sig>)>,
    /// (path, trampolines) per `.S` file (and save_static_function users).
    trampolines: Vec<(String, Vec<(String, String)>)>,
}

fn walk_files(root: &Path, rel: &str, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(rel);
    let rd = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        let sub = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type().map_err(|e| e.to_string())?;
        if ft.is_dir() {
            if rel.is_empty()
                && matches!(
                    name.as_str(),
                    "Documentation" | "tools" | "samples" | "scripts" | "LICENSES" | "usr"
                )
            {
                continue;
            }
            walk_files(root, &sub, out)?;
        } else if ft.is_file()
            && (name.ends_with(".c") || name.ends_with(".h") || name.ends_with(".S"))
        {
            out.push(PathBuf::from(sub));
        }
    }
    Ok(())
}

fn scan(root: &Path) -> Result<Scan, String> {
    let mut files = Vec::new();
    walk_files(root, "", &mut files)?;
    let mut scan = Scan {
        defines: Vec::new(),
        asmlinkage: Vec::new(),
        trampolines: Vec::new(),
    };
    let generic_asmlinkage = [
        "include/linux/syscalls.h",
        "include/linux/compat.h",
        "include/asm-generic/syscalls.h",
    ];
    for rel in files {
        let rel_s = rel.to_string_lossy().to_string();
        let in_arch = rel_s.starts_with("arch/");
        let bytes = std::fs::read(root.join(&rel)).map_err(|e| format!("{rel_s}: {e}"))?;
        let text = String::from_utf8_lossy(&bytes);
        if rel_s.ends_with(".S") {
            if in_arch {
                let t = extract_asm_trampolines(&text);
                if !t.is_empty() {
                    scan.trampolines.push((rel_s, t));
                }
            }
            continue;
        }
        if text.contains("SYSCALL_DEFINE") || text.contains("SYSCALL32_DEFINE") {
            let d = extract_syscall_defines(&text, &rel_s);
            if !d.is_empty() {
                scan.defines.push((rel_s.clone(), d));
            }
        }
        if (in_arch || generic_asmlinkage.contains(&rel_s.as_str())) && text.contains("asmlinkage")
        {
            let a = extract_asmlinkage(&text, &rel_s);
            if !a.is_empty() {
                scan.asmlinkage.push((rel_s.clone(), a));
            }
        }
        if in_arch && text.contains("save_static_function(") {
            let mut t = Vec::new();
            for line in cpp::strip_comments(&text).lines() {
                let l = line.trim();
                if let Some(sym) = l
                    .strip_prefix("save_static_function(")
                    .and_then(|r| r.strip_suffix(");"))
                {
                    t.push((format!("__{sym}"), sym.to_string()));
                }
            }
            scan.trampolines.push((rel_s, t));
        }
    }
    Ok(scan)
}

impl Index {
    fn build(scan: &Scan, arch: &str) -> Index {
        let arch_prefix = format!("arch/{arch}/");
        let mut sigs: HashMap<String, Vec<(u8, Sig)>> = HashMap::new();
        let mut add = |tier: u8, s: &Sig| {
            sigs.entry(s.name.clone())
                .or_default()
                .push((tier, s.clone()))
        };
        for (path, list) in &scan.defines {
            // Fallback implementations built when a feature is configured
            // out (kernel/time/posix-stubs.c, mm/nommu.c) rank below the real ones.
            let file = path.rsplit('/').next().unwrap_or(path);
            let fallback = file.ends_with("stubs.c") || file == "nommu.c";
            let tier = if path.starts_with(&arch_prefix) {
                0
            } else if path.starts_with("arch/") {
                continue;
            } else if fallback {
                2
            } else {
                1
            };
            list.iter().for_each(|s| add(tier, s));
        }
        for (path, list) in &scan.asmlinkage {
            let tier = if path.starts_with(&arch_prefix) {
                3
            } else if path.starts_with("arch/") {
                continue;
            } else {
                4
            };
            list.iter().for_each(|s| add(tier, s));
        }
        // arch/x86/um is User-Mode Linux's x86 sub-architecture, not x86.
        sigs.values_mut()
            .for_each(|v| v.retain(|(_, s)| !s.at.contains("/um/")));
        for v in sigs.values_mut() {
            v.sort_by_key(|(t, _)| *t);
        }
        let trampolines = scan
            .trampolines
            .iter()
            .filter(|(p, _)| p.starts_with(&arch_prefix))
            .flat_map(|(_, t)| t.iter().cloned())
            .collect();
        Index { sigs, trampolines }
    }

    /// The best signature for `name` under `env`, with a warning if ambiguous.
    fn lookup(&self, name: &str, env: &KconfigEnv, warnings: &mut Vec<String>) -> Option<Sig> {
        let cands = self.sigs.get(name)?;
        let best_tier = cands.iter().map(|(t, _)| *t).min()?;
        // Within each tier from the best: drop candidates whose #if is known false.
        for tier in best_tier..=4 {
            let in_tier: Vec<(&Sig, Option<bool>)> = cands
                .iter()
                .filter(|(t, _)| *t == tier)
                .map(|(_, s)| (s, cpp::eval_all(&s.conds, env)))
                .filter(|(_, ok)| *ok != Some(false))
                .collect();
            if in_tier.is_empty() {
                continue;
            }
            let sure: Vec<&Sig> = in_tier
                .iter()
                .filter(|(_, ok)| *ok == Some(true))
                .map(|(s, _)| *s)
                .collect();
            let pool: Vec<&Sig> = if sure.is_empty() {
                in_tier.iter().map(|(s, _)| *s).collect()
            } else {
                sure
            };
            let first = pool[0];
            let distinct: BTreeSet<String> = pool.iter().map(|s| s.args.join(", ")).collect();
            if distinct.len() > 1 {
                warnings.push(format!(
                    "{name}: {} different signatures, took the one at {} (others: {})",
                    distinct.len(),
                    first.at,
                    pool.iter()
                        .skip(1)
                        .map(|s| s.at.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            return Some(first.clone());
        }
        // Every candidate sits under a condition this flavour's (crude) Kconfig
        // model calls false (e.g. CONFIG_ARCH_HAS_PKEYS, a user option): the
        // number is in the table, so its signature is the configured-in one.
        let first = &cands[0].1;
        let distinct: BTreeSet<String> = cands
            .iter()
            .filter(|(t, _)| *t == best_tier)
            .map(|(_, s)| s.args.join(", "))
            .collect();
        if distinct.len() > 1 {
            warnings.push(format!(
                "{name}: {} different signatures under unknown conditions, took the one at {}",
                distinct.len(),
                first.at
            ));
        }
        Some(first.clone())
    }
}

/// Kconfig knowledge for evaluating `#if`s around definitions: symbols selected
/// from this flavour's true symbols are true, symbols that some architecture
/// selects but this one does not are false, the rest unknown. `__ARCH_WANT_*`
/// macros are true if the arch's `asm/unistd.h` defines them, else false.
struct KconfigEnv {
    enabled: BTreeSet<String>,
    selectable: BTreeSet<String>,
    arch_wants: BTreeSet<String>,
}

impl Env for KconfigEnv {
    fn defined(&self, name: &str) -> Option<bool> {
        if let Some(sym) = name.strip_prefix("CONFIG_") {
            if self.enabled.contains(sym) {
                return Some(true);
            }
            if self.selectable.contains(sym) {
                return Some(false);
            }
            return None;
        }
        if name.starts_with("__ARCH_WANT_") {
            return Some(self.arch_wants.contains(name));
        }
        None
    }
    fn value(&self, name: &str) -> Option<i64> {
        self.defined(name).map(i64::from)
    }
}

/// One `config SYM` block of a Kconfig file (only what the closure needs).
#[derive(Debug, Default, Clone, PartialEq)]
struct KBlock {
    name: String,
    /// `def_bool y`: on whenever `depends` holds.
    def_y: bool,
    /// `depends on` expressions (all must hold).
    depends: Vec<String>,
    /// `select X [if Y]`.
    selects: Vec<(String, Option<String>)>,
}

/// Parses the `config SYM` blocks of a Kconfig file.
fn parse_kconfig(text: &str) -> Vec<KBlock> {
    let mut out: Vec<KBlock> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(sym) = t
            .strip_prefix("config ")
            .or_else(|| t.strip_prefix("menuconfig "))
        {
            out.push(KBlock {
                name: sym.trim().to_string(),
                ..KBlock::default()
            });
            continue;
        }
        let Some(block) = out.last_mut() else {
            continue;
        };
        if let Some(sel) = t.strip_prefix("select ") {
            let (sym, cond) = match sel.split_once(" if ") {
                Some((s, c)) => (s.trim(), Some(c.trim().to_string())),
                None => (sel.trim(), None),
            };
            block.selects.push((sym.to_string(), cond));
        } else if let Some(dep) = t.strip_prefix("depends on ") {
            block.depends.push(dep.trim().to_string());
        } else if t == "def_bool y" {
            block.def_y = true;
        } else if t.starts_with("endmenu") || t.starts_with("menu ") || t.starts_with("choice") {
            out.push(KBlock::default());
        }
    }
    out.retain(|b| !b.name.is_empty());
    out
}

/// Evaluates a Kconfig expression made of symbols, `!`, `&&` and `||` (no
/// parentheses: anything else is false) against the enabled set.
fn kconfig_expr(expr: &str, enabled: &BTreeSet<String>) -> bool {
    if expr.contains('(') || expr.contains('=') {
        return false;
    }
    expr.split("||").any(|conj| {
        conj.split("&&").all(|atom| {
            let atom = atom.trim();
            match atom.strip_prefix('!') {
                Some(neg) => !enabled.contains(neg.trim()),
                None => enabled.contains(atom),
            }
        })
    })
}

fn kconfig_env(root: &Path, spec: &Spec) -> Result<KconfigEnv, String> {
    let mut selectable = BTreeSet::new();
    let mut own = Vec::new();
    let arch_dir = root.join("arch");
    let rd = std::fs::read_dir(&arch_dir).map_err(|e| format!("{}: {e}", arch_dir.display()))?;
    for e in rd.filter_map(Result::ok) {
        let kc = e.path().join("Kconfig");
        let Ok(text) = std::fs::read_to_string(&kc) else {
            continue;
        };
        let blocks = parse_kconfig(&text);
        selectable.extend(
            blocks
                .iter()
                .flat_map(|b| b.selects.iter().map(|(s, _)| s.clone())),
        );
        if e.file_name().to_string_lossy() == spec.arch {
            own = blocks;
        }
    }
    let mut enabled: BTreeSet<String> = spec.kconfig.iter().map(|s| s.to_string()).collect();
    loop {
        let before = enabled.len();
        for b in &own {
            if b.def_y && b.depends.iter().all(|d| kconfig_expr(d, &enabled)) {
                enabled.insert(b.name.clone());
            }
            if !enabled.contains(&b.name) {
                continue;
            }
            for (sym, cond) in &b.selects {
                if cond.as_ref().is_none_or(|c| kconfig_expr(c, &enabled)) {
                    enabled.insert(sym.clone());
                }
            }
        }
        if enabled.len() == before {
            break;
        }
    }
    let mut arch_wants = BTreeSet::new();
    for h in ["include/asm/unistd.h", "include/uapi/asm/unistd.h"] {
        if let Ok(text) = std::fs::read_to_string(root.join("arch").join(spec.arch).join(h)) {
            for line in text.lines() {
                let t = line.trim();
                let rest = t
                    .strip_prefix('#')
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix("define"));
                if let Some(name) = rest
                    .and_then(|r| r.split_whitespace().next())
                    .filter(|n| n.starts_with("__ARCH_WANT_"))
                {
                    arch_wants.insert(name.to_string());
                }
            }
        }
    }
    Ok(KconfigEnv {
        enabled,
        selectable,
        arch_wants,
    })
}

/// The kernel version from the top-level Makefile (`6.1.192`).
pub fn kernel_version(root: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(root.join("Makefile")).map_err(|e| {
        format!(
            "{}/Makefile: {e} (is --source a kernel tree?)",
            root.display()
        )
    })?;
    let get = |key: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim_start().strip_prefix('='))
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    Ok(format!(
        "{}.{}.{}{}",
        get("VERSION"),
        get("PATCHLEVEL"),
        get("SUBLEVEL"),
        get("EXTRAVERSION")
    ))
}

/// (number as seen by the guest, syscall name, entry point if any).
type NumberedEntry = (u64, String, Option<String>);

/// Numbers for one spec: (number as seen by the guest, table name, entry point).
fn numbers(root: &Path, spec: &Spec) -> Result<(Vec<NumberedEntry>, String), String> {
    let read =
        |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: {e}"));
    match &spec.numbers {
        Numbers::Tbl {
            path,
            abis,
            column,
            mips_sim,
        } => {
            let mut offset = 0;
            let mut source = format!("{path} (abi {}, entry point column)", abis.join("/"));
            if let Some(sim) = mips_sim {
                let mut m = Macros::default();
                m.walk(&read("arch/mips/include/uapi/asm/sgidefs.h")?, |_, _| {});
                m.define("_MIPS_SIM", sim);
                m.walk(&read("arch/mips/include/uapi/asm/unistd.h")?, |_, _| {});
                offset = m
                    .eval_int("__NR_Linux")
                    .filter(|v| *v > 0)
                    .ok_or("cannot find __NR_Linux for mips")?;
                source.push_str(&format!(" + __NR_Linux = {offset} (arch/mips/include/uapi/asm/unistd.h, _MIPS_SIM == {sim})"));
            }
            let rows = parse_tbl(&read(path)?, abis, *column)?;
            Ok((
                rows.into_iter()
                    .map(|r| (r.number + offset as u64, r.name, r.entry))
                    .collect(),
                source,
            ))
        }
        Numbers::Generic { arch_unistd, bits } => {
            let mut m = Macros::default();
            m.define("__BITS_PER_LONG", &bits.to_string());
            if *bits == 64 {
                m.define("__LP64__", "1"); // the compiler's, for an LP64 target
            }
            let Some(text) = include_generic_unistd(
                &read(arch_unistd)?,
                &read("include/uapi/asm-generic/unistd.h")?,
            ) else {
                return generic_tbl(root, spec.arch, *bits).map_err(|e| {
                    format!("{arch_unistd} does not include <asm-generic/unistd.h>, and {e}")
                });
            };
            let rows = parse_generic_unistd(&text, m)?;
            let source = format!("include/uapi/asm-generic/unistd.h as included by {arch_unistd}, with that file's own calls (__BITS_PER_LONG {bits}, no __SYSCALL_COMPAT)");
            Ok((
                rows.into_iter()
                    .map(|(n, e)| (n, e.strip_prefix("sys_").unwrap_or(&e).to_string(), Some(e)))
                    .collect(),
                source,
            ))
        }
    }
}

/// The generic table as Linux 6.11 and later build it for `arch`: the rows
/// of `$(syscalltbl)` whose ABI is in `$(syscall_abis_{bits})`, both set in
/// `scripts/Makefile.asm-headers` and amended by the arch's
/// `arch/{arch}/kernel/Makefile.syscalls` (arm64 keeps its own copy of the
/// table, riscv adds the `riscv` and `memfd_secret` ABIs).
fn generic_tbl(root: &Path, arch: &str, bits: i64) -> Result<(Vec<NumberedEntry>, String), String> {
    let read =
        |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let makefiles = [
        "scripts/Makefile.asm-headers".to_string(),
        format!("arch/{arch}/kernel/Makefile.syscalls"),
    ];
    let abis_var = format!("syscall_abis_{bits}");
    let mut abis: Vec<String> = Vec::new();
    let mut table = None;
    for makefile in &makefiles {
        for line in read(makefile)?.lines() {
            let line = line.split('#').next().unwrap_or("");
            let Some((var, value)) = line.split_once('=') else {
                continue;
            };
            // `VAR += words`, `VAR := value`, `VAR = value`.
            let var = var.trim_end();
            let (var, append) = match var.strip_suffix('+') {
                Some(v) => (v.trim(), true),
                None => (var.trim_end_matches(':').trim(), false),
            };
            let words = value.split([' ', '\t', ',']).filter(|w| !w.is_empty());
            if var == abis_var {
                if !append {
                    abis.clear();
                }
                abis.extend(words.map(String::from));
            } else if var == "syscalltbl" {
                let path = value.trim().trim_start_matches("$(srctree)/");
                table = Some(path.replace('%', &bits.to_string()));
            }
        }
    }
    let table = table.ok_or_else(|| format!("{} set no syscalltbl", makefiles.join(" and ")))?;
    if abis.is_empty() {
        return Err(format!("{} set no {abis_var}", makefiles.join(" and ")));
    }
    let wanted: Vec<&str> = abis.iter().map(String::as_str).collect();
    let rows = parse_tbl(&read(&table)?, &wanted, 3)?;
    let source = format!(
        "{table} (abi {}, from {}; entry point column)",
        wanted.join("/"),
        makefiles.join(" and ")
    );
    Ok((
        rows.into_iter()
            .map(|r| (r.number, r.name, r.entry))
            .collect(),
        source,
    ))
}

/// ARM's private calls (`__ARM_NR_*` in arch/arm/include/uapi/asm/unistd.h),
/// handled by `arm_syscall()` in arch/arm/kernel/traps.c. Each `case NR(x):`
/// that passes `regs->ARM_rN` on to a function takes that function's parameters
/// (`cacheflush` -> `do_cache_op`, `set_tls` -> `set_tls`); the others take no
/// arguments. Named `ARM_x` as in PANDA's table.
fn arm_private(root: &Path) -> Result<Vec<Line>, String> {
    let read =
        |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let mut m = Macros::default();
    m.define("__ARM_EABI__", "1");
    m.walk(&read("arch/arm/include/uapi/asm/unistd.h")?, |_, _| {});
    let traps = cpp::strip_comments(&read("arch/arm/kernel/traps.c")?);
    let mut headers = String::new();
    for h in [
        "arch/arm/include/asm/tls.h",
        "arch/arm/include/asm/cacheflush.h",
    ] {
        headers.push_str(&cpp::strip_comments(&read(h)?));
    }
    let mut names: Vec<&String> = m
        .defs
        .keys()
        .filter(|k| k.starts_with("__ARM_NR_") && *k != "__ARM_NR_BASE")
        .collect();
    names.sort();
    let mut out = Vec::new();
    for full in names {
        let short = &full["__ARM_NR_".len()..];
        let number = m
            .eval_int(full)
            .ok_or_else(|| format!("cannot evaluate {full}"))?;
        let case = format!("case NR({short}):");
        let Some(pos) = traps.find(&case) else {
            out.push(Line {
                number: number as u64,
                rettype: String::new(),
                name: format!("ARM_{short}"),
                args: vec![],
                kind: Kind::NoSignature,
                note: "no case in arm_syscall()".into(),
                annotations: Vec::new(),
            });
            continue;
        };
        let body_start = pos + case.len();
        let body_end = traps[body_start..]
            .find("case ")
            .or_else(|| traps[body_start..].find("default:"))
            .map_or(traps.len(), |e| body_start + e);
        let body = &traps[body_start..body_end];
        let mut args = Vec::new();
        // The call whose argument list holds a register use (`return
        // regs->ARM_r0;` only hands r0 back unchanged: no argument).
        let call = body.match_indices("regs->ARM_r").find_map(|(r, _)| {
            let stmt_start = body[..r].rfind([';', '{', '}', ':']).map_or(0, |i| i + 1);
            let mut depth = 0;
            for (i, c) in body[stmt_start..r].char_indices().rev() {
                match c {
                    ')' => depth += 1,
                    '(' if depth == 0 => {
                        let open = stmt_start + i;
                        let fstart = body[..open]
                            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .map_or(0, |i| i + 1);
                        return Some(&body[fstart..open]).filter(|f| !f.is_empty());
                    }
                    '(' => depth -= 1,
                    _ => {}
                }
            }
            None
        });
        if let Some(fname) = call {
            {
                let params = find_c_function(&traps, fname)
                    .or_else(|| find_c_function(&headers, fname))
                    .ok_or_else(|| {
                        format!("arm_syscall(): cannot find the definition of {fname}")
                    })?;
                args = params;
            }
        }
        out.push(Line {
            number: number as u64,
            rettype: "long".into(),
            name: format!("ARM_{short}"),
            args,
            kind: Kind::Prototype,
            note: String::new(),
            annotations: Vec::new(),
        });
    }
    Ok(out)
}

/// The parameters of a C function definition `... name(params) {` in `text`.
fn find_c_function(text: &str, name: &str) -> Option<Vec<String>> {
    let mut from = 0;
    while let Some(p) = text[from..].find(name) {
        let at = from + p;
        from = at + name.len();
        if is_ident_char(text[..at].chars().last()) {
            continue;
        }
        let rest = &text[at + name.len()..];
        let open = at + name.len() + (rest.len() - rest.trim_start().len());
        if !text[open..].starts_with('(') {
            continue;
        }
        let close = matching_paren(text, open)?;
        let after = text[close + 1..].trim_start();
        if !after.starts_with('{') {
            continue;
        }
        // A definition: the text before the name on its statement is a type.
        let line_start = text[..at].rfind(['\n', ';', '}']).map_or(0, |i| i + 1);
        let before = text[line_start..at].trim();
        let prev_line = text[..line_start.saturating_sub(1)]
            .lines()
            .last()
            .unwrap_or("")
            .trim();
        if before.is_empty() && prev_line.is_empty() {
            continue;
        }
        return Some(parse_arg_list(&text[open + 1..close]));
    }
    None
}

/// Generates the seven Linux tables from a kernel tree.
pub fn generate(root: &Path) -> Result<Vec<Table>, String> {
    let version = kernel_version(root)?;
    eprintln!("scanning {} (Linux {version}) ...", root.display());
    let scan = scan(root)?;
    let mut tables = Vec::new();
    let mut indexes: BTreeMap<&str, Index> = BTreeMap::new();
    for spec in SPECS {
        let index = indexes
            .entry(spec.arch)
            .or_insert_with(|| Index::build(&scan, spec.arch));
        let env = kconfig_env(root, spec)?;
        let (rows, number_source) = numbers(root, spec)?;
        let mut warnings = Vec::new();
        let mut lines = Vec::new();
        for (number, name, entry) in rows {
            let Some(entry) = entry.clone().filter(|e| e != "sys_ni_syscall") else {
                let note = if entry.is_some() {
                    "sys_ni_syscall"
                } else {
                    "no entry point"
                };
                lines.push(Line {
                    number,
                    rettype: String::new(),
                    name,
                    args: vec![],
                    kind: Kind::NotImplemented,
                    note: note.into(),
                    annotations: Vec::new(),
                });
                continue;
            };
            let mut table_name = entry.clone();
            let mut sig = index.lookup(&entry, &env, &mut warnings);
            if sig.is_none() {
                if let Some(target) = index.trampolines.get(&entry) {
                    sig = index.lookup(target, &env, &mut warnings);
                    let decoration = entry.strip_suffix("_wrapper") == Some(target.as_str())
                        || entry.strip_prefix("__") == Some(target.as_str());
                    if sig.is_some() && decoration {
                        table_name = target.clone();
                    }
                }
            }
            match sig {
                Some(s) => lines.push(Line {
                    number,
                    rettype: s.ret,
                    name: table_name,
                    args: s.args,
                    kind: Kind::Prototype,
                    note: String::new(),
                    annotations: Vec::new(),
                }),
                None => lines.push(Line {
                    number,
                    rettype: String::new(),
                    name: entry,
                    args: vec![],
                    kind: Kind::NoSignature,
                    note: String::new(),
                    annotations: Vec::new(),
                }),
            }
        }
        if spec.arm_private {
            lines.extend(arm_private(root)?);
        }
        for w in &warnings {
            eprintln!("{}: warning: {w}", spec.file);
        }
        let header = vec![
            format!("Linux {version} {} system call prototypes (PANDA syscalls2 table format).", spec.title),
            format!("Generated by `cargo xtask prototypes linux --source <linux-source tree>` from Linux {version}: do not edit."),
            format!("Numbers: {number_source}."),
            format!(
                "Signatures: SYSCALL_DEFINEn/COMPAT_SYSCALL_DEFINEn in arch/{}/ and generic .c files, then asmlinkage declarations.",
                spec.arch
            ),
            "Annotations (comment lines before a prototype): @noreturn, @noreturn-on-success, @doublereturn.".into(),
            "`// NO SIGNATURE:` = numbered call without a C signature in the sources; `// NOT IMPLEMENTED:` = sys_ni_syscall/no entry.".into(),
        ];
        tables.push(Table {
            file_name: spec.file.into(),
            header,
            lines,
            space_before_paren: false,
        });
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tbl_rows() {
        let tbl = "# comment\n#\n0\ti386\trestart_syscall\t\tsys_restart_syscall\n\
                   5\ti386\topen\t\t\tsys_open\t\t\tcompat_sys_open\n17\ti386\tbreak\n\
                   512\tx32\trt_sigaction\t\tcompat_sys_rt_sigaction\n";
        let rows = parse_tbl(tbl, &["i386"], 3).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            TblEntry {
                number: 5,
                abi: "i386".into(),
                name: "open".into(),
                entry: Some("sys_open".into())
            }
        );
        assert_eq!(rows[2].entry, None);
        let arm = "13\toabi\ttime\t\t\tsys_time32\n14\tcommon\tmknod\t\t\tsys_mknod\n";
        let rows = parse_tbl(arm, &["common", "eabi"], 3).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(parse_tbl("x y\n", &["i386"], 3).is_err());
    }

    #[test]
    fn parses_generic_unistd() {
        let text = r#"
#ifndef __SYSCALL
#define __SYSCALL(x, y)
#endif

#if __BITS_PER_LONG == 32 || defined(__SYSCALL_COMPAT)
#define __SC_3264(_nr, _32, _64) __SYSCALL(_nr, _32)
#else
#define __SC_3264(_nr, _32, _64) __SYSCALL(_nr, _64)
#endif

#ifdef __SYSCALL_COMPAT
#define __SC_COMP(_nr, _sys, _comp) __SYSCALL(_nr, _comp)
#define __SC_COMP_3264(_nr, _32, _64, _comp) __SYSCALL(_nr, _comp)
#else
#define __SC_COMP(_nr, _sys, _comp) __SYSCALL(_nr, _sys)
#define __SC_COMP_3264(_nr, _32, _64, _comp) __SC_3264(_nr, _32, _64)
#endif

#define __NR_io_setup 0
__SC_COMP(__NR_io_setup, sys_io_setup, compat_sys_io_setup)
#define __NR3264_fcntl 25
__SC_COMP_3264(__NR3264_fcntl, sys_fcntl64, sys_fcntl, compat_sys_fcntl64)
#ifdef __ARCH_WANT_RENAMEAT
/* renameat is superseded with flags by renameat2 */
#define __NR_renameat 38
__SYSCALL(__NR_renameat, sys_renameat)
#endif /* __ARCH_WANT_RENAMEAT */
#define __NR3264_statfs 43
__SC_COMP_3264(__NR3264_statfs, sys_statfs64, sys_statfs, \
	       compat_sys_statfs64)
#ifndef __ARCH_WANT_SET_GET_RLIMIT
#define __NR_getrlimit 163
__SC_COMP(__NR_getrlimit, sys_getrlimit, compat_sys_getrlimit)
#endif
#define __NR_syscalls 451
"#;
        let mut m = Macros::default();
        m.define("__BITS_PER_LONG", "64");
        m.walk(
            "#define __ARCH_WANT_RENAMEAT\n#define __ARCH_WANT_SET_GET_RLIMIT\n",
            |_, _| {},
        );
        let rows = parse_generic_unistd(text, m).unwrap();
        assert_eq!(
            rows,
            vec![
                (0, "sys_io_setup".into()),
                (25, "sys_fcntl".into()),
                (38, "sys_renameat".into()),
                (43, "sys_statfs".into())
            ]
        );
        let mut m32 = Macros::default();
        m32.define("__BITS_PER_LONG", "32");
        let rows = parse_generic_unistd(text, m32).unwrap();
        assert_eq!(rows[1].1, "sys_fcntl64");
        assert_eq!(rows[3], (163, "sys_getrlimit".into()));
    }

    #[test]
    fn arch_calls_after_the_generic_include_are_read() {
        let generic = "#define __NR_arch_specific_syscall 244\n\
                       #define __NR_io_setup 0\n__SYSCALL(__NR_io_setup, sys_io_setup)\n";
        let arch = "#if defined(__LP64__)\n#define __ARCH_WANT_NEW_STAT\n#endif\n\
                    #include <asm-generic/unistd.h>\n\
                    #ifndef __NR_riscv_flush_icache\n\
                    #define __NR_riscv_flush_icache (__NR_arch_specific_syscall + 15)\n\
                    #endif\n\
                    __SYSCALL(__NR_riscv_flush_icache, sys_riscv_flush_icache)\n";
        let text = include_generic_unistd(arch, generic).unwrap();
        let rows = parse_generic_unistd(&text, Macros::default()).unwrap();
        assert_eq!(
            rows,
            vec![
                (0, "sys_io_setup".into()),
                (259, "sys_riscv_flush_icache".into())
            ]
        );
        assert_eq!(include_generic_unistd("#define X 1\n", generic), None);
    }

    #[test]
    fn extracts_syscall_defines() {
        let c = r#"
SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)
{
	return ksys_read(fd, buf, count);
}
SYSCALL_DEFINE0(fork)
#ifdef CONFIG_CLONE_BACKWARDS
SYSCALL_DEFINE5(clone, unsigned long, clone_flags, unsigned long, newsp,
		 int __user *, parent_tidptr,
		 unsigned long, tls,
		 int __user *, child_tidptr)
#else
SYSCALL_DEFINE5(clone, unsigned long, clone_flags, unsigned long, newsp,
		 int __user *, parent_tidptr,
		 int __user *, child_tidptr,
		 unsigned long, tls)
#endif
SYSCALL_DEFINE3(execve,
		const char __user *, filename,
		const char __user *const __user *, argv,
		const char __user *const __user *, envp)
COMPAT_SYSCALL_DEFINE3(ioctl, unsigned int, fd, unsigned int, cmd,
		       compat_ulong_t, arg)
#define SYSCALL_DEFINE1(name, ...) SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
/* SYSCALL_DEFINE1(commented, int, x) */
"#;
        let sigs = extract_syscall_defines(c, "t.c");
        let names: Vec<&str> = sigs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "sys_read",
                "sys_fork",
                "sys_clone",
                "sys_clone",
                "sys_execve",
                "compat_sys_ioctl"
            ]
        );
        assert_eq!(
            sigs[0].args,
            ["unsigned int fd", "char __user *buf", "size_t count"]
        );
        assert_eq!(sigs[0].ret, "long");
        assert!(sigs[1].args.is_empty());
        assert_eq!(sigs[2].conds, ["defined(CONFIG_CLONE_BACKWARDS)"]);
        assert_eq!(sigs[2].args[3], "unsigned long tls");
        assert_eq!(sigs[3].conds, ["!(defined(CONFIG_CLONE_BACKWARDS))", "1"]);
        assert_eq!(sigs[4].args[1], "const char __user *const __user *argv");
        assert_eq!(sigs[4].at, "t.c:18");
        let env = KconfigEnv {
            enabled: ["CLONE_BACKWARDS".to_string()].into(),
            selectable: ["CLONE_BACKWARDS".to_string()].into(),
            arch_wants: BTreeSet::new(),
        };
        assert_eq!(cpp::eval_all(&sigs[2].conds, &env), Some(true));
        assert_eq!(cpp::eval_all(&sigs[3].conds, &env), Some(false));
    }

    #[test]
    fn syscall32_define_names_both_entry_points() {
        // Linux 6.12, arch/x86/kernel/signal_32.c.
        let sigs = extract_syscall_defines("SYSCALL32_DEFINE0(sigreturn)\n{\n}\n", "s.c");
        let names: Vec<&str> = sigs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["compat_sys_sigreturn", "sys_sigreturn"]);
    }

    #[test]
    fn generic_table_from_linux_6_11_on() {
        // The layout of Linux 6.12: scripts/syscall.tbl and its defaults,
        // and an arch that adds ABIs (riscv) or keeps its own table (arm64).
        let root = std::env::temp_dir().join(format!("s2-generic-tbl-{}", std::process::id()));
        let put = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        put(
            "scripts/Makefile.asm-headers",
            "syscall_abis_32  += common,32\nsyscall_abis_64  += common,64\n\
             syscalltbl := $(srctree)/scripts/syscall.tbl\n",
        );
        put(
            "scripts/syscall.tbl",
            "0\tcommon\tio_setup\tsys_io_setup\tcompat_sys_io_setup\n\
             4\ttime32\tio_getevents\tsys_io_getevents_time32\n\
             4\t64\tio_getevents\tsys_io_getevents\n\
             258\triscv\triscv_hwprobe\tsys_riscv_hwprobe\n\
             447\tmemfd_secret\tmemfd_secret\tsys_memfd_secret\n",
        );
        put(
            "arch/riscv/kernel/Makefile.syscalls",
            "syscall_abis_32 += riscv memfd_secret\nsyscall_abis_64 += riscv rlimit memfd_secret\n",
        );
        put(
            "arch/arm64/kernel/Makefile.syscalls",
            "syscall_abis_64 += renameat rlimit memfd_secret\n\
             syscalltbl = arch/arm64/tools/syscall_%.tbl\n",
        );
        put(
            "arch/arm64/tools/syscall_64.tbl",
            "0\tcommon\tio_setup\tsys_io_setup\n258\triscv\triscv_hwprobe\tsys_riscv_hwprobe\n",
        );
        let (riscv, source) = generic_tbl(&root, "riscv", 64).unwrap();
        let names: Vec<(u64, &str)> = riscv
            .iter()
            .map(|r| (r.0, r.2.as_deref().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                (0, "sys_io_setup"),
                (4, "sys_io_getevents"),
                (258, "sys_riscv_hwprobe"),
                (447, "sys_memfd_secret")
            ]
        );
        assert!(source.starts_with("scripts/syscall.tbl (abi common/64/riscv/rlimit/memfd_secret"));
        let (arm64, source) = generic_tbl(&root, "arm64", 64).unwrap();
        assert_eq!(arm64.len(), 1);
        assert!(
            source.starts_with("arch/arm64/tools/syscall_64.tbl"),
            "{source}"
        );
        let err = generic_tbl(&root, "mips", 64).unwrap_err();
        assert!(err.contains("arch/mips/kernel/Makefile.syscalls"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn extracts_asmlinkage() {
        let h = "asmlinkage long sys_io_submit(aio_context_t, long,\n\t\t\tstruct iocb __user * __user *);\n\
                 asmlinkage long sys_ni_syscall(void);\n\
                 #define foo asmlinkage long bar(void)\n\
                 asmlinkage int sysm_pipe(void)\n{\n}\n\
                 asmlinkage __visible void do_thing(struct pt_regs *regs) { }\n";
        let sigs = extract_asmlinkage(h, "x.h");
        let got: Vec<(String, String, Vec<String>)> =
            sigs.into_iter().map(|s| (s.ret, s.name, s.args)).collect();
        assert_eq!(
            got[0],
            (
                "long".into(),
                "sys_io_submit".into(),
                vec![
                    "aio_context_t".into(),
                    "long".into(),
                    "struct iocb __user * __user *".into()
                ]
            )
        );
        assert_eq!(got[1].1, "sys_ni_syscall");
        assert_eq!(got[2], ("int".into(), "sysm_pipe".into(), vec![]));
        assert_eq!(got[3].0, "void");
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn finds_trampolines() {
        let s = "sys_sigreturn_wrapper:\n\t\tadd\tr0, sp, #S_OFF\n\t\tmov\twhy, #0\n\t\tb\tsys_sigreturn\nENDPROC(sys_sigreturn_wrapper)\n\
                 sys_mmap2:\n\t\tstr\tr5, [sp, #4]\n\t\tb\tsys_mmap_pgoff\nENDPROC(sys_mmap2)\n\
                 ENTRY(foo)\n\tret\n\tb bar\n";
        assert_eq!(
            extract_asm_trampolines(s),
            vec![
                ("sys_sigreturn_wrapper".into(), "sys_sigreturn".into()),
                ("sys_mmap2".into(), "sys_mmap_pgoff".into())
            ]
        );
    }

    #[test]
    fn evaluates_macro_numbers() {
        let mut m = Macros::default();
        m.define("__ARM_EABI__", "1");
        m.walk(
            "#if defined(__thumb__) || defined(__ARM_EABI__)\n#define __NR_SYSCALL_BASE\t0\n#else\n#define __NR_SYSCALL_BASE 0x900000\n#endif\n\
             #define __ARM_NR_BASE\t\t\t(__NR_SYSCALL_BASE+0x0f0000)\n#define __ARM_NR_set_tls\t\t(__ARM_NR_BASE+5)\n",
            |_, _| {},
        );
        assert_eq!(m.eval_int("__ARM_NR_set_tls"), Some(0xf0005));
    }

    #[test]
    fn finds_c_function_params() {
        let c = "static inline long\ndo_cache_op(unsigned long start, unsigned long end, int flags)\n{\n}\n\
                 x = do_cache_op(a, b, c);\nstatic inline void set_tls(unsigned long val)\n{\n}\n";
        assert_eq!(
            find_c_function(c, "do_cache_op").unwrap(),
            ["unsigned long start", "unsigned long end", "int flags"]
        );
        assert_eq!(
            find_c_function(c, "set_tls").unwrap(),
            ["unsigned long val"]
        );
        assert_eq!(find_c_function(c, "nothing"), None);
    }

    #[test]
    fn kconfig_closure_parts() {
        let k = "config X86_32\n\tdef_bool y\n\tdepends on !64BIT\n\tselect CLONE_BACKWARDS\n\tselect FOO if BAR\n\
                 config COMPAT_32\n\tdef_bool y\n\tdepends on IA32_EMULATION || X86_32\n\tselect OLD_SIGSUSPEND3\n";
        let b = parse_kconfig(k);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].selects[0], ("CLONE_BACKWARDS".to_string(), None));
        assert_eq!(b[0].selects[1].1.as_deref(), Some("BAR"));
        assert_eq!(b[1].depends, ["IA32_EMULATION || X86_32"]);
        assert!(b[1].def_y);
        let on: BTreeSet<String> = ["X86_32".to_string()].into();
        assert!(kconfig_expr(&b[1].depends[0], &on));
        assert!(kconfig_expr("!64BIT", &on));
        assert!(!kconfig_expr("X86_64 && X86_32", &on));
    }
}
