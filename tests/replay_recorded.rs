//! Fixtures recorded from real Debian 6.1 guests under QEMU by the
//! syscalls2-qemu plugin (`record=`), replayed with no emulator. The
//! workload: `cat /etc/hostname; echo hello > /tmp/f; cat /tmp/f;
//! ls /nonexistent; sh -c 'exit 3'; head -n 1 /etc/hostname`, run by
//! busybox's shell, which forks a child for every command. The MIPS ones
//! (mipsel: o32; mips64el: n64) were recorded with `after=S2GUEST:
//! WORKLOAD BEGIN,until=S2GUEST: WORKLOAD END` (the signal ones also with
//! `follow_forks=off`) by `scripts/run-guest.sh`, which gives a MIPS guest
//! its command as `/workload.sh`. And two of the small Windows-convention
//! guests (`tests/guest/windows_x86.c`, `windows_x64.c`), not Windows.

mod common;
use common::{load, run};
use syscalls2::fixture::EventKind;

/// What every architecture's recording must show.
fn check(name: &str) {
    let r = run(name);
    let has = |pred: &dyn Fn(&str) -> bool, what: &str| {
        assert!(
            r.lines.iter().any(|l| pred(l)),
            "{name}: no {what} in\n{}",
            r.lines.join("\n")
        );
    };
    has(
        &|l| l.contains("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY") && l.ends_with(" = 3"),
        "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY..) returning fd 3",
    );
    has(
        &|l| l.contains("read(3, \"syscalls2-guest\\n\", ") && l.ends_with(" = 16"),
        "read of the hostname by head",
    );
    has(
        &|l| l.contains("write(1, \"syscalls2-guest\\n\", 16) = 16"),
        "write of the hostname to stdout",
    );
    has(
        &|l| l.contains("write(1, \"hello\\n\", 6) = 6"),
        "write of hello into /tmp/f",
    );
    has(
        &|l| l.contains("\"/nonexistent\"") && l.ends_with("-1 ENOENT (No such file or directory)"),
        "ENOENT for /nonexistent",
    );
    has(
        &|l| l.contains("execve(\"/proc/self/exe\", [\"cat\", \"/etc/hostname\"]"),
        "execve of cat with its argv",
    );
    has(
        &|l| l.contains("execve(\"/proc/self/exe\", [\"sh\", \"-c\", \"exit 3\"]"),
        "execve of sh -c 'exit 3' with its argv",
    );
    has(&|l| l.ends_with("exit_group(3) = ?"), "exit_group(3)");

    // Every fork is reported twice: in the parent with the child's pid, and
    // in the child, in a new address space, with 0.
    let clones: Vec<_> = r
        .returns
        .iter()
        .filter(|c| c.name() == Some("sys_clone"))
        .collect();
    assert!(clones.len() >= 8, "{name}: {} clone returns", clones.len());
    for parent in clones.iter().filter(|c| !c.child) {
        let pid = parent.retval.unwrap().value;
        assert!(pid > 0, "{name}: parent return {pid}");
        let child = clones
            .iter()
            .find(|c| c.child && c.seq == parent.seq)
            .unwrap_or_else(|| panic!("{name}: the fork returning {pid} has no child return"));
        assert_eq!(child.retval.unwrap().value, 0);
        assert_ne!(
            child.asid, parent.asid,
            "{name}: a fork's child runs in its own address space"
        );
    }
    // Every return paired with an enter of its own call; nothing crossed:
    // a read never returns more than it asked for.
    for c in &r.returns {
        if matches!(c.name(), Some("sys_read" | "sys_write")) {
            let ret = c.retval.unwrap();
            assert!(
                ret.is_error() || ret.value as u64 <= c.args[2],
                "{name}: {c:?}"
            );
        }
    }
    assert_eq!(r.stats.decode_errors, 0, "{name}");
    assert_eq!(r.stats.unknown, 0, "{name}: every number is in the table");
    assert!(
        r.pending.is_empty(),
        "{name}: unpaired: {:?}",
        r.pending.iter().map(|c| c.name()).collect::<Vec<_>>()
    );
}

#[test]
fn x86_64_guest() {
    check("linux_x64_qemu_workload.json");
}

#[test]
fn i386_guest_with_int80_and_sysenter() {
    check("linux_x86_qemu_workload.json");
    // Both ways into the kernel: int 0x80 and sysenter through the vDSO.
    let f = load("linux_x86_qemu_workload.json");
    let kinds = |bytes: &[u8]| {
        f.events
            .iter()
            .filter(|e| {
                e.kind == EventKind::Syscall && e.insn.as_ref().is_some_and(|i| i.0 == bytes)
            })
            .count()
    };
    assert!(kinds(&[0xcd, 0x80]) > 0, "int 0x80 calls");
    assert!(kinds(&[0x0f, 0x34]) > 0, "sysenter calls");
}

#[test]
fn arm_guest() {
    check("linux_arm_qemu_workload.json");
}

#[test]
fn aarch64_guest() {
    check("linux_arm64_qemu_workload.json");
}

#[test]
fn mipsel_guest() {
    check("linux_mips_qemu_workload.json");
    // o32's fifth argument is on the user stack: clone's child_tidptr.
    let r = run("linux_mips_qemu_workload.json");
    assert!(
        r.lines
            .iter()
            .any(|l| l.contains("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x")),
        "{}",
        r.lines.join("\n")
    );
}

#[test]
fn mips64el_guest() {
    check("linux_mips64_qemu_workload.json");
}

/// A signal handler interrupting `wait`'s `rt_sigsuspend`, recorded on each
/// guest (`*_qemu_signal.json`: `sleep 1 & wait; echo done`, the shell's
/// own calls): what strace prints of the handler's return, of the
/// interrupted call and of the shell's `execve`. `sigset` is the kernel's
/// signal set's size (8 bytes; 16 on MIPS, which has 128 signals), `vars`
/// the shell's environment (the MIPS guests get their command from the
/// initramfs, not as `s2cmd=` on the kernel command line, which the
/// kernel hands `/init` as one more variable).
fn check_signal(name: &str, sigreturn: &str, sigset: usize, vars: usize) {
    let r = run(name);
    let text: Vec<&str> = r
        .lines
        .iter()
        .map(|l| l.split_once("] ").map_or(l.as_str(), |(_, t)| t))
        .collect();
    let has = |want: &str| {
        assert!(
            text.contains(&want),
            "{name}: no `{want}` in\n{}",
            r.lines.join("\n")
        );
    };
    // The mask the signal frame restores (wait's, with all blocked but
    // SIGKILL and SIGSTOP, which the kernel never blocks, and glibc's two),
    // and the return the frame restores: the EINTR the kernel gave
    // rt_sigsuspend once it ran the handler.
    has(&format!(
        "{sigreturn}({{mask=~[KILL STOP RTMIN RT_1]}}) = -1 EINTR (Interrupted system call)"
    ));
    // strace sees the call's exit before the handler: the kernel's code.
    has(&format!(
        "rt_sigsuspend([], {sigset}) = ? ERESTARTNOHAND (To be restarted if no handler)"
    ));
    // The exec succeeded: 0, reported when the new image makes its first call.
    assert!(
        text.iter().any(|l| l.starts_with(
            "execve(\"/proc/self/exe\", [\"sh\", \"-c\", \"sleep 1 & wait; echo done\"], "
        ) && l.ends_with(&format!(" /* {vars} vars */) = 0"))),
        "{name}: no successful execve in\n{}",
        r.lines.join("\n")
    );
    // What the process saw stays in the events: EINTR.
    let suspend = r
        .returns
        .iter()
        .find(|c| c.name() == Some("sys_rt_sigsuspend"))
        .expect("an rt_sigsuspend return");
    assert_eq!(suspend.retval.unwrap().error, Some(4), "{name}");
}

#[test]
fn signal_frame_and_restart_on_every_guest() {
    for (name, sigreturn, sigset, vars) in [
        ("linux_x64_qemu_signal.json", "rt_sigreturn", 8, 6),
        ("linux_x86_qemu_signal.json", "sigreturn", 8, 6),
        ("linux_arm_qemu_signal.json", "sigreturn", 8, 6),
        ("linux_arm64_qemu_signal.json", "rt_sigreturn", 8, 6),
        ("linux_mips_qemu_signal.json", "sigreturn", 16, 5),
        ("linux_mips64_qemu_signal.json", "rt_sigreturn", 16, 5),
    ] {
        check_signal(name, sigreturn, sigset, vars);
    }
}

/// A run of a small Windows-convention guest (`tests/guest/windows_x86.c`,
/// `windows_x64.c`; `cargo xtask windows-guest --record`; not Windows),
/// recorded by the plugin under QEMU: `sysenter` through KiFastSystemCall
/// and `int 0x2e` (x86), `syscall` (x64), each decoded, paired at its return and rendered with the
/// handle table (a key opened relative to another, a process by its id), the
/// outputs read at the return and the constants by name.
/// Its stack addresses (the OBJECT_ATTRIBUTES without a name, the handle
/// a failed open does not write, the IO_STATUS_BLOCK and buffer of a failed
/// read) differ by guest: `oa`, `other`, `iosb`, `buf`.
fn check_windows_guest(name: &str, asid: &str, [oa, other, iosb, buf]: [&str; 4]) {
    let r = run(name);
    let file = r"36<\??\C:\x.txt>";
    let expected = [
        format!("NtCreateFile([{file}], FILE_READ_DATA|FILE_READ_EA|FILE_READ_ATTRIBUTES|READ_CONTROL|SYNCHRONIZE, L\"\\\\??\\\\C:\\\\x.txt\", {{Status=STATUS_SUCCESS, Information=1}}, NULL, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE, NULL, 0) = 0x0 STATUS_SUCCESS"),
        format!("NtReadFile({file}, 0, NULL, NULL, {{Status=STATUS_SUCCESS, Information=21}}, \"hello from the guest\\n\", 64, NULL, NULL) = 0x0 STATUS_SUCCESS"),
        format!("NtQueryInformationFile({file}, {{Status=STATUS_SUCCESS, Information=24}}, \"\\0\\20\\0\\0\\0\\0\\0\\0\\25\\0\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\\0\\0\\0\\0\", 24, FileStandardInformation) = 0x0 STATUS_SUCCESS"),
        r#"NtOpenKey([40<\Registry\Machine>], KEY_QUERY_VALUE|KEY_ENUMERATE_SUB_KEYS|KEY_NOTIFY|READ_CONTROL, L"\\Registry\\Machine") = 0x0 STATUS_SUCCESS"#.to_string(),
        r#"NtOpenKey([44<\Registry\Machine\SOFTWARE>], KEY_QUERY_VALUE, L"SOFTWARE") = 0x0 STATUS_SUCCESS"#.to_string(),
        format!("NtOpenProcess([48<pid:1234>], PROCESS_VM_READ|PROCESS_QUERY_INFORMATION, {oa}, {{UniqueProcess=1234, UniqueThread=0}}) = 0x0 STATUS_SUCCESS"),
        // (x86: by int 0x2e) A failed open writes no handle and names nothing.
        format!(r#"NtOpenFile({other}, FILE_READ_DATA|SYNCHRONIZE, L"\\??\\C:\\no.txt", {iosb}, FILE_SHARE_READ, FILE_SYNCHRONOUS_IO_NONALERT) = 0xc0000034 STATUS_OBJECT_NAME_NOT_FOUND"#),
        format!("NtReadFile(153, 0, NULL, NULL, {iosb}, {buf}, 64, NULL, NULL) = 0xc0000008 STATUS_INVALID_HANDLE"),
        format!("NtClose({file}) = 0x0 STATUS_SUCCESS"),
        r"NtClose(44<\Registry\Machine\SOFTWARE>) = 0x0 STATUS_SUCCESS".to_string(),
        r"NtClose(40<\Registry\Machine>) = 0x0 STATUS_SUCCESS".to_string(),
        "NtClose(48<pid:1234>) = 0x0 STATUS_SUCCESS".to_string(),
        // Closed: no longer named.
        format!("NtReadFile(36, 0, NULL, NULL, {iosb}, {buf}, 64, NULL, NULL) = 0xc0000008 STATUS_INVALID_HANDLE"),
    ];
    let lines: Vec<&str> = r
        .lines
        .iter()
        .map(|l| l.strip_prefix(asid).unwrap_or(l))
        .filter(|l| !l.ends_with("<unfinished ...>"))
        .collect();
    assert_eq!(lines, expected);
    // The guest's kernel stops the machine in its last call, NtClose(0).
    let pending: Vec<_> = r.pending.iter().map(|p| p.name()).collect();
    assert_eq!(pending, [Some("NtClose")]);
}

#[test]
fn windows7_x86_guest_under_qemu() {
    check_windows_guest(
        "windows7_x86_qemu_guest.json",
        "[0x102000] ",
        ["0x10786c", "0x107848", "0x107864", "0x1077f0"],
    );
}

/// The x64 guest: `syscall`, the fifth argument on from the stack.
#[test]
fn windows7_x64_guest_under_qemu() {
    check_windows_guest(
        "windows7_x64_qemu_guest.json",
        "[0x104000] ",
        ["0x109f70", "0x109f28", "0x109f60", "0x109ed0"],
    );
}
