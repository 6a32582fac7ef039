//! The options of a trace session as `key=value` pairs: the form QEMU
//! passes plugin arguments in, and what any backend can take from its user.
//!
//! | key | meaning |
//! |---|---|
//! | `profile=NAME` | the profile (default: the backend's, from the guest's architecture) |
//! | `compat=NAME\|none` | the compat profile (default: the profile's, e.g. linux_x86 beside linux_x64) |
//! | `log=PATH\|none` | where the trace goes (default: stderr) |
//! | `format=strace\|jsonl` | strace lines, or the events of [`crate::event`] |
//! | `asid=N` | only this address space (repeatable; decimal or `0x` hex) |
//! | `trace=NAME` | only this syscall (repeatable; strace's or the table's name), or `trace=%CLASS`: strace's class ([`crate::classes`]) |
//! | `pid=N` | only this process's calls (its threads included; repeatable) |
//! | `comm=NAME` | only the calls of processes named NAME (the kernel's `comm`: 15 bytes at most; repeatable) |
//! | `tree=NAME` | only the processes named NAME and their descendants (repeatable) |
//! | `kernel=PATH` | read each call's process from the guest kernel, laid out as the file says ([`KernelLayout`]); without it, from what the calls reveal |
//! | `after=TEXT`, `until=TEXT` | only the processes forked after a call passing TEXT (see [`Filter::following`]) |
//! | `follow_forks=on\|off` | with `after=`: also what those processes fork (`on`, the default, as strace `-f`), or not ([`Filter::follow_forks`]) |
//! | `s=N` | bytes of a buffer shown (strace's `-s`; default 32) |
//! | `record=PATH`, `record_max=N` | write the traced events as a fixture (default at most 600) |
//! | `stats=PATH` | where the summary goes, as JSON (default: a line on stderr) |
//!
//! Keys this module does not know are left to the backend
//! ([`Options::backend`]), which rejects the ones it does not know either.

use crate::background::Background;
use crate::capture::Capture;
use crate::event::Summary;
use crate::session::{Filter, JsonlSink, Session, StraceSink};
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use syscalls2_core::introspect::{Attribution, KernelLayout};
use syscalls2_core::{Engine, Table};

/// The trace format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// strace lines.
    #[default]
    Strace,
    /// One event per line ([`crate::event::Event`]).
    Jsonl,
}

/// Where the trace goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Log {
    /// Standard error.
    #[default]
    Stderr,
    /// Nowhere (`log=none`): decode and count only.
    None,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for Log {
    /// The option as the user gave it (`log=PATH`), or `stderr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Log::Stderr => f.write_str("stderr"),
            Log::None => f.write_str("log=none"),
            Log::File(path) => write!(f, "log={}", path.display()),
        }
    }
}

/// A bad option: what is wrong, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError(pub String);

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OptionError {}

fn err<T>(msg: impl Into<String>) -> Result<T, OptionError> {
    Err(OptionError(msg.into()))
}

/// Parsed session options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `profile=`.
    pub profile: Option<String>,
    /// `compat=`: `Some(None)` for `compat=none`.
    pub compat: Option<Option<String>>,
    /// `log=`.
    pub log: Log,
    /// `format=`.
    pub format: Format,
    /// `asid=`.
    pub asids: Vec<u64>,
    /// `trace=`.
    pub names: Vec<String>,
    /// `pid=`.
    pub pids: Vec<u32>,
    /// `comm=`.
    pub comms: Vec<String>,
    /// `tree=`.
    pub trees: Vec<String>,
    /// `kernel=`, read.
    pub kernel: Option<KernelLayout>,
    /// `after=`.
    pub after: Option<String>,
    /// `until=`.
    pub until: Option<String>,
    /// `follow_forks=` (default on).
    pub follow_forks: bool,
    /// `s=`.
    pub string_limit: Option<usize>,
    /// `record=`.
    pub record: Option<PathBuf>,
    /// `record_max=`.
    pub record_max: usize,
    /// `stats=`.
    pub stats: Option<PathBuf>,
    /// The pairs left to the backend, in order.
    pub backend: Vec<(String, String)>,
}

/// A non-negative integer, decimal or `0x` hex, digits only.
pub fn parse_number(key: &str, v: &str) -> Result<u64, OptionError> {
    let (digits, radix) = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (v, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return err(format!(
            "{key}=`{v}`: expected a number (decimal, or hex after 0x)"
        ));
    }
    u64::from_str_radix(digits, radix)
        .or_else(|_| err(format!("{key}=`{v}`: too large for 64 bits")))
}

impl Options {
    /// Parses `key=value` pairs.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Options, OptionError> {
        let mut o = Options {
            record_max: 600,
            follow_forks: true,
            ..Options::default()
        };
        for arg in args {
            let arg = arg.as_ref();
            let Some((k, v)) = arg.split_once('=') else {
                return err(format!("argument `{arg}`: expected key=value"));
            };
            let path = |v: &str| -> Result<PathBuf, OptionError> {
                if v.is_empty() {
                    err(format!("{k}= needs a path"))
                } else {
                    Ok(PathBuf::from(v))
                }
            };
            match k {
                "profile" => o.profile = Some(v.to_string()),
                "compat" if v == "none" => o.compat = Some(None),
                "compat" => o.compat = Some(Some(v.to_string())),
                "log" if v == "none" => o.log = Log::None,
                "log" => o.log = Log::File(path(v)?),
                "format" => {
                    o.format = match v {
                        "strace" => Format::Strace,
                        "jsonl" => Format::Jsonl,
                        _ => return err(format!("format=`{v}`: expected strace or jsonl")),
                    }
                }
                "asid" => o.asids.push(parse_number(k, v)?),
                "trace" if v.is_empty() => return err("trace= needs a syscall name"),
                "trace" => o.names.push(v.to_string()),
                "pid" => o.pids.push(
                    u32::try_from(parse_number(k, v)?)
                        .or_else(|_| err(format!("pid=`{v}`: too large for a pid")))?,
                ),
                "comm" | "tree" if v.is_empty() => {
                    return err(format!("{k}= needs a process name"))
                }
                "comm" => o.comms.push(v.to_string()),
                "tree" => o.trees.push(v.to_string()),
                "kernel" => {
                    let file = path(v)?;
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| OptionError(format!("kernel={}: {e}", file.display())))?;
                    let layout = KernelLayout::parse(&text)
                        .map_err(|e| OptionError(format!("kernel={}: {e}", file.display())))?;
                    o.kernel = Some(layout);
                }
                "after" => o.after = Some(v.to_string()),
                "until" => o.until = Some(v.to_string()),
                "follow_forks" => {
                    o.follow_forks = match v {
                        "on" => true,
                        "off" => false,
                        _ => return err(format!("follow_forks=`{v}`: expected on or off")),
                    }
                }
                "s" => o.string_limit = Some(parse_number(k, v)? as usize),
                "record" => o.record = Some(path(v)?),
                "record_max" => o.record_max = parse_number(k, v)? as usize,
                "stats" => o.stats = Some(path(v)?),
                _ => o.backend.push((k.to_string(), v.to_string())),
            }
        }
        if o.until.is_some() && o.after.is_none() {
            return err("until= needs after=");
        }
        Ok(o)
    }

    /// The filter the options describe.
    pub fn filter(&self) -> Result<Filter, OptionError> {
        let mut f = Filter::default();
        for &a in &self.asids {
            f = f.with_asid(a);
        }
        for name in &self.names {
            f = match name.strip_prefix('%') {
                Some(class) => f.with_class(class),
                None => Ok(f.with_names([name.as_str()])),
            }
            .map_err(|e| OptionError(e.to_string()))?;
        }
        for &p in &self.pids {
            f = f.with_pid(p);
        }
        for c in &self.comms {
            f = f.with_comm(c.clone());
        }
        for t in &self.trees {
            f = f.with_descendants_of(t.clone());
        }
        if let Some(after) = &self.after {
            f = f
                .following(after, self.until.as_deref())
                .map_err(|e| OptionError(e.to_string()))?
                .follow_forks(self.follow_forks);
        }
        Ok(f)
    }

    /// The main table: `profile=`, else `default`; found with `by_name`
    /// (the enabled bundled profiles, or a backend's own list).
    pub fn table(
        &self,
        default: Option<&'static Table>,
        by_name: impl Fn(&str) -> Option<&'static Table>,
        known: &[&str],
    ) -> Result<&'static Table, OptionError> {
        match &self.profile {
            Some(p) => by_name(p).ok_or_else(|| {
                OptionError(format!(
                    "unknown profile `{p}`; built in: {}",
                    known.join(", ")
                ))
            }),
            None => default.ok_or_else(|| OptionError("no profile= given, and no default".into())),
        }
    }

    /// A session over `engine` as the options say: its filter, argument
    /// capture, its sink (the log file is created now, so an unwritable one
    /// is reported before the guest runs), and recording.
    pub fn session(&self, engine: Engine) -> Result<Session, OptionError> {
        let mut session = Session::new(engine).with_filter(self.filter()?);
        if let Some(layout) = &self.kernel {
            session = session.with_introspection(Attribution::with_kernel(layout.clone()));
        }
        if let Some(limit) = self.string_limit {
            session = session.with_capture(Capture {
                string_limit: limit,
            });
        }
        let out: Option<Box<dyn Write + Send>> = match &self.log {
            Log::None => None,
            Log::Stderr => Some(Box::new(std::io::stderr())),
            Log::File(path) => {
                let f = File::create(path)
                    .map_err(|e| OptionError(format!("log={}: {e}", path.display())))?;
                Some(Box::new(BufWriter::with_capacity(1 << 16, f)))
            }
        };
        // The log is rendered and written on a thread of its own, off the
        // emulator's vCPU thread.
        if let Some(out) = out {
            match self.format {
                Format::Strace => {
                    let mut sink = StraceSink::new(out);
                    if let Some(limit) = self.string_limit {
                        sink.strace.string_limit = limit;
                    }
                    session.add_sink(Background::new(sink));
                }
                Format::Jsonl => session.add_sink(Background::new(JsonlSink::new(out))),
            }
        }
        for (key, path) in [("stats", &self.stats), ("record", &self.record)] {
            // Fail now, not at exit, if the file cannot be created.
            if let Some(path) = path {
                File::create(path)
                    .map_err(|e| OptionError(format!("{key}={}: {e}", path.display())))?;
            }
        }
        if self.record.is_some() {
            session.record(self.record_max);
        }
        Ok(session)
    }

    /// Writes what a session leaves at its end: the summary (`stats=` as
    /// JSON, else a line on stderr) and the recording (`record=`, its
    /// `source` saying where it comes from). Returns what failed.
    pub fn write_results(&self, session: &Session, summary: &Summary, source: &str) -> Vec<String> {
        let mut errors = Vec::new();
        match &self.stats {
            Some(path) => {
                let json = serde_json::to_string(summary).expect("a summary serialises");
                if let Err(e) = std::fs::write(path, json + "\n") {
                    errors.push(format!("stats={}: {e}", path.display()));
                }
            }
            None => eprintln!("{}", summary_line(summary)),
        }
        if let (Some(path), Some(fixture)) = (&self.record, session.recording(source)) {
            if let Err(e) = std::fs::write(path, fixture.to_json()) {
                errors.push(format!("record={}: {e}", path.display()));
            }
        }
        errors
    }
}

/// The summary as one line of text.
pub fn summary_line(summary: &Summary) -> String {
    let s = &summary.counters;
    let pending: Vec<String> = summary
        .pending
        .iter()
        .map(|c| format!("{}@{:#x}", c.name.as_deref().unwrap_or("?"), c.asid))
        .collect();
    let backend: Vec<String> = summary
        .backend
        .iter()
        .map(|(k, v)| format!(" {k} {v}"))
        .collect();
    format!(
        "syscalls2: profile {} enters {} returns {} noreturn {} unknown {} restarted {} exec_succeeded {} late_returns {} rerun_return_blocks {} evicted {} decode_errors {} events {} unpaired(pending) {} [{}]{}",
        summary.profile,
        s.enters,
        s.returns,
        s.noreturn,
        s.unknown,
        s.restarted,
        s.exec_succeeded,
        s.late_returns,
        s.rerun_return_blocks,
        s.evicted,
        s.decode_errors,
        summary.events,
        summary.pending.len(),
        pending.join(" "),
        backend.concat()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_and_unknown_ones_go_to_the_backend() {
        let o = Options::parse(&[
            "profile=linux_x86",
            "compat=none",
            "log=none",
            "format=jsonl",
            "asid=0x1000",
            "asid=42",
            "trace=openat",
            "after=BEGIN",
            "until=END",
            "s=64",
            "record_max=10",
            "returns=sites",
        ])
        .unwrap();
        assert_eq!(o.profile.as_deref(), Some("linux_x86"));
        assert_eq!(o.compat, Some(None));
        assert_eq!(o.log, Log::None);
        assert_eq!(o.format, Format::Jsonl);
        assert_eq!(o.asids, [0x1000, 42]);
        assert_eq!(o.names, ["openat"]);
        assert_eq!(o.string_limit, Some(64));
        assert_eq!(o.record_max, 10);
        assert_eq!(o.backend, [("returns".to_string(), "sites".to_string())]);
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let bad = |a: &str| Options::parse(&[a]).unwrap_err().to_string();
        assert_eq!(bad("verbose"), "argument `verbose`: expected key=value");
        assert!(bad("format=xml").contains("expected strace or jsonl"));
        for v in ["asid=0x+10", "asid=+5", "asid=", "asid=0x", "asid=12a"] {
            assert!(bad(v).contains("expected a number"), "{v}: {}", bad(v));
        }
        assert!(bad("asid=0x1ffffffffffffffff").contains("too large"));
        assert!(bad("log=").contains("needs a path"));
        assert_eq!(bad("until=END"), "until= needs after=");
        assert!(bad("follow_forks=yes").contains("expected on or off"));
        // An empty marker would match every call.
        let o = Options::parse(&["after="]).unwrap();
        assert!(o
            .filter()
            .unwrap_err()
            .to_string()
            .contains("after= needs a text"));
        let o = Options::parse(&["after=A", "until="]).unwrap();
        assert!(o
            .filter()
            .unwrap_err()
            .to_string()
            .contains("until= needs a text"));
    }

    #[test]
    fn an_unwritable_log_fails_before_the_run() {
        let engine = || Engine::new(crate::profiles::by_name("linux_x64").unwrap());
        for key in ["log", "stats", "record"] {
            let arg = format!("{key}=/nonexistent-dir/out");
            let o = Options::parse(&[arg.as_str()]).unwrap();
            let e = o.session(engine()).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{arg}: ")), "{e}");
        }
    }

    #[test]
    fn a_full_device_is_reported_naming_the_file() {
        // /dev/full opens, and fails every write: the log's failure comes at
        // the end of the run (the plugin prints it with the option), the
        // summary's when it is written.
        let o = Options::parse(&["log=/dev/full", "stats=/dev/full"]).unwrap();
        assert_eq!(o.log.to_string(), "log=/dev/full");
        let mut session = o
            .session(Engine::new(crate::profiles::by_name("linux_x64").unwrap()))
            .unwrap();
        let summary = session.summary(Default::default());
        let errors = o.write_results(&session, &summary, "test");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("stats=/dev/full: "), "{errors:?}");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/linux_x64_pairing.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        session
            .replay(&crate::fixture::Fixture::from_json(&text).unwrap())
            .unwrap();
        let e = session.finish(Default::default()).unwrap_err().to_string();
        assert!(e.contains("No space left on device"), "{e}");
    }
}
