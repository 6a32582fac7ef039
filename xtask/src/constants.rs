//! `cargo xtask constants`: the Linux constants strace prints by name, and
//! what each syscall argument means, as generated Rust tables
//! (`src/generated/linux_constants.rs`).
//!
//! - `data/linux_constants.txt` names the sets (open's flags, the signals,
//!   the `PR_*` options, ...) and the UAPI headers that define them. Each
//!   name's value is asked of the C compiler of each ABI (clang with the
//!   ABI's `--target`), over the UAPI headers of Debian's `linux-libc-dev`
//!   for that architecture: every name becomes an `asm` operand the compiler
//!   must fold to a constant (the kernel's own `asm-offsets` technique), and
//!   the values are read back from the assembly. No value is typed by hand,
//!   and MIPS's `O_CREAT` (0x100) is MIPS's.
//! - `data/linux_args.txt` says which argument of which syscall is which
//!   kind of value (a dirfd, open's flags, a mode, a signal); the generator
//!   checks every syscall, argument and set it names against the bundled
//!   tables and the sets.
//!
//! The headers: `apt-get download linux-libc-dev:i386 linux-libc-dev:armhf
//! linux-libc-dev:arm64 linux-libc-dev:amd64 linux-libc-dev-mips-cross
//! linux-libc-dev-mips64el-cross linux-libc-dev-riscv64-cross
//! libc6-dev:i386 libc6-dev:armhf libc6-dev:arm64 libc6-dev:amd64
//! libc6-dev-mips-cross libc6-dev-mips64el-cross libc6-dev-riscv64-cross`
//! into a directory given as `--debs DIR` (glibc's
//! for the few names that are the C library's, `access`'s `R_OK`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod windows;

/// The data files, relative to the workspace root.
const CONSTANTS: &str = "data/linux_constants.txt";
const ARGS: &str = "data/linux_args.txt";
const OUT: &str = "src/generated/linux_constants.rs";

/// Each Linux ABI of the project: its name, clang's target for it, and the
/// directory (under the extracted packages) that holds its `asm/` headers,
/// and the one that holds `linux/`.
const ABIS: [(&str, &str, &str, &str); 8] = [
    (
        "linux_x64",
        "x86_64-linux-gnu",
        "usr/include/x86_64-linux-gnu",
        "usr/include",
    ),
    (
        "linux_x86",
        "i386-linux-gnu",
        "usr/include/i386-linux-gnu",
        "usr/include",
    ),
    (
        "linux_arm",
        "arm-linux-gnueabihf",
        "usr/include/arm-linux-gnueabihf",
        "usr/include",
    ),
    (
        "linux_arm64",
        "aarch64-linux-gnu",
        "usr/include/aarch64-linux-gnu",
        "usr/include",
    ),
    (
        "linux_mips",
        "mips-linux-gnu",
        "usr/mips-linux-gnu/include",
        "usr/mips-linux-gnu/include",
    ),
    (
        "linux_mips64",
        "mips64el-linux-gnuabi64",
        "usr/mips64el-linux-gnuabi64/include",
        "usr/mips64el-linux-gnuabi64/include",
    ),
    (
        "linux_mips64n32",
        "mips64el-linux-gnuabin32",
        "usr/mips64el-linux-gnuabi64/include",
        "usr/mips64el-linux-gnuabi64/include",
    ),
    (
        "linux_riscv64",
        "riscv64-linux-gnu",
        "usr/riscv64-linux-gnu/include",
        "usr/riscv64-linux-gnu/include",
    ),
];

/// One set of `data/linux_constants.txt` (or `data/windows_constants.txt`).
#[derive(Debug, Clone)]
struct SetDef {
    name: String,
    flags: bool,
    /// `[MASK=NAME,..]` fields: the mask's name and its names, or the set
    /// that names its values.
    fields: Vec<(String, Vec<String>)>,
    /// `[NAME]`: the name of 0.
    zero: Option<String>,
    /// `else=hex` / `else=x1024`: how a value set prints a number none
    /// names (default: in decimal).
    other: Option<String>,
    names: Vec<String>,
    /// `enum SET TAG`: the C enum whose enumerators are the names, in
    /// declaration order (read from the compiler's AST, not listed).
    enum_tag: Option<String>,
}

/// A `struct` line: the data's name, the C tag, the fields strace prints
/// (with their kind: `str`, a set, `filemode`, ..., and the condition under
/// which strace prints them), and whether it ends with `...`.
#[derive(Debug)]
struct StructDef {
    name: String,
    tag: String,
    fields: Vec<FieldDef>,
    more: bool,
    /// `struct-if ABI... :`: the ABIs it is laid out for (none: every ABI).
    abis: Vec<String>,
}

impl StructDef {
    fn on(&self, abi: &str) -> bool {
        self.abis.is_empty() || self.abis.iter().any(|a| a == abi)
    }
}

/// One field of a `struct` line: `[NAME=]PATH[:KIND][?COND]`.
#[derive(Debug, PartialEq)]
struct FieldDef {
    /// The name strace prints it by (`mask`); the path's when not given.
    name: String,
    /// Where it is, as C names it in the structure (`uc.uc_sigmask`,
    /// `uc.uc_mcontext.regs[0]`).
    path: String,
    kind: Option<String>,
    when: Option<Cond>,
}

/// The kinds a structure's field may have besides a set's name.
const FIELD_KINDS: [&str; 7] = [
    "str", "filemode", "sigset", "dev", "ptr", "return", "failed",
];

/// The whole constants file.
#[derive(Debug, Default)]
struct ConstantsFile {
    structs: Vec<StructDef>,
    headers: Vec<String>,
    /// Headers only some ABIs have.
    headers_if: Vec<(Vec<String>, Vec<String>)>,
    /// C declarations written after the headers, for some ABIs.
    cdefs: Vec<(Vec<String>, String)>,
    sets: Vec<SetDef>,
    /// `unit HEADER...`: translation units, each compiled on its own (a
    /// name's value is the first unit's that defines it).
    units: Vec<Vec<String>>,
}

fn parse_constants(text: &str) -> Result<ConstantsFile, String> {
    let abis: Vec<&str> = ABIS.iter().map(|a| a.0).collect();
    let f = parse_constants_in(text, CONSTANTS, &abis)?;
    if !f.units.is_empty() || f.sets.iter().any(|s| s.enum_tag.is_some()) {
        return Err(format!(
            "{CONSTANTS}: `unit` and `enum` are the Windows constants' (data/windows_constants.txt)"
        ));
    }
    Ok(f)
}

/// Parses a constants file named `file` whose `-if` lines may name `abis`.
fn parse_constants_in(text: &str, file: &str, abis: &[&str]) -> Result<ConstantsFile, String> {
    let mut f = ConstantsFile::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let at = |e: String| format!("{file}:{}: {e}", n + 1);
        let mut words = line.split_whitespace();
        match words.next() {
            None => {}
            Some("include") => f.headers.extend(words.map(String::from)),
            Some("unit") => {
                let unit: Vec<String> = words.map(String::from).collect();
                if unit.is_empty() {
                    return Err(at("unit needs headers".into()));
                }
                f.units.push(unit);
            }
            Some("enum") => {
                let (Some(name), Some(tag), None) = (words.next(), words.next(), words.next())
                else {
                    return Err(at("expected `enum SET C_ENUM_TAG`".into()));
                };
                if f.sets.iter().any(|s| s.name == name) {
                    return Err(at(format!("set {name} defined twice")));
                }
                f.sets.push(SetDef {
                    name: name.to_string(),
                    flags: false,
                    fields: Vec::new(),
                    zero: None,
                    other: None,
                    names: Vec::new(),
                    enum_tag: Some(tag.to_string()),
                });
            }
            Some(how @ ("include-if" | "cdef-if")) => {
                let rest: Vec<&str> = words.collect();
                let colon = rest
                    .iter()
                    .position(|w| *w == ":")
                    .ok_or_else(|| at(format!("{how} needs `ABI... : ...`")))?;
                let these: Vec<String> = rest[..colon].iter().map(|s| s.to_string()).collect();
                if let Some(bad) = these.iter().find(|a| !abis.contains(&a.as_str())) {
                    return Err(at(format!("{bad}: not an ABI of {file}")));
                }
                let abis = these;
                let rest = &rest[colon + 1..];
                if how == "cdef-if" {
                    f.cdefs.push((abis, rest.join(" ")));
                } else {
                    f.headers_if
                        .push((abis, rest.iter().map(|s| s.to_string()).collect()));
                }
            }
            Some(kind @ ("value" | "flags")) => {
                let name = words
                    .next()
                    .ok_or_else(|| at(format!("{kind} needs a set name")))?;
                let mut set = SetDef {
                    name: name.to_string(),
                    flags: kind == "flags",
                    fields: Vec::new(),
                    zero: None,
                    other: None,
                    names: Vec::new(),
                    enum_tag: None,
                };
                for w in words {
                    // `@SET`: an earlier set's names, in its order (the
                    // rights every object type shares).
                    if let Some(other) = w.strip_prefix('@') {
                        let other = f
                            .sets
                            .iter()
                            .find(|s| s.name == other)
                            .ok_or_else(|| at(format!("{w}: no earlier set {other}")))?;
                        set.names.extend(other.names.iter().cloned());
                        continue;
                    }
                    if let Some(other) = w.strip_prefix("else=") {
                        if kind != "value" || !matches!(other, "hex" | "x1024") {
                            return Err(at(format!(
                                "{w}: only a value set takes else=hex or else=x1024"
                            )));
                        }
                        set.other = Some(other.to_string());
                        continue;
                    }
                    match w.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
                        Some(inner) => match inner.split_once('=') {
                            Some((mask, names)) => set.fields.push((
                                mask.to_string(),
                                names.split(',').map(String::from).collect(),
                            )),
                            None => set.zero = Some(inner.to_string()),
                        },
                        None => set.names.push(w.to_string()),
                    }
                }
                if f.sets.iter().any(|s| s.name == set.name) {
                    return Err(at(format!("set {} defined twice", set.name)));
                }
                f.sets.push(set);
            }
            Some(how @ ("struct" | "struct-if")) => {
                let mut rest: Vec<&str> = words.collect();
                let mut abis_of = Vec::new();
                if how == "struct-if" {
                    let colon = rest
                        .iter()
                        .position(|w| *w == ":")
                        .ok_or_else(|| at("struct-if needs `ABI... : NAME C_TAG : ...`".into()))?;
                    let mut these: Vec<String> = rest.drain(..=colon).map(String::from).collect();
                    these.pop();
                    if let Some(bad) = these.iter().find(|a| !abis.contains(&a.as_str())) {
                        return Err(at(format!("{bad}: not an ABI of {file}")));
                    }
                    abis_of = these;
                }
                let [name, tag, ":", fields @ ..] = rest.as_slice() else {
                    return Err(at(
                        "expected `struct NAME C_TAG : FIELD[:KIND][?COND]... [...]`".into(),
                    ));
                };
                let more = fields.last() == Some(&"...");
                let fields = fields
                    .iter()
                    .filter(|f| **f != "...")
                    .map(|f| {
                        let (f, when) = match f.split_once('?') {
                            Some((f, c)) => {
                                let (negate, c) = match c.strip_prefix('!') {
                                    Some(c) => (true, c),
                                    None => (false, c),
                                };
                                (f, Some(parse_cond(c, negate).map_err(at)?))
                            }
                            None => (*f, None),
                        };
                        let (name, kind) = match f.split_once(':') {
                            Some((n, k)) => (n, Some(k.to_string())),
                            None => (f, None),
                        };
                        let (name, path) = name.split_once('=').unwrap_or((name, name));
                        Ok(FieldDef {
                            name: name.to_string(),
                            path: path.to_string(),
                            kind,
                            when,
                        })
                    })
                    .collect::<Result<_, String>>()?;
                f.structs.push(StructDef {
                    name: name.to_string(),
                    tag: tag.to_string(),
                    fields,
                    more,
                    abis: abis_of,
                });
            }
            Some(other) => return Err(at(format!("unknown directive {other:?}"))),
        }
    }
    Ok(f)
}

impl ConstantsFile {
    /// Every name whose value is asked.
    fn names(&self) -> BTreeSet<&str> {
        let set_names: BTreeSet<&str> = self.sets.iter().map(|s| s.name.as_str()).collect();
        let mut out = BTreeSet::new();
        for s in &self.sets {
            out.extend(s.names.iter().map(String::as_str));
            out.extend(s.zero.as_deref());
            for (mask, names) in &s.fields {
                out.insert(mask.as_str());
                out.extend(
                    names
                        .iter()
                        .map(String::as_str)
                        .filter(|n| !set_names.contains(n)),
                );
            }
        }
        for st in &self.structs {
            for c in st.fields.iter().filter_map(|f| f.when.as_ref()) {
                out.extend(c.mask.as_deref());
                out.extend(c.names.iter().map(String::as_str));
            }
        }
        out
    }

    fn headers_for(&self, abi: &str) -> Vec<&str> {
        let mut h: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        for (abis, headers) in &self.headers_if {
            if abis.iter().any(|a| a == abi) {
                h.extend(headers.iter().map(String::as_str));
            }
        }
        h
    }

    fn cdefs_for(&self, abi: &str) -> Vec<&str> {
        self.cdefs
            .iter()
            .filter(|(abis, _)| abis.iter().any(|a| a == abi))
            .map(|(_, c)| c.as_str())
            .collect()
    }
}

/// The C file that makes the compiler print every defined name's value,
/// and each structure's size and its fields' offsets and sizes.
fn probe_source(
    headers: &[&str],
    cdefs: &[&str],
    names: &BTreeSet<&str>,
    enumerators: &[&str],
    structs: &[&StructDef],
) -> String {
    let mut c = String::new();
    for h in headers {
        let _ = writeln!(c, "#include <{h}>");
    }
    for d in cdefs {
        let _ = writeln!(c, "{d}");
    }
    c.push_str("void s2_values(void) {\n");
    for n in names {
        let _ = writeln!(
            c,
            "#ifdef {n}\n  __asm__ volatile(\".ascii \\\"@S2 {n} %0\\\"\" :: \"i\"((long long)({n})));\n#endif"
        );
    }
    // An enum's constants are no macros: asked unconditionally (the
    // generator read them from this unit's declarations).
    for n in enumerators {
        let _ = writeln!(
            c,
            "  __asm__ volatile(\".ascii \\\"@S2 {n} %0\\\"\" :: \"i\"((long long)({n})));"
        );
    }
    let emit = |c: &mut String, key: String, expr: String| {
        let _ = writeln!(
            c,
            "  __asm__ volatile(\".ascii \\\"@S2 {key} %0\\\"\" :: \"i\"((long long)({expr})));"
        );
    };
    for st in structs {
        let t = &st.tag;
        emit(
            &mut c,
            format!("struct:{}:size", st.name),
            format!("sizeof(struct {t})"),
        );
        for FieldDef { path: f, .. } in &st.fields {
            emit(
                &mut c,
                format!("struct:{}:{f}:offset", st.name),
                format!("__builtin_offsetof(struct {t}, {f})"),
            );
            emit(
                &mut c,
                format!("struct:{}:{f}:size", st.name),
                format!("sizeof(((struct {t} *)0)->{f})"),
            );
        }
    }
    c.push_str("}\n");
    c
}

/// The values the compiler folded, by name, from its assembly.
fn parse_probe(asm: &str) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    for piece in asm.split("@S2 ").skip(1) {
        let piece = piece.split('"').next().unwrap_or("");
        let (name, value) = piece
            .split_once(' ')
            .ok_or_else(|| format!("unexpected probe output {piece:?}"))?;
        let digits = value.trim_start_matches(['$', '#']);
        let v: i64 = digits
            .parse()
            .map_err(|_| format!("{name}: the compiler gave {value:?}, not a number"))?;
        out.insert(name.to_string(), v);
    }
    Ok(out)
}

/// `--debs DIR [--cc CLANG]`: the packages' directory and the compiler.
fn options(args: &[String], usage: fn() -> String) -> Result<(PathBuf, String), String> {
    let mut debs = None;
    let mut cc = "clang-14".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--debs" => debs = Some(PathBuf::from(value()?)),
            "--cc" => cc = value()?,
            _ => return Err(format!("unknown argument {a:?}\n{}", usage())),
        }
    }
    Ok((debs.ok_or_else(usage)?, cc))
}

/// Entry point of `cargo xtask constants ...`.
pub fn main(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("windows") {
        return windows::main(&args[1..]);
    }
    let (debs, cc) = options(args, usage)?;
    let root = crate::qemu::root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| format!("{p}: {e}"));
    let constants = parse_constants(&read(CONSTANTS)?)?;
    let (packages, tree) = extract(&debs, &root.join("target/constants-uapi"))?;
    let resource = run(Command::new(&cc).arg("-print-resource-dir"))?;
    let version = run(Command::new(&cc).arg("--version"))?;
    let version = version.lines().next().unwrap_or("").trim().to_string();
    let names = constants.names();

    let mut per_abi = Vec::new();
    for (abi, target, asm_dir, linux_dir) in ABIS {
        let source = probe_source(
            &constants.headers_for(abi),
            &constants.cdefs_for(abi),
            &names,
            &[],
            &constants
                .structs
                .iter()
                .filter(|s| s.on(abi))
                .collect::<Vec<_>>(),
        );
        let file = root.join(format!("target/constants-uapi/probe-{abi}.c"));
        std::fs::write(&file, source).map_err(|e| format!("{}: {e}", file.display()))?;
        let asm = run(Command::new(&cc)
            .arg(format!("--target={target}"))
            .args(["-S", "-o", "-", "-nostdinc", "-isystem"])
            .arg(Path::new(resource.trim()).join("include"))
            .arg("-I")
            .arg(tree.join(asm_dir))
            .arg("-I")
            .arg(tree.join(linux_dir))
            .arg(&file))
        .map_err(|e| format!("{abi}: {e}"))?;
        per_abi.push((abi, target, parse_probe(&asm)?));
    }
    check_structs(&constants, &per_abi)?;
    let args = parse_args(&read(ARGS)?, &constants)?;
    let text = render(&constants, &per_abi, &args, &packages, &version);
    let out = root.join(OUT);
    write_formatted(&out, &text)?;
    for (abi, _, values) in &per_abi {
        eprintln!("{abi}: {} of {} names defined", values.len(), names.len());
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Writes generated Rust to `out`, formatted by rustfmt.
fn write_formatted(out: &Path, text: &str) -> Result<(), String> {
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    let status = Command::new("rustfmt")
        .args(["--edition", "2021"])
        .arg(out)
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !status.success() {
        return Err(format!("rustfmt failed on {}", out.display()));
    }
    Ok(())
}

fn usage() -> String {
    "usage: cargo xtask constants --debs DIR [--cc clang-14]\n\
     \x20 DIR holds the .deb files of linux-libc-dev for amd64, i386, armhf and arm64 and of\n\
     \x20 linux-libc-dev-mips-cross, -mips64el-cross and -riscv64-cross, and the same of libc6-dev\n\
     \x20 (libc6-dev-mips-cross, -mips64el-cross, -riscv64-cross) (apt-get download)"
        .to_string()
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Extracts every `.deb` of `dir` into `into`; returns `PACKAGE:ARCH VERSION` of each.
fn extract(dir: &Path, into: &Path) -> Result<(Vec<String>, PathBuf), String> {
    let tree = into.join("root");
    std::fs::create_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    if debs.is_empty() {
        return Err(format!("{}: no .deb files\n{}", dir.display(), usage()));
    }
    let mut packages = Vec::new();
    for deb in &debs {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&tree))?;
        let fields = run(Command::new("dpkg-deb").arg("-f").arg(deb).args([
            "Package",
            "Architecture",
            "Version",
        ]))?;
        let value = |k: &str| {
            fields
                .lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix(": "))
                .unwrap_or("?")
                .to_string()
        };
        packages.push(format!(
            "{}:{} {}",
            value("Package"),
            value("Architecture"),
            value("Version")
        ));
    }
    Ok((packages, tree))
}

/// Checks that every structure's fields have a known kind and that the
/// compiler gave every size and offset on every ABI.
fn check_structs(
    constants: &ConstantsFile,
    per_abi: &[(&str, &str, BTreeMap<String, i64>)],
) -> Result<(), String> {
    let sets: BTreeSet<&str> = constants.sets.iter().map(|s| s.name.as_str()).collect();
    for st in &constants.structs {
        for FieldDef {
            name: f,
            kind,
            when,
            ..
        } in &st.fields
        {
            if let Some(k) = kind.as_deref().filter(|k| !FIELD_KINDS.contains(k)) {
                if !sets.contains(k) {
                    return Err(format!(
                        "{CONSTANTS}: struct {} field {f}: {k} is neither one of {FIELD_KINDS:?} nor a set",
                        st.name
                    ));
                }
            }
            if let Some(c) = when {
                if !st.fields.iter().any(|o| o.name == c.arg) {
                    return Err(format!(
                        "{CONSTANTS}: struct {} field {f}: its condition names no field {}",
                        st.name, c.arg
                    ));
                }
            }
        }
        for (abi, _, values) in per_abi.iter().filter(|(abi, ..)| st.on(abi)) {
            let mut keys = vec![format!("struct:{}:size", st.name)];
            for FieldDef { path: f, .. } in &st.fields {
                keys.push(format!("struct:{}:{f}:offset", st.name));
                keys.push(format!("struct:{}:{f}:size", st.name));
            }
            if let Some(k) = keys.iter().find(|k| !values.contains_key(*k)) {
                return Err(format!("{abi}: the compiler gave no {k}"));
            }
        }
    }
    Ok(())
}

/// One rule of `data/linux_args.txt`: `syscall arg kind [if|unless COND]`.
#[derive(Debug)]
struct ArgRule {
    syscalls: Vec<String>,
    arg: String,
    kind: String,
    when: Option<Cond>,
}

/// A rule's condition: `OTHER&FLAG|FLAG` (all bits of one flag),
/// `OTHER=NAME|NAME` (one of the values) or `OTHER&MASK=NAME|NAME` (its
/// bits of the mask are one of the values), negated by `unless`.
#[derive(Debug, PartialEq)]
struct Cond {
    arg: String,
    equals: bool,
    mask: Option<String>,
    names: Vec<String>,
    negate: bool,
}

/// Parses a condition, `OTHER&FLAG|FLAG`, `OTHER=NAME|NAME` or
/// `OTHER&MASK=NAME|NAME`.
fn parse_cond(c: &str, negate: bool) -> Result<Cond, String> {
    let bad =
        || format!("condition {c:?}: expected ARG&FLAG|FLAG, ARG=NAME|NAME or ARG&MASK=NAME|NAME");
    let (other, mask, equals, names) = match (c.split_once('&'), c.split_once('=')) {
        (Some((o, rest)), _) => match rest.split_once('=') {
            Some((m, names)) => (o, Some(m.to_string()), true, names),
            None => (o, None, false, rest),
        },
        (None, Some((o, names))) => (o, None, true, names),
        (None, None) => return Err(bad()),
    };
    if other.is_empty() || names.is_empty() {
        return Err(bad());
    }
    Ok(Cond {
        arg: other.to_string(),
        equals,
        mask,
        names: names.split('|').map(String::from).collect(),
        negate,
    })
}

/// The kinds a rule may give besides a set's name.
const KINDS: &[&str] = &[
    "fd",
    "dirfd",
    "mode",
    "octal",
    "hex",
    "omit",
    "filemode",
    "ptr",
    "instr",
    "outstr",
    "comm",
    "wstatus",
    "fdpair",
    "envp",
    "insigset",
    "outsigset",
    "hexbuf",
];

/// Parses and checks the argument rules against the bundled Linux tables
/// and the constant sets.
fn parse_args(text: &str, constants: &ConstantsFile) -> Result<ArgsFile, String> {
    let tables: Vec<&syscalls2::Table> = syscalls2::profiles::all()
        .iter()
        .copied()
        .filter(|t| t.name.starts_with("linux_"))
        .collect();
    let sets: BTreeSet<&str> = constants.sets.iter().map(|s| s.name.as_str()).collect();
    let names = constants.names();
    let mut out = ArgsFile::default();
    let known = |s: &str| tables.iter().any(|t| t.by_name(s).is_some());
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("{ARGS}:{}: {e}", n + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["name", syscall, name, abis @ ..] = words.as_slice() {
            if !known(syscall) {
                return Err(at(format!("{syscall}: in no bundled Linux table")));
            }
            if let Some(bad) = abis.iter().find(|a| !ABIS.iter().any(|x| x.0 == **a)) {
                return Err(at(format!("{bad}: not a Linux ABI")));
            }
            out.names.push((
                syscall.to_string(),
                name.to_string(),
                abis.iter().map(|a| a.to_string()).collect(),
            ));
            continue;
        }
        if let [how @ ("strip-prefix" | "strip-suffix"), part, sibling @ ..] = words.as_slice() {
            let sibling = match sibling {
                [] => None,
                [one] if *how == "strip-suffix" => Some(*one),
                _ => {
                    return Err(at(format!(
                        "{how} takes one part (strip-suffix: and a sibling's)"
                    )))
                }
            };
            let mut all: BTreeSet<&str> = BTreeSet::new();
            for t in &tables {
                all.extend(t.syscalls.iter().map(|s| s.name));
            }
            for name in all {
                let bare = name.strip_prefix("sys_").unwrap_or(name);
                let stripped = match *how {
                    "strip-prefix" => bare.strip_prefix(part),
                    _ => bare.strip_suffix(part),
                };
                let Some(short) = stripped.filter(|s| !s.is_empty()) else {
                    continue;
                };
                out.names
                    .push((name.to_string(), short.to_string(), Vec::new()));
                // The entry point the stripped name would be (`sys_clock_nanosleep`
                // beside `sys_clock_nanosleep_time32`) takes the sibling's suffix
                // on the ABIs whose table has both.
                // (Each ABI once: it has a table per kernel version.)
                if let Some(suffix) = sibling {
                    let full = format!("sys_{short}");
                    let mut abis: Vec<String> = Vec::new();
                    for t in &tables {
                        let abi = t.abi.name().to_string();
                        if t.by_name(name).is_some()
                            && t.by_name(&full).is_some()
                            && !abis.contains(&abi)
                        {
                            abis.push(abi);
                        }
                    }
                    if !abis.is_empty() {
                        out.names.push((full, format!("{short}{suffix}"), abis));
                    }
                }
            }
            continue;
        }
        if let ["label", syscall, arg, label] = words.as_slice() {
            check_arg(&tables, syscall, arg).map_err(at)?;
            out.labels
                .push((syscall.to_string(), arg.to_string(), label.to_string()));
            continue;
        }
        if let ["succeeds", syscalls, value] = words.as_slice() {
            let value: i64 = value
                .parse()
                .map_err(|_| at(format!("{value}: not a return value")))?;
            for s in syscalls.split(',') {
                let infos: Vec<_> = tables.iter().filter_map(|t| t.by_name(s)).collect();
                if infos.is_empty() {
                    return Err(at(format!("{s}: in no bundled Linux table")));
                }
                if !infos.iter().all(|i| i.returns.noreturn_on_success) {
                    return Err(at(format!("{s}: not @noreturn-on-success in every table")));
                }
                out.successes.push((s.to_string(), value));
            }
            continue;
        }
        if let ["restart", syscalls, code] = words.as_slice() {
            let everywhere = tables
                .iter()
                .all(|t| syscalls2::abi::errno::errno_by_name(t.abi.errno, code).is_some());
            if !code.starts_with("ERESTART") || !everywhere {
                return Err(at(format!(
                    "{code}: not a kernel restart code (ERESTART...) of every Linux ABI"
                )));
            }
            for s in syscalls.split(',') {
                if !known(s) {
                    return Err(at(format!("{s}: in no bundled Linux table")));
                }
                out.restarts.push((s.to_string(), code.to_string()));
            }
            continue;
        }
        if let ["frame", syscalls, name] = words.as_slice() {
            if !constants.structs.iter().any(|s| s.name == *name) {
                return Err(at(format!("{name}: no struct of {CONSTANTS}")));
            }
            for s in syscalls.split(',') {
                if !known(s) {
                    return Err(at(format!("{s}: in no bundled Linux table")));
                }
                out.frames.push((s.to_string(), name.to_string()));
            }
            continue;
        }
        if let ["order", syscall, args @ ..] = words.as_slice() {
            for a in args {
                check_arg(&tables, syscall, a).map_err(at)?;
            }
            out.orders.push((
                syscall.to_string(),
                args.iter().map(|a| a.to_string()).collect(),
            ));
            continue;
        }
        let (rule, cond) = match words.iter().position(|w| *w == "if" || *w == "unless") {
            Some(i) => (&words[..i], Some((words[i] == "unless", &words[i + 1..]))),
            None => (&words[..], None),
        };
        let [syscalls, arg, kind] = rule else {
            return Err(at(
                "expected `SYSCALL[,SYSCALL..] ARG KIND [if|unless ARG&FLAG|FLAG..]`".into(),
            ));
        };
        let a_struct = kind
            .strip_prefix("in:")
            .or_else(|| kind.strip_prefix("out:"))
            .or_else(|| kind.strip_prefix("records:"))
            .is_some_and(|n| constants.structs.iter().any(|s| s.name == n));
        if !KINDS.contains(kind) && !sets.contains(kind) && !a_struct {
            return Err(at(format!(
                "{kind}: neither a kind {KINDS:?}, a set, nor in:STRUCT / out:STRUCT / records:STRUCT"
            )));
        }
        let when = match cond {
            None => None,
            Some((negate, [c])) => {
                let cond = parse_cond(c, negate).map_err(at)?;
                if let Some(f) = cond.names.iter().find(|f| !names.contains(f.as_str())) {
                    return Err(at(format!("{f}: not a name of {CONSTANTS}")));
                }
                Some(cond)
            }
            Some(_) => return Err(at("a condition is one word, ARG&FLAG|FLAG".into())),
        };
        let syscalls: Vec<String> = syscalls.split(',').map(String::from).collect();
        for s in &syscalls {
            let infos: Vec<_> = tables.iter().filter_map(|t| t.by_name(s)).collect();
            if infos.is_empty() {
                return Err(at(format!("{s}: in no bundled Linux table")));
            }
            for wanted in std::iter::once(*arg).chain(when.as_ref().map(|w| w.arg.as_str())) {
                if !infos
                    .iter()
                    .any(|i| i.args.iter().any(|a| a.name == wanted))
                {
                    return Err(at(format!("{s} has no argument {wanted}")));
                }
            }
        }
        out.rules.push(ArgRule {
            syscalls,
            arg: arg.to_string(),
            kind: kind.to_string(),
            when,
        });
    }
    Ok(out)
}

/// Checks that some bundled table has `syscall` with an argument `arg`.
fn check_arg(tables: &[&syscalls2::Table], syscall: &str, arg: &str) -> Result<(), String> {
    let infos: Vec<_> = tables.iter().filter_map(|t| t.by_name(syscall)).collect();
    if infos.is_empty() {
        return Err(format!("{syscall}: in no bundled Linux table"));
    }
    if !infos.iter().any(|i| i.args.iter().any(|a| a.name == arg)) {
        return Err(format!("{syscall} has no argument {arg}"));
    }
    Ok(())
}

/// The whole argument file: the rules, and strace's names of entry points.
#[derive(Debug, Default)]
struct ArgsFile {
    rules: Vec<ArgRule>,
    /// `syscall=value` names strace gives arguments (`child_stack`).
    labels: Vec<(String, String, String)>,
    /// The order strace prints a syscall's arguments in, where it is not the prototype's.
    orders: Vec<(String, Vec<String>)>,
    /// The entry point, strace's name, and the ABIs (none: all) it holds on.
    names: Vec<(String, String, Vec<String>)>,
    /// `frame SYSCALL STRUCT`: the structure at the stack pointer as the
    /// call enters (a signal frame), by syscall.
    frames: Vec<(String, String)>,
    /// `restart SYSCALL CODE`: the kernel's restart code the call returns
    /// when a signal interrupts it, by syscall.
    restarts: Vec<(String, String)>,
    /// `succeeds SYSCALL VALUE`: what a call that returns only on failure
    /// returned when it succeeded, by syscall.
    successes: Vec<(String, i64)>,
}

fn render(
    constants: &ConstantsFile,
    per_abi: &[(&str, &str, BTreeMap<String, i64>)],
    args: &ArgsFile,
    packages: &[String],
    cc: &str,
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "// Generated by `cargo xtask constants` from {CONSTANTS} and {ARGS}, with the values\n\
         // {cc} folds for each ABI's --target over the UAPI headers of {}; do not edit.\n",
        packages.join(", ")
    );
    o.push_str(
        "use crate::decode::{ArgRule, Cond, ConstSet, Field, Kind, Other, Struct, StructField};\n\n",
    );
    for (abi, target, values) in per_abi {
        render_sets(&mut o, &constants.sets, abi, target, values);
    }
    o.push_str("/// Each ABI's structures, by the ABI's name.\npub static STRUCTS: &[(&str, &[Struct])] = &[\n");
    for (abi, _, values) in per_abi {
        let _ = writeln!(o, "    (\"{abi}\", &[");
        for st in constants.structs.iter().filter(|s| s.on(abi)) {
            let get = |k: String| values.get(&k).copied().unwrap_or(-1);
            let size = get(format!("struct:{}:size", st.name));
            let fields: Vec<String> = st
                .fields
                .iter()
                .map(|FieldDef { name: f, path, kind, when }| {
                    let rust_kind = match kind.as_deref() {
                        None | Some("str") => "None".to_string(),
                        Some("filemode") => "Some(Kind::FileMode)".to_string(),
                        Some("sigset") => "Some(Kind::InSigset)".to_string(),
                        Some("dev") => "Some(Kind::Dev)".to_string(),
                        Some("ptr") => "Some(Kind::Ptr)".to_string(),
                        Some("return") => "Some(Kind::Return)".to_string(),
                        Some("failed") => "Some(Kind::Failed)".to_string(),
                        Some(set) => format!("Some(Kind::Set(\"{set}\"))"),
                    };
                    format!(
                        "StructField {{ name: \"{f}\", offset: {}, size: {}, text: {}, kind: {rust_kind}, when: {} }}",
                        get(format!("struct:{}:{path}:offset", st.name)),
                        get(format!("struct:{}:{path}:size", st.name)),
                        kind.as_deref() == Some("str"),
                        rust_cond(when.as_ref()),
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "        Struct {{ name: \"{}\", size: {size}, more: {}, fields: &[{}] }},",
                st.name,
                st.more,
                fields.join(", ")
            );
        }
        o.push_str("    ]),\n");
    }
    o.push_str("];\n\n");
    o.push_str(
        "/// Each ABI's sets, by the ABI's name.\npub static ABIS: &[(&str, &[ConstSet])] = &[\n",
    );
    for (abi, _, _) in per_abi {
        let _ = writeln!(o, "    (\"{abi}\", {}),", abi.to_uppercase());
    }
    o.push_str("];\n\n");
    o.push_str("/// What each syscall argument means.\npub static ARGS: &[ArgRule] = &[\n");
    for r in &args.rules {
        let kind = match r.kind.as_str() {
            "ptr" => "Kind::Ptr".to_string(),
            "fd" => "Kind::Fd".to_string(),
            "instr" => "Kind::InStr".to_string(),
            "comm" => "Kind::Comm".to_string(),
            "outstr" => "Kind::OutStr".to_string(),
            "wstatus" => "Kind::WaitStatus".to_string(),
            "fdpair" => "Kind::FdPair".to_string(),
            "envp" => "Kind::Envp".to_string(),
            "dirfd" => "Kind::Dirfd".to_string(),
            "mode" => "Kind::Mode".to_string(),
            "filemode" => "Kind::FileMode".to_string(),
            "octal" => "Kind::Octal".to_string(),
            "hex" => "Kind::Hex".to_string(),
            "omit" => "Kind::Omit".to_string(),
            "insigset" => "Kind::InSigset".to_string(),
            "outsigset" => "Kind::OutSigset".to_string(),
            "hexbuf" => "Kind::HexBuf".to_string(),
            k if k.starts_with("in:") => format!("Kind::InStruct(\"{}\")", &k[3..]),
            k if k.starts_with("out:") => format!("Kind::OutStruct(\"{}\")", &k[4..]),
            k if k.starts_with("records:") => format!("Kind::Records(\"{}\")", &k[8..]),
            set => format!("Kind::Set(\"{set}\")"),
        };
        let when = rust_cond(r.when.as_ref());
        for s in &r.syscalls {
            let _ = writeln!(
                o,
                "    ArgRule {{ syscall: \"{s}\", arg: \"{}\", kind: {kind}, when: {when} }},",
                r.arg
            );
        }
    }
    o.push_str("];\n\n");
    o.push_str(
        "/// strace's names of kernel entry points: the entry point, the name, the ABIs (none: all).\n\
         pub static NAMES: &[(&str, &str, &[&str])] = &[\n",
    );
    for (syscall, name, abis) in &args.names {
        let abis: Vec<String> = abis.iter().map(|a| format!("\"{a}\"")).collect();
        let _ = writeln!(
            o,
            "    (\"{syscall}\", \"{name}\", &[{}]),",
            abis.join(", ")
        );
    }
    o.push_str("];\n\n");
    o.push_str("/// The names strace prints before an argument's value (`child_stack=`).\npub static LABELS: &[(&str, &str, &str)] = &[\n");
    for (syscall, arg, label) in &args.labels {
        let _ = writeln!(o, "    (\"{syscall}\", \"{arg}\", \"{label}\"),");
    }
    o.push_str("];\n\n");
    // Tables of (syscall, value): their doc, declaration and rows.
    let by_syscall = [
        (
            "The structure each of these syscalls finds at the stack pointer as it enters (its signal frame).",
            "FRAMES: &[(&str, &str)]",
            args.frames.iter().map(|(s, f)| format!("(\"{s}\", \"{f}\")")).collect::<Vec<_>>(),
        ),
        (
            "The restart code each of these syscalls returns when a signal interrupts it (`EINTR` to the process once a handler ran).",
            "RESTARTS: &[(&str, &str)]",
            args.restarts.iter().map(|(s, c)| format!("(\"{s}\", \"{c}\")")).collect(),
        ),
        (
            "What each of these calls, which return to their site only on failure, returned when they succeeded.",
            "SUCCESSES: &[(&str, i64)]",
            args.successes.iter().map(|(s, v)| format!("(\"{s}\", {v})")).collect(),
        ),
    ];
    for (doc, decl, rows) in by_syscall {
        let _ = writeln!(o, "/// {doc}\npub static {decl} = &[");
        for row in rows {
            let _ = writeln!(o, "    {row},");
        }
        o.push_str("];\n\n");
    }
    o.push_str("/// The order strace prints these syscalls' arguments in.\npub static ORDERS: &[(&str, &[&str])] = &[\n");
    for (syscall, order) in &args.orders {
        let order: Vec<String> = order.iter().map(|a| format!("\"{a}\"")).collect();
        let _ = writeln!(o, "    (\"{syscall}\", &[{}]),", order.join(", "));
    }
    o.push_str("];\n");
    o
}

/// The `pub static {ABI}: &[ConstSet]` of one ABI, from the values its
/// compiler gave (a name it does not define is left out).
fn render_sets(
    o: &mut String,
    all: &[SetDef],
    abi: &str,
    target: &str,
    values: &BTreeMap<String, i64>,
) {
    let sets: BTreeSet<&str> = all.iter().map(|s| s.name.as_str()).collect();
    let pair = |values: &BTreeMap<String, i64>, n: &str| {
        values
            .get(n)
            .map(|v| format!("(\"{n}\", {:#x})", *v as u64))
    };
    let _ = writeln!(
        o,
        "/// The constant sets of `{abi}` (clang --target={target}).\npub static {}: &[ConstSet] = &[",
        abi.to_uppercase()
    );
    for s in all {
        let names: Vec<String> = s.names.iter().filter_map(|n| pair(values, n)).collect();
        let fields: Vec<String> = s
            .fields
            .iter()
            .filter_map(|(mask_name, members)| {
                let mask = values.get(mask_name)?;
                let (set, names) = match members.as_slice() {
                    [one] if sets.contains(one.as_str()) => (format!("Some(\"{one}\")"), vec![]),
                    _ => (
                        "None".to_string(),
                        members.iter().filter_map(|n| pair(values, n)).collect(),
                    ),
                };
                Some(format!(
                    "Field {{ name: \"{mask_name}\", mask: {:#x}, set: {set}, names: &[{}] }}",
                    *mask as u64,
                    names.join(", ")
                ))
            })
            .collect();
        let zero = match s.zero.as_deref().filter(|z| values.contains_key(*z)) {
            Some(z) => format!("Some(\"{z}\")"),
            None => "None".into(),
        };
        let other = match s.other.as_deref() {
            Some("hex") => "Other::Hex",
            Some(_) => "Other::Times1024",
            None => "Other::Decimal",
        };
        let _ = writeln!(
            o,
            "    ConstSet {{ name: \"{}\", flags: {}, zero: {zero}, other: {other}, fields: &[{}], names: &[{}] }},",
            s.name,
            s.flags,
            fields.join(", "),
            names.join(", ")
        );
    }
    o.push_str("];\n\n");
}

/// A condition as the generated Rust's `Option<Cond>`.
fn rust_cond(c: Option<&Cond>) -> String {
    match c {
        Some(c) => format!(
            "Some(Cond {{ arg: \"{}\", equals: {}, negate: {}, mask: {}, names: &[{}] }})",
            c.arg,
            c.equals,
            c.negate,
            match &c.mask {
                Some(m) => format!("Some(\"{m}\")"),
                None => "None".into(),
            },
            c.names
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "None".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_line_gives_its_fields_zero_and_names() {
        let f = parse_constants(
            "include linux/fcntl.h\nflags open_flags [O_ACCMODE=O_RDONLY,O_WRONLY] O_CREAT # x\nflags prot [PROT_NONE] PROT_READ\nvalue signal SIGHUP\nflags clone [CSIGNAL=signal] CLONE_VM\n",
        )
        .unwrap();
        assert_eq!(f.headers, ["linux/fcntl.h"]);
        let open = &f.sets[0];
        assert!(open.flags);
        assert_eq!(open.fields[0].0, "O_ACCMODE");
        assert_eq!(open.names, ["O_CREAT"]);
        assert_eq!(f.sets[1].zero.as_deref(), Some("PROT_NONE"));
        let names = f.names();
        assert!(names.contains("CSIGNAL") && !names.contains("signal"));
        assert!(parse_constants("value a X\nvalue a Y\n").is_err());
        assert!(parse_constants("define X\n").is_err());
    }

    #[test]
    fn a_struct_line_gives_its_fields_and_a_bad_kind_is_refused() {
        let f = parse_constants(
            "value signal SIGHUP\nstruct utsname new_utsname : sysname:str nodename:str ...\nstruct s t : a:nosuch\n",
        )
        .unwrap();
        let uts = &f.structs[0];
        assert_eq!((uts.tag.as_str(), uts.more), ("new_utsname", true));
        assert_eq!(
            uts.fields[1],
            FieldDef {
                name: "nodename".to_string(),
                path: "nodename".to_string(),
                kind: Some("str".to_string()),
                when: None
            }
        );
        let st = parse_constants(
            "struct stat stat : st_mode st_rdev:dev?st_mode&S_IFMT=S_IFCHR|S_IFBLK st_size?!st_mode&S_IFMT=S_IFCHR\n",
        )
        .unwrap();
        let rdev = st.structs[0].fields[1].when.as_ref().unwrap();
        assert_eq!(
            (rdev.mask.as_deref(), rdev.equals, rdev.negate),
            (Some("S_IFMT"), true, false)
        );
        assert!(st.structs[0].fields[2].when.as_ref().unwrap().negate);
        assert!(st.names().contains("S_IFBLK"));
        let bad = parse_constants("struct s t : a b?c=X\n").unwrap();
        assert!(check_structs(&bad, &[]).unwrap_err().contains("no field c"));
        assert!(check_structs(&f, &[]).unwrap_err().contains("nosuch"));
        let ok = parse_constants("struct ts __kernel_timespec : tv_sec\n").unwrap();
        let values = BTreeMap::from([("struct:ts:size".to_string(), 16)]);
        let e = check_structs(&ok, &[("linux_x64", "x", values)]).unwrap_err();
        assert!(e.contains("struct:ts:tv_sec:offset"), "{e}");
        assert!(parse_constants("struct ts __kernel_timespec tv_sec\n").is_err());
    }

    #[test]
    fn probe_values_are_read_from_every_assembler_syntax() {
        let asm =
            ".ascii \"@S2 O_CREAT $64\"\n.ascii \"@S2 AT_FDCWD #-100\"\n.ascii \"@S2 SIGCHLD 18\"";
        let v = parse_probe(asm).unwrap();
        assert_eq!(v["O_CREAT"], 64);
        assert_eq!(v["AT_FDCWD"], -100);
        assert_eq!(v["SIGCHLD"], 18);
        assert!(parse_probe(".ascii \"@S2 X sym\"").is_err());
    }

    #[test]
    fn rules_name_real_syscalls_arguments_and_sets() {
        let c = parse_constants("flags open_flags O_CREAT\n").unwrap();
        let r = parse_args(
            "sys_openat flags open_flags\nsys_openat mode mode if flags&O_CREAT\nname sys_newuname uname\n",
            &c,
        )
        .unwrap();
        assert_eq!(r.rules.len(), 2);
        assert_eq!(r.rules[1].when.as_ref().unwrap().arg, "flags");
        assert_eq!(r.names[0].1, "uname");
        let c = parse_constants(
            "struct frame s2_frame : mask=uc.uc_sigmask:sigset ret=uc.rax:return\n",
        )
        .unwrap();
        let f = &c.structs[0].fields;
        assert_eq!(
            (f[0].name.as_str(), f[0].path.as_str()),
            ("mask", "uc.uc_sigmask")
        );
        assert_eq!(f[1].kind.as_deref(), Some("return"));
        let r = parse_args("frame sys_rt_sigreturn,sys_sigreturn frame\n", &c).unwrap();
        assert_eq!(
            r.frames[1],
            ("sys_sigreturn".to_string(), "frame".to_string())
        );
        assert!(parse_args("frame sys_rt_sigreturn nosuch\n", &c).is_err());
        assert!(parse_args("frame sys_nosuch frame\n", &c).is_err());
        let r = parse_args("restart sys_rt_sigsuspend,sys_pause ERESTARTNOHAND\n", &c).unwrap();
        assert_eq!(
            r.restarts[1],
            ("sys_pause".to_string(), "ERESTARTNOHAND".to_string())
        );
        assert!(parse_args("restart sys_pause EINTR\n", &c).is_err());
        let r = parse_args("succeeds sys_execve,sys_execveat 0\n", &c).unwrap();
        assert_eq!(r.successes[1], ("sys_execveat".to_string(), 0));
        assert!(parse_args("succeeds sys_openat 0\n", &c).is_err());
        assert!(parse_args("succeeds sys_execve zero\n", &c).is_err());
        assert!(parse_args("restart sys_pause ERESTARTNOSUCH\n", &c).is_err());
        for bad in [
            "sys_nosuch flags open_flags\n",
            "sys_openat nosuch open_flags\n",
            "sys_openat flags nosuch\n",
            "sys_openat mode mode if flags&O_NOSUCH\n",
            "name sys_nosuch x\n",
        ] {
            assert!(parse_args(bad, &c).is_err(), "{bad}");
        }
    }
}
