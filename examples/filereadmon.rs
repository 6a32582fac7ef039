//! The original syscalls2 README's example, in Rust: watch a Windows 7
//! guest's `NtReadFile` calls, naming the file each handle was opened as.
//!
//! `cargo run --example filereadmon [FIXTURE.json]` runs it on a bundled
//! recording of a process opening and reading a file.
//!
//! The hooks are plain functions: `#[on_syscall]` registers them, and the
//! compiler checks each against the prototype. The open hooks serve every
//! bundled Windows profile; the NtReadFile ones are restricted to
//! windows7_x86 (`profile = ...`) to show how.

use std::collections::HashMap;
use std::sync::Mutex;
use syscalls2::fixture::{replay, Fixture};
use syscalls2::windows::object_attributes_name;
use syscalls2::{abi, on_syscall, profiles, Cpu, CpuExt, Engine, GuestPtr, Retval};

/// What the monitor knows, across hooks.
#[derive(Default)]
struct Files {
    /// Opens in flight: (address space, FileHandle pointer) → the name
    /// asked for, read at enter while `OBJECT_ATTRIBUTES` is surely mapped.
    opening: HashMap<(u64, u64), String>,
    /// Open handles: (address space, handle) → file name.
    open: HashMap<(u64, u64), String>,
}

static FILES: Mutex<Option<Files>> = Mutex::new(None);

fn with_files<R>(f: impl FnOnce(&mut Files) -> R) -> R {
    f(FILES.lock().unwrap().get_or_insert_with(Files::default))
}

/// At an open's enter: the name it asks for.
fn opening(cpu: &mut dyn Cpu, file_handle: GuestPtr, object_attributes: GuestPtr) {
    let name = object_attributes_name(cpu, abi::windows_x86::ABI, object_attributes.addr())
        .unwrap_or_else(|e| format!("<name unreadable: {e}>"));
    let asid = cpu.asid();
    with_files(|f| f.opening.insert((asid, file_handle.addr()), name));
}

/// At an open's return: the handle it wrote to `*FileHandle`.
fn opened(cpu: &mut dyn Cpu, file_handle: GuestPtr, ret: Retval) {
    let asid = cpu.asid();
    let Some(name) = with_files(|f| f.opening.remove(&(asid, file_handle.addr()))) else {
        return;
    };
    if ret.is_error() {
        return;
    }
    if let Ok(handle) = cpu.read_uint(file_handle.addr(), 4) {
        with_files(|f| f.open.insert((asid, handle), name));
    }
}

#[on_syscall(NtCreateFile, enter)]
#[allow(clippy::too_many_arguments)]
fn create_enter(
    cpu: &mut dyn Cpu,
    _pc: u64,
    file_handle: GuestPtr,
    _desired_access: u32,
    object_attributes: GuestPtr,
    _io_status_block: GuestPtr,
    _allocation_size: GuestPtr,
    _file_attributes: u32,
    _share_access: u32,
    _create_disposition: u32,
    _create_options: u32,
    _ea_buffer: GuestPtr,
    _ea_length: u32,
) {
    opening(cpu, file_handle, object_attributes);
}

#[on_syscall(NtCreateFile, return)]
#[allow(clippy::too_many_arguments)]
fn create_return(
    cpu: &mut dyn Cpu,
    _pc: u64,
    file_handle: GuestPtr,
    _desired_access: u32,
    _object_attributes: GuestPtr,
    _io_status_block: GuestPtr,
    _allocation_size: GuestPtr,
    _file_attributes: u32,
    _share_access: u32,
    _create_disposition: u32,
    _create_options: u32,
    _ea_buffer: GuestPtr,
    _ea_length: u32,
    ret: Retval,
) {
    opened(cpu, file_handle, ret);
}

#[on_syscall(NtOpenFile, enter)]
#[allow(clippy::too_many_arguments)]
fn open_enter(
    cpu: &mut dyn Cpu,
    _pc: u64,
    file_handle: GuestPtr,
    _desired_access: u32,
    object_attributes: GuestPtr,
    _io_status_block: GuestPtr,
    _share_access: u32,
    _open_options: u32,
) {
    opening(cpu, file_handle, object_attributes);
}

#[on_syscall(NtOpenFile, return)]
#[allow(clippy::too_many_arguments)]
fn open_return(
    cpu: &mut dyn Cpu,
    _pc: u64,
    file_handle: GuestPtr,
    _desired_access: u32,
    _object_attributes: GuestPtr,
    _io_status_block: GuestPtr,
    _share_access: u32,
    _open_options: u32,
    ret: Retval,
) {
    opened(cpu, file_handle, ret);
}

#[on_syscall(NtClose, return)]
fn closed(cpu: &mut dyn Cpu, _pc: u64, handle: u64, ret: Retval) {
    if !ret.is_error() {
        let asid = cpu.asid();
        with_files(|f| f.open.remove(&(asid, handle)));
    }
}

#[on_syscall(NtReadFile, enter, profile = "windows7_x86")]
#[allow(clippy::too_many_arguments)]
fn reading(
    cpu: &mut dyn Cpu,
    pc: u64,
    file_handle: u64,
    _event: u64,
    _apc_routine: GuestPtr,
    _apc_context: GuestPtr,
    _io_status_block: GuestPtr,
    buffer: GuestPtr,
    length: u32,
    _byte_offset: GuestPtr,
    _key: GuestPtr,
) {
    let asid = cpu.asid();
    let name = with_files(|f| f.open.get(&(asid, file_handle)).cloned())
        .unwrap_or_else(|| "<not opened in the trace>".into());
    println!(
        "{pc:#x}: NtReadFile(FileHandle={file_handle:#x} {name}, Buffer={buffer}, Length={length})"
    );
}

#[on_syscall(NtReadFile, return, profile = "windows7_x86")]
#[allow(clippy::too_many_arguments)]
fn read_done(
    cpu: &mut dyn Cpu,
    _pc: u64,
    _file_handle: u64,
    _event: u64,
    _apc_routine: GuestPtr,
    _apc_context: GuestPtr,
    io_status_block: GuestPtr,
    buffer: GuestPtr,
    _length: u32,
    _byte_offset: GuestPtr,
    _key: GuestPtr,
    ret: Retval,
) {
    if ret.is_error() {
        println!("  -> failed, NTSTATUS {:#x}", ret.value as u32);
        return;
    }
    // IO_STATUS_BLOCK { Status; Information }: Information is the byte count.
    let read = cpu.read_uint(io_status_block.addr() + 4, 4).unwrap_or(0);
    match buffer.read_bytes(cpu, read as usize) {
        Ok(data) => println!("  -> {read} bytes: {:?}", String::from_utf8_lossy(&data)),
        Err(e) => println!("  -> {read} bytes ({e})"),
    }
}

fn main() -> std::process::ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/windows7_x86_filereadmon.json"
        )
        .into()
    });
    let fixture = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| Fixture::from_json(&t).map_err(|e| e.to_string()))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("filereadmon: {path}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut engine = Engine::new(&profiles::windows7_x86::TABLE);
    if let Err(e) = replay(&fixture, &mut engine) {
        eprintln!("filereadmon: {path}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
