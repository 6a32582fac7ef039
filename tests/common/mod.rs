//! Replays a fixture through a trace session and collects what a user
//! sees: the strace lines, the events, and every return's context.

#![allow(dead_code)] // Each test binary uses part of it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use syscalls2::event::Event;
use syscalls2::fixture::Fixture;
use syscalls2::session::{MemorySink, Session};
use syscalls2::{profiles, Engine, Stats, SyscallCtx};

/// What a replay produced.
pub struct Run {
    /// strace-style lines, in order.
    pub lines: Vec<String>,
    /// The events, in order.
    pub events: Vec<Event>,
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
    let returns = Arc::new(Mutex::new(Vec::new()));
    let r = returns.clone();
    engine.on_all_return(move |_cpu, ctx| r.lock().unwrap().push(*ctx));
    let sink = MemorySink::default();
    let mut session = Session::new(engine);
    session.add_sink(sink.clone());
    session.replay(fixture).expect("the fixture replays");
    let returns = returns.lock().unwrap().clone();
    Run {
        lines: sink.lines(),
        events: sink.events(),
        returns,
        stats: session.engine().stats(),
        pending: session.engine().pending(),
    }
}

pub fn run(name: &str) -> Run {
    let f = load(name);
    let engine = engine_for(&f);
    run_with(&f, engine)
}
