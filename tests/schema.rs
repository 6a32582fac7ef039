//! The event schema: the file in the repository is what the types say, and
//! real outputs (every fixture replayed to JSON lines) conform to it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use syscalls2::session::{JsonlSink, Session};

/// A writer whose bytes the test reads back.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SCHEMA: &str = include_str!("../schema/event-v1.schema.json");

/// `schema/event-v1.schema.json` is generated from the event types
/// (`cargo xtask schema` writes it).
#[cfg(feature = "schema")]
#[test]
fn the_schema_file_is_current() {
    assert_eq!(
        SCHEMA,
        syscalls2::event::schema(),
        "schema/event-v1.schema.json is stale: run `cargo xtask schema`"
    );
}

/// Every line the JSON-lines sink writes for the recorded and hand-written
/// fixtures validates against the schema.
#[test]
fn replayed_events_conform_to_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let dir = common::fixture_path("");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let fixture = common::load(&name);
        if syscalls2::profiles::by_name(&fixture.profile).is_none() {
            continue; // A profile this build leaves out.
        }
        let out = SharedBuf::default();
        let mut session = Session::new(common::engine_for(&fixture));
        session.add_sink(JsonlSink::new(out.clone()));
        session.replay(&fixture).unwrap();
        session.finish(Default::default()).unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        for (i, line) in text.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{name} line {}: {errors:?}\n{line}",
                i + 1
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} events checked");
}
