//! strace's `-c`: a table of calls, errors and time per syscall, written
//! when the session ends.
//!
//! ```
//! use syscalls2::count::CountSink;
//! use syscalls2::session::Session;
//! use syscalls2::{fixture::Fixture, profiles, Engine};
//!
//! let text = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/tests/fixtures/linux_x64_qemu_workload.json"
//! ))?;
//! let fixture = Fixture::from_json(&text)?;
//! let mut session = Session::new(Engine::new(profiles::by_name("linux_x64").unwrap()));
//! let path = std::env::temp_dir().join("syscalls2-count-doc.txt");
//! session.add_sink(CountSink::new(std::fs::File::create(&path)?));
//! session.replay(&fixture)?;
//! session.finish(Default::default())?;
//! let table = std::fs::read_to_string(&path)?;
//! assert!(table.starts_with("% time     seconds  usecs/call     calls    errors syscall"));
//! assert!(table.lines().any(|l| l.ends_with(" openat")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Times are the events' `duration_ns`: host time between a call's enter
//! and its return as the backend saw them (under an emulator, emulated
//! time, hooks included).

use crate::event::{Event, Phase, Summary};
use crate::session::{Record, Sink};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

/// One syscall's line of the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountRow {
    /// strace's name (`syscall_N` for a number the table lacks).
    pub name: String,
    /// Calls made.
    pub calls: u64,
    /// Calls that returned an error.
    pub errors: u64,
    /// Nanoseconds spent in the calls that returned.
    pub time_ns: u64,
}

/// Counts every traced call; at the end writes strace's `-c` table.
pub struct CountSink<W: Write + Send> {
    out: W,
    rows: BTreeMap<String, CountRow>,
    /// Calls entered and not yet returned (a return without its enter, as
    /// of a process followed from its fork, is counted at its return).
    open: HashSet<u64>,
}

fn row_name(event: &Event) -> String {
    event
        .name
        .clone()
        .unwrap_or_else(|| format!("syscall_{}", event.no))
}

impl<W: Write + Send> CountSink<W> {
    /// A table written to `out` when the session finishes.
    pub fn new(out: W) -> Self {
        CountSink {
            out,
            rows: BTreeMap::new(),
            open: HashSet::new(),
        }
    }

    /// The rows so far, as strace sorts them: most time first, then most
    /// calls, then by name.
    pub fn rows(&self) -> Vec<CountRow> {
        let mut rows: Vec<CountRow> = self.rows.values().cloned().collect();
        rows.sort_by(|a, b| {
            (b.time_ns, b.calls)
                .cmp(&(a.time_ns, a.calls))
                .then_with(|| a.name.cmp(&b.name))
        });
        rows
    }

    /// The table, as strace `-c` prints it.
    pub fn table(&self) -> String {
        table(&self.rows())
    }
}

/// strace `-c`'s table of `rows`, with its total line.
pub fn table(rows: &[CountRow]) -> String {
    const RULE: &str = "------ ----------- ----------- --------- --------- ----------------";
    let total = CountRow {
        name: "total".into(),
        calls: rows.iter().map(|r| r.calls).sum(),
        errors: rows.iter().map(|r| r.errors).sum(),
        time_ns: rows.iter().map(|r| r.time_ns).sum(),
    };
    let line = |r: &CountRow| {
        let percent = if total.time_ns == 0 {
            0.0
        } else {
            100.0 * r.time_ns as f64 / total.time_ns as f64
        };
        let per_call = (r.time_ns / 1000).checked_div(r.calls).unwrap_or(0);
        let errors = if r.errors == 0 {
            String::new()
        } else {
            r.errors.to_string()
        };
        format!(
            "{percent:>6.2} {:>11.6} {per_call:>11} {:>9} {errors:>9} {}\n",
            r.time_ns as f64 / 1e9,
            r.calls,
            r.name
        )
    };
    let mut s = String::from("% time     seconds  usecs/call     calls    errors syscall\n");
    s.push_str(RULE);
    s.push('\n');
    for r in rows {
        s.push_str(&line(r));
    }
    s.push_str(RULE);
    s.push('\n');
    s.push_str(&line(&total));
    s
}

impl<W: Write + Send> Sink for CountSink<W> {
    fn event(&mut self, r: &Record<'_>) -> io::Result<()> {
        let e = r.event;
        let entered = match e.ev {
            Phase::Enter => {
                if !r.info.is_some_and(|i| i.returns.noreturn) {
                    self.open.insert(e.seq);
                }
                true
            }
            // A fork's child return is the same call as its parent's.
            Phase::Return if e.child == Some(true) => return Ok(()),
            Phase::Return => !self.open.remove(&e.seq),
        };
        let row = self.rows.entry(row_name(e)).or_insert_with(|| CountRow {
            name: row_name(e),
            ..CountRow::default()
        });
        if entered {
            row.calls += 1;
        }
        if e.ev == Phase::Return {
            row.errors += u64::from(e.errno.is_some());
            row.time_ns += e.duration_ns.unwrap_or(0);
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let table = self.table();
        self.out.write_all(table.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::SharedBuf;
    use crate::session::{MemorySink, Session};
    use crate::{fixture::Fixture, profiles, Engine};

    #[test]
    fn the_table_counts_what_the_trace_shows() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/linux_x64_qemu_workload.json"
        );
        let f = Fixture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let table = profiles::by_name(&f.profile).unwrap();
        let mut s = Session::new(
            profiles::compat_for(table)
                .into_iter()
                .fold(Engine::new(table), Engine::with_compat),
        );
        let out = SharedBuf::default();
        let events = MemorySink::default();
        s.add_sink(CountSink::new(out.clone()));
        s.add_sink(events.clone());
        s.replay(&f).unwrap();
        s.finish(Default::default()).unwrap();
        let text = out.text();
        let events = events.events();
        // Per name: the calls are the enters; the errors, the failed returns.
        let count = |name: &str, f: &dyn Fn(&Event) -> bool| {
            events
                .iter()
                .filter(|e| e.name.as_deref() == Some(name) && f(e))
                .count()
        };
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with("---"))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(rows.len() > 10, "{text}");
        let mut errors = 0;
        for cols in &rows {
            let (name, calls) = (cols[cols.len() - 1], cols[3]);
            let failed = count(name, &|e| e.ev == Phase::Return && e.errno.is_some());
            assert_eq!(calls, count(name, &|e| e.ev == Phase::Enter).to_string());
            let shown = if cols.len() == 6 { cols[4] } else { "0" };
            assert_eq!(shown, failed.to_string(), "{name}: {text}");
            errors += failed;
        }
        assert!(errors > 0, "the workload has failing calls");
        let exits = count("exit_group", &|e| e.ev == Phase::Enter);
        let total = text.lines().last().unwrap();
        assert!(total.ends_with(" total"), "{text}");
        let enters = events.iter().filter(|e| e.ev == Phase::Enter).count();
        assert!(exits > 0);
        assert_eq!(
            total.split_whitespace().nth(3).unwrap(),
            enters.to_string(),
            "{text}"
        );
        assert!(total.starts_with("100.00"), "{total}");
    }

    #[test]
    fn rows_sort_by_time_then_calls() {
        let rows = |v: &[(&str, u64, u64)]| {
            let mut s = CountSink::new(io::sink());
            for &(n, calls, t) in v {
                s.rows.insert(
                    n.into(),
                    CountRow {
                        name: n.into(),
                        calls,
                        errors: 0,
                        time_ns: t,
                    },
                );
            }
            s.rows().into_iter().map(|r| r.name).collect::<Vec<_>>()
        };
        assert_eq!(
            rows(&[("a", 1, 10), ("b", 5, 30), ("c", 9, 10)]),
            ["b", "c", "a"]
        );
        let t = table(&[CountRow {
            name: "read".into(),
            calls: 4,
            errors: 1,
            time_ns: 2_000_000,
        }]);
        assert!(
            t.contains("100.00    0.002000         500         4         1 read"),
            "{t}"
        );
    }
}
