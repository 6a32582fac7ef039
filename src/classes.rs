//! strace's syscall classes (`-e trace=%file`, `%desc`, `%network`,
//! `%process`, `%signal`, `%memory`, `%ipc`), as data: `src/classes.txt`,
//! transcribed from strace's tables, read here.
//!
//! ```
//! use syscalls2::classes;
//! assert!(classes::members("file").unwrap().contains(&"openat"));
//! assert!(classes::members("%network").unwrap().contains(&"connect"));
//! assert!(classes::members("nonsense").is_none());
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The data file, as bundled.
const DATA: &str = include_str!("classes.txt");

/// A class's members from the data's text, or the line that is malformed.
fn parse(text: &str) -> Result<BTreeMap<&str, Vec<&str>>, String> {
    let mut classes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((class, names)) = line.split_once(':') else {
            return Err(format!("line {}: expected `CLASS: NAME...`", i + 1));
        };
        let entry = classes.entry(class.trim()).or_default();
        entry.extend(names.split_whitespace());
    }
    for names in classes.values_mut() {
        names.sort_unstable();
        names.dedup();
    }
    Ok(classes)
}

fn all() -> &'static BTreeMap<&'static str, Vec<&'static str>> {
    static CLASSES: OnceLock<BTreeMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    CLASSES.get_or_init(|| parse(DATA).expect("src/classes.txt is well-formed (tested)"))
}

/// The syscalls (strace's names, sorted) of `class`, with or without its
/// `%`; `None` for a class strace does not have.
pub fn members(class: &str) -> Option<&'static [&'static str]> {
    let class = class.strip_prefix('%').unwrap_or(class);
    all().get(class).map(Vec::as_slice)
}

/// Every class's name (without `%`), sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    all().keys().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_data_parses_and_has_straces_classes() {
        parse(DATA).unwrap();
        let got: Vec<&str> = names().collect();
        assert_eq!(
            got,
            ["desc", "file", "ipc", "memory", "network", "process", "signal"]
        );
        assert!(parse("file open").unwrap_err().contains("line 1"));
    }

    #[test]
    fn classes_hold_what_strace_puts_in_them() {
        let has = |c: &str, n: &str| members(c).unwrap().contains(&n);
        // openat takes a file name and returns a descriptor: both classes.
        assert!(has("file", "openat") && has("desc", "openat"));
        assert!(!has("file", "read") && has("desc", "read"));
        assert!(has("process", "clone") && has("process", "execve"));
        assert!(has("signal", "rt_sigaction") && !has("signal", "read"));
        assert!(has("memory", "mmap") && has("network", "connect"));
    }

    /// Every name is a call of some bundled Linux table (all of them, not
    /// only the profiles this build enables).
    #[test]
    fn every_name_is_a_linux_call() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/syscalls2-prototypes/tables");
        let mut known = BTreeSet::new();
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            if !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("linux_")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = text.lines().filter(|l| !l.starts_with("//"));
            for rest in lines.flat_map(|l| l.split("sys_").skip(1)) {
                if let Some((name, _)) = rest.split_once('(') {
                    known.insert(name.trim().to_string());
                }
            }
        }
        assert!(known.contains("openat") && known.len() > 400);
        let mut missing: Vec<&str> = names()
            .flat_map(|c| members(c).unwrap().iter().copied())
            .filter(|n| !known.contains(*n))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        assert_eq!(missing, Vec::<&str>::new(), "names no Linux profile has");
    }
}
