//! `syscalls2 tables`: the bundled profiles' syscalls, looked up by name or
//! number, like `ausyscall`.

use syscalls2::strace::strace_name;
use syscalls2::{profiles, SyscallInfo, Table};

fn row(info: &SyscallInfo) -> String {
    // The table's line, without the number it starts with.
    let line = info.prototype.trim();
    let prototype = line
        .strip_prefix(info.no.to_string().as_str())
        .unwrap_or(line)
        .trim_start();
    format!("{}\t{}\t{prototype}\n", info.no, info.name)
}

/// The entries of `table` a query names: a number, strace's name
/// (`openat`) or the table's (`sys_openat`, `NtReadFile`).
fn find(table: &'static Table, query: &str) -> Vec<&'static SyscallInfo> {
    let number = match query.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => query.parse().ok(),
    };
    table
        .syscalls
        .iter()
        .filter(|s| match number {
            Some(n) => s.no == n,
            None => s.name == query || strace_name(table.abi, s.name) == query,
        })
        .collect()
}

/// The text `syscalls2 tables [PROFILE] [SYSCALL]` prints.
pub fn lookup(profile: Option<&str>, syscall: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    let Some(first) = profile else {
        out.push_str("profile\tABI\tsyscalls\n");
        for t in profiles::all() {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                t.name,
                t.abi.name(),
                t.syscalls.len()
            ));
        }
        // The Windows releases without a module of their own, built on demand.
        for r in profiles::windows_releases() {
            if profiles::all().iter().all(|t| t.name != r.name) {
                let t = r.table();
                out.push_str(&format!(
                    "{}\t{}\t{}\n",
                    t.name,
                    t.abi.name(),
                    t.syscalls.len()
                ));
            }
        }
        return Ok(out);
    };
    match (profiles::by_name(first), syscall) {
        (Some(t), None) => t.syscalls.iter().for_each(|s| out.push_str(&row(s))),
        (Some(t), Some(q)) => {
            let found = find(t, q);
            if found.is_empty() {
                return Err(format!("{}: no syscall `{q}`", t.name));
            }
            found.into_iter().for_each(|s| out.push_str(&row(s)));
        }
        // Not a profile: a syscall, looked up in every profile.
        (None, None) => {
            for t in profiles::all() {
                for s in find(t, first) {
                    out.push_str(&format!("{}\t{}", t.name, row(s)));
                }
            }
            if out.is_empty() {
                let known: Vec<&str> = profiles::all().iter().map(|t| t.name).collect();
                return Err(format!(
                    "`{first}` is neither a profile ({}) nor a syscall of one",
                    known.join(", ")
                ));
            }
        }
        (None, Some(_)) => {
            let known: Vec<&str> = profiles::all().iter().map(|t| t.name).collect();
            return Err(format!(
                "unknown profile `{first}`; built in: {}",
                known.join(", ")
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_and_number_per_profile() {
        let by_name = lookup(Some("linux_x64"), Some("openat")).unwrap();
        assert_eq!(
            by_name,
            "257\tsys_openat\tlong sys_openat(int dfd, const char __user *filename, int flags, umode_t mode);\n"
        );
        assert_eq!(lookup(Some("linux_x64"), Some("257")).unwrap(), by_name);
        assert_eq!(
            lookup(Some("linux_x64"), Some("sys_openat")).unwrap(),
            by_name
        );
        let everywhere = lookup(Some("openat"), None).unwrap();
        assert!(everywhere.contains("linux_x64\t257\tsys_openat"));
        assert!(everywhere.contains("linux_arm64\t56\tsys_openat"));
        assert!(lookup(Some("linux_x64"), Some("nosuch"))
            .unwrap_err()
            .contains("no syscall"));
        assert!(lookup(Some("nosuch"), Some("1"))
            .unwrap_err()
            .contains("unknown profile"));
        let all = lookup(None, None).unwrap();
        assert!(all.lines().any(|l| l.starts_with("windows7_x86\t")));
        // Every Windows release, by PANDA's names too.
        assert!(all
            .lines()
            .any(|l| l.starts_with("windows_10_1909_x64\twindows_x64\t")));
        assert_eq!(
            lookup(Some("windows_10_1909_x64"), Some("NtReadFile")).unwrap(),
            "6\tNtReadFile\tNTSTATUS NtReadFile (HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key);\n"
        );
        assert!(lookup(Some("windows_7_x86"), Some("NtReadFile"))
            .unwrap()
            .starts_with("273\tNtReadFile"));
    }
}
