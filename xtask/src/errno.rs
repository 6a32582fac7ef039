//! `cargo xtask errno`: generates the errno and NTSTATUS name tables in
//! `syscalls2-abi/src/generated/` from real sources:
//!
//! - numbers and names from a Linux kernel tree's headers, read the way the C
//!   preprocessor would, starting at `include/linux/errno.h` (the uapi codes
//!   and the kernel-internal ones from 512 on, which a tracer sees too) and
//!   following `#include`s with each architecture's uapi include path;
//! - texts from the host's glibc `strerror` (what strace prints), from
//!   strace's own words for the `ERESTART*` codes, and else from the kernel
//!   header's comment;
//! - NTSTATUS values from mingw-w64's `ntstatus.h`.

use std::collections::btree_map::Entry as Slot;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod defines;

use defines::{Define, Directive, Value};

/// Architectures whose `asm/errno.h` is the generic one; the generator checks
/// that each resolves to the same table.
const GENERIC_ARCHES: [&str; 4] = ["x86", "arm", "arm64", "riscv"];

/// Where every errno table starts.
const ENTRY: &str = "include/linux/errno.h";

const DEFAULT_NTSTATUS: &str = "/usr/share/mingw-w64/include/ntstatus.h";
const DEFAULT_STRACE: &str = "/usr/bin/strace";

/// Entry point of `cargo xtask errno ...`.
pub fn main(args: &[String]) -> Result<(), String> {
    let mut source = None;
    let mut ntstatus = PathBuf::from(DEFAULT_NTSTATUS);
    let mut strace = PathBuf::from(DEFAULT_STRACE);
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        match a.as_str() {
            "--source" => source = Some(value()?),
            "--ntstatus" => ntstatus = value()?,
            "--strace" => strace = value()?,
            "--out" => out = Some(value()?),
            _ => return Err(format!("unknown argument {a:?}\n{}", usage())),
        }
    }
    let source = source.ok_or_else(|| format!("errno needs --source KERNEL_DIR\n{}", usage()))?;
    let out = out.unwrap_or_else(|| workspace_root().join("syscalls2-abi/src/generated"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let linux = format!("Linux {}", kernel_version(&source)?);
    let glibc = Glibc::host()?;
    let strace_words = StraceWords::read(&strace)?;

    let mut generic = Family::read(&source, GENERIC_ARCHES[0])?;
    for arch in &GENERIC_ARCHES[1..] {
        let other = Family::read(&source, arch)?;
        if other.files != generic.files || other.defines != generic.defines {
            return Err(format!(
                "{arch} does not read the same errno headers as {}: {:?} vs {:?}",
                GENERIC_ARCHES[0], other.files, generic.files
            ));
        }
        generic.arches.extend(other.arches);
    }
    // The host's number of each name: the generic uapi headers' primary
    // definitions (the host is a generic-errno glibc, checked by Glibc::host).
    let host_numbers: HashMap<String, u32> = generic
        .table()?
        .names
        .iter()
        .filter(|e| e.uapi)
        .map(|e| (e.name.clone(), e.no))
        .collect();
    let texts = Texts {
        glibc: &glibc,
        host_numbers: &host_numbers,
        strace: &strace_words,
    };

    let mips = Family::read(&source, "mips")?;
    // Everything is read and checked before any file is written.
    let mut files = Vec::new();
    for (family, file, arches, table_name) in [
        (
            &generic,
            "errno_generic.rs",
            "x86, x86-64, ARM, AArch64 and RISC-V",
            "GENERIC",
        ),
        (&mips, "errno_mips.rs", "MIPS (o32, n32 and n64)", "MIPS"),
    ] {
        let table = family.table()?;
        let text = render_errno(family, &table, &texts, &linux, arches, table_name)?;
        let summary = format!(
            "{} names ({} kernel-internal), {} aliases",
            table.names.len(),
            table.names.iter().filter(|e| !e.uapi).count(),
            table.aliases.len()
        );
        files.push((out.join(file), text, summary));
    }
    let nt = NtStatus::read(&ntstatus)?;
    let summary = format!(
        "{} values, {} duplicate names, {} non-NTSTATUS defines skipped",
        nt.values.len(),
        nt.duplicates.len(),
        nt.skipped.len()
    );
    files.push((out.join("ntstatus.rs"), nt.render(&ntstatus), summary));

    let mut written = Vec::new();
    for (path, text, summary) in files {
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("{}: {summary}", path.display());
        written.push(path);
    }
    rustfmt(&written)
}

fn usage() -> String {
    format!(
        "usage: cargo xtask errno --source KERNEL_DIR [--ntstatus NTSTATUS_H] [--strace STRACE_BINARY] [--out DIR]\n\
         \x20 defaults: --ntstatus {DEFAULT_NTSTATUS} (mingw-w64-common), --strace {DEFAULT_STRACE},\n\
         \x20           --out syscalls2-abi/src/generated"
    )
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// `6.1.192` from the tree's top-level Makefile.
fn kernel_version(root: &Path) -> Result<String, String> {
    let path = root.join("Makefile");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)?
                    .trim_start()
                    .strip_prefix('=')
                    .map(str::trim)
            })
            .ok_or_else(|| format!("{}: no {key} line", path.display()))
    };
    Ok(format!(
        "{}.{}.{}",
        field("VERSION")?,
        field("PATCHLEVEL")?,
        field("SUBLEVEL")?
    ))
}

/// `PACKAGE VERSION` of the Debian package that installed `path`, if dpkg knows it.
fn debian_package(path: &Path) -> Option<String> {
    let owner = Command::new("dpkg-query")
        .arg("-S")
        .arg(path)
        .output()
        .ok()?;
    let owner = String::from_utf8(owner.stdout).ok()?;
    let package = owner.lines().next()?.split(':').next()?.trim();
    debian_version(package)
}

/// `PACKAGE VERSION` of an installed Debian package, if dpkg knows it.
fn debian_version(package: &str) -> Option<String> {
    let version = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", package])
        .output()
        .ok()?;
    let version = String::from_utf8(version.stdout).ok()?;
    (!version.is_empty()).then(|| format!("{package} {version}"))
}

fn rustfmt(paths: &[PathBuf]) -> Result<(), String> {
    let status = Command::new("rustfmt")
        .args(["--edition", "2021"])
        .args(paths)
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("rustfmt failed on {paths:?}"))
    }
}

// ---------------------------------------------------------------------------
// Kernel headers

/// One `#define` in preprocessing order, with the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    define: Define,
    /// Path relative to the kernel tree.
    file: String,
}

impl Found {
    /// Whether the file is part of the user-space API (not `include/linux/`).
    fn uapi(&self) -> bool {
        self.file.contains("/uapi/")
    }
}

/// The errno headers of one architecture, read from [`ENTRY`].
struct Family {
    /// The architectures (kernel `arch/` directories) that read these files.
    arches: Vec<String>,
    /// Files read, in order, relative to the kernel tree.
    files: Vec<String>,
    /// Every valued `#define`, in preprocessing order.
    defines: Vec<Found>,
}

impl Family {
    fn read(root: &Path, arch: &str) -> Result<Family, String> {
        let mut family = Family {
            arches: vec![arch.to_string()],
            files: Vec::new(),
            defines: Vec::new(),
        };
        family.include(root, arch, ENTRY)?;
        Ok(family)
    }

    /// Reads `file` (relative to the tree) and, depth-first at each
    /// `#include`, the files it includes.
    fn include(&mut self, root: &Path, arch: &str, file: &str) -> Result<(), String> {
        if self.files.iter().any(|f| f == file) {
            return Ok(()); // include guard
        }
        self.files.push(file.to_string());
        let path = root.join(file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let directives = defines::parse(&text).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{file}: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        for d in directives {
            match d {
                Directive::Include(target, line) => {
                    let found = resolve_include(root, arch, &target).ok_or_else(|| {
                        format!("{file}:{line}: cannot find #include <{target}> for {arch}")
                    })?;
                    self.include(root, arch, &found)?;
                }
                Directive::Define(define) if define.value == Value::Empty => {}
                Directive::Define(define) => self.defines.push(Found {
                    define,
                    file: file.to_string(),
                }),
            }
        }
        Ok(())
    }

    /// Names resolved to numbers: primaries by number, aliases apart.
    fn table(&self) -> Result<Table, String> {
        let mut by_name: HashMap<&str, &Found> = HashMap::new();
        for f in &self.defines {
            if let Some(old) = by_name.insert(&f.define.name, f) {
                if old.define.value != f.define.value {
                    return Err(format!(
                        "{} redefined: {}:{} and {}:{}",
                        f.define.name, old.file, old.define.line, f.file, f.define.line
                    ));
                }
            }
        }
        let resolve = |f: &Found| -> Result<u32, String> {
            let mut seen = HashSet::new();
            let mut value = &f.define.value;
            loop {
                match value {
                    Value::Number(n) => {
                        return u32::try_from(*n)
                            .map_err(|_| format!("{} = {n} is too large", f.define.name))
                    }
                    Value::Name(other) if seen.insert(other.as_str()) => {
                        value = &by_name
                            .get(other.as_str())
                            .ok_or_else(|| {
                                format!(
                                    "{}:{}: {} = undefined {other}",
                                    f.file, f.define.line, f.define.name
                                )
                            })?
                            .define
                            .value;
                    }
                    _ => {
                        return Err(format!(
                            "{}:{}: cannot resolve {}",
                            f.file, f.define.line, f.define.name
                        ))
                    }
                }
            }
        };
        let mut names: BTreeMap<u32, Entry> = BTreeMap::new();
        let mut aliases = Vec::new();
        for f in &self.defines {
            if !f.define.name.starts_with('E') {
                return Err(format!(
                    "{}:{}: {} is not an errno name",
                    f.file, f.define.line, f.define.name
                ));
            }
            let entry = Entry {
                no: resolve(f)?,
                name: f.define.name.clone(),
                comment: f.define.comment.clone(),
                uapi: f.uapi(),
            };
            let primary = matches!(f.define.value, Value::Number(_));
            if primary && !names.contains_key(&entry.no) {
                names.insert(entry.no, entry);
            } else {
                aliases.push(entry);
            }
        }
        aliases.sort_by(|a, b| (a.no, &a.name).cmp(&(b.no, &b.name)));
        Ok(Table {
            names: names.into_values().collect(),
            aliases,
        })
    }

    /// The files read, for the generated header.
    fn file_list(&self) -> String {
        self.files.join(", ")
    }
}

/// Where `#include <target>` leads for `arch`, relative to the tree: the uapi
/// include path user space compiles against (the architecture's, then the
/// generic one), then `include/` (for `include/linux/errno.h`'s
/// `<uapi/linux/errno.h>`); an `asm/` header the architecture lacks is the
/// `asm-generic/` one (Kbuild's `mandatory-y`). The kernel-internal
/// `arch/*/include/asm/errno.h` is left out on purpose: MIPS's adds only
/// `EMAXERRNO`, a bound, not an error.
fn resolve_include(root: &Path, arch: &str, target: &str) -> Option<String> {
    let mut candidates = vec![
        format!("arch/{arch}/include/uapi/{target}"),
        format!("include/uapi/{target}"),
        format!("include/{target}"),
    ];
    if let Some(rest) = target.strip_prefix("asm/") {
        candidates.push(format!("include/uapi/asm-generic/{rest}"));
    }
    candidates.into_iter().find(|c| root.join(c).is_file())
}

/// One errno name with its number.
#[derive(Debug, Clone)]
struct Entry {
    no: u32,
    name: String,
    /// The kernel header's comment on its `#define`.
    comment: String,
    /// Defined in a uapi header (not kernel-internal).
    uapi: bool,
}

struct Table {
    /// Each number's first primary definition, by number.
    names: Vec<Entry>,
    /// Names defined as another name (or a second name for a number).
    aliases: Vec<Entry>,
}

// ---------------------------------------------------------------------------
// Texts

/// The host's glibc, asked through `strerror` (what `std::io::Error` prints).
struct Glibc {
    version: String,
}

impl Glibc {
    fn host() -> Result<Glibc, String> {
        if !cfg!(all(
            target_os = "linux",
            target_env = "gnu",
            any(
                target_arch = "x86_64",
                target_arch = "x86",
                target_arch = "aarch64",
                target_arch = "arm",
                target_arch = "riscv64"
            )
        )) {
            return Err(
                "cargo xtask errno takes errno texts from the host's glibc: run it on \
                        Linux/glibc on x86, ARM or RISC-V (generic errno numbers)"
                    .into(),
            );
        }
        let out = Command::new("ldd")
            .arg("--version")
            .output()
            .map_err(|e| format!("ldd --version: {e}"))?;
        let first = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let version = first
            .rsplit(' ')
            .next()
            .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .ok_or_else(|| {
                format!("cannot read the glibc version from ldd --version: {first:?}")
            })?;
        let mut version = format!("glibc {version}");
        if let Some(package) = debian_version("libc6") {
            write!(version, " ({package})").unwrap();
        }
        Ok(Glibc { version })
    }

    /// `strerror(no)`, or `None` for glibc's "Unknown error N".
    fn strerror(&self, no: u32) -> Option<String> {
        let text = std::io::Error::from_raw_os_error(no as i32).to_string();
        let text = text
            .strip_suffix(&format!(" (os error {no})"))
            .unwrap_or(&text);
        (!text.starts_with("Unknown error")).then(|| text.to_string())
    }
}

/// strace's own words for the kernel's restart codes (`= ? ERESTARTSYS (To
/// be restarted if SA_RESTART is set)`), read from the strace binary's strings.
struct StraceWords {
    words: HashMap<String, String>,
    source: String,
}

/// The codes strace prints with words of its own.
const STRACE_RESTART: [&str; 4] = [
    "ERESTARTSYS",
    "ERESTARTNOINTR",
    "ERESTARTNOHAND",
    "ERESTART_RESTARTBLOCK",
];

impl StraceWords {
    fn read(path: &Path) -> Result<StraceWords, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "{}: {e} (apt-get install strace, or pass --strace PATH)",
                path.display()
            )
        })?;
        let mut words = HashMap::new();
        for s in bytes.split(|&b| b == 0) {
            let Some(s) = std::str::from_utf8(s)
                .ok()
                .and_then(|s| s.strip_prefix("= ? "))
            else {
                continue;
            };
            if let Some((name, text)) = s.split_once(" (") {
                if let Some(text) = text.strip_suffix(')') {
                    if STRACE_RESTART.contains(&name) {
                        words.insert(name.to_string(), text.to_string());
                    }
                }
            }
        }
        let missing: Vec<_> = STRACE_RESTART
            .iter()
            .filter(|n| !words.contains_key(**n))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{}: no \"= ? NAME (words)\" string for {missing:?}",
                path.display()
            ));
        }
        let version = Command::new(path)
            .arg("-V")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(|l| l.replace(" -- version", "")))
            .unwrap_or_else(|| "strace".into());
        let mut source = format!("{version} ({}", path.display());
        if let Some(package) = debian_package(path) {
            write!(source, ", {package}").unwrap();
        }
        source.push(')');
        Ok(StraceWords { words, source })
    }
}

/// Where each name's text comes from.
struct Texts<'a> {
    glibc: &'a Glibc,
    /// The host's number of each name the host's headers define.
    host_numbers: &'a HashMap<String, u32>,
    strace: &'a StraceWords,
}

/// Which source gave a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextSource {
    Glibc,
    Strace,
    KernelComment,
}

impl Texts<'_> {
    /// The text of `e`: glibc's `strerror` for the name (by the host's number
    /// of that name, so a name that is an alias on the host, like MIPS's own
    /// `EDEADLOCK`, is not given another error's words), else strace's words,
    /// else the kernel comment.
    fn text(&self, e: &Entry) -> Result<(String, TextSource), String> {
        if let Some(text) = self
            .host_numbers
            .get(&e.name)
            .and_then(|&no| self.glibc.strerror(no))
        {
            return Ok((text, TextSource::Glibc));
        }
        if let Some(text) = self.strace.words.get(&e.name) {
            return Ok((text.clone(), TextSource::Strace));
        }
        if !e.comment.is_empty() {
            return Ok((e.comment.clone(), TextSource::KernelComment));
        }
        Err(format!(
            "no text for {} ({}): not in glibc, strace or a header comment",
            e.name, e.no
        ))
    }
}

// ---------------------------------------------------------------------------
// Output

/// Names whose text came from `source`, for the generated header.
fn names_from(rows: &[(&Entry, String, TextSource)], source: TextSource) -> String {
    let names: Vec<&str> = rows
        .iter()
        .filter(|r| r.2 == source)
        .map(|r| r.0.name.as_str())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn render_errno(
    family: &Family,
    table: &Table,
    texts: &Texts,
    linux: &str,
    arches: &str,
    table_name: &str,
) -> Result<String, String> {
    let rows = table
        .names
        .iter()
        .map(|e| texts.text(e).map(|(text, source)| (e, text, source)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut s = String::new();
    writeln!(
        s,
        "// Generated by `cargo xtask errno` from {linux} ({}), {} and {}; do not edit.",
        family.file_list(),
        texts.glibc.version,
        texts.strace.source
    )
    .unwrap();
    write!(
        s,
        "//\n\
         // Numbers and names: those kernel headers, read from {ENTRY} as the C preprocessor\n\
         // reads them with the uapi include path of {}.\n\
         // A number's name is its first definition with a literal value (EAGAIN, not EWOULDBLOCK);\n\
         // names defined as another name are in {table_name}_ALIASES. The names from\n\
         // include/linux/errno.h (512 on) are kernel-internal, but a tracer sees them at syscall exit.\n\
         //\n\
         // Texts: glibc's strerror() on the host (what strace prints), for each name the generic uapi\n\
         // headers define, asked with the host's number of that name. Else strace's own words\n\
         // (read from its binary): {}.\n\
         // Else the comment on the kernel header's #define: {}.\n\
         \n\
         use super::ErrnoName;\n\n",
        family.arches.join(", "),
        names_from(&rows, TextSource::Strace),
        names_from(&rows, TextSource::KernelComment),
    )
    .unwrap();
    writeln!(
        s,
        "/// Errno names of {arches}, strictly ascending by number: {} names.\n\
         pub static {table_name}: &[ErrnoName] = &[",
        table.names.len()
    )
    .unwrap();
    for (e, text, _) in &rows {
        writeln!(
            s,
            "    ErrnoName {{ no: {}, name: {:?}, text: {:?} }},",
            e.no, e.name, text
        )
        .unwrap();
    }
    s.push_str("];\n\n");
    writeln!(
        s,
        "/// Second names of {arches} errno numbers ({}), each with the number and text of the\n\
         /// name it stands for; ascending by number.\n\
         pub static {table_name}_ALIASES: &[ErrnoName] = &[",
        table
            .aliases
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    for a in &table.aliases {
        let (_, text, _) = rows
            .iter()
            .find(|r| r.0.no == a.no)
            .ok_or_else(|| format!("alias {} of an unnamed number {}", a.name, a.no))?;
        writeln!(
            s,
            "    ErrnoName {{ no: {}, name: {:?}, text: {:?} }},",
            a.no, a.name, text
        )
        .unwrap();
    }
    s.push_str("];\n");
    Ok(s)
}

// ---------------------------------------------------------------------------
// NTSTATUS

struct NtStatus {
    /// By value, the first name defined for each.
    values: BTreeMap<u32, String>,
    /// Later names for a value already named, with that value.
    duplicates: Vec<(u32, String)>,
    /// Defines that are not NTSTATUS values (FACILITY_*, STATUS_SEVERITY_*).
    skipped: Vec<String>,
}

impl NtStatus {
    fn read(path: &Path) -> Result<NtStatus, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{}: {e} (apt-get install mingw-w64-common, or pass --ntstatus PATH)",
                path.display()
            )
        })?;
        let directives = defines::parse(&text).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {e}", path.display()))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        let mut nt = NtStatus {
            values: BTreeMap::new(),
            duplicates: Vec::new(),
            skipped: Vec::new(),
        };
        for d in directives {
            let Directive::Define(d) = d else {
                return Err(format!("{}: unexpected #include", path.display()));
            };
            match d.value {
                Value::Cast { ty, value } if ty == "NTSTATUS" => {
                    let value = u32::try_from(value).map_err(|_| {
                        format!(
                            "{}:{}: {} does not fit 32 bits",
                            path.display(),
                            d.line,
                            d.name
                        )
                    })?;
                    match nt.values.entry(value) {
                        Slot::Occupied(_) => nt.duplicates.push((value, d.name)),
                        Slot::Vacant(slot) => {
                            slot.insert(d.name);
                        }
                    }
                }
                Value::Empty | Value::Number(_) => nt.skipped.push(d.name),
                other => {
                    return Err(format!(
                        "{}:{}: {} = {other:?} is not an NTSTATUS",
                        path.display(),
                        d.line,
                        d.name
                    ))
                }
            }
        }
        nt.duplicates.sort();
        Ok(nt)
    }

    fn render(&self, path: &Path) -> String {
        let package = debian_package(path).map_or_else(String::new, |p| format!(" ({p})"));
        let mut s = String::new();
        writeln!(
            s,
            "// Generated by `cargo xtask errno` from {}{package}; do not edit.",
            path.display()
        )
        .unwrap();
        s.push_str(
            "//\n\
             // Every `#define NAME ((NTSTATUS)0x...)` of that header (STATUS_*, DBG_*, RPC_NT_*, EPT_NT_*),\n\
             // sorted by value. A value defined under several names is named by its first definition in\n\
             // the header; the later names are in NTSTATUS_ALIASES.\n\
             \n\
             use super::NtStatusName;\n\n",
        );
        let hex = |v: u32| format!("0x{:04X}_{:04X}", v >> 16, v & 0xFFFF);
        writeln!(
            s,
            "/// NTSTATUS names, strictly ascending by value: {} values.\n\
             pub static NTSTATUS: &[NtStatusName] = &[",
            self.values.len()
        )
        .unwrap();
        for (value, name) in &self.values {
            writeln!(
                s,
                "    NtStatusName {{ value: {}, name: {name:?} }},",
                hex(*value)
            )
            .unwrap();
        }
        s.push_str("];\n\n");
        writeln!(
            s,
            "/// Later names of values already named in [`NTSTATUS`], ascending by value: {} names.\n\
             pub static NTSTATUS_ALIASES: &[NtStatusName] = &[",
            self.duplicates.len()
        )
        .unwrap();
        for (value, name) in &self.duplicates {
            writeln!(
                s,
                "    NtStatusName {{ value: {}, name: {name:?} }},",
                hex(*value)
            )
            .unwrap();
        }
        s.push_str("];\n");
        s
    }
}
