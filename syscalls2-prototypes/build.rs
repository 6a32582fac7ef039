//! Lists the bundled tables (`tables/*_prototypes.txt`, and the Windows
//! releases of `tables/windows/`) for `src/bundled.rs`: adding a table to
//! the directory is all it takes to bundle it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `&[Bundled { .. }, ..]` for the tables of `dir` (`sub` below the crate).
fn list(dir: &Path, sub: &str) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = std::fs::read_dir(dir)
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
            "    Bundled {{ profile: {profile:?}, file: {file:?}, text: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{sub}/{file}\")) }},"
        )
        .expect("writing to a String");
    }
    out.push(']');
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    for (sub, file) in [("tables", "bundled.rs"), ("tables/windows", "windows.rs")] {
        std::fs::write(out_dir.join(file), list(&root.join(sub), sub))
            .expect("OUT_DIR is writable");
    }
}
