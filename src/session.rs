//! A trace session: an [`Engine`] with what a tracing tool puts around it,
//! for any backend.
//!
//! - a [`Filter`]: which calls are traced (address spaces; syscall names;
//!   processes by pid, by name, a command and its descendants; the
//!   processes a command forks, from marker writes);
//! - process attribution: who made each call ([`syscalls2_core::introspect`],
//!   the guest kernel's task where it can be read, else what the calls
//!   revealed), in every event's `pid`, `tid`, `ppid` and `comm`;
//! - [`Sink`]s: where traced calls go ([`StraceSink`] text, [`JsonlSink`]
//!   events, [`MemorySink`] for tests and embedding), each call as an
//!   [`Event`] of the versioned schema;
//! - fixture recording ([`Session::record`]);
//! - the counters and the end-of-run [`Summary`].
//!
//! A backend drives a session as it would an engine (the session is a
//! [`Handler`]): the QEMU plugin from its callbacks, [`Session::replay`]
//! from a fixture. Nothing here knows an emulator.
//!
//! ```
//! use syscalls2::session::{Filter, MemorySink, Session, StraceSink};
//! use syscalls2::{fixture::Fixture, profiles, Engine};
//!
//! let text = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/tests/fixtures/linux_x64_qemu_workload.json"
//! ))?;
//! let fixture = Fixture::from_json(&text)?;
//! let engine = Engine::new(profiles::by_name("linux_x64").unwrap());
//! let events = MemorySink::default();
//! let mut session = Session::new(engine)
//!     .with_filter(Filter::default().with_names(["openat", "read"]));
//! session.add_sink(events.clone());
//! session.add_sink(StraceSink::new(std::io::sink()));
//! session.replay(&fixture)?;
//! let summary = session.finish(Default::default())?;
//! assert!(events.events().iter().all(|e| matches!(e.name.as_deref(), Some("openat" | "read"))));
//! assert!(summary.counters.enters > 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::capture::{is_input, length_of, Capture};
use crate::event::{ErrorCode, Event, PendingCall, Phase, Summary, VERSION};
use crate::strace::{strace_name, Strace};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use syscalls2_core::fixture::{self, EventKind, Fixture, FixtureError, Recorder};
use syscalls2_core::introspect::{Attribution, Introspect, Process};
use syscalls2_core::{
    errno, Abi, ArgClass, Cpu, CpuExt, Dropped, Engine, Handler, Observer, Os, SyscallCtx,
    SyscallInfo, SyscallInsn,
};

/// A traced call as a sink receives it: the event, and what the table says
/// about the call.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The event.
    pub event: &'a Event,
    /// The call's table entry; `None` for a number the table lacks.
    pub info: Option<&'static SyscallInfo>,
    /// The ABI the call follows.
    pub abi: Abi,
}

impl<'a> Record<'a> {
    /// An event read back (from JSON lines, say), with its table entry and
    /// ABI from the bundled profiles; `None` when its profile or ABI is not
    /// built in.
    pub fn of(event: &'a Event) -> Option<Record<'a>> {
        let table = crate::profiles::by_name(&event.profile);
        let abi = Abi::from_name(&event.abi).or(table.map(|t| t.abi))?;
        Some(Record {
            event,
            info: table.and_then(|t| t.by_number(event.no)),
            abi,
        })
    }
}

/// Where traced calls go.
pub trait Sink: Send {
    /// Takes one event (every enter and every return of a traced call).
    fn event(&mut self, record: &Record<'_>) -> io::Result<()>;

    /// The session ended: flush, and write the summary if this sink does.
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let _ = summary;
        Ok(())
    }
}

/// What starts a line: strace's `-t`, `-tt`, `-ttt`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timestamps {
    /// Nothing.
    #[default]
    None,
    /// `-t`: the time of day (UTC), `15:04:05`.
    Seconds,
    /// `-tt`: with microseconds, `15:04:05.123456`.
    Micros,
    /// `-ttt`: seconds since the Unix epoch, with microseconds.
    Epoch,
}

impl Timestamps {
    /// The prefix for an event `ts` nanoseconds after `start`.
    pub fn prefix(self, start: SystemTime, ts: u64) -> String {
        let at = start + Duration::from_nanos(ts);
        let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let (secs, micros) = (since.as_secs(), since.subsec_micros());
        let day = secs % 86_400;
        let hms = format!("{:02}:{:02}:{:02}", day / 3600, day / 60 % 60, day % 60);
        match self {
            Timestamps::None => String::new(),
            Timestamps::Seconds => format!("{hms} "),
            Timestamps::Micros => format!("{hms}.{micros:06} "),
            Timestamps::Epoch => format!("{secs}.{micros:06} "),
        }
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn event(&mut self, record: &Record<'_>) -> io::Result<()> {
        (**self).event(record)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

/// strace-style lines ([`Strace`]), one per call.
pub struct StraceSink<W: Write + Send> {
    out: W,
    /// The rendering.
    pub strace: Strace,
    /// strace's `-t`/`-tt`/`-ttt`.
    pub timestamps: Timestamps,
    /// strace's `-T`: the time spent in the call, `<0.000123>`, after a
    /// returned call's line.
    pub durations: bool,
    /// When the events' `ts` was 0 (default: when the sink was made).
    pub start: SystemTime,
}

impl<W: Write + Send> StraceSink<W> {
    /// Lines written to `out`, with strace's defaults.
    pub fn new(out: W) -> Self {
        StraceSink {
            out,
            strace: Strace::default(),
            timestamps: Timestamps::None,
            durations: false,
            start: SystemTime::now(),
        }
    }
}

impl<W: Write + Send> Sink for StraceSink<W> {
    fn event(&mut self, r: &Record<'_>) -> io::Result<()> {
        let Some(line) = self.strace.line(r.event, r.info, r.abi) else {
            return Ok(());
        };
        let prefix = self.timestamps.prefix(self.start, r.event.ts);
        match r.event.duration_ns {
            Some(ns) if self.durations => {
                let d = Duration::from_nanos(ns);
                let (s, us) = (d.as_secs(), d.subsec_micros());
                writeln!(self.out, "{prefix}{line} <{s}.{us:06}>")
            }
            _ => writeln!(self.out, "{prefix}{line}"),
        }
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// JSON lines: one [`Event`] per line.
pub struct JsonlSink<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> JsonlSink<W> {
    /// Events written to `out`.
    pub fn new(out: W) -> Self {
        JsonlSink { out }
    }
}

impl<W: Write + Send> Sink for JsonlSink<W> {
    fn event(&mut self, r: &Record<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, r.event)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// Keeps the events in memory, shared: clone it, add one clone to the
/// session, read the events from the other.
#[derive(Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<Event>>>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl MemorySink {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The strace lines of those events ([`Strace::default`]).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sink for MemorySink {
    fn event(&mut self, r: &Record<'_>) -> io::Result<()> {
        if let Some(line) = Strace::default().line(r.event, r.info, r.abi) {
            self.lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line);
        }
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(r.event.clone());
        Ok(())
    }
}

/// A filter option that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterError {
    /// A marker text is empty (it would match every call).
    EmptyMarker(&'static str),
    /// A `%class` strace does not have ([`crate::classes`]).
    UnknownClass(String),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::EmptyMarker(which) => {
                write!(
                    f,
                    "{which}= needs a text: an empty marker would match every call"
                )
            }
            FilterError::UnknownClass(c) => {
                let known: Vec<String> = crate::classes::names().map(|n| format!("%{n}")).collect();
                write!(
                    f,
                    "unknown syscall class `{c}`; known: {}",
                    known.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for FilterError {}

/// Which calls a session traces. Every condition set must hold.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    asids: Vec<u64>,
    names: Option<BTreeSet<String>>,
    follow: Option<Follow>,
    pids: Vec<u32>,
    comms: Vec<String>,
    tree: Option<Tree>,
}

/// A command and its descendants: the processes named so, and every
/// process whose parent is one of them.
#[derive(Clone, Debug, Default)]
struct Tree {
    roots: Vec<String>,
    pids: HashSet<u32>,
}

impl Tree {
    /// Whether `p` belongs, learning it if it does.
    fn admits(&mut self, p: Option<&Process>) -> bool {
        let Some(p) = p else { return false };
        let Some(pid) = p.pid else { return false };
        if self.pids.contains(&pid) {
            return true;
        }
        let root = p.comm.as_ref().is_some_and(|c| self.roots.contains(c));
        let child = p.ppid.is_some_and(|pp| self.pids.contains(&pp));
        if root || child {
            self.pids.insert(pid);
        }
        root || child
    }
}

impl Filter {
    /// Only calls made in address space `asid` (repeatable).
    pub fn with_asid(mut self, asid: u64) -> Filter {
        self.asids.push(asid);
        self
    }

    /// Only the syscalls named so: strace's names (`openat`) or the
    /// table's (`sys_openat`, `NtReadFile`).
    pub fn with_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Filter {
        self.names
            .get_or_insert_with(BTreeSet::new)
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Only the syscalls of strace's class `class` (`%file`, `file`, …;
    /// see [`crate::classes`]), beside those of other names and classes.
    pub fn with_class(self, class: &str) -> Result<Filter, FilterError> {
        match crate::classes::members(class) {
            Some(names) => Ok(self.with_names(names.iter().copied())),
            None => Err(FilterError::UnknownClass(class.to_string())),
        }
    }

    /// Nothing until a call that passes a string or buffer containing
    /// `after` (a `write` of a marker); then only the processes its caller
    /// forks after it, and their descendants (through fork, clone and
    /// exec); until the caller passes `until`.
    pub fn following(mut self, after: &str, until: Option<&str>) -> Result<Filter, FilterError> {
        if after.is_empty() {
            return Err(FilterError::EmptyMarker("after"));
        }
        if until.is_some_and(str::is_empty) {
            return Err(FilterError::EmptyMarker("until"));
        }
        self.follow = Some(Follow {
            after: after.to_string(),
            until: until.map(str::to_string),
            forks_too: true,
            ..Follow::default()
        });
        Ok(self)
    }

    /// With [`Filter::following`]: whether the processes followed fork
    /// followed processes in turn (`true`, the default: strace `-f`), or
    /// only the processes the marker's writer forks are followed, with
    /// what they exec and their threads, not what they fork (`false`:
    /// strace without `-f`, run under a shell). No effect without
    /// `following`.
    pub fn follow_forks(mut self, on: bool) -> Filter {
        if let Some(f) = &mut self.follow {
            f.forks_too = on;
        }
        self
    }

    /// Only calls of process `pid` (its threads included; repeatable).
    pub fn with_pid(mut self, pid: u32) -> Filter {
        self.pids.push(pid);
        self
    }

    /// Only calls of processes named `comm` (as the kernel keeps it: at
    /// most 15 bytes, the program's base name after `execve`; repeatable).
    pub fn with_comm(mut self, comm: impl Into<String>) -> Filter {
        self.comms.push(comm.into());
        self
    }

    /// Only the processes named `comm` and their descendants (a command and
    /// everything it starts, as `strace -f` follows it; repeatable).
    pub fn with_descendants_of(mut self, comm: impl Into<String>) -> Filter {
        self.tree
            .get_or_insert_with(Tree::default)
            .roots
            .push(comm.into());
        self
    }

    /// Whether a condition on the calling process is set (the process
    /// must then be known for every call).
    fn needs_process(&self) -> bool {
        !self.pids.is_empty() || !self.comms.is_empty() || self.tree.is_some()
    }

    /// Whether the process conditions admit `p` (the tree learns from
    /// every call, traced or not).
    fn wants_process(&mut self, p: Option<&Process>) -> bool {
        let tree = self.tree.as_mut().is_none_or(|t| t.admits(p));
        let pid = self.pids.is_empty()
            || p.and_then(|p| p.pid)
                .is_some_and(|x| self.pids.contains(&x));
        let comm = self.comms.is_empty()
            || p.and_then(|p| p.comm.as_ref())
                .is_some_and(|c| self.comms.contains(c));
        tree && pid && comm
    }

    fn wants_asid(&self, asid: u64) -> bool {
        (self.asids.is_empty() || self.asids.contains(&asid))
            && self.follow.as_ref().is_none_or(|f| f.follows(asid))
    }

    fn wants_call(&self, ctx: &SyscallCtx) -> bool {
        let Some(names) = &self.names else {
            return true;
        };
        ctx.info.is_some_and(|i| {
            names.contains(i.name) || names.contains(&strace_name(ctx.abi, i.name))
        })
    }
}

/// The processes a marker write starts following.
#[derive(Clone, Debug, Default)]
struct Follow {
    after: String,
    until: Option<String>,
    /// The address space of the marker's writer, once seen.
    root: Option<u64>,
    /// Whether the forks of followed processes are followed too.
    forks_too: bool,
    /// The address space each open fork-like call was made in, by `seq`
    /// (the most recent [`FORKS_KEPT`]): tells a new process's child
    /// return from a thread's.
    fork_parents: BTreeMap<u64, u64>,
    stopped: bool,
    traced: HashSet<u64>,
    /// Open fork-like calls of traced processes, by return address.
    forking: HashMap<u64, u32>,
    /// Per vCPU: the traced address space that called execve (a map: a
    /// backend's vCPU number may be anything up to `u32::MAX`).
    exec_from: HashMap<u32, u64>,
}

/// How many open fork-like calls keep their caller's address space.
const FORKS_KEPT: usize = 4096;

/// How many bytes of a call's input are searched for a marker.
const MARKER_SCAN: usize = 256;

impl Follow {
    fn active(&self) -> bool {
        self.root.is_some() && !self.stopped
    }

    fn follows(&self, asid: u64) -> bool {
        self.active() && self.traced.contains(&asid)
    }

    /// Whether a string or buffer the call reads contains `text`.
    fn passes(cpu: &mut dyn Cpu, ctx: &SyscallCtx, text: &str) -> bool {
        let Some(info) = ctx.info else {
            return false;
        };
        let text = text.as_bytes();
        info.args.iter().enumerate().any(|(i, a)| {
            let addr = ctx.args[i];
            let read = match (a.class, length_of(info.args, i)) {
                (ArgClass::CStr | ArgClass::Buf, Some(len)) if is_input(a) => {
                    let len = (ctx.args[len] as usize).min(MARKER_SCAN);
                    cpu.read_bytes(addr, len)
                }
                (ArgClass::CStr, None) => cpu.read_cstr(addr, MARKER_SCAN),
                _ => return false,
            };
            addr != 0 && read.is_ok_and(|b| b.windows(text.len()).any(|w| w == text))
        })
    }

    fn on_enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let v = ctx.vcpu;
        if let Some(&a) = self.exec_from.get(&v) {
            if ctx.asid == a {
                // The execve failed, or has not happened yet.
                self.exec_from.remove(&v);
            } else if !self.traced.contains(&ctx.asid) && self.root != Some(ctx.asid) {
                // The first call of the new image on the vCPU that made a
                // traced execve.
                self.traced.insert(ctx.asid);
                self.exec_from.remove(&v);
            }
        }
        let forker =
            self.root == Some(ctx.asid) || (self.forks_too && self.traced.contains(&ctx.asid));
        let double = ctx.info.is_some_and(|i| i.returns.double_return);
        if forker && double {
            *self.forking.entry(ctx.retaddr).or_default() += 1;
        }
        if double && self.active() {
            self.fork_parents.insert(ctx.seq, ctx.asid);
            if self.fork_parents.len() > FORKS_KEPT {
                self.fork_parents.pop_first();
            }
        }
        let exec = ctx.info.is_some_and(|i| i.returns.noreturn_on_success);
        if exec && self.traced.contains(&ctx.asid) {
            self.exec_from.insert(v, ctx.asid);
        }
        self.look_for_markers(cpu, ctx);
    }

    /// Whether the call writes the `after=` marker (or, in the followed
    /// root, the `until=` one). Asked at the enter and again at the
    /// return: a buffer a backend could not read at the enter is readable
    /// once the kernel has read it (on MIPS the plugin reads through the
    /// TLB, which holds only the pages a process touched lately).
    fn look_for_markers(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        match self.root {
            None if Self::passes(cpu, ctx, &self.after) => self.root = Some(ctx.asid),
            Some(root) if ctx.asid == root && !self.stopped => {
                if let Some(until) = &self.until {
                    if Self::passes(cpu, ctx, until) {
                        self.stopped = true;
                    }
                }
            }
            _ => {}
        }
    }

    fn on_return(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        if !ctx.child {
            self.look_for_markers(cpu, ctx);
        }
        if !self.active() {
            return;
        }
        let double = ctx.info.is_some_and(|i| i.returns.double_return);
        if !double {
            return;
        }
        let waiting = self.forking.get(&ctx.retaddr).copied().unwrap_or(0);
        let parent = if ctx.child {
            self.fork_parents.remove(&ctx.seq)
        } else {
            None
        };
        if waiting == 0 {
            // A new process nobody follows: its address space may be the
            // one of a followed process that exec'd (the kernel reuses
            // page tables), which is followed no more.
            if parent.is_some_and(|p| p != ctx.asid) {
                self.traced.remove(&ctx.asid);
            }
            return;
        }
        // A traced fork's child (the engine reports it in the child's
        // address space), or a failed traced fork.
        let failed = ctx.retval.is_some_and(|r| r.is_error());
        if ctx.child || failed {
            if waiting == 1 {
                self.forking.remove(&ctx.retaddr);
            } else {
                self.forking.insert(ctx.retaddr, waiting - 1);
            }
        }
        if ctx.child && Some(ctx.asid) != self.root {
            self.traced.insert(ctx.asid);
        }
    }
}

/// Why a session could not finish cleanly.
#[derive(Debug)]
pub enum SessionError {
    /// A sink failed to write (the first failure; output after it is lost).
    Sink(io::Error),
    /// A fixture could not be replayed.
    Fixture(FixtureError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Sink(e) => write!(f, "writing the trace failed: {e}"),
            SessionError::Fixture(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// A traced call between its enter and its return.
struct Open {
    event: Event,
    /// Returns seen (a fork returns twice).
    returns: u8,
}

/// How many renaming calls wait for their return at most (calls that never
/// return are forgotten beyond).
const RENAMES_KEPT: usize = 1024;

/// How many retired calls keep their enter event (as many as the engine
/// keeps findable).
const RETIRED_KEPT: usize = 64;

/// The session's part besides the engine: what observes it.
struct Trace {
    filter: Filter,
    introspect: Box<dyn Introspect>,
    capture: Capture,
    /// Windows handle names, from every call (traced or not).
    handles: crate::windows_args::Handles,
    sinks: Vec<Box<dyn Sink>>,
    start: Instant,
    open: HashMap<u64, Open>,
    /// The names calls that rename their caller give it, by `seq`, until
    /// they return (and succeed).
    renames: HashMap<u64, Vec<u8>>,
    /// Calls retired as successful (an `execve` that did not return),
    /// newest last, kept should one return late after all.
    retired: VecDeque<(u64, Open)>,
    events: u64,
    error: Option<io::Error>,
    /// Whether the event being handled was traced (for the recorder).
    traced_now: bool,
    /// Who made the call being handled, once asked (by the filter, the
    /// event or a hook), so that all three get one answer.
    asked: Option<Asked>,
}

/// An answer of the introspection layer, for one enter or return.
struct Asked {
    /// The call's `seq`, whether it is its return, whether the child's.
    key: (u64, bool, bool),
    process: Option<Process>,
}

impl Trace {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn emit(&mut self, event: &Event, ctx: &SyscallCtx) {
        let record = Record {
            event,
            info: ctx.info,
            abi: ctx.abi,
        };
        self.events += 1;
        for sink in &mut self.sinks {
            if let Err(e) = sink.event(&record) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Asks the introspection layer who made the call `ctx` (at this enter
    /// or return), once: [`Trace::who`] has the answer.
    fn ask(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let key = (ctx.seq, ctx.retval.is_some(), ctx.child);
        if self.asked.as_ref().is_none_or(|a| a.key != key) {
            let process = self.introspect.current(cpu, ctx);
            self.asked = Some(Asked { key, process });
        }
    }

    /// Whether the call passes the filter (asking who made it when that is
    /// needed, or when it passes).
    fn admit(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> bool {
        let needs = self.filter.needs_process();
        let plain = self.filter.wants_asid(ctx.asid) && self.filter.wants_call(ctx);
        if !plain && !needs {
            return false;
        }
        self.ask(cpu, ctx);
        let process = self.asked.as_ref().and_then(|a| a.process.as_ref());
        plain && self.filter.wants_process(process)
    }

    /// The answer [`Trace::ask`] got for `ctx`, if it was asked.
    fn who(&self, ctx: &SyscallCtx) -> Option<&Process> {
        let key = (ctx.seq, ctx.retval.is_some(), ctx.child);
        self.asked
            .as_ref()
            .filter(|a| a.key == key)
            .and_then(|a| a.process.as_ref())
    }

    fn enter_event(&self, cpu: &mut dyn Cpu, ctx: &SyscallCtx, p: Option<&Process>) -> Event {
        Event {
            v: VERSION,
            ev: Phase::Enter,
            seq: ctx.seq,
            ts: self.now(),
            icount: cpu.icount(),
            vcpu: ctx.vcpu,
            asid: ctx.asid,
            pc: ctx.pc,
            sp: ctx.sp,
            retaddr: ctx.retaddr,
            insn: None,
            profile: ctx.table.name.to_string(),
            abi: ctx.abi.name().to_string(),
            no: ctx.no,
            name: ctx.info.map(|i| strace_name(ctx.abi, i.name)),
            syscall: ctx.info.map(|i| i.name.to_string()),
            pid: p.and_then(|p| p.pid),
            tid: p.and_then(|p| p.tid),
            ppid: p.and_then(|p| p.ppid),
            comm: p.and_then(|p| p.comm.clone()),
            attribution: p.map(|p| p.source.name().to_string()),
            args: self.capture.enter_with(cpu, ctx, &self.handles),
            ret: None,
            errno: None,
            duration_ns: None,
            child: None,
        }
    }
}

thread_local! {
    /// The instruction of the syscall being handled (for its enter event).
    static INSN: std::cell::Cell<Option<SyscallInsn>> = const { std::cell::Cell::new(None) };
}

impl Observer for Trace {
    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        if let Some(follow) = &mut self.filter.follow {
            follow.on_enter(cpu, ctx);
        }
        self.introspect.enter(cpu, ctx);
        if ctx.info.is_some_and(|i| crate::decode::renames(i.name)) {
            // Empty when it cannot be read now: read again at the return.
            let name = crate::capture::new_name(cpu, ctx).unwrap_or_default();
            if self.renames.len() >= RENAMES_KEPT {
                self.renames.clear();
            }
            self.renames.insert(ctx.seq, name);
        }
        if ctx.abi.os == Os::Windows {
            self.handles.enter(cpu, ctx);
        }
        self.traced_now = self.admit(cpu, ctx);
        if !self.traced_now {
            return;
        }
        let mut event = self.enter_event(cpu, ctx, self.who(ctx));
        event.insn = INSN.with(|i| i.get()).map(|i| i.name().to_string());
        self.emit(&event, ctx);
        if !ctx.info.is_some_and(|i| i.returns.noreturn) {
            self.open.insert(ctx.seq, Open { event, returns: 0 });
        }
    }

    fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        if let Some(follow) = &mut self.filter.follow {
            follow.on_return(cpu, ctx);
        }
        self.introspect.ret(cpu, ctx);
        // The new name as read at the enter, else now (where the enter
        // could not read it: see `Follow::look_for_markers`).
        let name = (!self.renames.is_empty())
            .then(|| self.renames.remove(&ctx.seq))
            .flatten()
            .and_then(|n| {
                if n.is_empty() {
                    crate::capture::new_name(cpu, ctx)
                } else {
                    Some(n)
                }
            });
        if let Some(name) = name {
            if ctx.retval.is_some_and(|r| !r.is_error()) {
                self.introspect.renamed(ctx, &name);
            }
        }
        if ctx.abi.os == Os::Windows {
            self.handles.ret(cpu, ctx);
        }
        let double = ctx.info.is_some_and(|i| i.returns.double_return);
        let failed = ctx.retval.is_some_and(|r| r.is_error());
        if let Some(i) = self.retired.iter().position(|(seq, _)| *seq == ctx.seq) {
            if let Some((seq, open)) = self.retired.remove(i) {
                self.open.insert(seq, open);
            }
        }
        let traced = self.admit(cpu, ctx);
        let (mut event, returns) = match self.open.get_mut(&ctx.seq) {
            Some(open) => {
                open.returns += 1;
                (open.event.clone(), open.returns)
            }
            // Not traced at its enter: a fork's child in a newly followed
            // process, or a late return of a retired call.
            None if traced => (self.enter_event(cpu, ctx, self.who(ctx)), 1),
            None => {
                self.traced_now = false;
                return;
            }
        };
        self.traced_now = true;
        if !double || returns >= 2 || failed {
            self.open.remove(&ctx.seq);
        }
        let ts = self.now();
        self.capture
            .at_return_with(cpu, ctx, &mut event.args, &self.handles);
        let retval = ctx.retval.unwrap_or(syscalls2_core::Retval::linux(0));
        event.ev = Phase::Return;
        event.duration_ns = Some(ts.saturating_sub(event.ts));
        event.ts = ts;
        event.icount = cpu.icount();
        event.insn = None;
        event.asid = ctx.asid;
        event.sp = ctx.sp;
        event.ret = Some(retval.value);
        event.errno = retval.error.map(|no| error_code(ctx.abi, no));
        event.child = Some(ctx.child);
        // Who returns: a fork's child is another process than its parent.
        if let Some(p) = self.who(ctx) {
            event.pid = p.pid;
            event.tid = p.tid;
            event.ppid = p.ppid;
            event.comm.clone_from(&p.comm);
            event.attribution = Some(p.source.name().to_string());
        }
        self.emit(&event, ctx);
    }

    fn retired(&mut self, ctx: &SyscallCtx) {
        if let Some(open) = self.open.remove(&ctx.seq) {
            // The call succeeded: where the data says what it then returned
            // (an exec's 0, to the new image, which strace prints), the
            // return event says so, in the address space the call was made in.
            if let Some(value) = ctx.info.and_then(|i| crate::decode::success(i.name)) {
                let mut event = open.event.clone();
                let ts = self.now();
                event.ev = Phase::Return;
                event.duration_ns = Some(ts.saturating_sub(event.ts));
                event.ts = ts;
                event.icount = None;
                event.insn = None;
                event.ret = Some(value);
                event.errno = None;
                event.child = Some(false);
                self.emit(&event, ctx);
            }
            if self.retired.len() == RETIRED_KEPT {
                self.retired.pop_front();
            }
            self.retired.push_back((ctx.seq, open));
        }
    }

    fn dropped(&mut self, seq: u64, _why: Dropped) {
        self.open.remove(&seq);
        self.handles.dropped(seq);
    }

    fn process(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Process> {
        self.ask(cpu, ctx);
        self.who(ctx).cloned()
    }
}

/// The name and number of an error a call returned on `abi`.
pub fn error_code(abi: Abi, no: u32) -> ErrorCode {
    let name = match abi.os {
        Os::Linux | Os::FreeBsd => abi.errno_name(no).map(|e| e.name.to_string()),
        Os::Windows => {
            errno::ntstatus_by_value(errno::tables::NTSTATUS, no).map(|s| s.name.to_string())
        }
    };
    ErrorCode { name, no }
}

/// An engine, with filters, sinks, counters and recording around it.
pub struct Session {
    engine: Engine,
    trace: Trace,
    recording: Option<Recording>,
}

/// Fixture events being kept.
struct Recording {
    events: Vec<fixture::Event>,
    max: usize,
}

impl Session {
    /// A session around `engine`: no filter, no sink.
    pub fn new(engine: Engine) -> Session {
        Session {
            engine,
            trace: Trace {
                filter: Filter::default(),
                introspect: Box::new(Attribution::default()),
                capture: Capture::default(),
                handles: crate::windows_args::Handles::default(),
                sinks: Vec::new(),
                start: Instant::now(),
                open: HashMap::new(),
                renames: HashMap::new(),
                retired: VecDeque::new(),
                events: 0,
                error: None,
                traced_now: false,
                asked: None,
            },
            recording: None,
        }
    }

    /// Traces only what `filter` lets through.
    pub fn with_filter(mut self, filter: Filter) -> Session {
        self.trace.filter = filter;
        self
    }

    /// Attributes calls to processes with `introspect` (the default,
    /// [`Attribution::default`], knows what the calls reveal; give it a
    /// kernel layout to read the guest kernel).
    pub fn with_introspection(mut self, introspect: impl Introspect + 'static) -> Session {
        self.trace.introspect = Box::new(introspect);
        self
    }

    /// Reads arguments so (strace's `-s`).
    pub fn with_capture(mut self, capture: Capture) -> Session {
        self.trace.capture = capture;
        self
    }

    /// Sends every traced call to `sink` too.
    pub fn add_sink(&mut self, sink: impl Sink + 'static) {
        self.trace.sinks.push(Box::new(sink));
    }

    /// Keeps the CPU state of every traced event (at most `max`), for
    /// [`Session::recording`].
    pub fn record(&mut self, max: usize) {
        self.recording = Some(Recording {
            events: Vec::new(),
            max,
        });
    }

    /// The fixture recorded so far (see [`Session::record`]), `source`
    /// saying where it comes from.
    pub fn recording(&self, source: &str) -> Option<Fixture> {
        let rec = self.recording.as_ref()?;
        let table = self.engine.table();
        Some(Fixture {
            profile: table.name.to_string(),
            compat: self
                .engine
                .compat_tables()
                .first()
                .map(|t| t.name.to_string()),
            source: source.to_string(),
            events: rec.events.clone(),
        })
    }

    /// The engine (to register hooks, read counters).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, mutably.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Runs the session over a recorded fixture, as a backend would.
    pub fn replay(&mut self, fixture: &Fixture) -> Result<(), SessionError> {
        fixture::replay(fixture, self).map_err(SessionError::Fixture)
    }

    /// The counters so far, with the backend's own.
    pub fn summary(&self, backend: BTreeMap<String, u64>) -> Summary {
        let pending = self
            .engine
            .pending()
            .iter()
            .map(|c| PendingCall {
                seq: c.seq,
                name: c.info.map(|i| strace_name(c.abi, i.name)),
                no: c.no,
                asid: c.asid,
                pc: c.pc,
                vcpu: c.vcpu,
            })
            .collect();
        Summary {
            v: VERSION,
            profile: self.engine.table().name.to_string(),
            counters: self.engine.stats(),
            events: self.trace.events,
            pending,
            backend,
        }
    }

    /// Ends the session: every sink is finished (flushed) with the summary,
    /// which is returned; or the first write that failed.
    pub fn finish(&mut self, backend: BTreeMap<String, u64>) -> Result<Summary, SessionError> {
        let summary = self.summary(backend);
        for sink in &mut self.trace.sinks {
            if let Err(e) = sink.finish(&summary) {
                self.trace.error.get_or_insert(e);
            }
        }
        match self.trace.error.take() {
            Some(e) => Err(SessionError::Sink(e)),
            None => Ok(summary),
        }
    }

    /// The first write that failed so far, if any (taken: reported once).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.trace.error.take()
    }
}

impl Handler for Session {
    fn abi(&self) -> Abi {
        self.engine.table().abi
    }

    fn is_return_site(&self, pc: u64) -> bool {
        self.engine.is_return_site(pc)
    }

    fn on_syscall(&mut self, cpu: &mut dyn Cpu, pc: u64, insn: SyscallInsn, bytes: &[u8]) {
        INSN.with(|i| i.set(Some(insn)));
        self.trace.traced_now = false;
        match &mut self.recording {
            None => self.engine.on_syscall_with(cpu, pc, insn, &mut self.trace),
            Some(rec) => {
                let mut r = Recorder::new(cpu, EventKind::Syscall, pc, Some(bytes));
                self.engine
                    .on_syscall_with(&mut r, pc, insn, &mut self.trace);
                let event = r.finish();
                if self.trace.traced_now && rec.events.len() < rec.max {
                    rec.events.push(event);
                }
            }
        }
        INSN.with(|i| i.set(None));
    }

    fn on_block(&mut self, cpu: &mut dyn Cpu, pc: u64) {
        if !self.engine.is_return_site(pc) {
            return;
        }
        self.trace.traced_now = false;
        match &mut self.recording {
            None => self.engine.on_block_with(cpu, pc, &mut self.trace),
            Some(rec) => {
                let returns = self.engine.stats().returns;
                let mut r = Recorder::new(cpu, EventKind::Block, pc, None);
                self.engine.on_block_with(&mut r, pc, &mut self.trace);
                let event = r.finish();
                let paired = self.engine.stats().returns != returns;
                if paired && self.trace.traced_now && rec.events.len() < rec.max {
                    rec.events.push(event);
                }
            }
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("engine", &self.engine)
            .field("sinks", &self.trace.sinks.len())
            .field("open", &self.trace.open.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profiles;

    /// A writer whose bytes the test reads after the session took it.
    #[derive(Clone, Default)]
    pub(crate) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

    impl SharedBuf {
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn fixture(name: &str) -> Fixture {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        Fixture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn session(f: &Fixture) -> Session {
        let table = profiles::by_name(&f.profile).unwrap();
        let engine = profiles::compat_for(table)
            .into_iter()
            .fold(Engine::new(table), Engine::with_compat);
        Session::new(engine)
    }

    fn replay(f: &Fixture, filter: Filter) -> (Vec<Event>, Summary) {
        let events = MemorySink::default();
        let mut s = session(f).with_filter(filter);
        s.add_sink(events.clone());
        s.replay(f).unwrap();
        let summary = s.finish(BTreeMap::new()).unwrap();
        (events.events(), summary)
    }

    /// A marker whose bytes cannot be read as its `write` enters (on MIPS,
    /// a page not in the guest's TLB) is found at the return, where the
    /// kernel has read it: the processes its writer forks are followed
    /// (hand-written, x86-64's convention).
    #[test]
    fn a_marker_unreadable_at_its_enter_is_found_at_its_return() {
        let ev = |kind: &str, pc: u64, asid: u64, regs: &str, mem: &str| {
            let insn = if kind == "syscall" {
                r#""insn": "0f05","#
            } else {
                ""
            };
            format!(
                r#"{{"kind": "{kind}", "vcpu": 0, "pc": "{pc:#x}", {insn} "asid": "{asid:#x}",
                   "mode": {{"wide": true}}, "regs": {{{regs}}}, "mem": [{mem}]}}"#
            )
        };
        let sp = r#""rsp": "0x7ffc0000""#;
        let events = [
            // write(1, 0x600000, 5): nothing readable at the enter...
            ev(
                "syscall",
                0x401000,
                0x11000,
                &format!(r#""rax": "0x1", "rdi": "0x1", "rsi": "0x600000", "rdx": "0x5", {sp}"#),
                "",
            ),
            // ...the marker at the return.
            ev(
                "block",
                0x401002,
                0x11000,
                &format!(r#""rax": "0x5", {sp}"#),
                r#"{"addr": "0x600000", "bytes": "424547494e"}"#,
            ),
            // clone(SIGCHLD, 0), returning 101 and, in the child, 0.
            ev(
                "syscall",
                0x402000,
                0x11000,
                &format!(
                    r#""rax": "0x38", "rdi": "0x11", "rsi": "0x0", "rdx": "0x0", "r10": "0x0", "r8": "0x0", {sp}"#
                ),
                "",
            ),
            ev(
                "block",
                0x402002,
                0x11000,
                &format!(r#""rax": "0x65", {sp}"#),
                "",
            ),
            ev(
                "block",
                0x402002,
                0x22000,
                &format!(r#""rax": "0x0", {sp}"#),
                "",
            ),
            // The child's getpid.
            ev(
                "syscall",
                0x403000,
                0x22000,
                &format!(r#""rax": "0x27", {sp}"#),
                "",
            ),
            ev(
                "block",
                0x403002,
                0x22000,
                &format!(r#""rax": "0x65", {sp}"#),
                "",
            ),
        ];
        let json = format!(
            r#"{{"profile": "linux_x64", "source": "hand-written", "events": [{}]}}"#,
            events.join(",")
        );
        let f = Fixture::from_json(&json).unwrap();
        let (events, _) = replay(&f, Filter::default().following("BEGIN", None).unwrap());
        assert!(
            events.iter().any(|e| e.ev == Phase::Return
                && e.name.as_deref() == Some("getpid")
                && e.asid == 0x22000),
            "{events:?}"
        );
    }

    #[test]
    fn enters_and_returns_share_a_seq_and_every_argument_is_named() {
        let f = fixture("linux_x64_qemu_workload.json");
        let (events, summary) = replay(&f, Filter::default());
        assert_eq!(summary.events as usize, events.len());
        let open = events
            .iter()
            .find(|e| {
                e.ev == Phase::Return
                    && e.name.as_deref() == Some("openat")
                    && e.args.get("filename").and_then(|a| a.str.as_deref())
                        == Some("/etc/hostname")
            })
            .expect("openat of /etc/hostname");
        let enter = events
            .iter()
            .find(|e| e.ev == Phase::Enter && e.seq == open.seq)
            .expect("its enter");
        assert_eq!(
            (enter.pc, enter.no, enter.asid),
            (open.pc, open.no, open.asid)
        );
        let names: Vec<&str> = open.args.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["dfd", "filename", "flags", "mode"]);
        assert_eq!(open.args.get("dfd").unwrap().int, Some(-100));
        assert!(open.duration_ns.is_some() && open.ts >= enter.ts);
        assert_eq!(open.syscall.as_deref(), Some("sys_openat"));
    }

    #[test]
    fn windows_calls_keep_all_their_arguments() {
        // NtCreateFile has 11 arguments: none is dropped.
        let f = fixture("windows7_x86_filereadmon.json");
        let (events, _) = replay(&f, Filter::default());
        let create = events
            .iter()
            .find(|e| e.name.as_deref() == Some("NtCreateFile"))
            .unwrap();
        assert_eq!(create.args.len(), 11);
        let err = events.iter().filter_map(|e| e.errno.as_ref()).next();
        if let Some(e) = err {
            assert!(e.name.as_deref().is_some_and(|n| n.starts_with("STATUS_")));
        }
    }

    /// The handle NtCreateFile writes is named by its OBJECT_ATTRIBUTES;
    /// NtReadFile on it shows that name, its IO_STATUS_BLOCK and the bytes
    /// read (Information of them); NtClose still names it (the fixture is
    /// hand-written, see its `source`).
    #[test]
    fn windows_handles_carry_their_names_and_outputs_are_read_at_return() {
        let f = fixture("windows7_x86_filereadmon.json");
        let (events, _) = replay(&f, Filter::default());
        let returns: Vec<&Event> = events.iter().filter(|e| e.ev == Phase::Return).collect();
        let secret = r"\??\C:\Users\alice\secret.txt";
        let create = returns[0];
        assert_eq!(create.name.as_deref(), Some("NtCreateFile"));
        let handle = create.args.get("FileHandle").unwrap();
        assert_eq!(handle.ints.as_deref(), Some(&[124][..]));
        assert_eq!(handle.object.as_deref(), Some(secret));
        let read = returns[1];
        assert_eq!(
            read.args.get("FileHandle").unwrap().object.as_deref(),
            Some(secret)
        );
        let iosb = read
            .args
            .get("IoStatusBlock")
            .unwrap()
            .fields
            .as_ref()
            .unwrap();
        assert_eq!(iosb.get("Information").unwrap().uint, Some(11));
        assert_eq!(
            read.args.get("Buffer").unwrap().bytes_data().unwrap(),
            b"top secret\n"
        );
        let info = |e: &Event| profiles::by_name(&e.profile).unwrap().by_number(e.no);
        let line = crate::strace::Strace::default()
            .line(read, info(read), read_abi(read))
            .unwrap();
        assert!(
            line.contains(&format!(
                "NtReadFile(124<{secret}>, 0, NULL, NULL, {{Status=STATUS_SUCCESS, Information=11}}, \"top secret\\n\", 512,"
            )),
            "{line}"
        );
        let close = returns[2];
        assert_eq!(
            close.args.get("Handle").unwrap().object.as_deref(),
            Some(secret)
        );
        // Handles no call in the trace opened (153, 125) show no name.
        for later in &returns[3..] {
            for (_, v) in later.args.iter() {
                assert!(v.object.is_none(), "{later:?}");
            }
        }
    }

    fn read_abi(e: &Event) -> syscalls2_core::Abi {
        profiles::by_name(&e.profile).unwrap().abi
    }

    #[test]
    fn names_filter_by_strace_or_table_name() {
        let f = fixture("linux_x64_qemu_workload.json");
        let (events, summary) = replay(&f, Filter::default().with_names(["openat", "sys_read"]));
        assert!(!events.is_empty());
        assert!(events
            .iter()
            .all(|e| matches!(e.name.as_deref(), Some("openat" | "read"))));
        // The engine still saw everything.
        assert!(summary.counters.enters as usize > events.len());
    }

    #[test]
    fn asid_filter() {
        let f = fixture("linux_x64_qemu_workload.json");
        let (all, _) = replay(&f, Filter::default());
        let asid = all[all.len() / 2].asid;
        let (some, _) = replay(&f, Filter::default().with_asid(asid));
        assert!(!some.is_empty() && some.len() < all.len());
        assert!(some.iter().all(|e| e.asid == asid));
    }

    #[test]
    fn class_filters_trace_only_the_classs_calls() {
        let f = fixture("linux_x64_qemu_workload.json");
        let (events, _) = replay(&f, Filter::default().with_class("%file").unwrap());
        let file = crate::classes::members("file").unwrap();
        assert!(events.iter().any(|e| e.name.as_deref() == Some("openat")));
        assert!(events
            .iter()
            .all(|e| e.name.as_deref().is_some_and(|n| file.contains(&n))));
        assert_eq!(
            Filter::default().with_class("%files").unwrap_err(),
            FilterError::UnknownClass("%files".into())
        );
    }

    #[test]
    fn timestamps_and_durations_frame_the_line() {
        let start = UNIX_EPOCH + Duration::from_secs(86_400 * 3 + 3600 * 15 + 64);
        let ts = 1_500_250;
        assert_eq!(Timestamps::Seconds.prefix(start, ts), "15:01:04 ");
        assert_eq!(Timestamps::Micros.prefix(start, ts), "15:01:04.001500 ");
        assert_eq!(Timestamps::Epoch.prefix(start, ts), "313264.001500 ");
        let f = fixture("linux_x64_qemu_workload.json");
        let out = MemorySink::default();
        let mut s = session(&f).with_filter(Filter::default().with_names(["openat"]));
        let text = SharedBuf::default();
        let mut sink = StraceSink::new(text.clone());
        sink.timestamps = Timestamps::Micros;
        sink.durations = true;
        s.add_sink(sink);
        s.add_sink(out.clone());
        s.replay(&f).unwrap();
        s.finish(BTreeMap::new()).unwrap();
        let text = text.text();
        let first = text.lines().next().unwrap();
        // `15:04:05.123456 [asid] openat(...) = 3 <0.000041>`
        let (time, rest) = first.split_once(' ').unwrap();
        assert_eq!(time.len(), 15, "{first}");
        assert!(rest.contains("openat("), "{first}");
        let d = rest.rsplit_once(" <").unwrap().1;
        assert!(d.ends_with('>') && d.len() == 9, "{first}");
        assert_eq!(text.lines().count(), out.lines().len());
    }

    #[test]
    fn empty_markers_are_refused() {
        assert_eq!(
            Filter::default().following("", None).unwrap_err(),
            FilterError::EmptyMarker("after")
        );
        assert_eq!(
            Filter::default().following("A", Some("")).unwrap_err(),
            FilterError::EmptyMarker("until")
        );
    }

    #[test]
    fn a_late_return_is_counted_in_the_summary_and_reported_with_its_arguments() {
        let f = fixture("linux_x64_pairing.json");
        let (events, summary) = replay(&f, Filter::default());
        assert_eq!(summary.counters.late_returns, 1);
        let late = events
            .iter()
            .rfind(|e| e.ev == Phase::Return && e.name.as_deref() == Some("execve"))
            .unwrap();
        assert_eq!(
            late.args.get("filename").and_then(|a| a.str.as_deref()),
            Some("/bin/slow")
        );
    }

    #[test]
    fn open_calls_stay_bounded_by_the_engine() {
        // Every pending entry the engine drops (restarted, evicted, exec'd)
        // is dropped here too: what stays open is what the engine holds.
        let f = fixture("linux_x64_qemu_workload.json");
        let mut s = session(&f);
        s.replay(&f).unwrap();
        assert!(s.trace.open.len() <= s.engine.pending_len());
        assert!(s.trace.retired.len() <= RETIRED_KEPT);
    }

    #[test]
    fn restarts_evictions_and_execs_leave_nothing_open() {
        // 3000 reads interrupted and restarted at one site, 3000 execves
        // that succeed (the vCPU's next call retires them), 3000 calls at
        // distinct sites that never return (evicted from a 16-entry store):
        // the session keeps no more open calls than the engine keeps
        // pending (1M restarts once held 230 MB).
        use fixture::{Event as Ev, Hex, HexBytes};
        let syscall = |no: u64, pc: u64, vcpu: u32| Ev {
            kind: EventKind::Syscall,
            vcpu,
            pc: Hex(pc),
            insn: Some(HexBytes(vec![0x0f, 0x05])),
            asid: Hex(0x1000 + u64::from(vcpu)),
            mode: syscalls2_core::Mode {
                wide: true,
                ..Default::default()
            },
            regs: [
                ("rax".to_string(), Hex(no)),
                ("rsp".to_string(), Hex(0x7000)),
            ]
            .into(),
            mem: Vec::new(),
            note: None,
        };
        let mut events = Vec::new();
        for i in 0..3000u64 {
            events.push(syscall(0, 0x40_1000, 0)); // read, restarted
            events.push(syscall(59, 0x40_2000, 1)); // execve
            events.push(syscall(39, 0x40_3000, 1)); // getpid: retires it
            events.push(syscall(0, 0x50_0000 + 16 * i, 2)); // never returns
        }
        let f = Fixture {
            profile: "linux_x64".into(),
            compat: None,
            source: "generated".into(),
            events,
        };
        let engine = Engine::new(profiles::by_name("linux_x64").unwrap()).with_capacity(16);
        let mut s = Session::new(engine);
        s.add_sink(StraceSink::new(std::io::sink()));
        s.replay(&f).unwrap();
        let stats = s.engine.stats();
        assert!(stats.restarted >= 2999 && stats.evicted > 2900, "{stats:?}");
        assert!(stats.exec_succeeded >= 2999, "{stats:?}");
        assert!(
            s.trace.open.len() <= s.engine.pending_len(),
            "{}",
            s.trace.open.len()
        );
        assert!(s.trace.retired.len() <= RETIRED_KEPT);
    }

    #[test]
    fn a_failing_sink_is_reported_at_the_end() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let f = fixture("linux_x64_qemu_workload.json");
        let mut s = session(&f);
        s.add_sink(StraceSink::new(Full));
        s.replay(&f).unwrap();
        let e = s.finish(BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("no space left"), "{e}");
    }

    #[test]
    fn recording_keeps_only_traced_events() {
        let f = fixture("linux_x64_qemu_workload.json");
        let mut s = session(&f).with_filter(Filter::default().with_names(["openat"]));
        s.record(1000);
        s.replay(&f).unwrap();
        let rec = s.recording("test").unwrap();
        // Each openat's syscall event, and its return's block event.
        let opens = s.trace.events;
        assert_eq!(rec.events.len() as u64, opens);
        // The recording replays to the same openat lines.
        let (again, _) = replay(&rec, Filter::default());
        assert_eq!(again.len() as u64, opens);
    }

    #[test]
    fn every_call_is_attributed_to_the_process_the_calls_reveal() {
        // Recorded from a real guest: what getpid and the forks returned
        // must be what the events say.
        let f = fixture("linux_x64_qemu_workload.json");
        let (events, _) = replay(&f, Filter::default());
        let returns = || events.iter().filter(|e| e.ev == Phase::Return);
        let getpids: Vec<&Event> = returns()
            .filter(|e| e.name.as_deref() == Some("getpid"))
            .collect();
        assert!(!getpids.is_empty());
        for e in getpids {
            assert_eq!(e.pid.map(i64::from), e.ret, "{e:?}");
            assert_eq!(e.attribution.as_deref(), Some("syscalls"));
        }
        let forks: Vec<&Event> = returns()
            .filter(|e| e.name.as_deref() == Some("clone") && e.child == Some(false))
            .collect();
        assert!(!forks.is_empty());
        for parent in forks {
            let child = returns()
                .find(|e| e.seq == parent.seq && e.child == Some(true))
                .expect("the child's return");
            assert_eq!(child.pid.map(i64::from), parent.ret);
            assert_eq!(child.tid, child.pid);
            assert_eq!(child.ppid, parent.pid);
        }
    }

    #[test]
    fn prctl_set_name_renames_the_process_from_its_return_on() {
        // Recorded from a real guest: busybox runs its applets as
        // /proc/self/exe (the kernel's name: "exe") and renames itself.
        let f = fixture("linux_x64_qemu_signal.json");
        let (events, _) = replay(&f, Filter::default());
        let renames: Vec<(usize, String)> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.ev == Phase::Return && e.ret == Some(0))
            .filter(|(_, e)| e.name.as_deref() == Some("prctl"))
            .filter(|(_, e)| {
                let option = e
                    .args
                    .get("option")
                    .and_then(|o| o.uint.or(o.int.map(|v| v as u64)));
                let sets = crate::decode::sets(read_abi(e));
                option.is_some() && option == crate::decode::value_of(sets, "PR_SET_NAME")
            })
            .map(|(i, e)| {
                (
                    i,
                    e.args
                        .get("arg2")
                        .and_then(|a| a.str.clone())
                        .unwrap_or_else(|| panic!("{e:?}")),
                )
            })
            .collect();
        assert!(!renames.is_empty());
        for (i, name) in renames {
            let asid = events[i].asid;
            let next = events[i + 1..]
                .iter()
                .find(|e| e.asid == asid && e.ev == Phase::Enter)
                .expect("the process's next call");
            assert_eq!(next.comm.as_deref(), Some(name.as_str()), "{next:?}");
        }
    }

    #[test]
    fn hooks_ask_the_cpu_who_made_the_call_and_get_the_events_answer() {
        // PANDA's get_current_process, from a hook: on a recorded guest,
        // what every hook's `cpu.process()` says equals the pid, tid, ppid
        // and name of the event of the same enter or return, a fork's
        // child's return included.
        use std::sync::{Arc, Mutex};
        type Seen = Arc<Mutex<Vec<(u64, bool, bool, Option<Process>)>>>;
        let f = fixture("linux_x64_qemu_workload.json");
        let seen: Seen = Arc::default();
        let events = MemorySink::default();
        let mut s = session(&f);
        for ret in [false, true] {
            let seen = seen.clone();
            let hook = move |cpu: &mut dyn Cpu, ctx: &SyscallCtx| {
                let who = cpu.process();
                let mut seen = seen.lock().unwrap();
                seen.push((ctx.seq, ret, ctx.child, who));
            };
            let engine = s.engine_mut();
            if ret {
                engine.on_all_return(hook);
            } else {
                engine.on_all_enter(hook);
            }
        }
        s.add_sink(events.clone());
        s.replay(&f).unwrap();
        let seen = seen.lock().unwrap();
        let events = events.events();
        let mut compared = 0;
        let (mut pids, mut children) = (std::collections::BTreeSet::new(), 0);
        for e in &events {
            let ret = e.ev == Phase::Return;
            let child = e.child.unwrap_or(false);
            let Some((.., who)) = seen
                .iter()
                .find(|(seq, r, c, _)| (*seq, *r, *c) == (e.seq, ret, child))
            else {
                // An exec's `= 0`, emitted at its retirement, has no return
                // for a hook to run at.
                assert!(ret && e.name.as_deref() == Some("execve"), "{e:?}");
                continue;
            };
            assert_eq!(who.as_ref().and_then(|w| w.pid), e.pid, "{e:?}");
            assert_eq!(who.as_ref().and_then(|w| w.tid), e.tid, "{e:?}");
            assert_eq!(who.as_ref().and_then(|w| w.ppid), e.ppid, "{e:?}");
            let comm = who.as_ref().and_then(|w| w.comm.as_deref());
            assert_eq!(comm, e.comm.as_deref(), "{e:?}");
            let source = who.as_ref().map(|w| w.source.name());
            assert_eq!(source, e.attribution.as_deref(), "{e:?}");
            pids.extend(e.pid);
            children += usize::from(child && e.pid.is_some());
            compared += usize::from(e.pid.is_some());
        }
        assert!(compared > 100, "{compared}");
        assert!(pids.len() >= 3 && children >= 2, "{pids:?} {children}");
        // An engine driven without a session has nobody to ask.
        let mut bare = Engine::new(profiles::by_name(&f.profile).unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let a = asked.clone();
        bare.on_all_enter(move |cpu, _| a.lock().unwrap().push(cpu.process()));
        fixture::replay(&f, &mut bare).unwrap();
        let asked = asked.lock().unwrap();
        assert!(!asked.is_empty() && asked.iter().all(Option::is_none));
    }

    #[test]
    fn process_filters_by_pid_and_descent() {
        let f = fixture("linux_x64_qemu_workload.json");
        let (all, _) = replay(&f, Filter::default());
        // The process that execs `cat /etc/hostname`, and its parent.
        let exec = all
            .iter()
            .find(|e| {
                e.name.as_deref() == Some("execve")
                    && e.args.get("argv").is_some_and(|a| {
                        a.array
                            .as_ref()
                            .is_some_and(|v| v.first().map(String::as_str) == Some("cat"))
                    })
            })
            .expect("cat ran");
        let (cat, sh) = (exec.pid.unwrap(), exec.ppid.unwrap());
        let (by_pid, _) = replay(&f, Filter::default().with_pid(cat));
        assert!(by_pid.len() > 10);
        assert!(by_pid.iter().all(|e| e.pid == Some(cat)));
        // The shell's descendants: the shell, cat, and nothing before.
        let root = all
            .iter()
            .find(|e| e.pid == Some(sh))
            .and_then(|e| e.comm.clone())
            .unwrap();
        let (tree, _) = replay(&f, Filter::default().with_descendants_of(root.as_str()));
        assert!(tree.iter().any(|e| e.pid == Some(cat)));
        assert!(tree.iter().any(|e| e.pid == Some(sh)));
        assert!(tree.len() < all.len());
    }

    #[test]
    fn name_and_tree_conditions() {
        use syscalls2_core::introspect::Source;
        let p = |pid, ppid, comm: &str| Process {
            pid: Some(pid),
            tid: Some(pid),
            ppid: Some(ppid),
            comm: Some(comm.into()),
            source: Source::Kernel,
        };
        let mut f = Filter::default().with_comm("cat");
        assert!(f.wants_process(Some(&p(5, 1, "cat"))));
        assert!(!f.wants_process(Some(&p(5, 1, "sh"))));
        assert!(!f.wants_process(None));
        let mut t = Filter::default().with_descendants_of("make");
        assert!(!t.wants_process(Some(&p(3, 1, "sh"))));
        assert!(t.wants_process(Some(&p(4, 3, "make"))));
        assert!(t.wants_process(Some(&p(6, 4, "cc"))));
        assert!(t.wants_process(Some(&p(7, 6, "as"))), "a grandchild");
        assert!(
            t.wants_process(Some(&p(4, 3, "renamed"))),
            "once in, by pid"
        );
        assert!(!t.wants_process(Some(&p(8, 3, "ls"))));
    }
}
