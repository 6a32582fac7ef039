//! What `syscalls2-macros` expands to, as plain functions over
//! `proc_macro2`: testable and benchmarkable without a compiler, as serde
//! keeps its derive logic apart from the proc-macro crate.
//!
//! - [`table`]: `syscall_table!`: read a table file, resolve it for its ABI
//!   (with `syscalls2-prototypes`), and print the profile's items;
//! - [`hook`]: `#[on_syscall]`: check a function against the prototype and
//!   register it;
//! - [`profiles`]: `bundled_profiles!`: every bundled table as a profile.

#![warn(missing_docs)]

pub mod hook;
pub mod profiles;
pub mod table;
