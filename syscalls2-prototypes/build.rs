//! Lists the bundled tables (`tables/*_prototypes.txt`) for `src/bundled.rs`:
//! adding a table to the directory is all it takes to bundle it.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("tables");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with("_prototypes.txt"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for file in &files {
        let profile = file
            .strip_suffix("_prototypes.txt")
            .expect("filtered above");
        writeln!(
            out,
            "    Bundled {{ profile: {profile:?}, file: {file:?}, text: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/tables/{file}\")) }},"
        )
        .expect("writing to a String");
    }
    out.push(']');
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out_dir.join("bundled.rs"), out).expect("OUT_DIR is writable");
}
