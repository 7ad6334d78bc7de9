//! Compile-fail tests: every bad annotation is one file in `tests/ui`, named after the mistake,
//! with the error the user sees committed beside it (`.stderr`). `tests/ui/pass` holds every
//! supported shape, which must keep compiling.
//!
//! After an intended change to a message, regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p breaker-macros --test ui` and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
