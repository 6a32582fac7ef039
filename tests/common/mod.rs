//! Replays a fixture through an engine and collects what a user sees: the
//! strace lines, and every return's context.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use syscalls2::fixture::{replay, Fixture};
use syscalls2::strace::{Format, Tracer};
use syscalls2::{profiles, Engine, Stats, SyscallCtx};

/// What a replay produced.
pub struct Run {
    /// strace-style lines, in order.
    pub lines: Vec<String>,
    /// The contexts of every paired return, in order.
    pub returns: Vec<SyscallCtx>,
    /// The engine's counters.
    pub stats: Stats,
    /// Calls still waiting for their return.
    pub pending: Vec<SyscallCtx>,
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn load(name: &str) -> Fixture {
    let text =
        std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Fixture::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn engine_for(fixture: &Fixture) -> Engine {
    let table = profiles::by_name(&fixture.profile)
        .unwrap_or_else(|| panic!("profile {} not built", fixture.profile));
    let mut engine = Engine::new(table);
    if let Some(c) = &fixture.compat {
        engine = engine.with_compat(profiles::by_name(c).expect("compat profile built"));
    }
    engine
}

pub fn run_with(fixture: &Fixture, mut engine: Engine) -> Run {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let returns = Arc::new(Mutex::new(Vec::new()));
    let tracer = Arc::new(Mutex::new(Tracer::new(Format::Strace)));
    let (l, t) = (lines.clone(), tracer.clone());
    engine.on_all_enter(move |cpu, ctx| {
        if let Some(line) = t.lock().unwrap().enter(cpu, ctx) {
            l.lock().unwrap().push(line);
        }
    });
    let (l, t, r) = (lines.clone(), tracer.clone(), returns.clone());
    engine.on_all_return(move |cpu, ctx| {
        if let Some(line) = t.lock().unwrap().exit(cpu, ctx) {
            l.lock().unwrap().push(line);
        }
        r.lock().unwrap().push(*ctx);
    });
    replay(fixture, &mut engine).expect("the fixture replays");
    let lines = lines.lock().unwrap().clone();
    let returns = returns.lock().unwrap().clone();
    Run {
        lines,
        returns,
        stats: engine.stats(),
        pending: engine.pending(),
    }
}

pub fn run(name: &str) -> Run {
    let f = load(name);
    let engine = engine_for(&f);
    run_with(&f, engine)
}
