//! The original syscalls2 README's example, in Rust: watch a Windows
//! guest's `NtReadFile` calls, naming the file behind each handle.
//!
//! `cargo run --example filereadmon [FIXTURE.json]` runs it on a bundled
//! recording of a Windows 7 process opening and reading a file (hand-written,
//! as its `source` says).
//!
//! The monitor keeps no state of its own: the session's handle table
//! (`syscalls2::windows_args::Handles`, fed by every call that creates,
//! duplicates or closes a handle) names the handle in the event, as
//! `args.FileHandle.object`, and the session reads what the call wrote
//! (the `IO_STATUS_BLOCK`, the bytes) at its return, where the table marks
//! them `@out`.

use std::io;
use syscalls2::event::Phase;
use syscalls2::fixture::Fixture;
use syscalls2::session::{Record, Session, Sink};
use syscalls2::{profiles, Engine};

/// Prints every NtReadFile's return.
struct Reads;

impl Sink for Reads {
    fn event(&mut self, record: &Record<'_>) -> io::Result<()> {
        let e = record.event;
        if e.ev != Phase::Return || e.syscall.as_deref() != Some("NtReadFile") {
            return Ok(());
        }
        let arg = |name: &str| e.args.get(name);
        let handle = arg("FileHandle").and_then(|h| h.uint).unwrap_or(0);
        let file = arg("FileHandle")
            .and_then(|h| h.object.clone())
            .unwrap_or_else(|| "<not opened in the trace>".into());
        let length = arg("Length").and_then(|l| l.uint).unwrap_or(0);
        println!(
            "{:#x}: NtReadFile(FileHandle={handle:#x} {file}, Length={length})",
            e.pc
        );
        match &e.errno {
            Some(err) => println!(
                "  -> failed, {}",
                err.name.as_deref().unwrap_or("unknown NTSTATUS")
            ),
            None => {
                let data = arg("Buffer")
                    .and_then(|b| b.bytes_data())
                    .unwrap_or_default();
                println!(
                    "  -> {} bytes: {:?}",
                    data.len(),
                    String::from_utf8_lossy(&data)
                );
            }
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/windows7_x86_filereadmon.json"
        )
        .into()
    });
    let fixture = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| Fixture::from_json(&t).map_err(|e| e.to_string()))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("filereadmon: {path}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Some(table) = profiles::by_name(&fixture.profile) else {
        eprintln!(
            "filereadmon: {path}: profile {} is not built in",
            fixture.profile
        );
        return std::process::ExitCode::FAILURE;
    };
    let mut session = Session::new(Engine::new(table));
    session.add_sink(Reads);
    if let Err(e) = session.replay(&fixture) {
        eprintln!("filereadmon: {path}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
