//! The Linux kernel's own answer: the running task's `task_struct`.
//!
//! # Finding the running task
//!
//! Every Linux architecture keeps a per-CPU pointer to the task it runs:
//! `current_task` on x86 (6.1; `pcpu_hot.current_task` from 6.2),
//! `__entry_task` on ARM and AArch64 (written at each context switch,
//! `arch/arm/include/asm/switch_to.h`, `arch/arm64/kernel/process.c`). CPU
//! `n`'s copy of a per-CPU variable `v` is at `__per_cpu_offset[n] + &v`,
//! so the task is two reads of kernel memory away, whatever the CPU's mode
//! (the kernel's memory is mapped in every address space when the kernel
//! does not isolate its page tables; see below). The vCPU's index is taken
//! as its Linux CPU number (QEMU brings CPUs up in order).
//!
//! # KASLR
//!
//! With `CONFIG_RANDOMIZE_BASE` the kernel image is moved up by a multiple
//! of its alignment (`CONFIG_PHYSICAL_ALIGN`: 2 MiB on x86-64, 16 MiB on
//! Debian's i386). The offset is found once: the first candidate, up to
//! the top of the address space and at most [`MAX_CANDIDATES`], at which
//! `init_task` (the boot CPU's idle task) reads pid 0 and `comm`
//! `swapper…` is the kernel's. x86-64's per-CPU symbols are offsets into
//! the per-CPU area (linked at 0) and do not move; the others do.
//!
//! # What it cannot read
//!
//! A kernel that unmaps itself from user page tables (x86 PTI on a CPU that
//! needs it; AArch64 KPTI, which Linux forces on with KASLR on CPUs without
//! E0PD, e.g. QEMU's Cortex-A57) cannot be read while user code runs: the
//! offset is not found and [`LinuxKernel::current`] answers `None` (the
//! session then falls back to [`super::SyscallDerived`]).
//!
//! # The layout file
//!
//! One `key value` pair a line, `#` comments; numbers decimal or `0x` hex.
//! `cargo xtask kernel-layout` writes it from a kernel's `System.map` and
//! `pahole`'s view of its debug information (or BTF):
//!
//! ```text
//! # linux-image-6.1.0-57-cloud-amd64 6.1.192-3
//! release 6.1.0-57-cloud-amd64
//! pointer_size 8
//! text 0xffffffff81000000            # _text, as linked
//! kaslr_align 0x200000               # 0: no KASLR
//! init_task 0xffffffff82a1aa40
//! per_cpu_offset 0xffffffff8239eb60  # __per_cpu_offset
//! current 0x1fb80                    # the per-CPU pointer to the running task
//! task.pid 2416
//! task.tgid 2420
//! task.real_parent 2432
//! task.comm 2976
//! ```

use super::{comm_of, Introspect, Process, Source};
use crate::context::SyscallCtx;
use std::fmt;
use syscalls2_abi::Cpu;

/// Where a Linux kernel keeps what [`LinuxKernel`] reads: symbol addresses
/// as linked, `task_struct` field offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelLayout {
    /// The kernel release it describes (`uname -r`), for messages.
    pub release: String,
    /// Pointer size in bytes (4 or 8).
    pub pointer_size: u8,
    /// `_text` as linked.
    pub text: u64,
    /// KASLR alignment; 0 for a kernel that is never moved.
    pub kaslr_align: u64,
    /// `init_task`.
    pub init_task: u64,
    /// `__per_cpu_offset`, the per-CPU areas' offsets by CPU number.
    pub per_cpu_offset: u64,
    /// The per-CPU pointer to the running task (`current_task`, `__entry_task`).
    pub current: u64,
    /// `offsetof(struct task_struct, pid)`.
    pub pid: u64,
    /// `offsetof(struct task_struct, tgid)`.
    pub tgid: u64,
    /// `offsetof(struct task_struct, real_parent)`.
    pub real_parent: u64,
    /// `offsetof(struct task_struct, comm)`.
    pub comm: u64,
}

/// A layout file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutError {
    /// The line (1-based), 0 for the file as a whole.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "kernel layout: {}", self.message),
            n => write!(f, "kernel layout, line {n}: {}", self.message),
        }
    }
}

impl std::error::Error for LayoutError {}

impl KernelLayout {
    /// Parses a layout file (see the [module docs](self)).
    pub fn parse(text: &str) -> Result<KernelLayout, LayoutError> {
        let mut l = KernelLayout::default();
        let mut seen = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| LayoutError {
                line: i + 1,
                message,
            };
            let (key, value) = line
                .split_once(char::is_whitespace)
                .map(|(k, v)| (k, v.trim()))
                .ok_or_else(|| err(format!("`{line}`: expected `key value`")))?;
            if key == "release" {
                l.release = value.to_string();
                continue;
            }
            let n = parse_number(value)
                .ok_or_else(|| err(format!("{key} `{value}`: expected a number")))?;
            let slot = match key {
                "pointer_size" => {
                    l.pointer_size = match n {
                        4 | 8 => n as u8,
                        _ => return Err(err(format!("pointer_size {n}: expected 4 or 8"))),
                    };
                    seen.push(key);
                    continue;
                }
                "text" => &mut l.text,
                "kaslr_align" => &mut l.kaslr_align,
                "init_task" => &mut l.init_task,
                "per_cpu_offset" => &mut l.per_cpu_offset,
                "current" => &mut l.current,
                "task.pid" => &mut l.pid,
                "task.tgid" => &mut l.tgid,
                "task.real_parent" => &mut l.real_parent,
                "task.comm" => &mut l.comm,
                _ => return Err(err(format!("unknown key `{key}`"))),
            };
            *slot = n;
            seen.push(key);
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|k| !seen.contains(k))
            .collect();
        if !missing.is_empty() {
            return Err(LayoutError {
                line: 0,
                message: format!("missing {}", missing.join(", ")),
            });
        }
        Ok(l)
    }

    /// The file [`KernelLayout::parse`] reads back, `header` lines first as
    /// comments.
    pub fn to_text(&self, header: &[&str]) -> String {
        let mut out: String = header.iter().map(|h| format!("# {h}\n")).collect();
        out += &format!("release {}\n", self.release);
        out += &format!("pointer_size {}\n", self.pointer_size);
        for (k, v) in [
            ("text", self.text),
            ("kaslr_align", self.kaslr_align),
            ("init_task", self.init_task),
            ("per_cpu_offset", self.per_cpu_offset),
            ("current", self.current),
        ] {
            out += &format!("{k} {v:#x}\n");
        }
        for (k, v) in [
            ("task.pid", self.pid),
            ("task.tgid", self.tgid),
            ("task.real_parent", self.real_parent),
            ("task.comm", self.comm),
        ] {
            out += &format!("{k} {v}\n");
        }
        out
    }

    /// Whether a symbol moves with the kernel image (x86-64's per-CPU
    /// symbols are offsets below `_text` and do not).
    fn relocated(&self, sym: u64) -> bool {
        sym >= self.text
    }
}

/// How many KASLR offsets are tried at most.
pub const MAX_CANDIDATES: u64 = 4096;

const REQUIRED: [&str; 10] = [
    "pointer_size",
    "text",
    "kaslr_align",
    "init_task",
    "per_cpu_offset",
    "current",
    "task.pid",
    "task.tgid",
    "task.real_parent",
    "task.comm",
];

fn parse_number(v: &str) -> Option<u64> {
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// Reads the running task from a Linux kernel of a known [`KernelLayout`].
#[derive(Debug)]
pub struct LinuxKernel {
    layout: KernelLayout,
    /// The KASLR offset: not yet looked for, found, or not found.
    slide: Option<Option<u64>>,
    /// Each CPU's per-CPU area offset, once read.
    per_cpu: Vec<Option<u64>>,
}

impl LinuxKernel {
    /// A reader for a kernel laid out as `layout`.
    pub fn new(layout: KernelLayout) -> LinuxKernel {
        LinuxKernel {
            layout,
            slide: None,
            per_cpu: Vec::new(),
        }
    }

    /// The layout it reads with.
    pub fn layout(&self) -> &KernelLayout {
        &self.layout
    }

    /// The KASLR offset found, `None` before the first read or when the
    /// kernel could not be read at any candidate.
    pub fn slide(&self) -> Option<u64> {
        self.slide.flatten()
    }

    fn read_word(&self, cpu: &mut dyn Cpu, addr: u64, size: u8) -> Option<u64> {
        let mut buf = [0u8; 8];
        cpu.read_mem(addr, &mut buf[..size as usize]).ok()?;
        Some(u64::from_le_bytes(buf))
    }

    fn read_ptr(&self, cpu: &mut dyn Cpu, addr: u64) -> Option<u64> {
        self.read_word(cpu, addr, self.layout.pointer_size)
    }

    /// Whether `init_task` is where the image moved by `slide` puts it.
    fn init_task_at(&self, cpu: &mut dyn Cpu, slide: u64) -> bool {
        let l = &self.layout;
        let task = l.init_task.wrapping_add(slide);
        let mut comm = [0u8; 8];
        cpu.read_mem(task.wrapping_add(l.comm), &mut comm).is_ok()
            && comm.starts_with(b"swapper")
            && self.read_word(cpu, task.wrapping_add(l.pid), 4) == Some(0)
            && self.read_word(cpu, task.wrapping_add(l.tgid), 4) == Some(0)
    }

    fn find_slide(&self, cpu: &mut dyn Cpu) -> Option<u64> {
        let l = &self.layout;
        if l.kaslr_align == 0 {
            return self.init_task_at(cpu, 0).then_some(0);
        }
        let top = match l.pointer_size {
            4 => u64::from(u32::MAX),
            _ => u64::MAX,
        };
        let room = top.saturating_sub(l.init_task) / l.kaslr_align;
        (0..=room.min(MAX_CANDIDATES))
            .map(|k| k * l.kaslr_align)
            .find(|&s| self.init_task_at(cpu, s))
    }

    /// The running task's `task_struct` address on `cpu`.
    pub fn current_task(&mut self, cpu: &mut dyn Cpu) -> Option<u64> {
        let slide = match self.slide {
            Some(s) => s?,
            None => {
                let s = self.find_slide(cpu);
                self.slide = Some(s);
                s?
            }
        };
        let l = &self.layout;
        let n = cpu.index() as usize;
        if self.per_cpu.len() <= n {
            self.per_cpu.resize(n + 1, None);
        }
        let base = match self.per_cpu[n] {
            Some(b) => b,
            None => {
                let at = l.per_cpu_offset.wrapping_add(slide) + n as u64 * l.pointer_size as u64;
                let b = self.read_ptr(cpu, at)?;
                self.per_cpu[n] = Some(b);
                b
            }
        };
        let var = l.current + if l.relocated(l.current) { slide } else { 0 };
        let task = self.read_ptr(cpu, base.wrapping_add(var))?;
        (task != 0).then_some(task)
    }

    /// The process of the `task_struct` at `task`.
    pub fn task(&self, cpu: &mut dyn Cpu, task: u64) -> Option<Process> {
        let l = &self.layout;
        let tid = self.read_word(cpu, task.wrapping_add(l.pid), 4)? as u32;
        let pid = self.read_word(cpu, task.wrapping_add(l.tgid), 4)? as u32;
        let parent = self.read_ptr(cpu, task.wrapping_add(l.real_parent))?;
        let ppid = self
            .read_word(cpu, parent.wrapping_add(l.tgid), 4)
            .map(|p| p as u32);
        let mut comm = [0u8; 16];
        cpu.read_mem(task.wrapping_add(l.comm), &mut comm).ok()?;
        Some(Process {
            pid: Some(pid),
            tid: Some(tid),
            ppid,
            comm: Some(comm_of(&comm)),
            source: Source::Kernel,
        })
    }
}

impl Introspect for LinuxKernel {
    fn current(&mut self, cpu: &mut dyn Cpu, _ctx: &SyscallCtx) -> Option<Process> {
        let task = self.current_task(cpu)?;
        self.task(cpu, task)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::FakeCpu;
    use super::*;

    const X64: &str = "\
# hand-written, after linux-image-6.1.0-57-cloud-amd64's layout
release 6.1.0-57-cloud-amd64
pointer_size 8
text 0xffffffff81000000
kaslr_align 0x200000
init_task 0xffffffff82a1aa40
per_cpu_offset 0xffffffff8239eb60
current 0x1fb80
task.pid 2416
task.tgid 2420
task.real_parent 2432
task.comm 2976
";

    fn task(
        cpu: &mut FakeCpu,
        l: &KernelLayout,
        at: u64,
        tid: u32,
        pid: u32,
        parent: u64,
        comm: &[u8],
    ) {
        cpu.put_u32(at + l.pid, tid);
        cpu.put_u32(at + l.tgid, pid);
        cpu.put_u64(at + l.real_parent, parent);
        // The kernel keeps 15 bytes and a NUL.
        let mut c = [0u8; 16];
        let n = comm.len().min(15);
        c[..n].copy_from_slice(&comm[..n]);
        cpu.put(at + l.comm, &c);
    }

    /// A kernel moved by `slide`, CPU 1 running `sh` (pid 40, thread 41,
    /// parent 1) whose per-CPU area is at 0xffff888010000000.
    fn guest(l: &KernelLayout, slide: u64) -> FakeCpu {
        let mut cpu = FakeCpu::default();
        let init = l.init_task + slide;
        task(&mut cpu, l, init, 0, 0, init, b"swapper/0");
        let parent = 0xffff888001000000;
        task(&mut cpu, l, parent, 1, 1, init, b"init");
        let sh = 0xffff888002000000;
        task(&mut cpu, l, sh, 41, 40, parent, b"a-long-program-name");
        let area = 0xffff888010000000;
        cpu.put_u64(l.per_cpu_offset + slide + 8, area);
        cpu.put_u64(area + l.current, sh);
        cpu.vcpu = 1;
        cpu
    }

    fn ctx() -> SyscallCtx {
        crate::introspect::syscalls::tests::ctx("getpid", 0x1000, 0x7000, None, false)
    }

    #[test]
    fn reads_the_running_task_through_kaslr() {
        let l = KernelLayout::parse(X64).unwrap();
        let mut cpu = guest(&l, 0x2a00000);
        let mut k = LinuxKernel::new(l);
        let p = k.current(&mut cpu, &ctx()).unwrap();
        assert_eq!(k.slide(), Some(0x2a00000));
        assert_eq!(
            p,
            Process {
                pid: Some(40),
                tid: Some(41),
                ppid: Some(1),
                comm: Some("a-long-program-".into()),
                source: Source::Kernel
            }
        );
        // The slide and the per-CPU offset are read once.
        let before = cpu.reads;
        k.current(&mut cpu, &ctx()).unwrap();
        assert_eq!(cpu.reads - before, 6);
    }

    #[test]
    fn an_unreadable_kernel_answers_none() {
        let l = KernelLayout::parse(X64).unwrap();
        let mut cpu = FakeCpu::default();
        let mut k = LinuxKernel::new(l);
        assert_eq!(k.current(&mut cpu, &ctx()), None);
        assert_eq!(k.slide(), None);
    }

    #[test]
    fn layout_round_trips_and_bad_files_say_why() {
        let l = KernelLayout::parse(X64).unwrap();
        assert_eq!(KernelLayout::parse(&l.to_text(&["x"])).unwrap(), l);
        let e = KernelLayout::parse("pointer_size 8\n").unwrap_err();
        assert!(e.to_string().contains("missing text"), "{e}");
        let e = KernelLayout::parse("task.pid twelve\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = KernelLayout::parse("colour 3\n").unwrap_err();
        assert!(e.message.contains("unknown key"), "{e}");
    }
}
