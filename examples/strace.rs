//! Every syscall of a recorded run, strace-style, for any profile.
//!
//! ```text
//! cargo run --example strace                          # a real x86-64 Linux guest, recorded
//! cargo run --example strace -- tests/fixtures/windows7_x86_filereadmon.json
//! cargo run --example strace -- --format jsonl FIXTURE.json > calls.jsonl
//! ```
//!
//! The fixture names its profile; `--profile NAME` overrides it. With
//! `--format jsonl`, one JSON object per call (profile, vcpu, asid, pc,
//! number, name, args, retval, errno, child) for DuckDB, pandas or Spark:
//! `SELECT name, count(*) FROM 'calls.jsonl' GROUP BY name`.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use syscalls2::fixture::{replay, Fixture};
use syscalls2::strace::{Format, Tracer};
use syscalls2::{profiles, Engine};

/// The fixture run when none is named: recorded from a real guest.
const DEFAULT_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/linux_x64_qemu_workload.json"
);

struct Options {
    format: Format,
    profile: Option<String>,
    fixture: String,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        format: Format::Strace,
        profile: None,
        fixture: DEFAULT_FIXTURE.to_string(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--format" => {
                o.format = match args.next().as_deref() {
                    Some("strace") => Format::Strace,
                    Some("jsonl") => Format::Jsonl,
                    other => return Err(format!("--format takes strace or jsonl, not {other:?}")),
                }
            }
            "--profile" => o.profile = Some(args.next().ok_or("--profile takes a profile name")?),
            "-h" | "--help" => {
                return Err(
                    "usage: strace [--format strace|jsonl] [--profile NAME] [FIXTURE.json]".into(),
                )
            }
            path => o.fixture = path.to_string(),
        }
    }
    Ok(o)
}

fn run() -> Result<(), String> {
    let o = options()?;
    let text = std::fs::read_to_string(&o.fixture).map_err(|e| format!("{}: {e}", o.fixture))?;
    let fixture = Fixture::from_json(&text).map_err(|e| format!("{}: {e}", o.fixture))?;
    let name = o.profile.as_deref().unwrap_or(&fixture.profile);
    let table = profiles::by_name(name).ok_or_else(|| {
        let known: Vec<_> = profiles::all().iter().map(|t| t.name).collect();
        format!(
            "profile {name} is not built in; built: {}",
            known.join(", ")
        )
    })?;
    let mut engine = Engine::new(table);
    if let Some(compat) = fixture
        .compat
        .as_deref()
        .and_then(profiles::by_name)
        .or_else(|| profiles::compat_for(table))
    {
        engine = engine.with_compat(compat);
    }

    let tracer = Arc::new(Mutex::new(Tracer::new(o.format)));
    let t = tracer.clone();
    engine.on_all_enter(move |cpu, ctx| {
        if let Some(line) = t.lock().unwrap().enter(cpu, ctx) {
            println!("{line}");
        }
    });
    let t = tracer.clone();
    engine.on_all_return(move |cpu, ctx| {
        if let Some(line) = t.lock().unwrap().exit(cpu, ctx) {
            println!("{line}");
        }
    });
    replay(&fixture, &mut engine).map_err(|e| format!("{}: {e}", o.fixture))?;

    let s = engine.stats();
    eprintln!(
        "{}: {} calls, {} returns, {} unknown, {} never return, {} restarted, {} exec'd, {} still pending",
        table.name,
        s.enters,
        s.returns,
        s.unknown,
        s.noreturn,
        s.restarted,
        s.exec_succeeded,
        engine.pending_len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strace: {e}");
            ExitCode::FAILURE
        }
    }
}
