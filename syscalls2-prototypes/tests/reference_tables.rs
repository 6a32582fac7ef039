//! Every table PANDA ships must parse unchanged, and classify without
//! surprises. The tables are read from `../shared/reference/panda` beside the
//! repository; the test fails, and does not skip, when that folder is missing.

use std::path::PathBuf;
use syscalls2_abi::Abi;
use syscalls2_prototypes::{classify, parse_table, CType};

fn reference_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/panda");
    assert!(
        dir.is_dir(),
        "PANDA's reference tables are missing: expected them in {} (the shared/ folder beside the repository)",
        dir.display()
    );
    dir
}

fn tables() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(reference_dir())
        .expect("read the reference folder")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("a readable table"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_panda_table_parses_unchanged() {
    let tables = tables();
    assert!(
        tables.len() >= 25,
        "expected PANDA's 25+ tables, found {}",
        tables.len()
    );
    for (name, source) in &tables {
        let parsed = parse_table(source).unwrap_or_else(|e| panic!("{name}:{e}"));
        // FreeBSD's table has a line with two prototypes: count `);`.
        let lines: usize = source
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
            .map(|l| l.matches(");").count().max(1))
            .sum();
        assert_eq!(
            parsed.prototypes.len() + parsed.placeholders.len(),
            lines,
            "{name}: every non-comment line is a prototype"
        );
        let numbered = name != "all_windows_prototypes.txt";
        assert!(
            parsed
                .prototypes
                .iter()
                .all(|p| p.number.is_some() == numbered),
            "{name}: numbers present exactly in the numbered tables"
        );
    }
}

#[test]
fn known_lines_decode_as_written() {
    let source = std::fs::read_to_string(reference_dir().join("linux_x86_prototypes.txt")).unwrap();
    let t = parse_table(&source).unwrap();
    let read = t.prototypes.iter().find(|p| p.name == "sys_read").unwrap();
    assert_eq!(read.number, Some(3));
    let names: Vec<_> = read
        .params
        .iter()
        .map(|p| p.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["fd", "buf", "count"]);

    let source =
        std::fs::read_to_string(reference_dir().join("windows_7_x86_prototypes.txt")).unwrap();
    let t = parse_table(&source).unwrap();
    let nt_read = t
        .prototypes
        .iter()
        .find(|p| p.name == "NtReadFile")
        .unwrap();
    assert_eq!(nt_read.number, Some(0x111));
    assert_eq!(nt_read.params.len(), 9);
}

/// The argument types of the Linux and Windows tables that the classifier
/// does not know, and so sizes by a guess. Each is listed with why the
/// guess (pointer-wide unsigned on Linux, 32-bit on Windows) is right.
#[test]
fn classifier_knows_the_reference_types() {
    let mut unknown = std::collections::BTreeMap::<String, String>::new();
    for (name, source) in tables() {
        let Some(abi) = Abi::from_table_file_name(&name) else {
            continue;
        };
        for p in parse_table(&source).unwrap().prototypes {
            for param in &p.params {
                if let CType::Int { known: false, .. } = classify(&param.ty, abi.os()) {
                    unknown
                        .entry(param.ty.to_string())
                        .or_insert(format!("{name}: {}", p.name));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "types the classifier guesses: {unknown:#?}"
    );
}
