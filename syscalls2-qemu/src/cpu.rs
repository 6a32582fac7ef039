//! [`Cpu`] over QEMU's plugin API: registers by name, guest virtual memory.

use qemu_plugin::sys::{
    qemu_plugin_get_registers, qemu_plugin_read_memory_vaddr, qemu_plugin_read_register,
    qemu_plugin_reg_descriptor, qemu_plugin_register, GArray, GByteArray,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicU64, Ordering};
use syscalls2::{Abi, Arch, Cpu, MemError, Mode, Reg, SyscallInsn};

// glib, from the QEMU binary the plugin is loaded into.
extern "C" {
    fn g_byte_array_new() -> *mut GByteArray;
    fn g_array_free(array: *mut GArray, free_segment: bool) -> *mut u8;
    fn g_byte_array_set_size(array: *mut GByteArray, len: u32) -> *mut GByteArray;
}

/// The guest architecture, from the QEMU target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `qemu-system-x86_64`.
    X86_64,
    /// `qemu-system-i386`.
    I386,
    /// `qemu-system-arm` (AArch32, ARM and Thumb).
    Arm,
    /// `qemu-system-aarch64` (AArch64 processes only).
    Aarch64,
    /// `qemu-system-mipsel` (MIPS32, o32 processes; little-endian only).
    Mips,
    /// `qemu-system-mips64el` (MIPS64: n64, n32 and o32 processes;
    /// little-endian only).
    Mips64,
    /// `qemu-system-riscv64` (RV64 processes; `ecall` from user mode).
    Riscv64,
}

impl Target {
    /// The target of QEMU's `target_name` (`"x86_64"`, `"i386-softmmu"`).
    pub fn from_qemu(name: &str) -> Option<Target> {
        let name = name.trim_end_matches("-softmmu");
        Some(match name {
            "x86_64" => Target::X86_64,
            "i386" => Target::I386,
            "arm" => Target::Arm,
            "aarch64" => Target::Aarch64,
            "mipsel" => Target::Mips,
            "mips64el" => Target::Mips64,
            "riscv64" => Target::Riscv64,
            _ => return None,
        })
    }

    /// The QEMU target name (`qemu-system-NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64",
            Target::I386 => "i386",
            Target::Arm => "arm",
            Target::Aarch64 => "aarch64",
            Target::Mips => "mipsel",
            Target::Mips64 => "mips64el",
            Target::Riscv64 => "riscv64",
        }
    }

    /// The instruction set of the target's CPU.
    pub fn arch(self) -> Arch {
        match self {
            Target::X86_64 => Arch::X86_64,
            Target::I386 => Arch::X86,
            Target::Arm => Arch::Arm,
            Target::Aarch64 => Arch::Aarch64,
            Target::Mips => Arch::Mips,
            Target::Mips64 => Arch::Mips64,
            Target::Riscv64 => Arch::Riscv64,
        }
    }

    /// Whether the target's CPU runs code of `arch` (an x86-64 CPU runs
    /// i386 code; an AArch64 one, AArch32).
    pub fn runs(self, arch: Arch) -> bool {
        arch == self.arch()
            || matches!(
                (self, arch),
                (Target::X86_64, Arch::X86)
                    | (Target::Aarch64, Arch::Arm)
                    | (Target::Mips64, Arch::Mips)
            )
    }

    /// The syscall instruction of `abi` (or a compat ABI) that `bytes`
    /// hold, found at translation time, when the CPU state is not known:
    /// on 32-bit ARM a 2-byte instruction is tried as Thumb, a 4-byte one
    /// as ARM ([`Target::executes`] drops the wrong guesses when they run).
    pub fn find_syscall_insn(self, abi: Abi, bytes: &[u8]) -> Option<SyscallInsn> {
        let mode = match (self, bytes.len()) {
            (Target::Arm, 2) => Mode {
                thumb: true,
                ..Mode::default()
            },
            (Target::X86_64 | Target::Aarch64 | Target::Mips64, _) => Mode {
                wide: true,
                ..Mode::default()
            },
            _ => Mode::default(),
        };
        // (AArch32 code on an AArch64 CPU is not looked at: QEMU shows the
        // AArch64 register file only, and A64 words that look like an
        // AArch32 `svc` are common.)
        let insn = abi.find_syscall_insn(bytes, mode)?;
        (insn.len() as usize == bytes.len()).then_some(insn)
    }

    /// Whether `insn`, found at translation, is one in the CPU's `mode` as
    /// it executes: an ARM-state `svc` executing in Thumb state is a
    /// Thumb-2 instruction with the same bits.
    pub fn executes(self, insn: SyscallInsn, mode: Mode) -> bool {
        !(self == Target::Arm
            && matches!(insn, SyscallInsn::ArmSvc { thumb: false, .. })
            && mode.thumb)
    }

    /// Whether the syscall instruction translated at `pc` may be a user
    /// process's, by its address: on RISC-V 64 an `ecall` in the upper half
    /// of the address space is the kernel's (Linux maps itself there, and
    /// its `ecall`s are SBI calls to the firmware, not system calls), so
    /// it is not instrumented; [`QemuCpu::in_user_mode`] decides at
    /// execution. Every address on the other targets (their kernels make
    /// no syscalls).
    pub fn may_be_user_code(self, pc: u64) -> bool {
        match self {
            Target::Riscv64 => pc >> 63 == 0,
            _ => true,
        }
    }

    /// The QEMU (gdbstub) name of `reg` on this target.
    fn reg_name(self, reg: Reg) -> String {
        match (self, reg) {
            (Target::I386, r) => {
                let n = r.name();
                match n.as_str() {
                    "rax" | "rbx" | "rcx" | "rdx" | "rsi" | "rdi" | "rbp" | "rsp" => {
                        format!("e{}", &n[1..])
                    }
                    _ => n,
                }
            }
            (Target::Arm, Reg::Arm(13)) => "sp".into(),
            (Target::Arm, Reg::Arm(14)) => "lr".into(),
            (Target::Arm, Reg::Arm(15)) => "pc".into(),
            (_, r) => r.name(),
        }
    }

    /// Whether this is a MIPS target, whose QEMU (10.0) describes no
    /// registers to plugins ([`RegMap::for_current_vcpu`]).
    pub fn is_mips(self) -> bool {
        matches!(self, Target::Mips | Target::Mips64)
    }

    /// On MIPS, the general register holding the new address space's page
    /// directory when the translated instruction `bytes` executes, in a
    /// block whose first instruction is `first`: where the kernel hands
    /// the TLB refill handler the page directory of the process it
    /// switches to (`tlbmiss_handler_setup_pgd`, generated at boot by
    /// `arch/mips/mm/tlbex.c`'s `build_setup_pgd`, called by every
    /// `switch_mm`). A 64-bit kernel built for MIPS64r2 keeps it in CP0
    /// Context (`CONFIG_MIPS_PGD_C0_CONTEXT`: `dmtc0 rt, $4`, the physical
    /// address shifted left by 11); a 32-bit one stores it to
    /// `pgd_current[cpu]` in a function that starts by reading the CPU
    /// number from CP0 Context (`mfc0 $a1, $4`; ...; `sw $a0, lo($a2)`).
    /// The value read there is turned into the page directory's physical
    /// address by [`Target::address_space_key`].
    pub fn address_space_write(self, first: &[u8], bytes: &[u8]) -> Option<u8> {
        let word = |b: &[u8]| Some(u32::from_le_bytes(b.try_into().ok()?));
        let insn = word(bytes)?;
        match self {
            // dmtc0 rt, $4, 0
            Target::Mips64 => (insn & 0xffe0_ffff == 0x40a0_2000 && insn & 0x001f_0000 != 0)
                .then_some(((insn >> 16) & 0x1f) as u8),
            // sw $a0, off(base), after mfc0 $a1, $4, 0 at the block start
            Target::Mips => {
                (word(first)? == 0x4005_2000 && insn & 0xfc1f_0000 == 0xac04_0000).then_some(4)
            }
            _ => None,
        }
    }

    /// The address-space key of a value [`Target::address_space_write`]
    /// saw: the page directory's physical address (the 32-bit kernel's
    /// pointer is in KSEG0, physical address + 0x8000_0000).
    pub fn address_space_key(self, value: u64) -> u64 {
        match self {
            Target::Mips64 => value >> 11,
            Target::Mips => value & 0x1fff_ffff,
            _ => value,
        }
    }
}

/// QEMU 10.0's MIPS CPUs have no gdb XML description, so
/// `qemu_plugin_get_registers` lists none; `qemu_plugin_read_register`
/// takes a handle that is the gdbstub register number plus one
/// (`plugins/api.c`: `GINT_TO_POINTER(grd->gdb_reg + 1)`), and MIPS's
/// gdbstub numbers the general registers 0..31 and CP0 Status 32
/// (`target/mips/gdbstub.c`). The handle of gdb register `n`.
fn mips_gdb_handle(n: usize) -> Handle {
    (n + 1) as Handle
}

/// MIPS CP0 Status, gdb register 32.
const MIPS_GDB_STATUS: usize = 32;

/// Every register the decoders of `abi` and of its compat ABIs read that
/// `target`'s register file has (an AArch64 vCPU shows the AArch64 file
/// only).
fn regs_for(target: Target, abi: Abi) -> Vec<Reg> {
    let mut regs: Vec<Reg> = std::iter::once(abi)
        .chain(abi.compat.iter().copied())
        .filter(|a| target.arch() == a.arch || target == Target::X86_64)
        .flat_map(|a| a.regs.iter().copied())
        .collect();
    regs.sort();
    regs.dedup();
    regs
}

type Handle = *mut qemu_plugin_register;

/// One vCPU's register handles, looked up by name at vCPU init.
pub struct RegMap {
    target: Target,
    needed: Vec<Reg>,
    by_reg: HashMap<Reg, Handle>,
    /// x86: `cs`; ARM/AArch64: `cpsr`; MIPS: CP0 Status; RISC-V: `priv`
    /// (the privilege level, a virtual register of QEMU's gdbstub).
    mode: Option<Handle>,
    /// x86: `cr3`; ARM: `TTBR0` (non-LPAE); AArch64: `TTBR0_EL1`; MIPS:
    /// none, see `space`; RISC-V: `satp`.
    asid: Option<Handle>,
    /// MIPS: the page directory the kernel last switched this vCPU to
    /// ([`Target::address_space_write`]): no register plugins can read
    /// holds it (QEMU shows no CP0 EntryHi, Context or KScratch; and the
    /// ASID in EntryHi is no address-space key: the kernel gives a process
    /// a new one whenever it flushes its TLB entries, at every fork).
    space: AtomicU64,
    /// Every register name QEMU offered, for diagnostics.
    pub names: Vec<String>,
}

// SAFETY: the handles are opaque register numbers QEMU hands out, valid for
// the lifetime of the vCPU and read only on that vCPU's thread.
unsafe impl Send for RegMap {}
unsafe impl Sync for RegMap {}

impl RegMap {
    /// Reads QEMU's register list for the current vCPU (call from a vCPU
    /// init callback).
    pub fn for_current_vcpu(target: Target, abi: Abi) -> RegMap {
        let mut all: HashMap<String, Handle> = HashMap::new();
        let mut names = Vec::new();
        // SAFETY: called in a vCPU context; the GArray holds descriptors.
        unsafe {
            let array = qemu_plugin_get_registers();
            if !array.is_null() {
                let descs = std::slice::from_raw_parts(
                    (*array).data as *const qemu_plugin_reg_descriptor,
                    (*array).len as usize,
                );
                for d in descs {
                    let name = CStr::from_ptr(d.name).to_string_lossy().into_owned();
                    names.push(name.clone());
                    all.entry(name).or_insert(d.handle);
                }
                g_array_free(array, true);
            }
        }
        let find = |candidates: &[&str]| {
            candidates
                .iter()
                .find_map(|n| all.get(*n).copied())
                .or_else(|| {
                    // Case-insensitive fallback (system registers are upper case).
                    candidates.iter().find_map(|n| {
                        all.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(n))
                            .map(|(_, h)| *h)
                    })
                })
        };
        let needed = regs_for(target, abi);
        let mips_gdb = target.is_mips() && all.is_empty();
        let by_reg = needed
            .iter()
            .filter_map(|&r| match r {
                Reg::Mips(n) if mips_gdb => Some((r, mips_gdb_handle(n as usize))),
                _ => find(&[&target.reg_name(r)]).map(|h| (r, h)),
            })
            .collect();
        let (mode, asid) = match target {
            Target::X86_64 | Target::I386 => (find(&["cs"]), find(&["cr3"])),
            Target::Arm => (find(&["cpsr"]), find(&["TTBR0", "TTBR0_EL1", "TTBR0_S"])),
            Target::Aarch64 => (find(&["cpsr"]), find(&["TTBR0_EL1"])),
            Target::Mips | Target::Mips64 if mips_gdb => {
                (Some(mips_gdb_handle(MIPS_GDB_STATUS)), None)
            }
            Target::Mips | Target::Mips64 => (find(&["status"]), None),
            // QEMU 10.0's riscv gdbstub: `priv` from riscv-64bit-virtual.xml,
            // `satp` from the CSR feature it generates per CPU.
            Target::Riscv64 => (find(&["priv"]), find(&["satp"])),
        };
        RegMap {
            target,
            needed,
            by_reg,
            mode,
            asid,
            space: AtomicU64::new(0),
            names,
        }
    }

    /// MIPS: the kernel is switching this vCPU to the address space whose
    /// key ([`Target::address_space_key`]) is `key`.
    pub fn set_address_space(&self, key: u64) {
        self.space.store(key, Ordering::Relaxed);
    }

    /// MIPS: reads general register `$n` of the current vCPU (from an
    /// instruction callback registered with `QEMU_PLUGIN_CB_R_REGS`).
    pub fn read_mips_gpr(&self, n: u8) -> Option<u64> {
        let handle = self.by_reg.get(&Reg::Mips(n)).copied().or_else(|| {
            (self.target.is_mips() && self.names.is_empty()).then(|| mips_gdb_handle(n as usize))
        })?;
        read_handle(handle)
    }

    /// Names of the registers this backend needs and QEMU did not offer.
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .needed
            .iter()
            .filter(|r| !self.by_reg.contains_key(r))
            .map(|&r| self.target.reg_name(r))
            .collect();
        if self.mode.is_none() {
            out.push("mode register (cs/cpsr/priv)".into());
        }
        if self.asid.is_none() && !self.target.is_mips() {
            out.push("asid register (cr3/TTBR0/satp)".into());
        }
        out
    }
}

thread_local! {
    /// A scratch byte array per vCPU thread, owned by glib.
    static SCRATCH: Cell<*mut GByteArray> = const { Cell::new(std::ptr::null_mut()) };
}

fn scratch() -> *mut GByteArray {
    SCRATCH.with(|s| {
        if s.get().is_null() {
            // SAFETY: glib allocation, kept for the thread's lifetime.
            s.set(unsafe { g_byte_array_new() });
        }
        s.get()
    })
}

/// Reads one register of the current vCPU, little-endian targets only.
fn read_handle(handle: Handle) -> Option<u64> {
    let buf = scratch();
    // SAFETY: `buf` is a live GByteArray; QEMU appends the register's bytes.
    unsafe {
        g_byte_array_set_size(buf, 0);
        let n = qemu_plugin_read_register(handle, buf);
        if n <= 0 {
            return None;
        }
        let bytes = std::slice::from_raw_parts((*buf).data, (*buf).len as usize);
        let mut v = [0u8; 8];
        let k = bytes.len().min(8);
        v[..k].copy_from_slice(&bytes[..k]);
        Some(u64::from_le_bytes(v))
    }
}

/// Reads guest virtual memory of the current vCPU, page by page.
pub fn read_vaddr(addr: u64, out: &mut [u8]) -> Result<(), MemError> {
    let buf = scratch();
    let mut done = 0usize;
    while done < out.len() {
        let at = addr.wrapping_add(done as u64);
        let in_page = (0x1000 - (at & 0xfff)) as usize;
        let n = in_page.min(out.len() - done);
        // SAFETY: QEMU resizes `buf` to `n` bytes and fills it.
        let ok = unsafe {
            g_byte_array_set_size(buf, 0);
            qemu_plugin_read_memory_vaddr(at, buf, n)
        };
        if !ok {
            return Err(MemError { addr: at });
        }
        // SAFETY: on success the array holds `n` bytes.
        let src = unsafe { std::slice::from_raw_parts((*buf).data, n) };
        out[done..done + n].copy_from_slice(src);
        done += n;
    }
    Ok(())
}

/// One vCPU, during one callback.
pub struct QemuCpu<'a> {
    regs: &'a RegMap,
    vcpu: u32,
    pc: u64,
    icount: Option<u64>,
    code: Option<(u64, &'a [u8])>,
}

impl<'a> QemuCpu<'a> {
    /// The vCPU `vcpu` at `pc`, whose registers are `regs`, having executed
    /// `icount` instructions where counted. Only valid inside a callback
    /// registered with `QEMU_PLUGIN_CB_R_REGS`.
    pub fn new(regs: &'a RegMap, vcpu: u32, pc: u64, icount: Option<u64>) -> Self {
        QemuCpu {
            regs,
            vcpu,
            pc,
            icount,
            code: None,
        }
    }

    /// Code bytes at `addr`, captured at translation time: reads there are
    /// served from them, the bytes the CPU executes (a read through the
    /// page tables at execution may see another mapping, or none: QEMU
    /// 10.0 cannot read the i386 vDSO's page so).
    pub fn set_code(&mut self, addr: u64, bytes: &'a [u8]) {
        self.code = Some((addr, bytes));
    }

    fn special(&self, h: Option<Handle>) -> u64 {
        h.and_then(read_handle).unwrap_or(0)
    }

    /// The raw value of the mode register (`cs`, `cpsr`, `priv`).
    pub fn mode_reg(&self) -> u64 {
        self.special(self.regs.mode)
    }

    /// Whether the vCPU runs user code: on RISC-V 64 the privilege level
    /// is U (0; the kernel runs in S, 1, and its `ecall`s go to the SBI
    /// firmware in M, 3); true on the other targets, whose kernels make no
    /// system calls, and where QEMU offers no `priv` (the address filter
    /// of [`Target::may_be_user_code`] stays).
    pub fn in_user_mode(&self) -> bool {
        match self.regs.target {
            Target::Riscv64 => self
                .regs
                .mode
                .and_then(read_handle)
                .is_none_or(|p| p & 3 == 0),
            _ => true,
        }
    }
}

impl Cpu for QemuCpu<'_> {
    fn reg(&mut self, reg: Reg) -> u64 {
        self.regs
            .by_reg
            .get(&reg)
            .and_then(|&h| read_handle(h))
            .unwrap_or(0)
    }

    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        // The code as translated first: on the i386 vDSO page a read
        // through the guest address may fail, or succeed with other bytes.
        if let Some((at, code)) = self.code {
            let off = addr.wrapping_sub(at);
            if off < code.len() as u64 && buf.len() as u64 <= code.len() as u64 - off {
                let off = off as usize;
                buf.copy_from_slice(&code[off..off + buf.len()]);
                return Ok(());
            }
        }
        read_vaddr(addr, buf)
    }

    fn pc(&mut self) -> u64 {
        self.pc
    }

    /// x86: CR3 without its flag bits (PCID in 0..11; on x86_64 also bit 12,
    /// which the kernel's page-table isolation flips between the user and
    /// kernel copies of one process's page tables). ARM: TTBR0 & 0xffffc000
    /// (the short-descriptor base; this kernel runs without LPAE). AArch64:
    /// TTBR0_EL1 without the ASID field (bits 48..63) and CnP (bit 0).
    /// MIPS: the physical address of the page directory the kernel last
    /// switched this vCPU to ([`Target::address_space_write`]): the one the
    /// TLB refill handler walks for every user access until the next
    /// switch. RISC-V 64: the physical address of the root page table,
    /// `satp`'s PPN (bits 0..43) times 4096, without its ASID (bits 44..59,
    /// which Linux reassigns when its ASIDs roll over) and MODE (60..63).
    fn asid(&mut self) -> u64 {
        let reg = || self.special(self.regs.asid);
        match self.regs.target {
            Target::X86_64 => reg() & !0x1fff,
            Target::I386 => reg() & !0xfff,
            Target::Arm => reg() & 0xffff_c000,
            Target::Aarch64 => reg() & 0x0000_ffff_ffff_fffe,
            Target::Mips | Target::Mips64 => self.regs.space.load(Ordering::Relaxed),
            Target::Riscv64 => (reg() & ((1 << 44) - 1)) << 12,
        }
    }

    /// x86_64: `wide` unless CS is the 32-bit user selector 0x23 (CS.L is
    /// not visible through the plugin API; Linux's user selectors are 0x33
    /// for 64-bit and 0x23 for compatibility mode). ARM: `thumb` is CPSR.T
    /// (bit 5). AArch64: `wide` when PSTATE.nRW (bit 4) is 0. MIPS64:
    /// `wide` (the ABI is told by the call's number). RISC-V 64: none (one
    /// ABI).
    fn mode(&mut self) -> Mode {
        match self.regs.target {
            Target::X86_64 => Mode {
                wide: self.mode_reg() & 0xffff != 0x23,
                ..Mode::default()
            },
            Target::I386 => Mode::default(),
            Target::Arm => Mode {
                thumb: self.mode_reg() & (1 << 5) != 0,
                ..Mode::default()
            },
            Target::Aarch64 => Mode {
                wide: self.mode_reg() & (1 << 4) == 0,
                ..Mode::default()
            },
            Target::Mips | Target::Riscv64 => Mode::default(),
            Target::Mips64 => Mode {
                wide: true,
                ..Mode::default()
            },
        }
    }

    fn index(&self) -> u32 {
        self.vcpu
    }

    fn icount(&mut self) -> Option<u64> {
        self.icount
    }
}
