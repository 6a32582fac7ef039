//! # syscalls2
//!
//! One typed callback per system call, on enter and on return, for an
//! emulator's Linux and Windows guests on x86, x86-64, ARM, AArch64 and
//! MIPS: PANDA's `syscalls2` plugin, as Rust crates that run on any backend
//! (a stock QEMU TCG plugin is in `syscalls2-qemu`).
//!
//! - [`syscall_table!`] expands a prototype table into a typed profile;
//!   [`profiles`] holds the bundled ones, one cargo feature each.
//! - [`on_syscall`] makes a plain function a hook, checked against the
//!   prototype at compile time.
//! - [`Engine`] decodes each call, runs the hooks, and pairs every return
//!   with its enter; a backend drives it through the [`Cpu`] trait.
//! - [`session::Session`] puts a tracer around an engine, for any backend:
//!   filters, sinks (strace text, JSON lines of the [`event`] schema),
//!   fixture recording, the end-of-run summary.
//!
//! ```
//! use syscalls2::{on_syscall, profiles::linux_x64, Cpu, Engine, GuestPtr, Retval};
//!
//! // Runs in every engine whose profile has `sys_openat`.
//! #[on_syscall(sys_openat, return)]
//! fn opened(cpu: &mut dyn Cpu, _pc: u64, _dfd: i32, filename: GuestPtr, _flags: i32, _mode: u16, ret: Retval) {
//!     if let Ok(path) = filename.read_cstr(cpu) {
//!         println!("openat({:?}) = {}", String::from_utf8_lossy(&path), ret.value);
//!     }
//! }
//!
//! let mut engine = Engine::new(&linux_x64::TABLE);
//! // Closures too, registered and removed at run time:
//! let id = linux_x64::on_sys_read_enter(&mut engine, |_cpu, _pc, args| {
//!     println!("read({}, {}, {})", args.fd, args.buf, args.count);
//! })
//! .unwrap();
//! assert!(engine.remove_hook(id));
//! ```

#![warn(missing_docs)]

pub mod background;
pub mod capture;
pub mod classes;
pub mod count;
pub mod decode;
pub mod event;
pub mod options;
pub mod session;
pub mod strace;
pub mod windows_args;

pub use syscalls2_core::*;
pub use syscalls2_macros::{on_syscall, syscall_table};
/// The bundled OS profiles (see the `syscalls2-profiles` crate).
pub use syscalls2_profiles as profiles;
