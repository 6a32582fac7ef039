//! Cross-checks the project's generated tables (`tables/`, made by
//! `cargo xtask prototypes`) against PANDA's tables in `../shared/reference/panda`:
//! wherever both name a number, the names must agree, except for the
//! differences listed (with a reason each) below. Also checks that every
//! generated table parses, validates, and carries the expected annotations.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syscalls2_prototypes::{parse_table, TableSource};

const OURS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tables");
const PANDA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference/panda");

/// (our table, PANDA's table), both without `_prototypes.txt`. Each Linux
/// table twice: the newest kernel's (`linux_x64`) and Linux 6.1's
/// (`linux_6_1_x64`); the rules and exceptions below name the first, and
/// hold for both ([`family`]).
const PAIRS: &[(&str, &str)] = &[
    ("linux_x86", "linux_x86"),
    ("linux_x64", "linux_x64"),
    ("linux_arm", "linux_arm"),
    ("linux_arm64", "linux_arm64"),
    ("linux_mips", "linux_mips"),
    // PANDA's mips64 table holds o32 (4xxx), n64 (5xxx) and n32 (6xxx) numbers;
    // ours is n64 only, so only the 5xxx numbers meet.
    ("linux_mips64", "linux_mips64"),
    ("linux_mips64n32", "linux_mips64n32"),
    ("linux_6_1_x86", "linux_x86"),
    ("linux_6_1_x64", "linux_x64"),
    ("linux_6_1_arm", "linux_arm"),
    ("linux_6_1_arm64", "linux_arm64"),
    ("linux_6_1_mips", "linux_mips"),
    ("linux_6_1_mips64", "linux_mips64"),
    ("linux_6_1_mips64n32", "linux_mips64n32"),
    ("windows2000_x86", "windows_2000_x86"),
    ("windowsxp_sp2_x86", "windows_xpsp2_x86"),
    ("windowsxp_sp3_x86", "windows_xpsp3_x86"),
    ("windows7_x86", "windows_7_x86"),
    ("windows7_x64", "windows_7_x64"),
];

/// Our tables without a PANDA counterpart (still parsed and validated).
const UNPAIRED: &[&str] = &["linux_riscv64", "linux_6_1_riscv64", "windows11_24h2_x64"];

/// The name the rules and exceptions use for one of our tables: a kernel
/// version's table (`linux_6_1_x64`) is its ABI's (`linux_x64`).
fn family(ours: &str) -> String {
    match ours.strip_prefix("linux_6_1_") {
        Some(arch) => format!("linux_{arch}"),
        None => ours.to_string(),
    }
}

/// Renaming patterns: (tables they apply to, test on (ours, PANDA's), reason).
type Rule = (
    &'static [&'static str],
    fn(&str, &str) -> bool,
    &'static str,
);

const RULES: &[Rule] = &[
    (
        &["linux_x86", "linux_arm", "linux_mips64n32"],
        |ours, panda| {
            let ours = ours.strip_prefix("compat_").unwrap_or(ours);
            ours == format!("{panda}_time32") || ours == format!("{panda}32")
        },
        "y2038 (Linux 5.1): on 32-bit ABIs the old time_t entry points were renamed \
         sys_X_time32 / sys_X32 (sys_time32, sys_clock_settime32) when 64-bit-time \
         calls were added at new numbers; same call, new kernel name",
    ),
    (
        &["linux_x86"],
        |ours, panda| ours.strip_prefix("sys_ia32_") == panda.strip_prefix("sys_"),
        "Linux 5.x: i386 calls taking 64-bit values in register pairs (pread64, \
         fallocate, fadvise64, ...) go through sys_ia32_* wrappers in \
         arch/x86/kernel/sys_ia32.c, which syscall_32.tbl names as the entry point",
    ),
    (
        &["linux_mips64n32"],
        |ours, panda| ours.strip_prefix("compat_") == Some(panda),
        "n32 runs on a 64-bit kernel through compat entry points: syscall_n32.tbl \
         names compat_sys_X where PANDA writes the native sys_X",
    ),
    (
        &["linux_arm"],
        |ours, panda| ours.strip_prefix("sys_old_") == panda.strip_prefix("sys_"),
        "Linux 5.1: ARM's semctl/msgctl/shmctl numbers use the sys_old_*ctl entry \
         points (ipc_parse_version semantics kept for old binaries)",
    ),
];

/// Single differences: (table, number, ours, PANDA's, reason).
const EXCEPTIONS: &[(&str, u64, &str, &str, &str)] = &[
    ("linux_arm", 192, "sys_mmap2", "do_mmap2", "PANDA names the helper from its extra-signature list; the entry point is sys_mmap2 (an asm stub branching to sys_mmap_pgoff)"),
    ("linux_arm", 983043, "ARM_usr26", "ARM_user26_mode", "named after __ARM_NR_usr26 in arch/arm/include/uapi/asm/unistd.h"),
    ("linux_arm", 983044, "ARM_usr32", "ARM_usr32_mode", "named after __ARM_NR_usr32 in arch/arm/include/uapi/asm/unistd.h"),
    ("linux_arm64", 39, "sys_umount", "sys_umount2", "asm-generic/unistd.h: __SYSCALL(__NR_umount2, sys_umount); the kernel function is umount"),
    ("linux_arm64", 71, "sys_sendfile64", "sys_sendfile", "asm-generic/unistd.h: __SYSCALL(__NR3264_sendfile, sys_sendfile64)"),
    ("linux_arm64", 80, "sys_newfstat", "sys_fstat", "asm-generic/unistd.h: __SC_3264(__NR3264_fstat, sys_fstat64, sys_newfstat), 64-bit choice"),
    ("linux_arm64", 160, "sys_newuname", "sys_uname", "asm-generic/unistd.h: __SYSCALL(__NR_uname, sys_newuname)"),
    ("linux_arm64", 223, "sys_fadvise64_64", "sys_fadvise64", "asm-generic/unistd.h: __SC_COMP(__NR3264_fadvise64, sys_fadvise64_64, ...)"),
    ("linux_mips", 4042, "sysm_pipe", "sys_pipe", "mips pipe() returns both fds in v0/v1: the o32 entry point is sysm_pipe"),
    ("linux_mips64", 5021, "sysm_pipe", "sys_pipe", "mips pipe() returns both fds in v0/v1: the n64 entry point is sysm_pipe"),
    ("linux_mips64n32", 6021, "sysm_pipe", "sys_pipe", "mips pipe() returns both fds in v0/v1: the n32 entry point is sysm_pipe"),
    ("linux_mips", 4090, "sys_mips_mmap", "sys_mmap", "mips mmap's entry point is sys_mips_mmap (arch/mips/kernel/syscall.c)"),
    ("linux_mips64", 5009, "sys_mips_mmap", "sys_old_mmap", "mips mmap's entry point is sys_mips_mmap (arch/mips/kernel/syscall.c)"),
    ("linux_mips64n32", 6009, "sys_mips_mmap", "sys_old_mmap", "mips mmap's entry point is sys_mips_mmap (arch/mips/kernel/syscall.c)"),
    ("linux_mips", 4210, "sys_mips_mmap2", "mmap2", "mips mmap2's entry point is sys_mips_mmap2; PANDA's line lacks any sys_ prefix"),
    ("linux_mips", 4283, "sys_set_thread_area", "set_thread_area", "PANDA's line lacks the sys_ prefix"),
    ("linux_mips64n32", 6132, "sys_32_personality", "sys_personality", "n32 personality goes through sys_32_personality (arch/mips/kernel/linux32.c)"),
    ("linux_mips64n32", 6211, "sysn32_rt_sigreturn", "sys_sigreturn", "n32 has only rt_sigreturn at 6211 (sysn32_rt_sigreturn); PANDA's name is wrong"),
    ("linux_mips64n32", 6064, "compat_sys_old_semctl", "sys_semctl", "n32 semctl is the compat old_semctl entry point (Linux 5.1)"),
    ("linux_mips64n32", 6126, "compat_sys_rt_sigtimedwait_time32", "sys_io_getevents_time32", "PANDA table bug: 6126 is rt_sigtimedwait in syscall_n32.tbl"),
    ("linux_mips64n32", 6220, "compat_sys_timer_create", "sys_timerfd_create", "PANDA table bug: 6220 is timer_create (timerfd_create is 6284)"),
    ("linux_mips64n32", 6264, "compat_sys_pselect6_time32", "sys_io_pgetevents_time32", "PANDA table bug: 6264 is pselect6 in syscall_n32.tbl"),
    ("linux_mips64n32", 6265, "compat_sys_ppoll_time32", "sys_pselect6_time32", "PANDA table bug: 6265 is ppoll (PANDA's names are shifted by one)"),
    ("linux_mips64n32", 6298, "compat_sys_recvmmsg_time32", "sys_ppoll_time32", "PANDA table bug: 6298 is recvmmsg in syscall_n32.tbl"),
    ("linux_mips64n32", 6272, "compat_sys_set_robust_list", "sys_get_robust_list", "PANDA table bug: 6272/6273 are set_/get_robust_list, swapped in PANDA"),
    ("linux_mips64n32", 6273, "compat_sys_get_robust_list", "sys_set_robust_list", "PANDA table bug: 6272/6273 are set_/get_robust_list, swapped in PANDA"),
    ("linux_mips64n32", 6416, "compat_sys_io_pgetevents_time64", "sys_io_pgetevents", "6416 is io_pgetevents_time64 (the y2038 variant; 6332 is the old one)"),
];

fn read(dir: &str, name: &str) -> (PathBuf, String) {
    let path = Path::new(dir).join(format!("{name}_prototypes.txt"));
    match std::fs::read_to_string(&path) {
        Ok(text) => (path, text),
        Err(e) => panic!(
            "cannot read {}: {e}\n(the cross-check needs PANDA's reference tables in \
             ../shared/reference/panda beside the repository, and the generated tables \
             in prototypes/ -- run `cargo xtask prototypes ...`)",
            path.display()
        ),
    }
}

fn parse(dir: &str, name: &str) -> TableSource {
    let (path, text) = read(dir, name);
    parse_table(&text).unwrap_or_else(|e| panic!("{} does not parse: {e:?}", path.display()))
}

fn numbered(t: &TableSource) -> BTreeMap<u64, String> {
    t.prototypes
        .iter()
        .filter_map(|p| Some((p.number?, p.name.clone())))
        .collect()
}

#[test]
fn reference_is_present() {
    assert!(
        Path::new(PANDA).is_dir(),
        "PANDA reference tables missing: expected {PANDA} (shared/ beside the repository)"
    );
}

#[test]
fn names_agree_with_panda() {
    let mut unexpected = Vec::new();
    let mut used = BTreeSet::new();
    let mut per_rule = vec![0usize; RULES.len()];
    for (ours_name, panda_name) in PAIRS {
        let ours = numbered(&parse(OURS, ours_name));
        let fam = family(ours_name);
        let panda = numbered(&parse(PANDA, panda_name));
        let mut common = 0;
        for (number, mine) in &ours {
            let Some(theirs) = panda.get(number) else {
                continue;
            };
            common += 1;
            if mine == theirs {
                continue;
            }
            if let Some(i) = EXCEPTIONS
                .iter()
                .position(|(t, n, o, p, _)| *t == fam && n == number && o == mine && p == theirs)
            {
                used.insert(i);
                continue;
            }
            if let Some(i) = RULES
                .iter()
                .position(|(tables, test, _)| tables.contains(&fam.as_str()) && test(mine, theirs))
            {
                per_rule[i] += 1;
                continue;
            }
            unexpected.push(format!(
                "{ours_name} {number}: ours {mine}, PANDA's {panda_name} {theirs}"
            ));
        }
        assert!(
            common > 0,
            "{ours_name} and PANDA's {panda_name} share no number"
        );
    }
    let stale: Vec<String> = EXCEPTIONS
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, (t, n, o, p, _))| format!("{t} {n}: {o} vs {p}"))
        .collect();
    for (i, (_, _, reason)) in RULES.iter().enumerate() {
        eprintln!("rule {i} covered {} differences: {reason}", per_rule[i]);
    }
    assert!(
        unexpected.is_empty(),
        "{} name differences vs PANDA not explained in tests/cross_check.rs:\n  {}",
        unexpected.len(),
        unexpected.join("\n  ")
    );
    assert!(
        stale.is_empty(),
        "listed differences that no longer occur (remove them):\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn generated_tables_parse_and_validate() {
    for name in PAIRS
        .iter()
        .map(|(o, _)| *o)
        .chain(UNPAIRED.iter().copied())
    {
        let (path, text) = read(OURS, name);
        let table = parse(OURS, name);
        assert!(
            table.prototypes.len() > 200,
            "{}: only {} prototypes",
            path.display(),
            table.prototypes.len()
        );
        let diags = table.validate();
        assert!(diags.is_empty(), "{}: {diags:?}", path.display());
        assert!(
            text.starts_with("// "),
            "{}: no header comment",
            path.display()
        );
        assert!(
            text.contains("cargo xtask prototypes"),
            "{}: header does not say how it was made",
            path.display()
        );
        for p in &table.prototypes {
            assert!(
                p.number.is_some(),
                "{}:{}: prototype without a number",
                path.display(),
                p.line
            );
            // The generator writes each annotation on the line right before its
            // prototype; one further up would have strayed from another call.
            for (i, a) in p.annotations.iter().rev().enumerate() {
                assert_eq!(
                    a.line + 1 + i,
                    p.line,
                    "{}:{}: stray annotation @{}",
                    path.display(),
                    a.line,
                    a.name
                );
            }
        }
    }
}

fn find(t: &TableSource, number: u64) -> &syscalls2_prototypes::Prototype {
    t.prototypes
        .iter()
        .find(|p| p.number == Some(number))
        .unwrap_or_else(|| panic!("no syscall {number}"))
}

fn annotations(p: &syscalls2_prototypes::Prototype) -> Vec<&str> {
    p.annotations.iter().map(|a| a.name.as_str()).collect()
}

#[test]
fn spot_checks() {
    let x86 = parse(OURS, "linux_x86");
    let read = find(&x86, 3);
    assert_eq!(
        read.text,
        "3 long sys_read(unsigned int fd, char __user *buf, size_t count);"
    );
    let execve = find(&x86, 11);
    assert_eq!(execve.name, "sys_execve");
    assert_eq!(annotations(execve), ["noreturn-on-success"]);
    assert_eq!(annotations(find(&x86, 1)), ["noreturn"]);
    assert_eq!(annotations(find(&x86, 2)), ["doublereturn"]);

    let x64 = parse(OURS, "linux_x64");
    let clone3 = find(&x64, 435);
    assert_eq!(clone3.name, "sys_clone3");
    assert_eq!(annotations(clone3), ["doublereturn"]);
    assert_eq!(annotations(find(&x64, 231)), ["noreturn"]); // exit_group
    assert_eq!(annotations(find(&x64, 15)), ["noreturn"]); // rt_sigreturn
                                                           // Calls PANDA's tables leave as TODO.
    for (n, name) in [
        (425, "sys_io_uring_setup"),
        (437, "sys_openat2"),
        (434, "sys_pidfd_open"),
        (436, "sys_close_range"),
    ] {
        assert_eq!(find(&x64, n).name, name);
    }
    let arm64 = parse(OURS, "linux_arm64");
    assert_eq!(find(&arm64, 425).name, "sys_io_uring_setup");

    let win7 = parse(OURS, "windows7_x86");
    let nt_read = find(&win7, 273);
    assert_eq!(nt_read.name, "NtReadFile");
    assert_eq!(nt_read.params.len(), 9);
}
