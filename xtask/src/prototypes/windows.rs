//! Windows tables: numbers per release from j00ru's `windows-syscalls`
//! (`{x86,x64}/nt.csv`, ntoskrnl only), signatures from PANDA's signature-only
//! list `panda/all_windows_prototypes.txt`, both read at generation time.

use super::{parse_arg_list, Kind, Line, Table};
use std::collections::HashMap;
use std::path::Path;

/// One output table: file name, arch directory in windows-syscalls, CSV column header.
const SPECS: &[(&str, &str, &str)] = &[
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
    /// (number, name) of every call present in `release`, in file order.
    pub fn column(&self, release: &str) -> Result<Vec<(u64, String)>, String> {
        let idx = self
            .releases
            .iter()
            .position(|r| r == release)
            .ok_or_else(|| format!("no column {release:?}; columns are {:?}", self.releases))?;
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

/// Generates the Windows tables from `reference` (`../shared/reference`).
pub fn generate(reference: &Path) -> Result<Vec<Table>, String> {
    let read = |rel: &str| {
        let p = reference.join(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let sigs = parse_signatures(&read("panda/all_windows_prototypes.txt")?)?;
    let mut csvs = HashMap::new();
    let mut tables = Vec::new();
    for (file, arch, release) in SPECS {
        if !csvs.contains_key(arch) {
            csvs.insert(
                *arch,
                parse_csv(&read(&format!("windows-syscalls/{arch}/nt.csv"))?)?,
            );
        }
        let csv = &csvs[arch];
        let mut seen: HashMap<u64, String> = HashMap::new();
        let mut lines = Vec::new();
        for (number, name) in csv.column(release)? {
            if let Some(other) = seen.insert(number, name.clone()) {
                return Err(format!(
                    "{arch} {release}: number {number} is both {other} and {name}"
                ));
            }
            match sigs.get(&name) {
                Some((ret, args)) => lines.push(Line {
                    number,
                    rettype: ret.clone(),
                    name,
                    args: args.clone(),
                    kind: Kind::Prototype,
                    note: String::new(),
                }),
                None => lines.push(Line {
                    number,
                    rettype: String::new(),
                    name,
                    args: vec![],
                    kind: Kind::NoSignature,
                    note: String::new(),
                }),
            }
        }
        let header = vec![
            format!("{release} {arch} ntoskrnl system call prototypes (PANDA syscalls2 table format)."),
            "Generated by `cargo xtask prototypes windows [--reference ../shared/reference]`: do not edit.".into(),
            format!("Numbers: j00ru/windows-syscalls {arch}/nt.csv, column {release:?}."),
            "Signatures: PANDA's signature list panda/all_windows_prototypes.txt.".into(),
            "Annotations (comment lines before a prototype): @noreturn, @noreturn-on-success, @doublereturn.".into(),
            "`// NO SIGNATURE:` = numbered call the signature list does not cover.".into(),
        ];
        tables.push(Table {
            file_name: file.to_string(),
            header,
            lines,
            space_before_paren: true,
        });
    }
    Ok(tables)
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
        assert!(csv.column("Windows 12").is_err());
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
}
