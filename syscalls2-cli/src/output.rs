//! strace's filter and output flags, and where the events go: the
//! library's sinks (strace text, JSON lines, the `-c` table) or Parquet.

use clap::{Args, ValueEnum};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use syscalls2::count::CountSink;
use syscalls2::event::{Event, Summary};
use syscalls2::fixture::Fixture;
use syscalls2::options::Options;
use syscalls2::session::{JsonlSink, Record, Session, SessionError, Sink, StraceSink, Timestamps};
use syscalls2::strace::strace_name;
use syscalls2::{profiles, Engine};

/// The bundled recording `show` renders by default: a real x86-64 Debian
/// 6.1 guest, recorded by the QEMU plugin (`record=`).
const DEFAULT_FIXTURE: &str = include_str!("../fixtures/linux_x64_qemu_workload.json");

/// The trace's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// strace's lines.
    Strace,
    /// One event per line, the JSON schema of `syscalls2::event`.
    Jsonl,
    /// A Parquet file (`-o FILE`) with the JSON lines' columns, typed:
    /// `args` a map of argument name to a struct of its members.
    Parquet,
}

/// What is traced and how it is shown (strace's flags where strace has one).
#[derive(Args, Clone, Debug)]
pub struct Output {
    /// Only these calls: `-e trace=NAME,...` (strace's or the table's
    /// names) or classes `%file`, `%desc`, `%network`, `%process`,
    /// `%signal`, `%memory`, `%ipc`; repeatable.
    #[arg(short = 'e', value_name = "trace=SET")]
    pub exprs: Vec<String>,
    /// Follow forks, as strace -f. `trace` and `replay` run COMMAND as
    /// `sh -c COMMAND`, forked by the guest's init: without -f the trace
    /// is that shell's process (its threads, and what it execs: a
    /// command line's last simple command, which the shell runs in its
    /// own process), not the processes it forks (`cat` in
    /// `cat /etc/hostname; ls`); with -f, those and all their
    /// descendants. `show`, `qemu` and `trace --all` trace every process.
    #[arg(short = 'f')]
    pub follow: bool,
    /// Instead of the trace, a table of calls, errors and time per syscall.
    #[arg(short = 'c')]
    pub count: bool,
    /// Start each line with the time of day (UTC); -tt with microseconds,
    /// -ttt as seconds since the epoch.
    #[arg(short = 't', action = clap::ArgAction::Count)]
    pub timestamps: u8,
    /// Show the time spent in each call, `<0.000123>`.
    #[arg(short = 'T')]
    pub durations: bool,
    /// Write the trace to FILE instead of standard output.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Bytes of each string or buffer shown.
    #[arg(short = 's', value_name = "N", default_value_t = 32)]
    pub string_limit: usize,
    /// The trace's format.
    #[arg(long, value_enum, default_value_t = Format::Strace)]
    pub format: Format,
}

impl Output {
    /// The `-e` sets as the session's `trace=` option values, checked: a
    /// class strace has, a name some bundled profile has.
    pub fn trace_names(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for expr in &self.exprs {
            let set = match expr.split_once('=') {
                Some(("trace" | "t", set)) => set,
                Some(_) => {
                    return Err(format!(
                        "-e {expr}: only trace= is supported (-e trace=NAME,... or %CLASS)"
                    ))
                }
                None => expr.as_str(),
            };
            for name in set.split(',') {
                check_name(name).map_err(|e| format!("-e {expr}: {e}"))?;
                names.push(name.to_string());
            }
        }
        Ok(names)
    }

    /// The session options these flags give (`trace=`, `s=`), as
    /// `key=value` pairs for `syscalls2::options` and the QEMU plugin.
    pub fn session_options(&self) -> Result<Vec<String>, String> {
        let mut o: Vec<String> = self
            .trace_names()?
            .into_iter()
            .map(|n| format!("trace={n}"))
            .collect();
        o.push(format!("s={}", self.string_limit));
        Ok(o)
    }

    /// Checks the flags that do not depend on a run: fails before a guest
    /// boots.
    pub fn check(&self) -> Result<(), String> {
        self.trace_names()?;
        if self.count && self.format != Format::Strace {
            return Err("-c prints a table: it takes no --format".into());
        }
        if self.format == Format::Parquet {
            if !cfg!(feature = "parquet") {
                return Err(
                    "--format parquet: this syscalls2 was built without its `parquet` feature"
                        .into(),
                );
            }
            if self.output.is_none() {
                return Err("--format parquet writes a file: give it with -o FILE".into());
            }
        }
        Ok(())
    }

    /// The sinks these flags ask for; `start` is when the events' `ts` was
    /// 0 (for `-t`).
    pub fn sinks(&self, start: SystemTime) -> Result<Vec<Box<dyn Sink>>, String> {
        self.check()?;
        #[cfg(feature = "parquet")]
        if let (Format::Parquet, Some(path)) = (self.format, &self.output) {
            return Ok(vec![Box::new(crate::parquet::ParquetSink::create(path)?)]);
        }
        let out: Box<dyn Write + Send> = match &self.output {
            Some(path) => Box::new(BufWriter::new(
                File::create(path).map_err(|e| format!("-o {}: {e}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        let sink: Box<dyn Sink> = if self.count {
            Box::new(CountSink::new(out))
        } else {
            match self.format {
                Format::Strace => {
                    let mut s = StraceSink::new(out);
                    s.strace.string_limit = self.string_limit;
                    s.durations = self.durations;
                    s.start = start;
                    s.timestamps = match self.timestamps {
                        0 => Timestamps::None,
                        1 => Timestamps::Seconds,
                        2 => Timestamps::Micros,
                        _ => Timestamps::Epoch,
                    };
                    Box::new(s)
                }
                Format::Jsonl => Box::new(JsonlSink::new(out)),
                Format::Parquet => unreachable!("checked, and made above"),
            }
        };
        Ok(vec![sink])
    }
}

/// Whether `name` is a class strace has or a syscall of some bundled
/// profile (strace's name or the table's).
fn check_name(name: &str) -> Result<(), String> {
    if let Some(class) = name.strip_prefix('%') {
        return match syscalls2::classes::members(class) {
            Some(_) => Ok(()),
            None => {
                let known: Vec<String> = syscalls2::classes::names()
                    .map(|c| format!("%{c}"))
                    .collect();
                Err(format!(
                    "unknown class `{name}`; known: {}",
                    known.join(", ")
                ))
            }
        };
    }
    if name.is_empty() || name.starts_with(['!', '/', '?']) {
        return Err(format!(
            "`{name}`: expected a syscall name or %class (negation and regular expressions are not supported)"
        ));
    }
    let known = profiles::all().iter().any(|t| {
        t.syscalls
            .iter()
            .any(|s| s.name == name || strace_name(t.abi, s.name) == name)
    });
    if known {
        Ok(())
    } else {
        Err(format!("no bundled profile has a syscall `{name}`"))
    }
}

/// A write error, unless the reader went away (`syscalls2 show | head`):
/// that ends the output quietly, as it does for strace.
fn write_error(e: std::io::Error) -> Result<(), String> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("writing the trace: {e}"))
    }
}

/// Sends events read back from a trace to the sinks, as they are read,
/// and finishes them.
pub fn render(
    events: impl IntoIterator<Item = Result<Event, String>>,
    sinks: &mut [Box<dyn Sink>],
    summary: &Summary,
) -> Result<(), String> {
    for event in events {
        let event = event?;
        let Some(record) = Record::of(&event) else {
            return Err(format!(
                "event of profile {} (ABI {}) is not built in",
                event.profile, event.abi
            ));
        };
        for sink in sinks.iter_mut() {
            if let Err(e) = sink.event(&record) {
                return write_error(e);
            }
        }
    }
    for sink in sinks.iter_mut() {
        if let Err(e) = sink.finish(summary) {
            return write_error(e);
        }
    }
    Ok(())
}

/// The events of a JSON lines trace (the plugin's `format=jsonl`), read
/// one line at a time.
pub fn read_events(path: &Path) -> Result<impl Iterator<Item = Result<Event, String>>, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.display().to_string();
    Ok(BufReader::new(f).lines().enumerate().map(move |(i, line)| {
        let line = line.map_err(|e| format!("{name}: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("{name} line {}: {e}", i + 1))
    }))
}

/// `syscalls2 show`: a fixture replayed through a session with the sinks.
pub fn show(fixture: Option<&Path>, profile: Option<&str>, output: &Output) -> Result<(), String> {
    output.check()?;
    let (name, text) = match fixture {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => (
            "the bundled linux_x64 recording".to_string(),
            DEFAULT_FIXTURE.to_string(),
        ),
    };
    let fixture = Fixture::from_json(&text).map_err(|e| format!("{name}: {e}"))?;
    let mut options = output.session_options()?;
    options.push(format!("profile={}", profile.unwrap_or(&fixture.profile)));
    let options = Options::parse(&options).map_err(|e| e.to_string())?;
    let known: Vec<&str> = profiles::all().iter().map(|t| t.name).collect();
    let table = options
        .table(None, profiles::by_name, &known)
        .map_err(|e| e.to_string())?;
    let compat = match fixture.compat.as_deref() {
        Some(c) => vec![profiles::by_name(c).ok_or(format!("compat profile {c} is not built in"))?],
        None => profiles::compat_for(table),
    };
    let engine = compat
        .into_iter()
        .fold(Engine::new(table), Engine::with_compat);
    // The options' session, without its own log: the sinks are ours.
    let mut session = Session::new(engine)
        .with_filter(options.filter().map_err(|e| e.to_string())?)
        .with_capture(syscalls2::capture::Capture {
            string_limit: output.string_limit,
        });
    for sink in output.sinks(SystemTime::now())? {
        session.add_sink(sink);
    }
    session
        .replay(&fixture)
        .map_err(|e| format!("{name}: {e}"))?;
    match session.finish(Default::default()) {
        Err(SessionError::Sink(e)) => write_error(e),
        Err(e) => Err(e.to_string()),
        Ok(_) => Ok(()),
    }
}
