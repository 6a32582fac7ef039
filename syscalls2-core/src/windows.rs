//! Windows structures that syscall arguments point to, read from the guest.
//!
//! Layouts per pointer size (x86, x64) as in the Windows DDK:
//!
//! - `UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; }`:
//!   `Buffer` at +4 on x86, +8 on x64; `Length` counts bytes.
//! - `OBJECT_ATTRIBUTES { ULONG Length; HANDLE RootDirectory;
//!   PUNICODE_STRING ObjectName; ... }`: `ObjectName` at +8 on x86, +0x10 on x64.

use syscalls2_abi::{Abi, Cpu, CpuExt, MemError};

fn pointer_bytes(abi: Abi) -> u64 {
    u64::from(abi.pointer_bits / 8)
}

/// Reads the `UNICODE_STRING` at `addr`.
pub fn unicode_string(cpu: &mut dyn Cpu, abi: Abi, addr: u64) -> Result<String, MemError> {
    let length = cpu.read_uint(addr, 2)?;
    let buffer = cpu.read_uint(
        addr.wrapping_add(pointer_bytes(abi)),
        pointer_bytes(abi) as usize,
    )?;
    cpu.read_utf16(buffer, (length / 2) as usize)
}

/// Reads `ObjectName` of the `OBJECT_ATTRIBUTES` at `addr`: the path an
/// `NtCreateFile` or `NtOpenKey` names (relative to `RootDirectory` when
/// that is not 0).
pub fn object_attributes_name(cpu: &mut dyn Cpu, abi: Abi, addr: u64) -> Result<String, MemError> {
    let p = pointer_bytes(abi);
    let name = cpu.read_uint(addr.wrapping_add(2 * p), p as usize)?;
    unicode_string(cpu, abi, name)
}
