// The expansion compiles without warnings under #![deny(warnings)], and a
// crate that depends on syscalls2 alone can use both macros.
#![deny(warnings, missing_docs)]
//! A user crate.

/// A profile of the user's own, from a bundled table.
pub mod my_linux_x86 {
    syscalls2::syscall_table!("../../../../syscalls2-prototypes/tables/linux_x86_prototypes.txt");
}

/// A Windows profile.
pub mod my_windows {
    syscalls2::syscall_table!("../../../../syscalls2-prototypes/tables/windows7_x64_prototypes.txt");
}

use syscalls2::{on_syscall, Cpu, GuestPtr, Retval};

#[on_syscall(NtReadFile, enter)]
#[allow(clippy::too_many_arguments)]
fn nt_read(
    _cpu: &mut dyn Cpu,
    _pc: u64,
    _file_handle: u64,
    _event: u64,
    _apc_routine: GuestPtr,
    _apc_context: GuestPtr,
    _io_status_block: GuestPtr,
    _buffer: GuestPtr,
    _length: u32,
    _byte_offset: GuestPtr,
    _key: GuestPtr,
) {
}

#[on_syscall(sys_write, return)]
fn wrote(_cpu: &mut dyn Cpu, _pc: u64, _fd: u32, _buf: GuestPtr, _count: u64, _ret: Retval) {}

fn main() {
    assert_eq!(my_linux_x86::nr::sys_read, 3);
    assert_eq!(my_linux_x86::SysRead::NAME, "sys_read");
    let engine = syscalls2::Engine::new(&my_windows::TABLE);
    assert_eq!(engine.table().name, "windows7_x64");
}
