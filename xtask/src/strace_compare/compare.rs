//! The two traces of one execution compared call by call: processes
//! paired, calls aligned within each pair, each pair of calls judged.

use super::parse::{Call, Event, Trace};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// One process of a trace from its start (fork or exec) to its end (exit,
/// kill or exec), with its calls in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// The trace's process name and a generation (`97#0`, `0x26e0000#3`):
    /// an address space is used again by later processes, and a pid lives
    /// on through `execve`.
    pub id: String,
    /// Its calls.
    pub calls: Vec<Call>,
}

/// Cuts a trace into processes, in the order they first appear.
pub fn processes(trace: &Trace) -> Vec<Process> {
    let mut done: Vec<(usize, Process)> = Vec::new();
    let mut open: HashMap<String, (usize, Process)> = HashMap::new();
    let mut generation: HashMap<String, usize> = HashMap::new();
    let mut close = |open: &mut HashMap<String, (usize, Process)>, proc: &str| {
        if let Some(p) = open.remove(proc) {
            done.push(p);
        }
    };
    for (i, event) in trace.events.iter().enumerate() {
        match event {
            Event::Start(proc) | Event::End(proc) => close(&mut open, proc),
            Event::Signal(_) => {}
            Event::Call(call) => {
                let p = open.entry(call.proc.clone()).or_insert_with(|| {
                    let g = generation.entry(call.proc.clone()).or_default();
                    *g += 1;
                    let id = format!("{}#{}", call.proc, *g - 1);
                    (i, Process { id, calls: vec![] })
                });
                p.1.calls.push(call.clone());
                if ends_process(call) {
                    close(&mut open, &call.proc);
                }
            }
        }
    }
    let mut all: Vec<(usize, Process)> = done.into_iter().chain(open.into_values()).collect();
    all.sort_by_key(|(first, _)| *first);
    all.into_iter().map(|(_, p)| p).collect()
}

/// Whether the process is gone after this call: `exit_group(0) = ?`, a
/// successful `execve` (the next call is another image's), or a call that
/// never returned (`<unfinished ...>`: the process was killed in it, and
/// the next call in its address space is a later process's, whose image
/// got the freed address space; the traces compared run no threads).
fn ends_process(call: &Call) -> bool {
    match call.name.as_str() {
        "exit" | "exit_group" => true,
        "execve" | "execveat" => match call.ret.as_deref() {
            None => true,
            Some(r) => returned(r).is_some_and(|r| r.value == 0),
        },
        _ => call.ret.is_none(),
    }
}

/// A return value's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Returned {
    value: i128,
    errno: Option<String>,
}

/// The facts of a return (`3`, `0x55d4000`, `-1 ENOENT (No such ...)`),
/// `None` when there are none to compare (`?`, `? ERESTARTSYS (...)`).
fn returned(ret: &str) -> Option<Returned> {
    let mut words = ret.split_whitespace();
    let value = int_value(words.next()?)?;
    let errno = words
        .next()
        .filter(|w| value < 0 && w.starts_with('E'))
        .map(str::to_string);
    Some(Returned { value, errno })
}

/// An integer literal as strace and the plugin print them: decimal, `0x`
/// hex, `0`-prefixed octal, maybe negative.
pub fn int_value(token: &str) -> Option<i128> {
    let (negative, digits) = match token.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, token),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

/// Whether two integers are the same `bits`-wide value (`-100` is
/// `4294967196` on a 32-bit ABI).
fn same_int(a: i128, b: i128, bits: u32) -> bool {
    let mask = (1i128 << bits) - 1;
    a == b || (a & mask) == (b & mask)
}

/// Whether two calls are the same syscall: by number when both traces
/// know it, else by name.
fn same_syscall(a: &Call, b: &Call) -> bool {
    match (a.number, b.number) {
        (Some(x), Some(y)) => x == y,
        _ => a.name == b.name,
    }
}

/// Pairs strace's processes with the plugin's. The plugin names address
/// spaces, strace pids; when the plugin prints pids, a matcher that pairs
/// them directly can take this one's place.
pub trait ProcessMatcher {
    /// `(strace index, plugin index)` pairs, each process in at most one.
    fn pair(&self, strace: &[Process], plugin: &[Process]) -> Vec<(usize, usize)>;
}

/// Pairs processes by their calls: the pair most alike first, then the
/// next, as long as at least half of strace's calls are in the plugin's
/// process and the plugin's process does not learn another pid than
/// strace's (from `set_tid_address`, `getpid` or `gettid`); one that
/// learns strace's pid goes first. How alike: the
/// share of both processes' calls that the other has with the same number,
/// the same number and return (return values, such as `brk` addresses,
/// pids and descriptors, tell processes running the same program apart),
/// and also the same pointer arguments (the children of different
/// shells), added up.
pub struct BySequence;

/// What a pid both traces agree on adds to a pair's score: more than the
/// most calls can (3 keys of 2000 per mille).
const SAME_PID: usize = 6000;

/// The pid a process learns from the kernel, if it asks.
fn own_pid(p: &Process) -> Option<i128> {
    p.calls
        .iter()
        .filter(|c| matches!(c.name.as_str(), "set_tid_address" | "getpid" | "gettid"))
        .find_map(|c| c.ret.as_deref().and_then(returned))
        .map(|r| r.value)
}

/// strace's pid of a process (`97#1` is pid 97).
fn strace_pid(p: &Process) -> Option<i128> {
    p.id.split('#').next()?.parse().ok()
}

/// What of a call [`BySequence`] compares, from loose to strict: the
/// syscall, its return value, its arguments printed in hex by both traces.
fn call_keys(c: &Call) -> [String; 3] {
    let call = c.number.map_or(c.name.clone(), |n| n.to_string());
    let ret = c.ret.as_deref().and_then(returned);
    let ret = ret.map_or("?".to_string(), |r| r.value.to_string());
    let pointers: Vec<&str> = c
        .args
        .iter()
        .filter(|a| a.starts_with("0x") && int_value(a).is_some())
        .map(String::as_str)
        .collect();
    let with_ret = format!("{call} {ret}");
    let strict = format!("{with_ret} {}", pointers.join(","));
    [call, with_ret, strict]
}

impl BySequence {
    /// How alike two processes are, in per mille of their calls, for each
    /// of the [`call_keys`], added up; and the calls of `s` that `p` has.
    fn score(s: &Process, p: &Process) -> (usize, usize) {
        let size = s.calls.len() + p.calls.len();
        let mut total = 0;
        let mut same = 0;
        for k in 0..3 {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for c in &p.calls {
                *counts.entry(call_keys(c)[k].clone()).or_default() += 1;
            }
            let common = s
                .calls
                .iter()
                .filter(|c| match counts.get_mut(&call_keys(c)[k]) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                })
                .count();
            total += 2000 * common / size;
            if k == 0 {
                same = common;
            }
        }
        (total, same)
    }
}

impl ProcessMatcher for BySequence {
    fn pair(&self, strace: &[Process], plugin: &[Process]) -> Vec<(usize, usize)> {
        let mut candidates = Vec::new();
        for (i, s) in strace.iter().enumerate() {
            for (j, p) in plugin.iter().enumerate() {
                let (score, same) = Self::score(s, p);
                let pids = (strace_pid(s), own_pid(p));
                let other_pid = matches!(pids, (Some(a), Some(b)) if a != b);
                // The same pid: the same process, however many calls it
                // made that strace does not show (the tracer's child before
                // its execve), ahead of any that is only alike.
                let same_pid = matches!(pids, (Some(a), Some(b)) if a == b);
                if same > 0 && 2 * same >= s.calls.len() && !other_pid {
                    candidates.push((score + if same_pid { SAME_PID } else { 0 }, i, j));
                }
            }
        }
        candidates.sort_by(|a, b| (b.0, a.1, a.2).cmp(&(a.0, b.1, b.2)));
        let (mut used_s, mut used_p) = (HashSet::new(), HashSet::new());
        let mut pairs = Vec::new();
        for (_, i, j) in candidates {
            if !used_s.contains(&i) && !used_p.contains(&j) {
                used_s.insert(i);
                used_p.insert(j);
                pairs.push((i, j));
            }
        }
        pairs.sort_unstable();
        pairs
    }
}

/// One step of an alignment of two call sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// strace's call `.0` is the plugin's call `.1`.
    Both(usize, usize),
    /// A call only strace shows.
    StraceOnly(usize),
    /// A call only the plugin shows.
    PluginOnly(usize),
}

/// Aligns two processes' calls: the longest common subsequence of calls
/// with the same syscall and return; then a call left on each side with
/// the same syscall and return within [`NEARBY`] steps is paired out of
/// order (the plugin prints a call whose return was delayed by a signal
/// handler after the handler's `rt_sigreturn`); then the calls left, in
/// order, by syscall alone (their returns differ: to be judged); then,
/// between two paired calls, runs of equal length on both sides are paired
/// in order (calls that differ in number). So a call is paired with one
/// that returned differently only when none that returned the same is
/// left: strace's `wait4(..) = 107` is not the plugin's `wait4(..) = 106`
/// printed after a signal handler, where the plugin's `= 107` is a few
/// lines on.
pub fn align(s: &[Call], p: &[Call]) -> Vec<Step> {
    let same = |i: usize, j: usize| same_syscall(&s[i], &p[j]) && same_return(&s[i], &p[j]);
    let steps = common_subsequence(s.len(), p.len(), &same);
    let steps = pair_nearby(steps, s, p);
    pair_equal_gaps(pair_left(steps, s, p))
}

/// The calls no step pairs yet, paired in order by syscall alone (the
/// longest common subsequence of the two sides' leftovers), each pair in
/// the place of its strace call.
fn pair_left(steps: Vec<Step>, s: &[Call], p: &[Call]) -> Vec<Step> {
    let (mut left_s, mut left_p) = (Vec::new(), Vec::new());
    for st in &steps {
        match *st {
            Step::StraceOnly(i) => left_s.push(i),
            Step::PluginOnly(j) => left_p.push(j),
            Step::Both(..) => {}
        }
    }
    let sub = common_subsequence(left_s.len(), left_p.len(), &|a, b| {
        same_syscall(&s[left_s[a]], &p[left_p[b]])
    });
    let partner: HashMap<usize, usize> = sub
        .iter()
        .filter_map(|st| match *st {
            Step::Both(a, b) => Some((left_s[a], left_p[b])),
            _ => None,
        })
        .collect();
    let taken: HashSet<usize> = partner.values().copied().collect();
    steps
        .into_iter()
        .filter_map(|st| match st {
            Step::StraceOnly(i) => Some(partner.get(&i).map_or(st, |&j| Step::Both(i, j))),
            Step::PluginOnly(j) if taken.contains(&j) => None,
            _ => Some(st),
        })
        .collect()
}

/// The longest common subsequence of `0..n` and `0..m` under `same`, as
/// steps in order.
fn common_subsequence(n: usize, m: usize, same: &dyn Fn(usize, usize) -> bool) -> Vec<Step> {
    let weight = |i: usize, j: usize| same(i, j).then_some(1);
    // best[i][j]: the best score of s[i..] against p[j..].
    let mut best = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let skip = best[i + 1][j].max(best[i][j + 1]);
            best[i][j] = weight(i, j).map_or(skip, |w| skip.max(w + best[i + 1][j + 1]));
        }
    }
    let mut steps = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let w = (i < n && j < m).then(|| weight(i, j)).flatten();
        if w.is_some_and(|w| best[i][j] == w + best[i + 1][j + 1]) {
            steps.push(Step::Both(i, j));
            (i, j) = (i + 1, j + 1);
        } else if j == m || (i < n && best[i + 1][j] >= best[i][j + 1]) {
            steps.push(Step::StraceOnly(i));
            i += 1;
        } else {
            steps.push(Step::PluginOnly(j));
            j += 1;
        }
    }
    steps
}

/// How far apart (in alignment steps) two unpaired calls may be to be
/// paired out of order.
pub const NEARBY: usize = 4;

/// Pairs an unpaired strace call with an unpaired plugin call of the same
/// syscall and return at most [`NEARBY`] steps away.
fn pair_nearby(mut steps: Vec<Step>, s: &[Call], p: &[Call]) -> Vec<Step> {
    let mut k = 0;
    while k < steps.len() {
        if let Step::StraceOnly(i) = steps[k] {
            let near = k.saturating_sub(NEARBY)..(k + NEARBY + 1).min(steps.len());
            let found = near.into_iter().find(|&l| {
                matches!(steps[l], Step::PluginOnly(j)
                    if same_syscall(&s[i], &p[j]) && same_return(&s[i], &p[j]))
            });
            if let Some(l) = found {
                let Step::PluginOnly(j) = steps[l] else {
                    unreachable!("found a plugin-only step")
                };
                steps[k] = Step::Both(i, j);
                steps.remove(l);
                k = k.saturating_sub(usize::from(l < k));
            }
        }
        k += 1;
    }
    steps
}

/// Whether two calls returned the same, or one has no return to compare.
fn same_return(a: &Call, b: &Call) -> bool {
    let ra = a.ret.as_deref().and_then(returned);
    let rb = b.ret.as_deref().and_then(returned);
    match (ra, rb) {
        (Some(x), Some(y)) => x.value == y.value && x.errno == y.errno,
        _ => true,
    }
}

/// Between aligned calls, pairs a run of k strace-only calls with a run of
/// k plugin-only calls.
fn pair_equal_gaps(steps: Vec<Step>) -> Vec<Step> {
    let mut out = Vec::new();
    let mut gap: (Vec<usize>, Vec<usize>) = (vec![], vec![]);
    let flush = |gap: &mut (Vec<usize>, Vec<usize>), out: &mut Vec<Step>| {
        if gap.0.len() == gap.1.len() {
            out.extend(gap.0.iter().zip(&gap.1).map(|(&i, &j)| Step::Both(i, j)));
        } else {
            out.extend(gap.0.iter().map(|&i| Step::StraceOnly(i)));
            out.extend(gap.1.iter().map(|&j| Step::PluginOnly(j)));
        }
        gap.0.clear();
        gap.1.clear();
    };
    for step in steps {
        match step {
            Step::StraceOnly(i) => gap.0.push(i),
            Step::PluginOnly(j) => gap.1.push(j),
            Step::Both(..) => {
                flush(&mut gap, &mut out);
                out.push(step);
            }
        }
    }
    flush(&mut gap, &mut out);
    out
}

/// How a paired call differs from strace's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Different syscall numbers.
    Number,
    /// Different return values or errors.
    Return,
    /// Different names (same number when both are known).
    Name,
    /// An argument printed as an integer by both, with different values.
    IntegerArgument,
    /// The same facts, printed differently.
    Rendering,
}

impl Class {
    /// The class's name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Class::Number => "number differs",
            Class::Return => "return differs",
            Class::Name => "name differs",
            Class::IntegerArgument => "integer argument differs",
            Class::Rendering => "rendering only",
        }
    }
}

/// How the plugin's call differs from strace's (`None`: the same line).
/// `bits` is the ABI's word size, for comparing integers.
pub fn judge(s: &Call, p: &Call, bits: u32) -> Option<Class> {
    if let (Some(a), Some(b)) = (s.number, p.number) {
        if a != b {
            return Some(Class::Number);
        }
    }
    let rs = s.ret.as_deref().and_then(returned);
    let rp = p.ret.as_deref().and_then(returned);
    if let (Some(a), Some(b)) = (rs, rp) {
        if !same_int(a.value, b.value, bits) || a.errno != b.errno {
            return Some(Class::Return);
        }
    }
    if s.name != p.name {
        return Some(Class::Name);
    }
    if s.text == p.text {
        return None;
    }
    let int_differs = s.args.len() == p.args.len()
        && s.args.iter().zip(&p.args).any(|(a, b)| {
            matches!((int_value(a), int_value(b)), (Some(x), Some(y)) if !same_int(x, y, bits))
        });
    Some(if int_differs {
        Class::IntegerArgument
    } else {
        Class::Rendering
    })
}

/// A pair of calls that differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// How.
    pub class: Class,
    /// Whether it is a difference of fact: a number, a return value, or a
    /// name where no number tells the calls are the same.
    pub fatal: bool,
    /// strace's call.
    pub strace: Call,
    /// The plugin's.
    pub plugin: Call,
}

/// The comparison of one execution's two traces.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Calls in strace's output (an unfinished/resumed pair is one).
    pub strace_calls: usize,
    /// strace's other lines: signals, process ends.
    pub strace_other: usize,
    /// Lines neither side could read (strace's, then the plugin's).
    pub unreadable: (Vec<String>, Vec<String>),
    /// Processes of each trace (strace, plugin).
    pub processes: (usize, usize),
    /// Processes paired.
    pub paired_processes: usize,
    /// strace's calls paired with one of the plugin's.
    pub matched: usize,
    /// Of those, the ones the plugin prints as strace does.
    pub exact: usize,
    /// Pairs that differ.
    pub mismatches: Vec<Mismatch>,
    /// strace's calls the plugin does not show.
    pub strace_only: Vec<Call>,
    /// Calls of paired processes only the plugin shows.
    pub plugin_only: Vec<Call>,
    /// Calls of strace's first process before strace showed it (the
    /// tracer's child before its `execve`), left out.
    pub before_attach: usize,
    /// Pairs the plugin prints in another order than strace (a call whose
    /// return a signal handler delayed).
    pub reordered: usize,
    /// strace's processes with no counterpart in the plugin's trace:
    /// `(id, calls, first call)`.
    pub unpaired: Vec<(String, usize, String)>,
}

impl Report {
    /// The share of strace's calls the plugin prints exactly, in percent.
    pub fn exact_share(&self) -> f64 {
        100.0 * self.exact as f64 / self.strace_calls.max(1) as f64
    }

    /// The mismatches that are differences of fact.
    pub fn fatal(&self) -> impl Iterator<Item = &Mismatch> {
        self.mismatches.iter().filter(|m| m.fatal)
    }
}

/// Compares strace's trace of an execution with the plugin's, pairing
/// processes with `matcher`; `bits` is the guest ABI's word size.
pub fn compare(strace: &Trace, plugin: &Trace, matcher: &dyn ProcessMatcher, bits: u32) -> Report {
    let sp = processes(strace);
    let pp = processes(plugin);
    let mut report = Report {
        strace_calls: sp.iter().map(|p| p.calls.len()).sum(),
        strace_other: strace.events.len() - sp.iter().map(|p| p.calls.len()).sum::<usize>(),
        unreadable: (strace.unreadable.clone(), plugin.unreadable.clone()),
        processes: (sp.len(), pp.len()),
        ..Report::default()
    };
    let pairs = matcher.pair(&sp, &pp);
    report.paired_processes = pairs.len();
    let paired: HashSet<usize> = pairs.iter().map(|&(i, _)| i).collect();
    for (_, p) in sp.iter().enumerate().filter(|(i, _)| !paired.contains(i)) {
        report.strace_only.extend(p.calls.iter().cloned());
        let first = p.calls.first().map_or(String::new(), |c| c.text.clone());
        report.unpaired.push((p.id.clone(), p.calls.len(), first));
    }
    for (i, j) in pairs {
        compare_process(&mut report, &sp[i], &pp[j], i == 0, bits);
    }
    report
}

/// Adds one pair of processes to the report. `first`: strace's first
/// process, whose calls before its `execve` strace does not show.
fn compare_process(report: &mut Report, s: &Process, p: &Process, first: bool, bits: u32) {
    let steps = align(&s.calls, &p.calls);
    let attached = steps
        .iter()
        .position(|st| !matches!(st, Step::PluginOnly(_)))
        .unwrap_or(steps.len());
    if first {
        report.before_attach += attached;
    }
    let skip = if first { attached } else { 0 };
    let mut last_plugin = None;
    for step in &steps[skip..] {
        match *step {
            Step::StraceOnly(i) => report.strace_only.push(s.calls[i].clone()),
            Step::PluginOnly(j) => report.plugin_only.push(p.calls[j].clone()),
            Step::Both(i, j) => {
                report.matched += 1;
                report.reordered += usize::from(last_plugin.is_some_and(|l| j < l));
                last_plugin = Some(j);
                let (sc, pc) = (&s.calls[i], &p.calls[j]);
                match judge(sc, pc, bits) {
                    None => report.exact += 1,
                    Some(class) => report.mismatches.push(Mismatch {
                        class,
                        fatal: match class {
                            Class::Number | Class::Return => true,
                            Class::Name => sc.number.is_none() || pc.number.is_none(),
                            Class::IntegerArgument | Class::Rendering => false,
                        },
                        strace: sc.clone(),
                        plugin: pc.clone(),
                    }),
                }
            }
        }
    }
}

/// A short description of an argument's form, to tally how renderings
/// differ: `N` (an integer), `"..."`, `[...]`, `{...}`, `NULL`, a
/// constant's prefix (`AT_`, `O_`) or name (`SIGTERM`), a named argument
/// (`flags=`), `-` (absent).
pub fn shape(arg: Option<&String>) -> String {
    let Some(a) = arg else {
        return "-".into();
    };
    if int_value(a).is_some() {
        return "N".into();
    }
    if a.starts_with("0x") && a.contains("/*") {
        return "0x... /* ... */".into();
    }
    match a.chars().next() {
        Some('"') => return "\"...\"".into(),
        Some('[') => return "[...]".into(),
        Some('{') => return "{...}".into(),
        Some('~') => return "~[...]".into(),
        _ => {}
    }
    let ident: String = a
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if !ident.is_empty() && a[ident.len()..].starts_with('=') {
        return format!("{ident}=");
    }
    match ident.find('_') {
        Some(u) if u > 0 => ident[..=u].to_string(),
        _ if !ident.is_empty() => ident,
        _ => a.chars().take(12).collect(),
    }
}

/// The report as text: figures, the classes with their most frequent
/// syscalls (one example each), and the most frequent argument differences.
pub fn render(report: &Report, title: &str, top: usize) -> String {
    let r = report;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{title}: {} of strace's {} calls reproduced exactly ({:.1}%); {} calls matched, {} only in strace, {} only in the plugin",
        r.exact,
        r.strace_calls,
        r.exact_share(),
        r.matched,
        r.strace_only.len(),
        r.plugin_only.len()
    );
    let _ = writeln!(
        out,
        "  processes: {} in strace, {} in the plugin, {} paired; {} plugin calls before strace attached left out; {} strace lines are signals or exits; unreadable lines: {} strace, {} plugin",
        r.processes.0, r.processes.1, r.paired_processes, r.before_attach, r.strace_other,
        r.unreadable.0.len(), r.unreadable.1.len()
    );
    if r.reordered > 0 {
        let _ = writeln!(
            out,
            "  {} calls printed in another order than strace's",
            r.reordered
        );
    }
    for (id, n, first) in &r.unpaired {
        let _ = writeln!(
            out,
            "  strace's process {id} ({n} calls) has no counterpart in the plugin's trace; its first call: {}",
            clip(first)
        );
    }
    let mut by_class: BTreeMap<Class, Vec<&Mismatch>> = BTreeMap::new();
    for m in &r.mismatches {
        by_class.entry(m.class).or_default().push(m);
    }
    for (class, ms) in &by_class {
        let fatal = ms.iter().filter(|m| m.fatal).count();
        let _ = writeln!(
            out,
            "  {}: {}{}",
            class.label(),
            ms.len(),
            if fatal > 0 {
                format!(" ({fatal} FATAL)")
            } else {
                String::new()
            }
        );
        for (name, n, m) in top_names(ms.iter().map(|m| (&m.strace.name, *m)), top) {
            let _ = writeln!(out, "    {n} x {name}");
            let _ = writeln!(out, "      strace: {}", clip(&m.strace.text));
            let _ = writeln!(out, "      plugin: {}", clip(&m.plugin.text));
        }
    }
    for (label, calls) in [
        ("only in strace", &r.strace_only),
        ("only in the plugin", &r.plugin_only),
    ] {
        if calls.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {label}: {}", calls.len());
        for (name, n, c) in top_names(calls.iter().map(|c| (&c.name, c)), top) {
            let _ = writeln!(out, "    {n} x {name}: [{}] {}", c.proc, clip(&c.text));
        }
    }
    let shapes = argument_shapes(&r.mismatches);
    if !shapes.is_empty() {
        let _ = writeln!(out, "  argument differences (strace <- plugin):");
        for (key, n) in shapes.iter().take(top * 2) {
            let _ = writeln!(out, "    {n:5} {key}");
        }
    }
    out
}

/// The `top` most frequent names of `items`, with their count and first item.
fn top_names<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    top: usize,
) -> Vec<(String, usize, T)> {
    let mut groups: BTreeMap<&String, (usize, Option<T>)> = BTreeMap::new();
    for (name, item) in items {
        let g = groups.entry(name).or_insert((0, None));
        g.0 += 1;
        g.1.get_or_insert(item);
    }
    let mut v: Vec<(String, usize, T)> = groups
        .into_iter()
        .filter_map(|(name, (n, item))| Some((name.clone(), n, item?)))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

/// How often each (strace's form, plugin's form) of a differing argument occurs.
fn argument_shapes(mismatches: &[Mismatch]) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for m in mismatches.iter().filter(|m| !m.fatal) {
        let (s, p) = (&m.strace.args, &m.plugin.args);
        for k in 0..s.len().max(p.len()) {
            if s.get(k) != p.get(k) {
                let key = format!("{} <- {}", shape(s.get(k)), shape(p.get(k)));
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// A line cut to a readable length.
fn clip(s: &str) -> String {
    const MAX: usize = 150;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{plugin_trace, strace_trace};
    use super::*;

    fn call(proc: &str, number: Option<u64>, text: &str) -> Call {
        super::super::parse::parse_call(proc, number, text).expect(text)
    }

    #[test]
    fn integers_in_every_base() {
        assert_eq!(int_value("0777"), Some(511));
        assert_eq!(int_value("0x1f"), Some(31));
        assert_eq!(int_value("-100"), Some(-100));
        assert_eq!(int_value("0"), Some(0));
        assert_eq!(int_value("AT_FDCWD"), None);
        assert_eq!(int_value("08"), None);
        assert_eq!(int_value(""), None);
        assert!(same_int(-100, 4294967196, 32));
        assert!(!same_int(-100, 4294967196, 64));
    }

    #[test]
    fn judging_a_pair() {
        let s = call(
            "1",
            Some(257),
            "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3",
        );
        let p = call(
            "0x1",
            Some(257),
            "openat(-100, \"/etc/hostname\", 0, 0) = 3",
        );
        assert_eq!(judge(&s, &p, 64), Some(Class::Rendering));
        assert_eq!(judge(&s, &s, 64), None);
        let p4 = call(
            "0x1",
            Some(257),
            "openat(-100, \"/etc/hostname\", 0, 0) = 4",
        );
        assert_eq!(judge(&s, &p4, 64), Some(Class::Return));
        let pn = call("0x1", Some(2), "open(\"/etc/hostname\", 0, 0) = 3");
        assert_eq!(judge(&s, &pn, 64), Some(Class::Number));
        let e1 = call(
            "1",
            Some(2),
            "open(\"/x\", O_RDONLY) = -1 ENOENT (No such file or directory)",
        );
        let e2 = call(
            "0x1",
            Some(2),
            "open(\"/x\", 0) = -1 EACCES (Permission denied)",
        );
        assert_eq!(judge(&e1, &e2, 64), Some(Class::Return));
        let u1 = call("1", Some(63), "uname({sysname=\"Linux\", ...}) = 0");
        let u2 = call("0x1", Some(63), "newuname(0x7ffc) = 0");
        assert_eq!(judge(&u1, &u2, 64), Some(Class::Name));
        let m1 = call("1", Some(83), "mkdir(\"d\", 0777) = 0");
        let m2 = call("0x1", Some(83), "mkdir(\"d\", 511) = 0");
        assert_eq!(judge(&m1, &m2, 64), Some(Class::Rendering), "0777 is 511");
        let m3 = call("0x1", Some(83), "mkdir(\"d\", 493) = 0");
        assert_eq!(judge(&m1, &m3, 64), Some(Class::IntegerArgument));
        let q1 = call("1", Some(231), "exit_group(0) = ?");
        let q2 = call("0x1", Some(231), "exit_group(1) = ?");
        assert_eq!(
            judge(&q1, &q2, 64),
            Some(Class::IntegerArgument),
            "`?` is no return to compare"
        );
        let b1 = call("1", Some(45), "brk(NULL) = 0xb7f00000");
        let b2 = call("0x1", Some(45), "brk(0) = -1209008128");
        assert_eq!(judge(&b1, &b2, 32), Some(Class::Rendering));
    }

    #[test]
    fn alignment_pairs_same_numbers_and_equal_gaps() {
        let c = |n: u64| call("p", Some(n), &format!("c{n}() = 0"));
        let s = [c(1), c(2), c(3), c(4), c(5)];
        let p = [c(9), c(1), c(7), c(4), c(5), c(6)];
        assert_eq!(
            align(&s, &p),
            [
                Step::PluginOnly(0),
                Step::Both(0, 1),
                Step::StraceOnly(1),
                Step::StraceOnly(2),
                Step::PluginOnly(2),
                Step::Both(3, 3),
                Step::Both(4, 4),
                Step::PluginOnly(5),
            ]
        );
        let p = [c(1), c(7), c(3), c(4), c(5)];
        assert_eq!(
            align(&s, &p),
            [0, 1, 2, 3, 4].map(|i| Step::Both(i, i)),
            "one call in place of another: paired, to be judged"
        );
    }

    #[test]
    fn the_tracers_child_is_paired_by_its_pid() {
        // strace shows its child from its execve; the plugin shows the
        // child's calls before it too, and strace's own exec, as short.
        let strace =
            strace_trace("96 [ 59] execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 6 vars */) = 0\n");
        let plugin = plugin_trace(
            "[0xa] rt_sigaction(SIGQUIT, NULL, NULL, 8) = 0\n\
             [0xa] execve(\"/usr/bin/strace\", [\"strace\"], 0x2dc7 /* 6 vars */) = 0\n\
             [0xb] set_robust_list(0x7fdd, 24) = 0\n\
             [0xb] close(3) = 0\n\
             [0xb] geteuid() = 0\n\
             [0xb] getpid() = 96\n\
             [0xb] kill(96, SIGSTOP) = 0\n\
             [0xb] execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 6 vars */) = 0\n",
            &numbers,
        );
        let r = compare(&strace, &plugin, &BySequence, 64);
        assert_eq!((r.matched, r.exact), (1, 1), "{:?}", r.mismatches);
    }

    #[test]
    fn a_return_a_handler_delayed_pairs_with_its_own() {
        // strace: each wait4, then the SIGCHLD handler's rt_sigreturn; the
        // plugin prints each wait4 after the handler it returned through.
        let w = |r: u32| call("p", Some(61), &format!("wait4(-1, NULL, 0, NULL) = {r}"));
        let r = |r: u32| call("p", Some(15), &format!("rt_sigreturn({{mask=[]}}) = {r}"));
        let s = [w(106), r(106), w(107), r(107)];
        let p = [r(106), w(106), r(107), w(107)];
        let steps = align(&s, &p);
        let pairs: Vec<(usize, usize)> = steps
            .iter()
            .filter_map(|st| match *st {
                Step::Both(i, j) => Some((i, j)),
                _ => None,
            })
            .collect();
        assert_eq!(pairs.len(), 4, "{steps:?}");
        for (i, j) in pairs {
            assert_eq!(s[i].text, p[j].text, "{steps:?}");
        }
    }

    #[test]
    fn processes_split_at_fork_exec_and_exit() {
        let plugin = plugin_trace(
            "[0xa] getpid() = 5\n\
             [0xa] clone(0x1200011, 0, NULL, 0x1, 0) = 6\n\
             [0xb] clone(0x1200011, 0, NULL, 0x1, 0) = 0 (child)\n\
             [0xb] execve(\"/bin/x\", [\"x\"], [] <unfinished ...>\n\
             [0xc] brk(0) = 0x1000\n\
             [0xc] exit_group(0) = ?\n\
             [0xc] clone(0x1200011, 0, NULL, 0x1, 0) = 0 (child)\n\
             [0xc] getpid() = 7\n",
            &|_| None,
        );
        let ids: Vec<(String, usize)> = processes(&plugin)
            .into_iter()
            .map(|p| (p.id, p.calls.len()))
            .collect();
        assert_eq!(
            ids,
            [
                ("0xa#0".into(), 2),
                ("0xb#0".into(), 1),
                ("0xc#0".into(), 2),
                ("0xc#1".into(), 1)
            ]
        );
        let strace = strace_trace(
            "5 [ 59] execve(\"/bin/sh\", [\"sh\"], 0x1 /* 1 var */) = 0\n\
             5 [ 12] brk(NULL) = 0x1000\n\
             5 [ 59] execve(\"/nope\", [\"nope\"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)\n\
             5 [ 39] getpid() = 5\n\
             5 [231] +++ exited with 0 +++\n",
        );
        let sizes: Vec<usize> = processes(&strace).iter().map(|p| p.calls.len()).collect();
        assert_eq!(sizes, [1, 3], "a failed execve goes on in the same image");
    }

    /// A child killed in `openat` (recorded on the aarch64 guest: its
    /// address space went to the next `execve`'s image): the call never
    /// returned, and what follows in that address space is another process.
    #[test]
    fn a_call_that_never_returned_ends_its_process() {
        let plugin = plugin_trace(
            "[0xb] clone(0x1200011, 0, NULL, 0x1, 0) = 0 (child)\n\
             [0xb] close(0) = 0\n\
             [0xb] openat(AT_FDCWD, \"/dev/null\", O_RDONLY <unfinished ...>\n\
             [0xb] brk(NULL) = 0x1000\n\
             [0xb] getpid() = 116\n",
            &|_| None,
        );
        let ids: Vec<(String, usize)> = processes(&plugin)
            .into_iter()
            .map(|p| (p.id, p.calls.len()))
            .collect();
        assert_eq!(ids, [("0xb#0".into(), 2), ("0xb#1".into(), 2)]);
    }

    fn numbers(name: &str) -> Option<u64> {
        let table = [
            ("execve", 59),
            ("brk", 12),
            ("clone", 56),
            ("newuname", 63),
            ("exit_group", 231),
            ("wait4", 61),
            ("getpid", 39),
            ("kill", 62),
            ("set_tid_address", 218),
        ];
        table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Two children running the same calls, told apart by their return
    /// values (the plugin's trace has them in the other order); the
    /// tracer's child before `execve` left out; a process of the tracer's
    /// own left alone.
    #[test]
    fn a_whole_comparison() {
        let strace = strace_trace(
            "96 [ 59] execve(\"/bin/sh\", [\"sh\"], 0x1 /* 1 var */) = 0\n\
             96 [ 12] brk(NULL) = 0x1000\n\
             96 [ 56] clone(child_stack=NULL, flags=SIGCHLD) = 97\n\
             97 [ 12] brk(NULL) = 0x2000\n\
             97 [ 63] uname({sysname=\"Linux\"}) = 0\n\
             97 [231] exit_group(0) = ?\n\
             97 [231] +++ exited with 0 +++\n\
             96 [ 56] clone(child_stack=NULL, flags=SIGCHLD) = 98\n\
             98 [ 12] brk(NULL) = 0x3000\n\
             98 [ 63] uname({sysname=\"Linux\"}) = 0\n\
             98 [231] exit_group(0) = ?\n\
             98 [231] +++ exited with 0 +++\n\
             96 [ 61] wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 97\n\
             96 [ 39] getpid() = 96\n\
             96 [231] exit_group(0) = ?\n",
        );
        let plugin = plugin_trace(
            "[0x9] kill(96, 19) = 0\n\
             [0x9] execve(\"/bin/sh\", [\"sh\"], [\"A=1\"] <unfinished ...>\n\
             [0x7] brk(0) = 0x1000\n\
             [0x7] clone(0x11, 0, NULL, 0x1, 0) = 97\n\
             [0x4] clone(0x11, 0, NULL, 0x1, 0) = 0 (child)\n\
             [0x4] brk(0) = 0x3000\n\
             [0x4] newuname(0x7ff0) = 0\n\
             [0x4] exit_group(0) = ?\n\
             [0x7] clone(0x11, 0, NULL, 0x1, 0) = 98\n\
             [0x3] clone(0x11, 0, NULL, 0x1, 0) = 0 (child)\n\
             [0x3] brk(0) = 0x2000\n\
             [0x3] newuname(0x7ff0) = 0\n\
             [0x3] exit_group(0) = ?\n\
             [0x7] wait4(-1, 0x7ff8, 0, NULL) = 98\n\
             [0x7] getpid() = 96\n\
             [0x7] exit_group(0) = ?\n\
             [0x5] write(1, \"strace's own\", 12) = 12\n",
            &numbers,
        );
        let r = compare(&strace, &plugin, &BySequence, 64);
        assert_eq!(r.processes, (4, 5));
        assert_eq!(r.paired_processes, 4);
        assert!(r.unpaired.is_empty());
        assert_eq!(
            r.before_attach, 1,
            "the tracer's child's kill before execve"
        );
        assert_eq!(r.strace_calls, 13);
        assert_eq!(r.matched, 13);
        assert_eq!(
            r.exact, 4,
            "exit_group(0) = ? in every process, getpid() = 96"
        );
        let count = |class| r.mismatches.iter().filter(|m| m.class == class).count();
        assert_eq!(count(Class::Name), 2, "uname, in each child");
        let fatal: Vec<&str> = r.fatal().map(|m| m.strace.name.as_str()).collect();
        assert_eq!(fatal, ["wait4"], "wait4 returned 97, not 98");
        let text = render(&r, "x86_64", 3);
        assert!(text.contains("return differs: 1 (1 FATAL)"), "{text}");
        assert!(text.contains("- <- N"), "{text}");
        assert!(text.contains("NULL <- N"), "{text}");
        assert!(text.contains("child_stack= <- N"), "{text}");
    }

    /// A process of strace's whose counterpart the plugin lost is not
    /// paired with a process that runs the same program but has another pid.
    #[test]
    fn a_lost_process_stays_unpaired() {
        let strace = strace_trace(
            "105 [ 12] brk(NULL) = 0x2000\n\
             105 [218] set_tid_address(0x2690) = 105\n\
             105 [ 39] getpid() = 105\n\
             105 [231] exit_group(0) = ?\n",
        );
        let plugin = plugin_trace(
            "[0x3] brk(0) = 0x5000\n\
             [0x3] set_tid_address(0x5690) = 117\n\
             [0x3] getpid() = 117\n\
             [0x3] exit_group(0) = ?\n",
            &numbers,
        );
        let r = compare(&strace, &plugin, &BySequence, 64);
        assert_eq!(r.paired_processes, 0);
        assert_eq!(
            r.unpaired,
            [("105#0".to_string(), 4, "brk(NULL) = 0x2000".to_string())]
        );
        assert_eq!(r.strace_only.len(), 4);
        assert_eq!(r.fatal().count(), 0);
        let same_pid = plugin_trace(
            "[0x3] brk(0) = 0x5000\n\
             [0x3] set_tid_address(0x5690) = 105\n\
             [0x3] getpid() = 105\n\
             [0x3] exit_group(0) = ?\n",
            &numbers,
        );
        let r = compare(&strace, &same_pid, &BySequence, 64);
        assert_eq!(r.paired_processes, 1);
        assert_eq!(r.fatal().count(), 1, "brk returned another address");
    }
}
