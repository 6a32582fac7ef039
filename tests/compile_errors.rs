//! Bad input to the macros is a clear compile error, never a panic: each
//! case has its compiler output snapshot in `tests/ui/*.stderr`.
//! (`TRYBUILD=overwrite cargo test --test compile_errors` refreshes them.)
//!
//! The UI cases name their tables relative to trybuild's project in
//! `target/tests/trybuild/syscalls2/`, four levels below the repository, as
//! the macro resolves paths against the calling crate's manifest: run with
//! the default target directory (no `CARGO_TARGET_DIR`).

#[test]
fn macros_reject_bad_input_with_clear_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
