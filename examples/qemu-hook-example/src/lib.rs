//! A user's own QEMU plugin: `#[on_syscall]` functions plus
//! `syscalls2_qemu::plugin!()` in a cdylib crate.
//!
//! ```text
//! cargo build --release -p qemu-hook-example
//! qemu-system-x86_64 ... -plugin target/release/libqemu_hook_example.so,log=none
//! ```
//!
//! Every `openat` of the guest is printed when it returns, with the process
//! that made it (`cpu.process()`), its path and the returned descriptor; the
//! plugin's own trace is off (`log=none`).

use std::sync::atomic::{AtomicU64, Ordering};
use syscalls2::{on_syscall, Cpu, GuestPtr, Process, Retval};

static OPENS: AtomicU64 = AtomicU64::new(0);

/// Runs at every return of `openat`, in any profile that has it.
#[on_syscall(sys_openat, return)]
fn opened(
    cpu: &mut dyn Cpu,
    _pc: u64,
    _dfd: i32,
    filename: GuestPtr,
    _flags: i32,
    _mode: u16,
    ret: Retval,
) {
    let n = OPENS.fetch_add(1, Ordering::Relaxed) + 1;
    let path = filename
        .read_cstr(cpu)
        .map(|p| String::from_utf8_lossy(&p).into_owned())
        .unwrap_or_else(|e| e.to_string());
    // Who made the call (PANDA's get_current_process): the session's
    // answer, the same as the trace's event for this return.
    let who = cpu.process();
    let id = |f: fn(&Process) -> Option<u32>| {
        who.as_ref()
            .and_then(f)
            .map_or("?".to_string(), |v| v.to_string())
    };
    let comm = who.as_ref().and_then(|p| p.comm.as_deref()).unwrap_or("?");
    eprintln!(
        "hook-example: open #{n} by pid {} tid {} ({comm}): {path:?} -> {}",
        id(|p| p.pid),
        id(|p| p.tid),
        ret.value
    );
}

syscalls2_qemu::plugin!(|engine: &mut syscalls2::Engine| {
    eprintln!(
        "hook-example: installed on {} with the opened() hook",
        engine.table().name
    );
});
