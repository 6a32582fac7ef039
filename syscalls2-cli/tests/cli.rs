//! The `syscalls2` binary as a user runs it: help, bad flags, and the
//! commands that need no emulator (`show`, `tables`).

use std::process::{Command, Output};

fn syscalls2(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syscalls2"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs, and checks the exit code; returns stdout and stderr.
fn expect(args: &[&str], code: i32) -> (String, String) {
    let o = syscalls2(args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "syscalls2 {args:?}:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    (stdout(&o), stderr(&o))
}

#[test]
fn help_exits_zero_for_the_command_and_every_subcommand() {
    let (out, _) = expect(&["--help"], 0);
    for sub in ["show", "tables", "trace", "record", "replay", "qemu"] {
        assert!(out.contains(sub), "--help lists {sub}:\n{out}");
        let (help, _) = expect(&[sub, "--help"], 0);
        assert!(
            help.starts_with(char::is_uppercase),
            "{sub} --help:\n{help}"
        );
        assert!(help.contains(&format!("Usage: syscalls2 {sub}")), "{help}");
        expect(&["help", sub], 0);
    }
    let (trace, _) = expect(&["trace", "--help"], 0);
    for flag in [
        "-e <trace=SET>",
        "-c",
        "-t",
        "-T",
        "-o <FILE>",
        "-s <N>",
        "--format",
        "--arch",
    ] {
        assert!(trace.contains(flag), "trace --help has {flag}:\n{trace}");
    }
    // -f is strace's: without it, the processes the command forks are not
    // traced, and the help says so.
    assert!(
        trace.contains("-f") && trace.contains("not the processes it forks"),
        "trace --help explains -f:\n{trace}"
    );
    let (version, _) = expect(&["--version"], 0);
    assert!(version.starts_with("syscalls2 "), "{version}");
}

#[test]
fn bad_flags_say_what_is_wrong_and_exit_non_zero() {
    let (_, e) = expect(&["--bogus"], 2);
    assert!(e.contains("unexpected argument '--bogus'"), "{e}");
    let (_, e) = expect(&["show", "--bogus"], 2);
    assert!(e.contains("unexpected argument '--bogus'"), "{e}");
    let (_, e) = expect(&["show", "--format", "xml"], 2);
    assert!(
        e.contains("invalid value 'xml'") && e.contains("strace"),
        "{e}"
    );
    let (_, e) = expect(&["trace", "--arch", "sparc", "--", "ls"], 2);
    assert!(
        e.contains("invalid value 'sparc'") && e.contains("aarch64"),
        "{e}"
    );
    // The guest's command goes after `--`: a flag is never taken for it.
    let (_, e) = expect(&["trace", "--arch", "x86_64", "--bogus", "ls"], 2);
    assert!(e.contains("unexpected argument '--bogus'"), "{e}");
    let (_, e) = expect(&["trace"], 2);
    assert!(e.contains("COMMAND"), "{e}");
    let (_, e) = expect(&["show", "-s", "many"], 2);
    assert!(e.contains("invalid value 'many'"), "{e}");
    // Values the session checks: exit 1, with the reason.
    let (_, e) = expect(&["show", "-e", "trace=%files"], 1);
    assert!(
        e.contains("unknown class `%files`; known: %desc, %file"),
        "{e}"
    );
    let (_, e) = expect(&["show", "-e", "trace=openat,frobnicate"], 1);
    assert!(
        e.contains("no bundled profile has a syscall `frobnicate`"),
        "{e}"
    );
    let (_, e) = expect(&["show", "-e", "signal=all"], 1);
    assert!(e.contains("only trace= is supported"), "{e}");
    let (_, e) = expect(&["show", "/nonexistent.json"], 1);
    assert!(e.starts_with("syscalls2: /nonexistent.json: "), "{e}");
    let (_, e) = expect(&["replay", "/nonexistent-recording"], 1);
    assert!(
        e.contains("not a directory `syscalls2 record` wrote"),
        "{e}"
    );
    let (_, e) = expect(&["show", "-c", "--format", "jsonl"], 1);
    assert!(e.contains("-c prints a table"), "{e}");
    let (_, e) = expect(&["tables", "linux_x64", "frobnicate"], 1);
    assert!(e.contains("no syscall `frobnicate`"), "{e}");
}

#[test]
fn show_renders_the_bundled_recording() {
    let (out, _) = expect(&["show"], 0);
    assert!(
        out.contains("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3"),
        "{out}"
    );
    assert!(out.contains("exit_group(3) = ?"), "{out}");
}

/// The syscall a strace line shows (after the `[asid]` and a timestamp).
fn call_name(line: &str) -> &str {
    let rest = line.split_once("] ").map_or(line, |(_, r)| r);
    rest.split('(').next().unwrap()
}

#[test]
fn a_class_filter_shows_only_the_classs_calls() {
    let (out, _) = expect(&["show", "-e", "trace=%file"], 0);
    let file = syscalls2::classes::members("file").unwrap();
    let names: Vec<&str> = out.lines().map(call_name).collect();
    assert!(
        names.contains(&"openat") && names.contains(&"execve"),
        "{out}"
    );
    for n in &names {
        assert!(file.contains(n), "{n} is not a %file call:\n{out}");
    }
    // A class and a name together: both.
    // (busybox `cat` copies with sendfile, a %network call as strace has it.)
    let (out, _) = expect(&["show", "-e", "trace=%network", "-e", "trace=read"], 0);
    let names: Vec<&str> = out.lines().map(call_name).collect();
    assert!(
        names.contains(&"read") && names.contains(&"sendfile"),
        "{out}"
    );
    assert!(
        names.iter().all(|n| ["read", "sendfile"].contains(n)),
        "{out}"
    );
}

#[test]
fn count_prints_straces_summary_table() {
    let (out, _) = expect(&["show", "-c"], 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "% time     seconds  usecs/call     calls    errors syscall"
    );
    assert!(lines.iter().any(|l| l.ends_with(" openat")), "{out}");
    assert!(lines.last().unwrap().ends_with(" total"), "{out}");
}

#[test]
fn timestamps_durations_and_the_output_file() {
    let path = std::env::temp_dir().join(format!("syscalls2-cli-test-{}.txt", std::process::id()));
    let p = path.to_str().unwrap();
    let (out, _) = expect(&["show", "-tt", "-T", "-e", "trace=openat", "-o", p], 0);
    assert!(out.is_empty(), "the trace went to the file: {out}");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let first = text.lines().next().unwrap();
    let (time, rest) = first.split_once(' ').unwrap();
    // 15:04:05.123456
    assert_eq!(time.len(), 15, "{first}");
    assert_eq!(&time[2..3], ":");
    assert!(rest.contains("openat(") && rest.ends_with('>'), "{first}");
}

#[test]
fn jsonl_is_the_event_schema() {
    let (out, _) = expect(&["show", "--format", "jsonl", "-e", "trace=%desc"], 0);
    let events: Vec<syscalls2::event::Event> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event"))
        .collect();
    assert!(events.iter().any(|e| e.name.as_deref() == Some("read")));
}

#[test]
fn string_limit_shortens_strings() {
    let (out, _) = expect(&["show", "-s", "4", "-e", "trace=execve"], 0);
    assert!(out.contains("[\"sh\", \"-c\", \"cat \"...]"), "{out}");
}

#[test]
fn tables_look_syscalls_up() {
    let (out, _) = expect(&["tables", "linux_x64", "257"], 0);
    assert!(
        out.starts_with("257\tsys_openat\tlong sys_openat("),
        "{out}"
    );
    let (out, _) = expect(&["tables", "NtReadFile"], 0);
    assert!(
        out.lines().any(|l| l.starts_with("windows7_x86\t")),
        "{out}"
    );
}

#[test]
fn parquet_needs_an_output_file() {
    let (_, e) = expect(&["show", "--format", "parquet"], 1);
    assert!(
        e.contains("--format parquet writes a file: give it with -o FILE"),
        "{e}"
    );
    let (_, e) = expect(&["show", "-c", "--format", "parquet", "-o", "/tmp/x"], 1);
    assert!(e.contains("-c prints a table"), "{e}");
}

/// `--format parquet` holds the JSON lines' events, row for row, with
/// typed columns and the arguments as a map from name to value.
#[cfg(feature = "parquet")]
#[test]
fn parquet_has_the_json_lines_rows_typed() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, UInt64Type};
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let (out, _) = expect(&["show", "--format", "jsonl"], 0);
    let events: Vec<syscalls2::event::Event> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event"))
        .collect();
    let path =
        std::env::temp_dir().join(format!("syscalls2-cli-test-{}.parquet", std::process::id()));
    let (out, _) = expect(
        &["show", "--format", "parquet", "-o", path.to_str().unwrap()],
        0,
    );
    assert!(out.is_empty(), "{out}");
    let file = std::fs::File::open(&path).unwrap();
    let batches: Vec<_> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    std::fs::remove_file(&path).unwrap();

    let mut rows = 0;
    let mut opened = Vec::new();
    for b in &batches {
        let seq = b
            .column_by_name("seq")
            .unwrap()
            .as_primitive::<UInt64Type>();
        let pc = b.column_by_name("pc").unwrap().as_primitive::<UInt64Type>();
        let ret = b.column_by_name("ret").unwrap().as_primitive::<Int64Type>();
        let name = b.column_by_name("name").unwrap().as_string::<i32>();
        let args = b.column_by_name("args").unwrap().as_map();
        for i in 0..b.num_rows() {
            let e = &events[rows + i];
            assert_eq!(seq.value(i), e.seq);
            assert_eq!(pc.value(i), e.pc);
            assert_eq!(ret.is_valid(i).then(|| ret.value(i)), e.ret);
            assert_eq!(name.is_valid(i).then(|| name.value(i)), e.name.as_deref());
            // The argument by its name, its string member typed.
            let entries = args.value(i);
            let keys = entries.column(0).as_string::<i32>();
            let values = entries.column(1).as_struct();
            let strs = values.column_by_name("str").unwrap().as_string::<i32>();
            let names: Vec<&str> = (0..keys.len()).map(|k| keys.value(k)).collect();
            let json: Vec<&str> = e.args.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, json, "the arguments of event {}", e.seq);
            if let Some(k) = names.iter().position(|n| *n == "filename") {
                if e.name.as_deref() == Some("openat") && strs.is_valid(k) && ret.is_valid(i) {
                    opened.push((strs.value(k).to_string(), ret.value(i)));
                }
            }
        }
        rows += b.num_rows();
    }
    assert_eq!(rows, events.len(), "as many rows as JSON lines");
    assert!(
        opened.contains(&("/etc/hostname".to_string(), 3)),
        "openat(\"/etc/hostname\") = 3 in {opened:?}"
    );
}
