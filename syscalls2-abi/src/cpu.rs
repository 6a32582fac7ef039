//! Guest access: the trait an emulator backend implements.
//!
//! syscalls2 contains no emulator. A backend (the QEMU plugin in
//! `syscalls2-qemu`, the fixture replayer in [`crate::fixture`], or your own)
//! implements [`Cpu`] over its own CPU state, and the decoders in
//! [`crate::abi`] read registers and memory only through it.

use std::fmt;

/// A guest register, named by architecture.
///
/// The x86 names are the 64-bit ones; a 32-bit ABI reads the low half
/// (`Rax` is EAX on an i386 guest). A backend maps each variant it supports
/// to its own register handle; see [`Cpu::reg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reg {
    /// x86 general-purpose registers (low 32 bits on a 32-bit guest).
    Rax,
    /// See [`Reg::Rax`].
    Rbx,
    /// See [`Reg::Rax`].
    Rcx,
    /// See [`Reg::Rax`].
    Rdx,
    /// See [`Reg::Rax`].
    Rsi,
    /// See [`Reg::Rax`].
    Rdi,
    /// See [`Reg::Rax`].
    Rbp,
    /// See [`Reg::Rax`].
    Rsp,
    /// x86-64 only.
    R8,
    /// x86-64 only.
    R9,
    /// x86-64 only.
    R10,
    /// x86-64 only.
    R11,
    /// x86 flags (`eflags`; RFLAGS on x86-64).
    Rflags,
    /// AArch32 core register `r0`..`r15` (`r13` is SP, `r15` is PC).
    Arm(u8),
    /// AArch64 general register `x0`..`x30`.
    X(u8),
    /// AArch64 stack pointer of the current exception level.
    Sp,
    /// MIPS general register `$0`..`$31` (`$2` is v0, `$4`..`$7` a0..a3, `$29` sp).
    Mips(u8),
    /// RISC-V integer register `x0`..`x31` (`x2` is sp, `x10`..`x17` a0..a7).
    Riscv(u8),
}

impl Reg {
    /// The register's conventional lower-case name, as QEMU's plugin API
    /// and gdb call it (`"rax"`, `"r7"`, `"x8"`, `"v0"`, `"a7"`).
    pub fn name(self) -> String {
        const MIPS: [&str; 32] = [
            "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3", "t4", "t5",
            "t6", "t7", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "t8", "t9", "k0", "k1",
            "gp", "sp", "s8", "ra",
        ];
        // The ABI names of QEMU's gdb-xml/riscv-64bit-cpu.xml (x8 is `fp`).
        const RISCV: [&str; 32] = [
            "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3",
            "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
            "t3", "t4", "t5", "t6",
        ];
        match self {
            Reg::Rax => "rax".into(),
            Reg::Rbx => "rbx".into(),
            Reg::Rcx => "rcx".into(),
            Reg::Rdx => "rdx".into(),
            Reg::Rsi => "rsi".into(),
            Reg::Rdi => "rdi".into(),
            Reg::Rbp => "rbp".into(),
            Reg::Rsp => "rsp".into(),
            Reg::R8 => "r8".into(),
            Reg::R9 => "r9".into(),
            Reg::R10 => "r10".into(),
            Reg::R11 => "r11".into(),
            Reg::Rflags => "eflags".into(),
            Reg::Arm(n) => format!("r{n}"),
            Reg::X(n) => format!("x{n}"),
            Reg::Sp => "sp".into(),
            Reg::Mips(n) => MIPS
                .get(n as usize)
                .map_or_else(|| format!("${n}"), |s| (*s).into()),
            Reg::Riscv(n) => RISCV
                .get(n as usize)
                .map_or_else(|| format!("x{n}"), |s| (*s).into()),
        }
    }
}

/// The CPU mode bits an ABI decoder needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mode {
    /// ARM: the CPSR T bit (Thumb state). A Thumb `svc` is 2 bytes long.
    pub thumb: bool,
    /// x86: the code segment is 64-bit (long mode, CS.L). False for an i386
    /// guest and for a 32-bit process on an x86-64 guest (compatibility mode).
    /// AArch64: the CPU is in AArch64 state (false for an AArch32 process).
    pub wide: bool,
    /// The guest's data is big-endian (MIPS, ARM BE8).
    pub big_endian: bool,
}

/// A guest memory read that failed: the page is not mapped, or not readable.
///
/// Hooks see this as a value; reading a pointer argument never panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemError {
    /// The first guest virtual address that could not be read.
    pub addr: u64,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guest memory at {:#x} is not readable", self.addr)
    }
}

impl std::error::Error for MemError {}

/// A handle on one guest CPU, implemented by an emulator backend.
///
/// All methods take `&mut self` so that a backend may reuse scratch buffers.
/// Every hook receives a `&mut dyn Cpu` as its first argument, so hooks can
/// read further guest memory (see [`CpuExt`] for strings and integers).
pub trait Cpu {
    /// The value of `reg`, zero-extended to 64 bits. A register the backend
    /// does not know reads as 0 (backends document which they support).
    fn reg(&mut self, reg: Reg) -> u64;

    /// Fills `buf` from guest virtual memory at `addr` in the current
    /// address space.
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError>;

    /// The program counter of the instruction being executed (for a syscall
    /// instruction: its own address) or of the block being entered.
    fn pc(&mut self) -> u64;

    /// The address-space identifier: CR3 on x86, TTBR0 (or the context id)
    /// on ARM, the ASID from EntryHi on MIPS, `satp` on RISC-V. Equal for all threads of one
    /// process.
    fn asid(&mut self) -> u64;

    /// The mode bits the ABI decoders need.
    fn mode(&mut self) -> Mode;

    /// The index of this virtual CPU (0 for a single-CPU guest).
    fn index(&self) -> u32 {
        0
    }

    /// The guest instructions this vCPU has executed, where the backend
    /// counts them (deterministic under QEMU's record/replay); `None` where
    /// it does not.
    fn icount(&mut self) -> Option<u64> {
        None
    }

    /// Who made the call being handled: its process and thread (PANDA's
    /// OSI `get_current_process` and `get_current_thread` in one answer).
    ///
    /// A hook's `cpu` answers it when the engine runs under a session that
    /// attributes calls (the QEMU plugin, the CLI, a replayed fixture): the
    /// same answer, from the same source, as the call's event carries. A
    /// backend's own CPU, or an engine driven without a session, answers
    /// `None`, as does a session that cannot tell.
    #[doc(alias = "get_current_process")]
    #[doc(alias = "get_current_thread")]
    fn process(&mut self) -> Option<crate::Process> {
        None
    }
}

/// Typed reads of guest memory, for every [`Cpu`].
pub trait CpuExt: Cpu {
    /// Reads `len` bytes at `addr`. The buffer grows as the reads succeed,
    /// a page at a time: a huge `len` from the guest (`read(fd, buf,
    /// 1 << 40)`) fails at the first unreadable page, without allocating
    /// for bytes it never reads.
    fn read_bytes(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, MemError> {
        const PAGE: u64 = 4096;
        let mut out = Vec::with_capacity(len.min(PAGE as usize));
        while out.len() < len {
            let at = addr.wrapping_add(out.len() as u64);
            let to_boundary = (PAGE - at % PAGE) as usize;
            let start = out.len();
            out.resize(start + to_boundary.min(len - start), 0);
            self.read_mem(at, &mut out[start..])?;
        }
        Ok(out)
    }

    /// Reads a NUL-terminated byte string of at most `max` bytes (the NUL
    /// excluded). Reads in small chunks that never cross a page, so that a
    /// string ending just before an unmapped page is read in full, and only
    /// the bytes up to the NUL are read (a recording stays small).
    fn read_cstr(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, MemError> {
        const CHUNK: u64 = 64;
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < max {
            let to_boundary = CHUNK - (at % CHUNK);
            let mut chunk = vec![0; (to_boundary as usize).min(max - out.len())];
            if self.read_mem(at, &mut chunk).is_err() {
                // Part of the chunk may be readable: go byte by byte.
                for _ in 0..chunk.len() {
                    let mut b = [0u8];
                    self.read_mem(at, &mut b)?;
                    if b[0] == 0 {
                        return Ok(out);
                    }
                    out.push(b[0]);
                    at = at.wrapping_add(1);
                }
                continue;
            }
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            at = at.wrapping_add(chunk.len() as u64);
        }
        Ok(out)
    }

    /// Reads `count` UTF-16 code units at `addr` in the guest's byte order
    /// and converts them lossily (Windows `PWSTR`, `UNICODE_STRING` buffers).
    fn read_utf16(&mut self, addr: u64, count: usize) -> Result<String, MemError> {
        let big_endian = self.mode().big_endian;
        // More units than the address space holds fail where memory ends.
        let bytes = self.read_bytes(addr, count.saturating_mul(2))?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| {
                if big_endian {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        Ok(String::from_utf16_lossy(&units))
    }

    /// Reads an unsigned integer of `bytes` bytes (1, 2, 4 or 8) at `addr`
    /// in the guest's byte order.
    fn read_uint(&mut self, addr: u64, bytes: usize) -> Result<u64, MemError> {
        let big_endian = self.mode().big_endian;
        let mut buf = [0u8; 8];
        let buf = &mut buf[..bytes.min(8)];
        self.read_mem(addr, buf)?;
        Ok(if big_endian {
            buf.iter().fold(0, |v, &b| (v << 8) | u64::from(b))
        } else {
            buf.iter().rev().fold(0, |v, &b| (v << 8) | u64::from(b))
        })
    }
}

impl<C: Cpu + ?Sized> CpuExt for C {}

#[cfg(test)]
mod tests {
    use super::*;

    /// 8 KiB of readable memory at 0x1000, `b'a'` everywhere.
    struct TwoPages;

    impl Cpu for TwoPages {
        fn reg(&mut self, _reg: Reg) -> u64 {
            0
        }
        fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
            let end = addr
                .checked_add(buf.len() as u64)
                .ok_or(MemError { addr })?;
            if addr < 0x1000 || end > 0x3000 {
                return Err(MemError {
                    addr: addr.max(0x3000),
                });
            }
            buf.fill(b'a');
            Ok(())
        }
        fn pc(&mut self) -> u64 {
            0
        }
        fn asid(&mut self) -> u64 {
            0
        }
        fn mode(&mut self) -> Mode {
            Mode::default()
        }
    }

    #[test]
    fn huge_lengths_fail_where_memory_ends_without_allocating_first() {
        assert_eq!(TwoPages.read_bytes(0x1800, 0x1000).unwrap().len(), 0x1000);
        assert_eq!(
            TwoPages.read_bytes(0x1000, 1 << 40),
            Err(MemError { addr: 0x3000 })
        );
        assert_eq!(
            TwoPages.read_utf16(0x1000, usize::MAX),
            Err(MemError { addr: 0x3000 })
        );
        assert_eq!(TwoPages.read_utf16(0x2ffc, 2).unwrap(), "\u{6161}\u{6161}");
    }
}
