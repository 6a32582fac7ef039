//! Every syscall of a recorded run, strace-style, for any profile: a trace
//! session (`syscalls2::session`) driven by the fixture replayer instead
//! of an emulator.
//!
//! ```text
//! cargo run --example strace                          # a real x86-64 Linux guest, recorded
//! cargo run --example strace -- tests/fixtures/windows7_x86_filereadmon.json
//! cargo run --example strace -- --format jsonl FIXTURE.json > calls.jsonl
//! ```
//!
//! The fixture names its profile; `--profile NAME` overrides it. With
//! `--format jsonl`, the events of `syscalls2::event` (the schema the QEMU
//! plugin writes too), one per line, for DuckDB, pandas or Spark:
//! `SELECT name, count(*) FROM 'calls.jsonl' WHERE ev = 'return' GROUP BY name`.

use std::process::ExitCode;
use syscalls2::fixture::Fixture;
use syscalls2::session::{JsonlSink, Session, StraceSink};
use syscalls2::{profiles, Engine};

/// The fixture run when none is named: recorded from a real guest.
const DEFAULT_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/linux_x64_qemu_workload.json"
);

const USAGE: &str = "usage: strace [--format strace|jsonl] [--profile NAME] [FIXTURE.json]";

struct Options {
    jsonl: bool,
    profile: Option<String>,
    fixture: String,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        jsonl: false,
        profile: None,
        fixture: DEFAULT_FIXTURE.to_string(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--format" => {
                o.jsonl = match args.next().as_deref() {
                    Some("strace") => false,
                    Some("jsonl") => true,
                    Some(other) => {
                        return Err(format!("--format: `{other}` is not strace or jsonl"))
                    }
                    None => return Err("--format needs strace or jsonl".into()),
                }
            }
            "--profile" => o.profile = Some(args.next().ok_or("--profile needs a profile name")?),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
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
    let compat = match fixture.compat.as_deref() {
        Some(c) => vec![profiles::by_name(c).ok_or(format!("compat profile {c} is not built in"))?],
        None => profiles::compat_for(table),
    };
    for c in compat {
        engine = engine.with_compat(c);
    }

    let mut session = Session::new(engine);
    let out = std::io::BufWriter::new(std::io::stdout());
    if o.jsonl {
        session.add_sink(JsonlSink::new(out));
    } else {
        session.add_sink(StraceSink::new(out));
    }
    session
        .replay(&fixture)
        .map_err(|e| format!("{}: {e}", o.fixture))?;
    let s = session
        .finish(Default::default())
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{}: {} calls, {} returns, {} unknown, {} never return, {} restarted, {} exec'd, {} still pending",
        s.profile,
        s.counters.enters,
        s.counters.returns,
        s.counters.unknown,
        s.counters.noreturn,
        s.counters.restarted,
        s.counters.exec_succeeded,
        s.pending.len()
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
