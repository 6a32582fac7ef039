//! `cargo xtask constants windows --debs DIR`: the Windows constants the
//! rendering prints by name (access masks, create dispositions and options,
//! share modes, information classes), `src/generated/windows_constants.rs`.
//!
//! As for Linux, `data/windows_constants.txt` names the sets and the headers
//! (those of Debian's `mingw-w64-common`, whose `.deb` is in DIR: `apt-get
//! download mingw-w64-common`), and clang, for each Windows ABI's `--target`,
//! folds every name to its value (the probe of [`super::probe_source`]). An
//! `enum` set's names are the enum's constants, read in declaration order
//! from clang's JSON dump of the enum's declaration. Each `unit` line is a
//! translation unit of its own (the driver kit's headers and the user-mode
//! ones do not compile together); a name two units define differently is an
//! error.

use super::{extract, parse_constants_in, parse_probe, probe_source, render_sets, run, SetDef};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const CONSTANTS: &str = "data/windows_constants.txt";
const OUT: &str = "src/generated/windows_constants.rs";
/// Where mingw-w64-common puts its headers, under the extracted package.
const INCLUDE: &str = "usr/share/mingw-w64/include";

/// Each Windows ABI and clang's target for it.
const ABIS: [(&str, &str); 2] = [
    ("windows_x86", "i686-w64-mingw32"),
    ("windows_x64", "x86_64-w64-mingw32"),
];

fn usage() -> String {
    "usage: cargo xtask constants windows --debs DIR [--cc clang-14]\n\
     \x20 DIR holds mingw-w64-common's .deb (apt-get download mingw-w64-common)"
        .to_string()
}

/// The enumerators of `enum tag` in clang's JSON dump of a unit's
/// declarations matching it, in declaration order; `None` if the unit does
/// not define it.
fn enumerators(dump: &str, tag: &str) -> Result<Option<Vec<String>>, String> {
    for decl in serde_json::Deserializer::from_str(dump).into_iter::<serde_json::Value>() {
        let decl = decl.map_err(|e| format!("clang's AST dump: {e}"))?;
        if decl["kind"] != "EnumDecl" || decl["name"] != tag {
            continue;
        }
        let Some(inner) = decl["inner"].as_array() else {
            continue; // a declaration without its constants
        };
        let names = inner
            .iter()
            .filter(|c| c["kind"] == "EnumConstantDecl")
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        return Ok(Some(names));
    }
    Ok(None)
}

/// Entry point of `cargo xtask constants windows ...`.
pub fn main(args: &[String]) -> Result<(), String> {
    let (debs, cc) = super::options(args, usage)?;
    let root = crate::qemu::root();
    let text =
        std::fs::read_to_string(root.join(CONSTANTS)).map_err(|e| format!("{CONSTANTS}: {e}"))?;
    let abi_names: Vec<&str> = ABIS.iter().map(|a| a.0).collect();
    let constants = parse_constants_in(&text, CONSTANTS, &abi_names)?;
    if constants.units.is_empty() {
        return Err(format!("{CONSTANTS}: no `unit` line"));
    }
    let work = root.join("target/constants-mingw");
    let (packages, tree) = extract(&debs, &work)?;
    let include = tree.join(INCLUDE);
    let resource = run(Command::new(&cc).arg("-print-resource-dir"))?;
    let version = run(Command::new(&cc).arg("--version"))?;
    let version = version.lines().next().unwrap_or("").trim().to_string();
    let names = constants.names();
    let compile = |target: &str, file: &Path| {
        let mut cmd = Command::new(&cc);
        cmd.arg(format!("--target={target}"))
            .args(["-nostdinc", "-isystem"])
            .arg(Path::new(resource.trim()).join("include"))
            .arg("-isystem")
            .arg(&include)
            // The driver kit's headers include each other by bare name.
            .arg("-isystem")
            .arg(include.join("ddk"))
            .arg(file);
        cmd
    };

    let mut per_abi = Vec::new();
    for (abi, target) in ABIS {
        let mut values: BTreeMap<String, i64> = BTreeMap::new();
        let mut enums: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (u, unit) in constants.units.iter().enumerate() {
            let includes: String = unit.iter().map(|h| format!("#include <{h}>\n")).collect();
            let file = work.join(format!("probe-{abi}-{u}.c"));
            std::fs::write(&file, &includes).map_err(|e| format!("{}: {e}", file.display()))?;
            // The enums this unit defines, first.
            let mut found = Vec::new();
            for set in &constants.sets {
                let Some(tag) = set
                    .enum_tag
                    .as_ref()
                    .filter(|_| !enums.contains_key(set.name.as_str()))
                else {
                    continue;
                };
                let dump = run(compile(target, &file).args([
                    "-fsyntax-only",
                    "-Xclang",
                    "-ast-dump=json",
                    "-Xclang",
                    &format!("-ast-dump-filter={tag}"),
                ]))
                .map_err(|e| format!("{abi}: {e}"))?;
                if let Some(list) = enumerators(&dump, tag)? {
                    found.extend(list.iter().cloned());
                    enums.insert(set.name.as_str(), list);
                }
            }
            let found: Vec<&str> = found.iter().map(String::as_str).collect();
            let source = probe_source(&[], &[], &names, &found, &[]);
            std::fs::write(&file, format!("{includes}{source}"))
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let asm = run(compile(target, &file).args(["-S", "-o", "-"]))
                .map_err(|e| format!("{abi}: {e}"))?;
            for (name, v) in parse_probe(&asm)? {
                match values.get(&name) {
                    Some(old) if *old != v => {
                        return Err(format!(
                            "{abi}: {name} is {old:#x} in an earlier unit and {v:#x} in {unit:?}"
                        ))
                    }
                    Some(_) => {}
                    None => {
                        values.insert(name, v);
                    }
                }
            }
        }
        let sets: Vec<SetDef> = constants
            .sets
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if s.enum_tag.is_some() {
                    s.names = enums.get(s.name.as_str()).cloned().unwrap_or_default();
                }
                s
            })
            .collect();
        if let Some(s) = sets
            .iter()
            .find(|s| s.enum_tag.is_some() && s.names.is_empty())
        {
            return Err(format!(
                "{abi}: no unit defines enum {} (set {})",
                s.enum_tag.as_deref().unwrap_or(""),
                s.name
            ));
        }
        let missing: BTreeSet<&str> = sets
            .iter()
            .flat_map(|s| s.names.iter())
            .map(String::as_str)
            .filter(|n| !values.contains_key(*n))
            .collect();
        eprintln!(
            "{abi}: {} names, {} not defined by these headers (left out): {missing:?}",
            values.len(),
            missing.len()
        );
        per_abi.push((abi, target, values, sets));
    }

    let mut o = String::new();
    let _ = writeln!(
        o,
        "// Generated by `cargo xtask constants windows` from {CONSTANTS}, with the values\n\
         // {version} folds for each ABI's --target over the headers of {}\n\
         // ({INCLUDE}; units: {}); do not edit.\n",
        packages.join(", "),
        constants
            .units
            .iter()
            .map(|u| u.join(" "))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if constants.sets.iter().any(|s| !s.fields.is_empty()) {
        o.push_str("use crate::decode::{ConstSet, Field, Other};\n\n");
    } else {
        o.push_str("use crate::decode::{ConstSet, Other};\n\n");
    }
    // The headers give both ABIs the same values (none of these depends on
    // the pointer size): one table, checked, else one each.
    let same = per_abi.windows(2).all(|w| {
        w[0].2 == w[1].2
            && w[0]
                .3
                .iter()
                .map(|s| &s.names)
                .eq(w[1].3.iter().map(|s| &s.names))
    });
    let statics: Vec<String> = if same {
        let targets: Vec<&str> = per_abi.iter().map(|p| p.1).collect();
        let (_, _, values, sets) = &per_abi[0];
        render_sets(
            &mut o,
            sets,
            "windows",
            &targets.join(", --target="),
            values,
        );
        per_abi.iter().map(|_| "WINDOWS".to_string()).collect()
    } else {
        for (abi, target, values, sets) in &per_abi {
            render_sets(&mut o, sets, abi, target, values);
        }
        per_abi.iter().map(|p| p.0.to_uppercase()).collect()
    };
    o.push_str(
        "/// Each ABI's sets, by the ABI's name.\npub static ABIS: &[(&str, &[ConstSet])] = &[\n",
    );
    for ((abi, ..), name) in per_abi.iter().zip(&statics) {
        let _ = writeln!(o, "    (\"{abi}\", {name}),");
    }
    o.push_str("];\n");
    let out = root.join(OUT);
    super::write_formatted(&out, &o)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enums_constants_come_from_its_definition_in_order() {
        let dump = r#"{"kind":"EnumDecl","name":"_X"}
{"kind":"EnumDecl","name":"_X_EX","inner":[{"kind":"EnumConstantDecl","name":"Other"}]}
{"kind":"EnumDecl","name":"_X","inner":[{"kind":"EnumConstantDecl","name":"A"},{"kind":"EnumConstantDecl","name":"B"}]}"#;
        assert_eq!(
            enumerators(dump, "_X").unwrap(),
            Some(vec!["A".to_string(), "B".to_string()])
        );
        assert_eq!(enumerators(dump, "_Y").unwrap(), None);
    }

    #[test]
    fn the_data_file_parses_with_its_units_enums_and_shared_rights() {
        let f = parse_constants_in(
            "unit a.h\nflags common DELETE SYNCHRONIZE\nflags file FILE_READ_DATA @common\nenum cls _CLS\n",
            CONSTANTS,
            &["windows_x86"],
        )
        .unwrap();
        assert_eq!(f.units, [["a.h"]]);
        assert_eq!(f.sets[1].names, ["FILE_READ_DATA", "DELETE", "SYNCHRONIZE"]);
        assert_eq!(f.sets[2].enum_tag.as_deref(), Some("_CLS"));
        assert!(parse_constants_in("flags f @nosuch\n", CONSTANTS, &[]).is_err());
        assert!(parse_constants_in("enum x\n", CONSTANTS, &[]).is_err());
        // The Linux file has neither.
        assert!(super::super::parse_constants("unit a.h\n").is_err());
    }
}
