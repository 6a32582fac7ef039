//! The syscall prototype table format of PANDA's `syscalls2`, as data.
//!
//! This crate is the front half of `syscall_table!`, split out so that it can
//! be tested, and used by the project's generator, without a proc-macro:
//!
//! - [`parse_table`] reads a table with the pest grammar in
//!   `src/prototypes.pest` into a [`TableSource`] of [`Prototype`]s;
//! - [`TableSource::validate`] finds duplicate numbers and names;
//! - [`classify`] turns a C argument type into a [`CType`], which
//!   [`CType::resolve`] sizes for one [`Abi`](syscalls2_abi::Abi);
//! - [`resolve`] does that for a whole table: a [`ResolvedTable`] with
//!   every argument's class, slots and Rust name, ready to print as code;
//! - [`BUNDLED`] holds the tables bundled with syscalls2 (`tables/`).
//!
//! ```
//! let table = syscalls2_prototypes::parse_table(
//!     "3 long sys_read(unsigned int fd, char __user *buf, size_t count);\n",
//! ).unwrap();
//! let read = &table.prototypes[0];
//! assert_eq!((read.number, read.name.as_str()), (Some(3), "sys_read"));
//! assert_eq!(read.params[1].name.as_deref(), Some("buf"));
//! assert_eq!(read.params[1].ty.to_string(), "char __user *");
//! ```

#![warn(missing_docs)]

mod bundled;
mod ctype;
mod parse;
mod resolve;

pub use bundled::{bundled, windows_aliases, Bundled, BUNDLED, WINDOWS_RELEASES};
pub use ctype::{classify, CType, Scalar, Width};
pub use parse::{
    parse_table, Annotation, Diagnostic, Param, ParseError, Placeholder, Prototype, TableSource,
    TypeRef, ANNOTATIONS,
};
pub use resolve::{
    camel_case, field_name, resolve, snake_case, ResolvedArg, ResolvedSyscall, ResolvedTable,
};
