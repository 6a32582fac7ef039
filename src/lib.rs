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
//!
//! Who made a call (PANDA's `get_current_process`): any hook's
//! [`Cpu::process`], answered by the session around the engine, here on a
//! recording of a real guest:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use syscalls2::{fixture::Fixture, profiles, session::Session, Engine};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/linux_x64_qemu_workload.json");
//! let fixture = Fixture::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
//! let mut engine = Engine::new(profiles::by_name(&fixture.profile).unwrap());
//! let pids = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
//! let seen = pids.clone();
//! engine.on_all_enter(move |cpu, _ctx| {
//!     if let Some(pid) = cpu.process().and_then(|p| p.pid) {
//!         seen.lock().unwrap().insert(pid);
//!     }
//! });
//! Session::new(engine).replay(&fixture).unwrap();
//! assert!(pids.lock().unwrap().len() > 2);
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
