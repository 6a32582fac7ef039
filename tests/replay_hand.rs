//! The hand-written fixtures: every profile's ABI decoded as documented, and
//! the pairing cases PANDA gets wrong. Each assertion is on what a user
//! sees: the strace line (name, arguments, strings, return value), or the
//! pairing of a return with its enter.

mod common;
use common::{load, run, run_with};
use syscalls2::{profiles, Engine};

fn lines(name: &str) -> Vec<String> {
    run(name).lines
}

#[test]
fn linux_x64_pairing_cases() {
    let r = run("linux_x64_pairing.json");
    let expected = [
        // fork: the parent's return, then the child's in its own address space;
        // clone's arguments named and left out as strace does. The child is
        // the pid its parent's return gave (what the calls reveal: the
        // fixture has no kernel to read).
        "[0x11000] clone(child_stack=NULL, flags=SIGCHLD) = 101",
        "[pid 101] clone(child_stack=NULL, flags=SIGCHLD) = 0 (child)",
        // Two threads at one return site: each return with its own enter.
        "[0x11000] read(3, \"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\"..., 50) = 50",
        "[0x11000] read(0, \"hello!\\n\", 100) = 7",
        // A thread's clone: the child on its new stack, then the parent.
        "[0x11000] clone(child_stack=0x5000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x7100, tls=0x7200, child_tidptr=0x7108) = 0 (child)",
        "[0x11000] clone(child_stack=0x5000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x7100, tls=0x7200, child_tidptr=0x7108) = 102",
        // vfork: the child first (same address space, same stack); its failed
        // execve returns and is reported; then the parent.
        "[0x11000] vfork() = 0 (child)",
        "[0x11000] execve(\"/nonexistent\", [\"nonexistent\", \"-x\"], 0x500200 /* 0 vars */ <unfinished ...>",
        "[0x11000] execve(\"/nonexistent\", [\"nonexistent\", \"-x\"], 0x500200 /* 0 vars */) = -1 ENOENT (No such file or directory)",
        "[0x11000] exit_group(127) = ?",
        "[0x11000] vfork() = 103",
        // A successful execve: no return to its site, nothing left pending;
        // when the new image makes its first call, the session reports the
        // 0 the kernel gave it, as strace does.
        "[0x11000] execve(\"/bin/true\", [\"true\"], 0x500200 /* 0 vars */ <unfinished ...>",
        "[0x11000] execve(\"/bin/true\", [\"true\"], 0x500200 /* 0 vars */) = 0",
        "[0x33000] brk(NULL) = 0x800000",
        // A signal handler's write in the middle of a read, then the restart.
        "[0x11000] write(2, \"sig\\n\", 4) = 4",
        // Its signal frame is not in the fixture: printed as its address
        // (the stack pointer), the return unknown.
        "[0x11000] rt_sigreturn(0x6b00) = ?",
        "[0x11000] read(0, \"abcd\\n\", 100) = 5",
        // An unknown number.
        "[0x11000] syscall_0x1092(1, 2, 3, 0, 0, 0) = -1 ENOSYS (Function not implemented)",
        // Strings: readable, and not.
        "[0x11000] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3",
        "[0x11000] openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)",
        // An execve that blocks while another process runs on the vCPU is
        // retired as successful, and still reported when it fails after all.
        "[0x11000] execve(\"/bin/slow\", [\"slow\"], 0x500200 /* 0 vars */ <unfinished ...>",
        "[0x11000] execve(\"/bin/slow\", [\"slow\"], 0x500200 /* 0 vars */) = 0",
        "[pid 321] getpid() = 321",
        "[0x11000] execve(\"/bin/slow\", [\"slow\"], 0x500200 /* 0 vars */) = -1 ENOEXEC (Exec format error)",
    ];
    assert_eq!(r.lines, expected);
    assert_eq!(r.stats.late_returns, 1);
    assert!(r.pending.is_empty(), "left pending: {:?}", r.pending);
    assert_eq!(
        r.stats.restarted, 1,
        "the interrupted read was replaced by its restart"
    );
    assert_eq!(
        r.stats.exec_succeeded, 1,
        "/bin/true; /bin/slow returned after all"
    );
    assert_eq!(r.stats.unknown, 1);
    assert_eq!(r.stats.noreturn, 2, "exit_group and rt_sigreturn");
    // The threads' reads: each return carries its own enter's arguments.
    let reads: Vec<(u64, i64, u64)> = r
        .returns
        .iter()
        .filter(|c| c.name() == Some("sys_read"))
        .map(|c| (c.args[0], c.retval.unwrap().value, c.sp))
        .collect();
    assert_eq!(reads, [(3, 50, 0x6000), (0, 7, 0x7000), (0, 5, 0x7000)]);
    // A fork child's return is reported in the child's address space.
    let forks: Vec<_> = r
        .returns
        .iter()
        .filter(|c| c.name() == Some("sys_clone"))
        .map(|c| (c.child, c.asid, c.sp))
        .collect();
    assert_eq!(
        forks,
        [
            (false, 0x11000, 0x7ffc0000),
            (true, 0x22000, 0x7ffc0000),
            (true, 0x11000, 0x5000),
            (false, 0x11000, 0x7ffc0000)
        ]
    );
    // Enter and return(s) of one call share its sequence number.
    let clone_seqs: Vec<u64> = r
        .returns
        .iter()
        .filter(|c| c.name() == Some("sys_clone"))
        .map(|c| c.seq)
        .collect();
    assert_eq!(clone_seqs[0], clone_seqs[1]);
    assert_eq!(clone_seqs[2], clone_seqs[3]);
    assert_ne!(clone_seqs[0], clone_seqs[2]);
}

#[test]
fn vcpu_numbers_up_to_u32_max() {
    // The pairing cases again, on vCPUs numbered from the top: nothing is
    // indexed by vCPU number (4294967295 once allocated 96 GiB).
    let mut f = load("linux_x64_pairing.json");
    for e in &mut f.events {
        e.vcpu = u32::MAX - e.vcpu;
    }
    let r = run_with(&f, common::engine_for(&f));
    assert_eq!(r.lines, lines("linux_x64_pairing.json"));
    assert_eq!(r.stats.late_returns, 1);
}

#[test]
fn pending_entries_are_bounded_oldest_first() {
    let f = load("linux_x64_pairing.json");
    // Room for one: every enter past the capacity evicts the oldest entry.
    let r = run_with(
        &f,
        Engine::new(&profiles::linux_x64::TABLE).with_capacity(1),
    );
    assert!(r.stats.evicted > 0);
    // With one slot, thread 1's read is evicted by thread 2's: its return is
    // not paired with anything (never with thread 2's enter).
    let reads: Vec<(u64, i64)> = r
        .returns
        .iter()
        .filter(|c| c.name() == Some("sys_read"))
        .map(|c| (c.args[0], c.retval.unwrap().value))
        .collect();
    assert!(reads.contains(&(3, 50)), "{reads:?}");
    assert!(
        !reads.contains(&(3, 7)) && !reads.contains(&(0, 50)),
        "a crossed pair: {reads:?}"
    );
    assert!(r.pending.len() <= 1);
}

#[test]
fn linux_x86_int80_sysenter_and_register_pairs() {
    assert_eq!(
        lines("linux_x86_sysenter.json"),
        [
            "[0x11000] write(1, \"hello\\n\", 6) = 6",
            "[0x11000] mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 7) = 0xb7f00000",
            "[0x11000] read(0, \"ok\\n\", 64) = 3",
            "[0x11000] pread64(3, 0x80f2000, 16, 4096, 2) = -1 EBADF (Bad file descriptor)",
        ]
    );
    let r = run("linux_x86_sysenter.json");
    assert_eq!(
        r.stats.restarted, 1,
        "the sysenter read restarted through int $0x80"
    );
    assert!(r.pending.is_empty());
}

#[test]
fn linux_arm_thumb_arm_pairs_and_ignored_svc_immediates() {
    assert_eq!(
        lines("linux_arm_eabi.json"),
        [
            "[0x11000] write(1, \"hello\\n\", 6) = 6",
            "[0x11000] pread64(3, \"0123456789abcdef\", 16, 8589938688) = 16",
            "[0x11000] write(1, \"hi\\n\", 3) = -1 EACCES (Permission denied)",
            "[0x11000] pread64(3, \"0123456789abcdef\", 16, 8589938688) = 16",
            "[0x11000] exit_group(3) = ?",
        ]
    );
}

#[test]
fn linux_arm64_registers() {
    assert_eq!(
        lines("linux_arm64_hand.json"),
        [
            "[0x11000] openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)",
            "[0x11000] pread64(3, \"0123456789abcdef\", 16, 8589938688) = 16",
            // An AArch32 process, decoded and paired through the compat profile.
            "[0x22000] write(1, \"hi\\n\", 3) = 3",
        ]
    );
}

#[test]
fn linux_riscv64_registers_restart_and_fork() {
    // Constants by name from riscv64's UAPI headers; the fixture holds no
    // signal frame at rt_sigreturn's stack pointer, which prints as the
    // address it would be read from.
    let r = run("linux_riscv64_hand.json");
    assert_eq!(
        r.lines,
        [
            "[0x8000000000081234] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3",
            "[0x8000000000081234] write(2, \"sig\\n\", 4) = 4",
            "[0x8000000000081234] rt_sigreturn(0x3fffffe000) = ?",
            "[0x8000000000081234] read(3, \"abcd\\n\", 64) = 5",
            "[0x8000000000081234] riscv_flush_icache(65536, 69632, 0) = 0",
            "[0x8000000000081234] openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)",
            "[0x8000000000082345] clone(child_stack=NULL, flags=SIGCHLD) = 0 (child)",
            "[0x8000000000081234] clone(child_stack=NULL, flags=SIGCHLD) = 101",
            "[0x8000000000081234] exit_group(0) = ?",
        ]
    );
    assert_eq!(
        r.stats.restarted, 1,
        "the interrupted read was replaced by its restart at the same ecall"
    );
    assert!(r.pending.is_empty(), "left pending: {:?}", r.pending);
}

// The MIPS guests' own calls are in tests/replay_recorded.rs (mipsel o32,
// mips64el n64, little-endian); these hand-written fixtures stay for what no
// MIPS guest here runs: big-endian o32 with a 64-bit argument's register
// pair and the stack arguments after it, n32, and an n64 64-bit offset in
// one register.
#[test]
fn mips_o32_stack_arguments_error_flag_and_big_endian_pairs() {
    let r = run("linux_mips_o32.json");
    assert_eq!(
        r.lines,
        [
            "[0x11000] write(1, \"hi\\n\", 3) = 3",
            "[0x11000] openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)",
            "[0x11000] pread64(3, \"0123456789abcdef\", 16, 8589938688) = 16",
            // 17 is SIGUSR2 on MIPS (its SIGCHLD is 18): the kernel's MIPS headers say so.
            "[0x22000] clone(child_stack=NULL, flags=SIGUSR2) = 0 (child)",
            "[0x11000] clone(child_stack=NULL, flags=SIGUSR2) = 77",
            "[0x11000] brk(NULL) = 0x80001000",
        ]
    );
    let brk = r
        .returns
        .iter()
        .find(|c| c.name() == Some("sys_brk"))
        .unwrap();
    assert_eq!(
        brk.retval.unwrap().value,
        0x8000_1000u32 as i32 as i64,
        "o32 results are 32-bit, sign-extended"
    );
    assert!(!brk.retval.unwrap().is_error());
}

#[test]
fn mips_n64_and_n32() {
    assert_eq!(
        lines("linux_mips64_n64.json"),
        [
            "[0x11000] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3",
            "[0x11000] pread64(3, 0x120020000, 16, 8589938688) = -1 EBADF (Bad file descriptor)",
        ]
    );
    assert_eq!(
        lines("linux_mips64n32.json"),
        [
            "[0x11000] write(1, \"n32\", 3) = 3",
            "[0x11000] pread64(3, \"0123456789abcdef\", 16, 8589938688) = 16"
        ]
    );
}

/// The x86 fixtures' open, read and close: the handle NtCreateFile wrote
/// (`[124<NAME>]`), then named wherever it is used; what NtReadFile wrote
/// (`read`: its IO_STATUS_BLOCK and buffer) read at its return.
fn windows_lines(path: &str, handle: &str, read: &str) -> Vec<String> {
    // The path as strace shows a wide string (escaped) and as a handle's name.
    let name = path.replace("\\\\", "\\");
    let create = format!(
        "[0x11000] NtCreateFile([{handle}<{name}>], {CREATE_ARGS_1}, L\"{path}\", 0x12f040, {CREATE_ARGS_2}) = 0x0 STATUS_SUCCESS"
    );
    vec![
        create,
        format!("[0x11000] NtReadFile({handle}<{name}>, 0, NULL, NULL, {read}, 512, NULL, NULL) = 0x0 STATUS_SUCCESS"),
        format!("[0x11000] NtClose({handle}<{name}>) = 0x0 STATUS_SUCCESS"),
    ]
}

/// The fixtures' NtCreateFile arguments by their names (mingw-w64's
/// values, `data/windows_constants.txt`; which set each argument takes is
/// `data/windows_args.txt`'s): DesiredAccess 0x80100080 as a file's
/// rights, FileAttributes 128, ShareAccess 1, CreateDisposition 1,
/// CreateOptions 0x60.
const CREATE_ARGS_1: &str = "FILE_READ_ATTRIBUTES|SYNCHRONIZE|GENERIC_READ";
const CREATE_ARGS_2: &str = "NULL, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE, NULL, 0";

/// What the x86 fixtures' NtReadFile read.
const SECRET: &str = "{Status=STATUS_SUCCESS, Information=11}, \"top secret\\n\"";

#[test]
fn windows_x86_sysenter_profiles() {
    let mut seven = windows_lines(
        "\\\\??\\\\C:\\\\Users\\\\alice\\\\secret.txt",
        "124",
        SECRET,
    );
    seven.push("[0x11000] NtReadFile(153, 0, NULL, NULL, 0x12f040, 0x150000, 512, NULL, NULL) = 0xc0000008 STATUS_INVALID_HANDLE".into());
    let mut seven_run = seven.clone();
    // NtContinue resumes the thread elsewhere: retired at the thread's next
    // call, nothing left pending.
    seven_run.push("[0x11000] NtContinue(0x12f200, 0 <unfinished ...>".into());
    seven_run.push("[0x11000] NtClose(125) = 0x0 STATUS_SUCCESS".into());
    let r = run("windows7_x86_filereadmon.json");
    assert_eq!(r.lines, seven_run);
    assert!(r.pending.is_empty(), "{:?}", r.pending);
    assert_eq!(r.stats.exec_succeeded, 1);
    let mut xp2 = windows_lines("\\\\??\\\\C:\\\\boot.ini", "124", SECRET);
    xp2.push(seven[3].clone());
    assert_eq!(lines("windowsxp_sp2_x86.json"), xp2);
    let mut xp3 = windows_lines("\\\\??\\\\C:\\\\WINDOWS\\\\system.ini", "124", SECRET);
    xp3.push(seven[3].clone());
    assert_eq!(lines("windowsxp_sp3_x86.json"), xp3);
}

/// The JSON lines carry the same names as `names`, beside the numbers.
#[test]
fn windows_constants_are_named_in_the_json_lines() {
    let r = run("windows7_x86_filereadmon.json");
    let create = r
        .events
        .iter()
        .find(|e| e.name.as_deref() == Some("NtCreateFile"))
        .unwrap();
    let json = serde_json::to_value(create).unwrap();
    let args = &json["args"];
    assert_eq!(args["DesiredAccess"]["uint"], 0x80100080u64);
    assert_eq!(
        args["DesiredAccess"]["names"],
        "FILE_READ_ATTRIBUTES|SYNCHRONIZE|GENERIC_READ"
    );
    assert_eq!(args["CreateDisposition"]["names"], "FILE_OPEN");
    assert_eq!(
        args["CreateOptions"]["names"],
        "FILE_SYNCHRONOUS_IO_NONALERT|FILE_NON_DIRECTORY_FILE"
    );
    assert_eq!(args["ShareAccess"]["names"], "FILE_SHARE_READ");
    // Integers no rule names have none.
    assert!(args["EaLength"].get("names").is_none());
    let read = r
        .events
        .iter()
        .find(|e| e.name.as_deref() == Some("NtReadFile") && e.ret.is_some())
        .unwrap();
    let json = serde_json::to_value(read).unwrap();
    assert_eq!(
        json["args"]["IoStatusBlock"]["fields"]["Status"]["names"],
        "STATUS_SUCCESS"
    );
}

#[test]
fn windows2000_int2e() {
    assert_eq!(
        lines("windows2000_x86.json"),
        windows_lines("\\\\??\\\\C:\\\\autoexec.bat", "124", SECRET)
    );
}

#[test]
fn windows_x64_register_and_stack_arguments() {
    let expect = |path: &str| {
        vec![
            format!("[0x11000] NtCreateFile([452<{}>], {CREATE_ARGS_1}, L\"{path}\", 0x2ff080, {CREATE_ARGS_2}) = 0x0 STATUS_SUCCESS", path.replace("\\\\", "\\")),
            format!("[0x11000] NtReadFile(452<{}>, 0, NULL, NULL, {SECRET}, 4096, NULL, NULL) = 0x0 STATUS_SUCCESS", path.replace("\\\\", "\\")),
            format!("[0x11000] NtClose(452<{}>) = 0x0 STATUS_SUCCESS", path.replace("\\\\", "\\")),
        ]
    };
    assert_eq!(
        lines("windows7_x64.json"),
        expect("\\\\??\\\\C:\\\\Users\\\\bob\\\\notes.txt")
    );
    assert_eq!(
        lines("windows11_24h2_x64.json"),
        expect("\\\\??\\\\C:\\\\Users\\\\carol\\\\todo.txt")
    );
}

#[test]
fn a_return_block_run_again_is_not_another_forks_child() {
    // Two forks at one return site; the first child's block at the return
    // address runs twice (its first instruction faulted). The second run is
    // not the second child's return: that child still gets its own.
    let r = run("linux_arm_fork_rerun.json");
    let clone = "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x287068)";
    assert_eq!(
        r.lines,
        [
            format!("[0x41c58000] {clone} = 101"),
            format!("[0x41c58000] {clone} = 102"),
            format!("[pid 101] {clone} = 0 (child)"),
            "[pid 101] write(1, \"piped\\n\", 6) = 6".to_string(),
            format!("[pid 102] {clone} = 0 (child)"),
            "[pid 102] dup2(3, 0) = 0".to_string(),
        ]
    );
    assert_eq!(r.stats.rerun_return_blocks, 1);
    assert!(r.pending.is_empty(), "left pending: {:?}", r.pending);
}
