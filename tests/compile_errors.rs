//! Bad input to the macros is a clear compile error, never a panic: each
//! case has its compiler output snapshot in `tests/ui/*.stderr`.
//! (`TRYBUILD=overwrite cargo test --test compile_errors` refreshes them.)

#[test]
fn macros_reject_bad_input_with_clear_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
