//! Both traces as calls: strace's `-f -n -o FILE` output, and the plugin's
//! strace-format log (`[0x29ba000] openat(-100, "/etc/hostname", 0, 0) = 3`).
//!
//! The plugin's side is read by [`plugin_event`] alone, so that a change of
//! the plugin's line format is a change of that one function.

use std::collections::HashMap;

/// One system call as a trace shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The process as the trace names it: strace's pid, the plugin's
    /// address space.
    pub proc: String,
    /// The syscall number, when the trace gives it (strace's `-n` column) or
    /// it can be looked up (the plugin's name in its table).
    pub number: Option<u64>,
    /// The name as printed.
    pub name: String,
    /// The arguments as printed, split at the top-level commas.
    pub args: Vec<String>,
    /// What follows ` = `, or `None` for a call that never finished.
    pub ret: Option<String>,
    /// The line without process prefix, number column and padding:
    /// `name(args) = ret`, or `name(args <unfinished ...>`.
    pub text: String,
}

/// What one line (or an unfinished/resumed pair of lines) of a trace says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A call.
    Call(Call),
    /// A new process starts in this address space (the plugin's
    /// `= 0 (child)` line: strace prints no line for a fork's child).
    Start(String),
    /// The process ended: strace's `+++ exited with N +++` or
    /// `+++ killed by SIGTERM +++`.
    End(String),
    /// A signal delivered to the process (`--- SIGCHLD {...} ---`).
    Signal(String),
}

/// A trace read into events, with the lines that could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The events, in the trace's order.
    pub events: Vec<Event>,
    /// Lines that are neither calls nor known markers.
    pub unreadable: Vec<String>,
}

const UNFINISHED: &str = " <unfinished ...>";

/// Splits `name(args) rest` at its parentheses: the name, the text between
/// the parentheses, and what follows the closing one. `None` when there is
/// no closing parenthesis (quotes and brackets respected).
pub fn split_call(text: &str) -> Option<(&str, &str, &str)> {
    let open = text.find('(')?;
    let name = &text[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let inner = &text[open + 1..];
    let close = top_level(inner)
        .find(|&(_, c, depth)| c == ')' && depth < 0)
        .map(|(i, _, _)| i)?;
    Some((name, &inner[..close], &inner[close + 1..]))
}

/// Splits an argument list at its top-level commas: commas inside strings,
/// comments, parentheses, brackets and braces do not count.
pub fn split_args(list: &str) -> Vec<String> {
    if list.trim().is_empty() {
        return Vec::new();
    }
    let mut args = Vec::new();
    let mut start = 0;
    for (i, c, depth) in top_level(list) {
        if c == ',' && depth == 0 {
            args.push(list[start..i].trim().to_string());
            start = i + 1;
        }
    }
    args.push(list[start..].trim().to_string());
    args
}

/// The characters of `s` outside string literals and `/* */` comments,
/// with their byte offsets and bracket depth: an opening bracket counts
/// inside, a closing one outside (so a closing bracket never opened in `s`
/// is at depth -1).
fn top_level(s: &str) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    let mut prev = '\0';
    s.char_indices().filter_map(move |(i, c)| {
        let last = std::mem::replace(&mut prev, c);
        if in_comment {
            in_comment = !(last == '*' && c == '/');
            return None;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            return None;
        }
        match c {
            '"' => in_string = true,
            '*' if last == '/' => {
                in_comment = true;
                prev = '\0';
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                return Some((i, c, depth));
            }
            _ => {}
        }
        Some((i, c, depth))
    })
}

/// A call from the text of a complete line (`name(args) = ret`, or
/// `name(args)` for one that never finished); `None` if it is not one.
pub fn parse_call(proc: &str, number: Option<u64>, text: &str) -> Option<Call> {
    let (name, list, rest) = split_call(text)?;
    let rest = rest.trim();
    let ret = match rest.strip_prefix('=') {
        Some(r) => Some(r.trim().to_string()),
        None if rest.is_empty() => None,
        None => return None,
    };
    let head = format!("{name}({list})");
    let text = match &ret {
        Some(r) => format!("{head} = {r}"),
        None => format!("{name}({list}{UNFINISHED}"),
    };
    Some(Call {
        proc: proc.to_string(),
        number,
        name: name.to_string(),
        args: split_args(list),
        ret,
        text,
    })
}

/// One line of the plugin's strace-format log, read: `[ASID] name(args) =
/// ret`, `... = 0 (child)` (a fork's child: a process starts), or
/// `name(args <unfinished ...>` (a call printed at its enter: `execve`).
/// `number` gives a name's syscall number.
pub fn plugin_event(line: &str, number: &dyn Fn(&str) -> Option<u64>) -> Option<Event> {
    let (asid, text) = line.strip_prefix('[')?.split_once("] ")?;
    if text.ends_with(" (child)") {
        return Some(Event::Start(asid.to_string()));
    }
    let text = match text.strip_suffix(UNFINISHED) {
        Some(args_open) => format!("{args_open})"),
        None => text.to_string(),
    };
    let (name, _, _) = split_call(&text)?;
    parse_call(asid, number(name), &text).map(Event::Call)
}

/// The plugin's log as a trace. A call printed at its enter and again at
/// its return (a failed `execve`) is one call, the returned one.
pub fn plugin_trace(log: &str, number: &dyn Fn(&str) -> Option<u64>) -> Trace {
    let mut trace = Trace::default();
    // Per address space: the event index of a call printed at its enter.
    let mut entered: HashMap<String, usize> = HashMap::new();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        match plugin_event(line, number) {
            Some(Event::Call(call)) => {
                let open = entered.remove(&call.proc);
                let unfinished = call.ret.is_none();
                match open {
                    Some(at) if matches!(&trace.events[at], Event::Call(c) if c.name == call.name) =>
                    {
                        trace.events[at] = Event::Call(call);
                    }
                    _ => {
                        if unfinished {
                            entered.insert(call.proc.clone(), trace.events.len());
                        }
                        trace.events.push(Event::Call(call));
                    }
                }
            }
            Some(other) => {
                if let Event::Start(p) = &other {
                    entered.remove(p);
                }
                trace.events.push(other);
            }
            None => trace.unreadable.push(line.to_string()),
        }
    }
    trace
}

/// One line of strace's output, before unfinished and resumed halves are joined.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Line {
    Complete(String),
    /// The text before ` <unfinished ...>`.
    Unfinished(String),
    /// `<... NAME resumed>` and the text after it.
    Resumed(String, String),
    Signal(String),
    End(String),
}

/// Reads one line of `strace -f [-n]` output: the process (`PID ` with
/// `-o`, `[pid PID] ` on a terminal), the `-n` number (`[ 257] `) and what
/// follows.
fn strace_line(line: &str) -> Option<(String, Option<u64>, Line)> {
    let line = line.trim_end();
    let (pid, rest) = match line.strip_prefix("[pid ") {
        Some(r) => r.split_once(']')?,
        None => line.split_at(line.find(|c: char| !c.is_ascii_digit())?),
    };
    let pid = pid.trim();
    if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut rest = rest.trim_start();
    let mut number = None;
    if let Some(r) = rest.strip_prefix('[') {
        let (n, after) = r.split_once(']')?;
        number = Some(n.trim().parse().ok()?);
        rest = after.trim_start();
    }
    let kind = if let Some(r) = rest.strip_prefix("<... ") {
        let (name, after) = r.split_once(" resumed>")?;
        Line::Resumed(name.to_string(), after.to_string())
    } else if rest.starts_with("+++ ") {
        Line::End(rest.to_string())
    } else if rest.starts_with("--- ") {
        Line::Signal(rest.to_string())
    } else if let Some(before) = rest.strip_suffix(UNFINISHED) {
        Line::Unfinished(before.to_string())
    } else {
        Line::Complete(rest.to_string())
    };
    Some((pid.to_string(), number, kind))
}

/// strace's output as a trace: `<unfinished ...>` and `<... resumed>`
/// halves joined into one call (at the resumption), a call left unfinished
/// by a process's end kept with no return, column padding removed.
pub fn strace_trace(text: &str) -> Trace {
    let mut trace = Trace::default();
    let mut open: HashMap<String, (Option<u64>, String)> = HashMap::new();
    let push_call =
        |trace: &mut Trace, pid: &str, number, text: &str| match parse_call(pid, number, text) {
            Some(call) => trace.events.push(Event::Call(call)),
            None => trace.unreadable.push(format!("{pid} {text}")),
        };
    for raw in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((pid, number, line)) = strace_line(raw) else {
            trace.unreadable.push(raw.to_string());
            continue;
        };
        match line {
            Line::Complete(text) => push_call(&mut trace, &pid, number, &text),
            Line::Unfinished(before) => {
                open.insert(pid, (number, before));
            }
            Line::Resumed(name, after) => match open.remove(&pid) {
                Some((n, before)) if before.starts_with(&format!("{name}(")) => {
                    push_call(&mut trace, &pid, n.or(number), &format!("{before}{after}"))
                }
                _ => trace.unreadable.push(raw.to_string()),
            },
            Line::Signal(text) => trace.events.push(Event::Signal(text)),
            Line::End(_) => {
                if let Some((n, before)) = open.remove(&pid) {
                    push_call(&mut trace, &pid, n, &cut_short(&before));
                }
                trace.events.push(Event::End(pid));
            }
        }
    }
    let mut left: Vec<_> = open.into_iter().collect();
    left.sort();
    for (pid, (n, before)) in left {
        push_call(&mut trace, &pid, n, &cut_short(&before));
    }
    trace
}

/// The call text of an `<unfinished ...>` line that was never resumed:
/// its arguments so far, closed.
fn cut_short(before: &str) -> String {
    format!("{})", before.trim_end().trim_end_matches(','))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_numbers(_: &str) -> Option<u64> {
        None
    }

    fn calls(t: &Trace) -> Vec<&Call> {
        t.events
            .iter()
            .filter_map(|e| match e {
                Event::Call(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn args_split_at_top_level_commas_only() {
        let args = split_args(
            r#"AT_FDCWD, "a,\"b)", {st_mode=S_IFDIR|0755, st_size=60, ...}, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0x1 /* 2 vars, more */, "\\", NULL"#,
        );
        assert_eq!(
            args,
            [
                "AT_FDCWD",
                r#""a,\"b)""#,
                "{st_mode=S_IFDIR|0755, st_size=60, ...}",
                "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]",
                "0x1 /* 2 vars, more */",
                r#""\\""#,
                "NULL"
            ]
        );
        assert_eq!(split_args(""), Vec::<String>::new());
        assert_eq!(split_args("3"), ["3"]);
    }

    #[test]
    fn a_call_splits_at_its_own_closing_parenthesis() {
        let (name, list, rest) = split_call(r#"write(1, "x) = 2\n", 4)      = 4"#).expect("a call");
        assert_eq!(
            (name, list, rest),
            ("write", r#"1, "x) = 2\n", 4"#, "      = 4")
        );
        assert_eq!(split_call("wait4(-1, "), None);
        assert_eq!(split_call("+++ exited with 0 +++"), None);
        assert_eq!(split_call("(x)"), None);
    }

    #[test]
    fn strace_lines_lose_pid_number_and_padding() {
        let t = strace_trace(
            "97    [ 257] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3\n\
             [pid 98] [  12] brk(NULL)                  = 0xe915d40\n\
             97    [ 231] exit_group(0)              = ?\n",
        );
        let c = calls(&t);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].proc, "97");
        assert_eq!(c[0].number, Some(257));
        assert_eq!(c[0].name, "openat");
        assert_eq!(c[0].args, ["AT_FDCWD", "\"/etc/hostname\"", "O_RDONLY"]);
        assert_eq!(c[0].ret.as_deref(), Some("3"));
        assert_eq!(c[1].proc, "98");
        assert_eq!(c[1].text, "brk(NULL) = 0xe915d40");
        assert_eq!(c[2].text, "exit_group(0) = ?");
        assert!(t.unreadable.is_empty());
    }

    #[test]
    fn unfinished_and_resumed_halves_join_at_the_resumption() {
        let t = strace_trace(
            "96    [  61] wait4(-1,  <unfinished ...>\n\
             97    [ 231] exit_group(0)              = ?\n\
             97    [ 231] +++ exited with 0 +++\n\
             96    [  61] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 97\n\
             96    [  61] --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=97, si_status=0} ---\n\
             105   [  59] execve(\"/proc/self/exe\", [\"cat\"], 0x3747a998 /* 7 vars */ <unfinished ...>\n\
             106   [   3] close(3 <unfinished ...>\n\
             105   [  59] <... execve resumed>)      = 0\n\
             106   [   3] <... close resumed>)       = 0\n",
        );
        assert!(t.unreadable.is_empty(), "{:?}", t.unreadable);
        let kinds: Vec<String> = t
            .events
            .iter()
            .map(|e| match e {
                Event::Call(c) => format!("{}: {}", c.proc, c.text),
                Event::End(p) => format!("{p}: end"),
                Event::Signal(s) => format!("signal {}", &s[..11]),
                Event::Start(p) => format!("{p}: start"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "97: exit_group(0) = ?",
                "97: end",
                "96: wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 97",
                "signal --- SIGCHLD",
                "105: execve(\"/proc/self/exe\", [\"cat\"], 0x3747a998 /* 7 vars */) = 0",
                "106: close(3) = 0",
            ]
        );
        let wait = calls(&t)[1];
        assert_eq!(wait.number, Some(61));
        assert_eq!(wait.args.len(), 4);
    }

    #[test]
    fn a_call_cut_by_the_process_end_has_no_return() {
        let t = strace_trace(
            "113   [ 230] clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0},  <unfinished ...>\n\
             113   [   0] --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=96, si_uid=0} ---\n\
             113   [   0] +++ killed by SIGTERM +++\n",
        );
        let c = calls(&t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].ret, None);
        assert_eq!(c[0].args.len(), 3);
        assert_eq!(
            c[0].text,
            "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0} <unfinished ...>"
        );
        assert!(matches!(t.events[0], Event::Signal(_)));
        assert!(
            matches!(t.events[1], Event::Call(_)),
            "kept at the process's end"
        );
        assert_eq!(t.events[2], Event::End("113".into()));
    }

    #[test]
    fn strace_escapes_stay_inside_their_string() {
        let t = strace_trace(r#"96    [   1] write(1, "a\"b, c)\\\0011\n"..., 40) = 40"#);
        let c = calls(&t);
        assert_eq!(c[0].args, [r"1", r#""a\"b, c)\\\0011\n"..."#, "40"]);
        assert_eq!(c[0].ret.as_deref(), Some("40"));
    }

    #[test]
    fn lines_that_are_not_strace_are_kept_aside() {
        let t = strace_trace("strace: Process 97 attached\n97 [ 1] write(1, \"x\", 1\n");
        assert!(t.events.is_empty());
        assert_eq!(t.unreadable.len(), 2);
    }

    #[test]
    fn plugin_lines_give_calls_children_and_enter_only_calls() {
        let numbers = |n: &str| (n == "openat").then_some(257);
        let log = "[0x29ba000] openat(-100, \"/etc/hostname\", 0, 0) = 3\n\
                   [0x26e0000] clone(0x1200011, 0, NULL, 0x8fbb690, 0) = 0 (child)\n\
                   [0x26e0000] execve(\"/bin/sh\", [\"sh\", \"-c\", \"x\"], [\"A=1\"] <unfinished ...>\n\
                   [0x26e0000] execve(\"/nope\", [\"nope\"], [\"A=1\"] <unfinished ...>\n\
                   [0x26e0000] execve(\"/nope\", [\"nope\"], [\"A=1\"]) = -1 ENOENT (No such file or directory)\n\
                   [0x29ba000] exit_group(3) = ?\n\
                   garbage\n";
        let t = plugin_trace(log, &numbers);
        assert_eq!(t.unreadable, ["garbage"]);
        assert_eq!(t.events[1], Event::Start("0x26e0000".into()));
        let c = calls(&t);
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].number, Some(257));
        assert_eq!(c[0].args, ["-100", "\"/etc/hostname\"", "0", "0"]);
        assert_eq!(c[1].ret, None, "a successful execve never returns");
        assert_eq!(c[1].args.len(), 3);
        assert_eq!(
            c[2].text,
            "execve(\"/nope\", [\"nope\"], [\"A=1\"]) = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(c[3].text, "exit_group(3) = ?");
        assert_eq!(c[3].number, None);
        let t = plugin_trace("[0x1] getpid() = 5\n", &no_numbers);
        assert_eq!(calls(&t)[0].args, Vec::<String>::new());
    }
}
