//! Windows tables, one per release and architecture: numbers from j00ru's
//! `windows-syscalls` (`{x86,x64}/nt.csv` for ntoskrnl, `win32k.csv` for
//! win32k, one column per release), signatures from PANDA's signature-only
//! list `panda/all_windows_prototypes.txt` and, for the calls it lacks, from
//! phnt's `ntzwapi.h` and `ntuser.h`; the direction of each argument (what
//! the call writes) from phnt's SAL annotations. All read at generation time.
//!
//! The releases PANDA and syscalls2 bundled as profiles before (XP, 7, 11
//! 24H2...) keep their files and names in `tables/` (`windows7_x86`, one
//! cargo feature each); every other release goes to `tables/windows/`, named
//! as PANDA names its tables (`windows_vistasp2_x86`), for the family
//! feature that picks a release at run time.

use super::{normalize_c, parse_arg_list, split_top_level, Kind, Line, Table};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The releases bundled one feature each (`tables/`): file name, arch, CSV column.
const BUNDLED: &[(&str, &str, &str)] = &[
    (
        "windows2000_x86_prototypes.txt",
        "x86",
        "Windows 2000 (SP4)",
    ),
    (
        "windowsxp_sp2_x86_prototypes.txt",
        "x86",
        "Windows XP (SP2)",
    ),
    (
        "windowsxp_sp3_x86_prototypes.txt",
        "x86",
        "Windows XP (SP3)",
    ),
    // PANDA's windows_7_x86 (NtReadFile = 0x111) matches both 7 SP0 and SP1;
    // SP1 is the release people run.
    ("windows7_x86_prototypes.txt", "x86", "Windows 7 (SP1)"),
    ("windows7_x64_prototypes.txt", "x64", "Windows 7 (SP1)"),
    // The newest client release in the x64 data that PANDA has no table for.
    (
        "windows11_24h2_x64_prototypes.txt",
        "x64",
        "Windows 11 and Server (11 24H2)",
    ),
];

/// PANDA's profile names for its Windows tables (panda/plugins/syscalls2,
/// `windows_*_prototypes.txt`) that are not this generator's name of the
/// release they hold: (PANDA's name, arch, CSV column). Its `2003sp12` and
/// `vistasp12` tables serve two service packs with one numbering; they
/// name the later one here.
const PANDA_NAMES: &[(&str, &str, &str)] = &[
    ("windows_2000_x86", "x86", "Windows 2000 (SP4)"),
    ("windows_7_x86", "x86", "Windows 7 (SP1)"),
    ("windows_7_x64", "x64", "Windows 7 (SP1)"),
    ("windows_2003sp12_x86", "x86", "Windows Server 2003 (SP2)"),
    ("windows_2003sp12_x64", "x64", "Windows Server 2003 (SP2)"),
    ("windows_vistasp12_x86", "x86", "Windows Vista (SP2)"),
    ("windows_vistasp12_x64", "x64", "Windows Vista (SP2)"),
];

/// A parsed `nt.csv`: column headers and rows of (name, cells).
#[derive(Debug)]
pub struct Csv {
    /// Release column headers (without the first "System call" column).
    pub releases: Vec<String>,
    /// (syscall name, one cell per release).
    pub rows: Vec<(String, Vec<String>)>,
}

/// Parses j00ru's CSV (no quoting is used in it; a quote is rejected).
pub fn parse_csv(text: &str) -> Result<Csv, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty CSV")?;
    if text.contains('"') {
        return Err("quoted CSV fields are not supported".into());
    }
    let mut cols = header.split(',').map(|c| c.trim().to_string());
    cols.next();
    let releases: Vec<String> = cols.collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let mut cells = line.split(',').map(|c| c.trim().to_string());
        let name = cells.next().unwrap_or_default();
        let cells: Vec<String> = cells.collect();
        if cells.len() > releases.len() {
            return Err(format!(
                "row {} ({name}) has {} cells for {} releases",
                i + 2,
                cells.len(),
                releases.len()
            ));
        }
        rows.push((name, cells));
    }
    Ok(Csv { releases, rows })
}

impl Csv {
    /// (number, name) of every call present in `release`, in file order;
    /// none when the CSV has no such column.
    pub fn column(&self, release: &str) -> Result<Vec<(u64, String)>, String> {
        let Some(idx) = self.releases.iter().position(|r| r == release) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, cells) in &self.rows {
            let cell = cells.get(idx).map(String::as_str).unwrap_or("");
            if cell.is_empty() {
                continue;
            }
            let hex = cell
                .strip_prefix("0x")
                .ok_or_else(|| format!("{name}: cell {cell:?} is not hex"))?;
            let n = u64::from_str_radix(hex, 16).map_err(|e| format!("{name}: {cell:?}: {e}"))?;
            out.push((n, name.clone()));
        }
        Ok(out)
    }
}

/// Parses `RET NAME (ARG, ARG);` signature lines into name -> (ret, args).
pub fn parse_signatures(text: &str) -> Result<HashMap<String, (String, Vec<String>)>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        let err = || format!("line {}: not a prototype: {t:?}", i + 1);
        let open = t.find('(').ok_or_else(err)?;
        let close = t.rfind(')').ok_or_else(err)?;
        let mut head = t[..open].split_whitespace();
        let name = head.next_back().ok_or_else(err)?.to_string();
        let ret = head.collect::<Vec<_>>().join(" ");
        if ret.is_empty() || close < open {
            return Err(err());
        }
        let args = parse_arg_list(&t[open + 1..close]);
        if out.insert(name.clone(), (ret, args)).is_some() {
            return Err(format!("line {}: {name} is listed twice", i + 1));
        }
    }
    Ok(out)
}

/// What a call does with an argument, from its SAL annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// `_In_`, `_In_opt_`, `_In_reads_bytes_(n)`, `_Reserved_`: read only.
    In,
    /// `_Out_`, `_Out_opt_`, `_Out_writes_bytes_(n)`...: written by the call.
    Out,
    /// `_Inout_`, `_Inout_opt_`, `_Inout_updates_...`: read and written.
    InOut,
}

/// One phnt prototype: return type, and each argument as `TYPE NAME` with its direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phnt {
    /// The return type (`NTSTATUS`, `BOOL`, `HWND`).
    pub ret: String,
    /// The arguments without their SAL annotations, and their directions.
    pub args: Vec<(String, Dir)>,
}

/// Removes `//` and `/* */` comments and preprocessor lines.
fn strip_c_noise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits off the SAL annotations at the start of a phnt argument
/// (`_Out_writes_bytes_(Length) PVOID Buffer`): the direction they give and
/// the declaration that follows. `None` for an argument without one.
fn strip_sal(arg: &str) -> Option<(Dir, String)> {
    let mut rest = arg.trim();
    let mut dir = None;
    while rest.starts_with('_') {
        let word_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let word = &rest[..word_end];
        if !word.ends_with('_') {
            break;
        }
        let mut after = rest[word_end..].trim_start();
        if after.starts_with('(') {
            let close = super::matching_paren(after, 0)?;
            after = after[close + 1..].trim_start();
        }
        let d = if word.starts_with("_Inout") {
            Some(Dir::InOut)
        } else if word.starts_with("_Out") {
            Some(Dir::Out)
        } else if word.starts_with("_In") || word.starts_with("_Reserved") {
            Some(Dir::In)
        } else {
            None
        };
        // The first direction-giving annotation decides (`_In_ _Writable_bytes_`).
        dir = dir.or(d);
        rest = after;
    }
    Some((dir?, normalize_c(rest)))
}

/// Parses phnt's `NTSYSCALLAPI RET NTAPI Name(ARGS);` declarations into
/// name -> prototype, `Zw` names given as `Nt`. A declaration repeated (under
/// different `#if`s) must be the same each time.
pub fn parse_phnt(text: &str) -> Result<BTreeMap<String, Phnt>, String> {
    let text = strip_c_noise(text);
    let mut out = BTreeMap::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("NTSYSCALLAPI") {
        rest = &rest[i + "NTSYSCALLAPI".len()..];
        let api = rest
            .find("NTAPI")
            .ok_or("NTSYSCALLAPI without NTAPI".to_string())?;
        let ret = rest[..api]
            .split_whitespace()
            .filter(|w| !(w.starts_with('_') && w.ends_with('_')) && *w != "DECLSPEC_NORETURN")
            .collect::<Vec<_>>()
            .join(" ");
        let after = &rest[api + "NTAPI".len()..];
        let open = after.find('(').ok_or("no ( after NTAPI")?;
        let name = after[..open].trim().to_string();
        let close = super::matching_paren(after, open).ok_or(format!("{name}: no closing )"))?;
        let inner = after[open + 1..close].trim();
        let mut args = Vec::new();
        if !inner.is_empty() && inner != "VOID" && inner != "void" {
            for a in split_top_level(inner) {
                let (dir, decl) = strip_sal(&a)
                    .ok_or_else(|| format!("{name}: argument {a:?} has no SAL direction"))?;
                args.push((decl, dir));
            }
        }
        let nt = match name.strip_prefix("Zw") {
            Some(base) => format!("Nt{base}"),
            None => name.clone(),
        };
        let proto = Phnt { ret, args };
        if let Some(prev) = out.insert(nt.clone(), proto.clone()) {
            if prev != proto {
                return Err(format!("{nt}: declared twice, differently"));
            }
        }
        rest = &after[close..];
    }
    Ok(out)
}

/// The profile name of a release column, PANDA's way (`windows_7_x86`,
/// `windows_xpsp2_x86`, `windows_vistasp0_x64`, `windows_8sp1_x86`), with the
/// service pack always given (`windows_7sp1`): `windows_{release}_{arch}`.
pub fn release_name(column: &str, arch: &str) -> Result<String, String> {
    let err = || format!("release column {column:?} is not one the generator knows how to name");
    let (family, inner) = column
        .strip_suffix(')')
        .and_then(|c| c.split_once(" ("))
        .ok_or_else(err)?;
    let compact = |s: &str| s.to_ascii_lowercase().replace([' ', '.'], "");
    let rel = match family {
        "Windows NT 3.x" => format!("nt{}", compact(inner)),
        "Windows NT 4.0" => format!("nt4{}", compact(inner)),
        "Windows 2000" => format!("2000{}", compact(inner)),
        "Windows XP" => format!("xp{}", compact(inner)),
        "Windows Server 2003" => format!("2003{}", compact(inner)),
        "Windows Vista" => format!("vista{}", compact(inner)),
        "Windows 7" => format!("7{}", compact(inner)),
        // PANDA: windows_8sp0 is 8.0, windows_8sp1 is 8.1.
        "Windows 8" => match inner {
            "8.0" => "8sp0".into(),
            "8.1" => "8sp1".into(),
            _ => return Err(err()),
        },
        "Windows 10" => format!("10_{}", compact(inner)),
        "Windows 11 and Server" => match inner.split_once(' ') {
            Some(("11", v)) => format!("11_{}", compact(v)),
            Some(("Server", v)) => format!("server{}", compact(v)),
            _ => return Err(err()),
        },
        _ => return Err(err()),
    };
    Ok(format!("windows_{rel}_{arch}"))
}

/// Where a table line's signature came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Panda,
    Phnt,
}

/// Signatures and directions for one call: PANDA's list first (the
/// signatures the existing tables and hooks use), phnt's otherwise; the
/// directions are phnt's wherever its argument count is the same.
struct Signatures {
    panda: HashMap<String, (String, Vec<String>)>,
    phnt: BTreeMap<String, Phnt>,
}

/// One call's line data: return type, arguments, `@out`/`@inout` annotations, source.
type Signed = (String, Vec<String>, Vec<String>, Source);

impl Signatures {
    fn get(&self, name: &str) -> Option<Signed> {
        let phnt = self.phnt.get(name);
        let (ret, args, source) = match (self.panda.get(name), phnt) {
            (Some((ret, args)), _) => (ret.clone(), args.clone(), Source::Panda),
            (None, Some(p)) => (
                p.ret.clone(),
                p.args.iter().map(|(a, _)| a.clone()).collect(),
                Source::Phnt,
            ),
            (None, None) => return None,
        };
        let mut annotations = Vec::new();
        if let Some(p) = phnt.filter(|p| p.args.len() == args.len()) {
            for (label, want) in [("@out", Dir::Out), ("@inout", Dir::InOut)] {
                let names: Vec<String> = args
                    .iter()
                    .zip(&p.args)
                    .enumerate()
                    .filter(|(_, (_, (_, d)))| *d == want)
                    .map(|(i, (a, _))| arg_name(a, i))
                    .collect();
                if !names.is_empty() {
                    annotations.push(format!("{label} {}", names.join(" ")));
                }
            }
        }
        Some((ret, args, annotations, source))
    }

    /// Calls both sources declare with different argument counts.
    fn count_mismatches(&self) -> Vec<(String, usize, usize)> {
        let mut out: Vec<_> = self
            .panda
            .iter()
            .filter_map(|(n, (_, a))| {
                let p = self.phnt.get(n)?;
                (p.args.len() != a.len()).then(|| (n.clone(), a.len(), p.args.len()))
            })
            .collect();
        out.sort();
        out
    }
}

/// The name of a declaration (`PHANDLE FileHandle` -> `FileHandle`), or
/// `argN` as the resolver names an unnamed one.
fn arg_name(decl: &str, index: usize) -> String {
    let last = decl
        .trim_end_matches(|c: char| c == ']' || c == '[' || c.is_ascii_digit() || c == ' ')
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let words = decl.split_whitespace().count();
    if words < 2 && !decl.contains('*') || last.is_empty() {
        format!("arg{index}")
    } else {
        last.to_string()
    }
}

/// The generated tables, and what the generator reports beside them.
pub struct Generated {
    /// Every release's table.
    pub tables: Vec<Table>,
    /// The tables' index for `tables/windows/README.md`.
    pub index: String,
    /// `tables/windows/aliases.txt`: other names of the profiles.
    pub aliases: String,
}

/// Generates the Windows tables from `reference` (`../shared/reference`).
pub fn generate(reference: &Path) -> Result<Generated, String> {
    let read = |rel: &str| {
        let p = reference.join(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut phnt = parse_phnt(&read("phnt/ntzwapi.h")?)?;
    for (name, p) in parse_phnt(&read("phnt/ntuser.h")?)? {
        phnt.insert(name, p);
    }
    let sigs = Signatures {
        panda: parse_signatures(&read("panda/all_windows_prototypes.txt")?)?,
        phnt,
    };
    let mut tables = Vec::new();
    let mut index = String::new();
    let mut unsigned_nt: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unsigned_win32k = BTreeSet::new();
    let mut from_phnt = BTreeSet::new();
    let mut rows = Vec::new();
    let mut aliases = String::from(
        "# Other names of the Windows profiles, one `ALIAS PROFILE` a line: the\n\
         # release's systematic name for a profile bundled under its older name,\n\
         # and PANDA's table names. Generated by `cargo xtask prototypes windows`: do not edit.\n",
    );
    for arch in ["x86", "x64"] {
        let nt = parse_csv(&read(&format!("windows-syscalls/{arch}/nt.csv"))?)?;
        let win32k = parse_csv(&read(&format!("windows-syscalls/{arch}/win32k.csv"))?)?;
        if let Some(r) = win32k.releases.iter().find(|r| !nt.releases.contains(r)) {
            return Err(format!("{arch}: win32k.csv has release {r:?}, nt.csv not"));
        }
        for release in &nt.releases {
            let profile = release_name(release, arch)?;
            let bundled = BUNDLED
                .iter()
                .find(|(_, a, r)| *a == arch && r == release)
                .map(|(f, _, _)| *f);
            let own = bundled.map_or(profile.clone(), |f| {
                f.strip_suffix("_prototypes.txt").unwrap_or(f).to_string()
            });
            let mut names = vec![profile.clone()];
            names.extend(
                PANDA_NAMES
                    .iter()
                    .filter(|(_, a, r)| *a == arch && r == release)
                    .map(|(n, _, _)| n.to_string()),
            );
            for n in names.iter().filter(|n| **n != own) {
                aliases.push_str(&format!("{n} {own}\n"));
            }
            let file_name = match bundled {
                Some(f) => f.to_string(),
                None => format!("windows/{profile}_prototypes.txt"),
            };
            let mut seen: HashMap<u64, String> = HashMap::new();
            let mut lines = Vec::new();
            let calls = nt.column(release)?;
            let gui = win32k.column(release)?;
            let (n_nt, n_gui) = (calls.len(), gui.len());
            let mut signed = 0;
            for (part, (number, name)) in calls
                .into_iter()
                .map(|c| ("nt", c))
                .chain(gui.into_iter().map(|c| ("win32k", c)))
            {
                if let Some(other) = seen.insert(number, name.clone()) {
                    return Err(format!(
                        "{arch} {release}: number {number} is both {other} and {name}"
                    ));
                }
                match sigs.get(&name) {
                    Some((rettype, args, annotations, source)) => {
                        signed += 1;
                        if source == Source::Phnt {
                            from_phnt.insert(name.clone());
                        }
                        lines.push(Line {
                            number,
                            rettype,
                            name,
                            args,
                            kind: Kind::Prototype,
                            note: String::new(),
                            annotations,
                        });
                    }
                    None => {
                        if part == "nt" {
                            unsigned_nt
                                .entry(name.clone())
                                .or_default()
                                .insert(profile.clone());
                        } else {
                            unsigned_win32k.insert(name.clone());
                        }
                        lines.push(Line {
                            number,
                            rettype: String::new(),
                            name,
                            args: vec![],
                            kind: Kind::NoSignature,
                            note: String::new(),
                            annotations: Vec::new(),
                        });
                    }
                }
            }
            rows.push(format!(
                "| `{own}` | {arch} | {release} | {n_nt} | {n_gui} | {signed} | `{file_name}` |",
            ));
            let header = vec![
                format!("{release} {arch} system call prototypes, ntoskrnl and win32k (PANDA syscalls2 table format)."),
                "Generated by `cargo xtask prototypes windows [--reference ../shared/reference]`: do not edit.".into(),
                format!("Numbers: j00ru/windows-syscalls {arch}/nt.csv and {arch}/win32k.csv, column {release:?}."),
                "Signatures: PANDA's signature list panda/all_windows_prototypes.txt; calls it lacks from phnt's ntzwapi.h and ntuser.h.".into(),
                "Annotations (comment lines before a prototype): @noreturn, @noreturn-on-success, @doublereturn;".into(),
                "and `@out NAMES` / `@inout NAMES`: the arguments the call writes (phnt's SAL _Out_ / _Inout_), read again at its return.".into(),
                "`// NO SIGNATURE:` = numbered call neither source covers (decoded as raw arguments).".into(),
            ];
            tables.push(Table {
                file_name,
                header,
                lines,
                space_before_paren: true,
            });
        }
    }
    index.push_str(
        "# Windows release tables\n\n\
         Generated by `cargo xtask prototypes windows`: do not edit. One table per\n\
         release and architecture of j00ru/windows-syscalls, ntoskrnl (`nt.csv`) and\n\
         win32k (`win32k.csv`) calls together; signatures from PANDA's list, else\n\
         phnt; `@out`/`@inout` from phnt's SAL annotations. The profiles with their\n\
         own cargo feature live in `tables/`, the others here; the family feature\n\
         `windows_releases` of `syscalls2-profiles` gives every one at run time\n\
         (`syscalls2_profiles::by_name`).\n\n\
         | profile | arch | release (CSV column) | nt calls | win32k calls | with a signature | file |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        index.push_str(r);
        index.push('\n');
    }
    index.push_str(&format!(
        "\n## Signatures from phnt ({})\n\nCalls PANDA's list lacks:\n\n",
        from_phnt.len()
    ));
    for n in &from_phnt {
        index.push_str(&format!("- `{n}`\n"));
    }
    let mismatches = sigs.count_mismatches();
    index.push_str(&format!(
        "\n## Argument counts PANDA and phnt disagree on ({})\n\n\
         PANDA's signature is used and no direction annotated. (No source here gives\n\
         the kernel's stack-argument counts, which would settle these.)\n\n",
        mismatches.len()
    ));
    for (n, a, b) in &mismatches {
        index.push_str(&format!("- `{n}`: PANDA {a}, phnt {b}\n"));
    }
    index.push_str(&format!(
        "\n## ntoskrnl calls without a signature ({})\n\n\
         Listed as `// NO SIGNATURE:` lines and decoded as raw arguments.\n\n",
        unsigned_nt.len()
    ));
    for (n, profiles) in &unsigned_nt {
        index.push_str(&format!("- `{n}` ({} releases)\n", profiles.len()));
    }
    index.push_str(&format!(
        "\n## win32k calls without a signature\n\n\
         {} names (every `NtGdi*` and the `NtUser*` calls not in phnt's `ntuser.h`),\n\
         listed in each table as `// NO SIGNATURE:` lines.\n",
        unsigned_win32k.len()
    ));
    Ok(Generated {
        tables,
        index,
        aliases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns() {
        let csv = parse_csv(
            "System call,Windows XP (SP2),Windows 7 (SP1)\nNtAcceptConnectPort,0x0000,0x0000\nNtReadFile,0x00b7,0x0111\nNtNew,,0x0190\n",
        )
        .unwrap();
        assert_eq!(
            csv.column("Windows 7 (SP1)").unwrap(),
            vec![
                (0, "NtAcceptConnectPort".into()),
                (273, "NtReadFile".into()),
                (400, "NtNew".into())
            ]
        );
        assert_eq!(csv.column("Windows XP (SP2)").unwrap().len(), 2);
        assert!(csv.column("Windows 12").unwrap().is_empty());
    }

    #[test]
    fn reads_signatures() {
        let s = parse_signatures(
            "NTSTATUS NtCompactKeys (ULONG Count, HANDLE KeyArray[]);\nVOID NtFlushProcessWriteBuffers ();\n",
        )
        .unwrap();
        assert_eq!(
            s["NtCompactKeys"],
            (
                "NTSTATUS".to_string(),
                vec!["ULONG Count".to_string(), "HANDLE KeyArray[]".to_string()]
            )
        );
        assert!(s["NtFlushProcessWriteBuffers"].1.is_empty());
        assert!(parse_signatures("garbage\n").is_err());
    }

    #[test]
    fn reads_phnt_directions() {
        let p = parse_phnt(
            "#if (PHNT_VERSION >= PHNT_WIN7)\nNTSYSCALLAPI\nNTSTATUS\nNTAPI\nZwReadFile(\n    _In_ HANDLE FileHandle,\n    \
             _Out_ PIO_STATUS_BLOCK IoStatusBlock, // comment\n    _Out_writes_bytes_(Length) PVOID Buffer,\n    \
             _In_ ULONG Length,\n    _Inout_opt_ PULONG Key\n    );\n#endif\n\
             NTSYSCALLAPI\nNTSTATUS\nNTAPI\nZwFlushProcessWriteBuffers(\n    VOID\n    );\n",
        )
        .unwrap();
        let r = &p["NtReadFile"];
        assert_eq!(r.ret, "NTSTATUS");
        assert_eq!(
            r.args,
            vec![
                ("HANDLE FileHandle".to_string(), Dir::In),
                ("PIO_STATUS_BLOCK IoStatusBlock".to_string(), Dir::Out),
                ("PVOID Buffer".to_string(), Dir::Out),
                ("ULONG Length".to_string(), Dir::In),
                ("PULONG Key".to_string(), Dir::InOut),
            ]
        );
        assert!(p["NtFlushProcessWriteBuffers"].args.is_empty());
        assert!(parse_phnt("NTSYSCALLAPI NTSTATUS NTAPI ZwX(HANDLE h);").is_err());
    }

    #[test]
    fn names_releases_as_panda_does() {
        let n = |c| release_name(c, "x86").unwrap();
        assert_eq!(n("Windows 7 (SP1)"), "windows_7sp1_x86");
        assert_eq!(n("Windows XP (SP2)"), "windows_xpsp2_x86");
        assert_eq!(n("Windows Vista (SP0)"), "windows_vistasp0_x86");
        assert_eq!(n("Windows 8 (8.1)"), "windows_8sp1_x86");
        assert_eq!(n("Windows NT 3.x (3.51)"), "windows_nt351_x86");
        assert_eq!(n("Windows NT 4.0 (SP3 TSE)"), "windows_nt4sp3tse_x86");
        assert_eq!(n("Windows 10 (20H2)"), "windows_10_20h2_x86");
        assert_eq!(n("Windows Server 2003 (R2 SP2)"), "windows_2003r2sp2_x86");
        assert_eq!(
            n("Windows 11 and Server (Server 2022)"),
            "windows_server2022_x86"
        );
        assert_eq!(n("Windows 11 and Server (11 24H2)"), "windows_11_24h2_x86");
        assert!(release_name("Windows 12", "x86").is_err());
    }

    #[test]
    fn directions_follow_panda_names() {
        let mut phnt = BTreeMap::new();
        phnt.insert(
            "NtClose".to_string(),
            Phnt {
                ret: "NTSTATUS".into(),
                args: vec![("HANDLE Handle".into(), Dir::In)],
            },
        );
        phnt.insert(
            "NtOpenFile".to_string(),
            Phnt {
                ret: "NTSTATUS".into(),
                args: vec![
                    ("PHANDLE FileHandle".into(), Dir::Out),
                    ("PULONG Key".into(), Dir::InOut),
                ],
            },
        );
        let mut panda = HashMap::new();
        panda.insert(
            "NtOpenFile".to_string(),
            (
                "NTSTATUS".to_string(),
                vec!["PHANDLE Handle".to_string(), "PULONG".to_string()],
            ),
        );
        let s = Signatures { panda, phnt };
        let (_, _, ann, src) = s.get("NtOpenFile").unwrap();
        assert_eq!(ann, vec!["@out Handle", "@inout arg1"]);
        assert_eq!(src, Source::Panda);
        let (_, args, ann, src) = s.get("NtClose").unwrap();
        assert_eq!(
            (args, ann, src),
            (vec!["HANDLE Handle".to_string()], vec![], Source::Phnt)
        );
        assert!(s.get("NtGdiFoo").is_none());
    }
}
