//! The engine's hot paths, against PANDA's structure, in one run:
//!
//! - `block_miss/{16,256,4096}`: a block start that is not a return site,
//!   with that many calls pending, against `BTreeMap<(retaddr, asid), ctx>`
//!   (PANDA keeps its pending returns in a `std::map` keyed so);
//! - `enter_and_return`: a syscall decoded, one typed hook run, its return
//!   found and dispatched to a return hook;
//! - `enter_typed_hook`: a syscall decoded, one typed hook run, and its
//!   pending return recorded (here replacing the same thread's previous
//!   entry, as a restart does);
//! - `enter_typed_hook_no_pending`: decode and one typed hook alone (a call
//!   that never returns keeps no pending entry).
//!
//! `cargo bench -p syscalls2-core --bench engine`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use std::collections::BTreeMap;
use syscalls2_core::{
    ArgClass, ArgDir, ArgInfo, ArgValue, Cpu, Engine, GuestPtr, MemError, Mode, Reg, ReturnKind,
    Syscall, SyscallArgs, SyscallInfo, SyscallInsn, Table, MAX_SLOTS,
};

/// What `syscall_table!` generates for `0 long sys_read(unsigned int fd, char __user *buf, size_t count);`
/// on linux_x64, written out so this bench needs no macro.
static READ_ARGS: [ArgInfo; 3] = [
    ArgInfo {
        name: "fd",
        ctype: "unsigned int",
        class: ArgClass::Int {
            signed: false,
            bits: 32,
        },
        pointee: "",
        slot: 0,
        slots: 1,
        dir: ArgDir::Unknown,
        pointee_class: None,
    },
    ArgInfo {
        name: "buf",
        ctype: "char __user *",
        class: ArgClass::Buf,
        pointee: "",
        slot: 1,
        slots: 1,
        dir: ArgDir::Unknown,
        pointee_class: None,
    },
    ArgInfo {
        name: "count",
        ctype: "size_t",
        class: ArgClass::Int {
            signed: false,
            bits: 64,
        },
        pointee: "",
        slot: 2,
        slots: 1,
        dir: ArgDir::Unknown,
        pointee_class: None,
    },
];
static EXIT_ARGS: [ArgInfo; 1] = [ArgInfo {
    name: "error_code",
    ctype: "int",
    class: ArgClass::Int {
        signed: true,
        bits: 32,
    },
    pointee: "",
    slot: 0,
    slots: 1,
    dir: ArgDir::Unknown,
    pointee_class: None,
}];
static SYSCALLS: [SyscallInfo; 2] = [
    SyscallInfo {
        no: 0,
        name: "sys_read",
        rettype: "long",
        args: &READ_ARGS,
        returns: ReturnKind {
            noreturn: false,
            noreturn_on_success: false,
            double_return: false,
        },
        signature: "u32,GuestPtr,u64",
        prototype: "0 long sys_read(unsigned int fd, char __user *buf, size_t count);",
    },
    SyscallInfo {
        no: 231,
        name: "sys_exit_group",
        rettype: "long",
        args: &EXIT_ARGS,
        returns: ReturnKind {
            noreturn: true,
            noreturn_on_success: false,
            double_return: false,
        },
        signature: "i32",
        prototype: "231 long sys_exit_group(int error_code);",
    },
];
static TABLE: Table = Table {
    name: "bench_linux_x64",
    abi: syscalls2_abi::linux_x64::ABI,
    syscalls: &SYSCALLS,
    by_name_index: &[0],
};

#[derive(Clone, Copy, Debug)]
struct ReadArgs {
    fd: u32,
    buf: GuestPtr,
    count: u64,
}
impl SyscallArgs for ReadArgs {
    fn from_raw(raw: &[u64; MAX_SLOTS]) -> Self {
        ReadArgs {
            fd: ArgValue::from_raw(raw[0]),
            buf: ArgValue::from_raw(raw[1]),
            count: ArgValue::from_raw(raw[2]),
        }
    }
}
struct SysRead;
#[derive(Clone, Copy, Debug)]
struct ExitArgs {
    error_code: i32,
}
impl SyscallArgs for ExitArgs {
    fn from_raw(raw: &[u64; MAX_SLOTS]) -> Self {
        ExitArgs {
            error_code: ArgValue::from_raw(raw[0]),
        }
    }
}
struct SysExitGroup;
impl Syscall for SysExitGroup {
    type Args = ExitArgs;
    fn table() -> &'static Table {
        &TABLE
    }
    fn info() -> &'static SyscallInfo {
        &SYSCALLS[1]
    }
}
impl Syscall for SysRead {
    type Args = ReadArgs;
    fn table() -> &'static Table {
        &TABLE
    }
    fn info() -> &'static SyscallInfo {
        &SYSCALLS[0]
    }
}

/// A CPU whose registers are an array.
struct BenchCpu {
    regs: [u64; 16],
    asid: u64,
}

fn index(r: Reg) -> usize {
    match r {
        Reg::Rax => 0,
        Reg::Rbx => 1,
        Reg::Rcx => 2,
        Reg::Rdx => 3,
        Reg::Rsi => 4,
        Reg::Rdi => 5,
        Reg::Rbp => 6,
        Reg::Rsp => 7,
        Reg::R8 => 8,
        Reg::R9 => 9,
        Reg::R10 => 10,
        Reg::R11 => 11,
        _ => 15,
    }
}

impl Cpu for BenchCpu {
    fn reg(&mut self, reg: Reg) -> u64 {
        self.regs[index(reg)]
    }
    fn read_mem(&mut self, addr: u64, _buf: &mut [u8]) -> Result<(), MemError> {
        Err(MemError { addr })
    }
    fn pc(&mut self) -> u64 {
        0
    }
    fn asid(&mut self) -> u64 {
        self.asid
    }
    fn mode(&mut self) -> Mode {
        Mode {
            wide: true,
            ..Mode::default()
        }
    }
}

fn cpu_for_read(asid: u64, sp: u64) -> BenchCpu {
    let mut regs = [0; 16];
    regs[index(Reg::Rax)] = 0;
    regs[index(Reg::Rdi)] = 3;
    regs[index(Reg::Rsi)] = 0x7000_0000;
    regs[index(Reg::Rdx)] = 4096;
    regs[index(Reg::Rsp)] = sp;
    BenchCpu { regs, asid }
}

/// Return addresses as libc stubs would put them: spread over a text segment.
fn site(i: u64) -> u64 {
    0x40_0000 + i * 0x1_3a7
}

fn block_miss(c: &mut Criterion) {
    let mut group = c.benchmark_group("block_miss");
    // Block starts that are not return sites.
    let misses: Vec<u64> = (0..1024u64).map(|i| 0x7f00_0000_0000 + i * 0x40).collect();
    for pending in [16u64, 256, 4096] {
        let mut engine = Engine::new(&TABLE).with_capacity(pending as usize);
        for i in 0..pending {
            let mut cpu = cpu_for_read(0x1000 + (i % 64) * 0x1000, 0x7ffc_0000 - i * 0x100);
            engine.on_syscall(&mut cpu, site(i), SyscallInsn::Syscall);
        }
        assert_eq!(engine.pending_len() as u64, pending);
        let mut cpu = cpu_for_read(0x1000, 0x7ffc_0000);
        group.bench_with_input(BenchmarkId::new("syscalls2", pending), &pending, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & 1023;
                engine.on_block(&mut cpu, black_box(misses[i]));
            })
        });
        // PANDA: std::map<(retaddr, asid), syscall_ctx>, looked up at every block.
        let mut map: BTreeMap<(u64, u64), [u64; 24]> = BTreeMap::new();
        for i in 0..pending {
            map.insert((site(i), 0x1000 + (i % 64) * 0x1000), [i; 24]);
        }
        group.bench_with_input(
            BenchmarkId::new("btreemap_baseline", pending),
            &pending,
            |b, _| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) & 1023;
                    black_box(map.get(&(black_box(misses[i]), 0x1000)));
                })
            },
        );
    }
    group.finish();
}

fn enter_and_return(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot_path");
    let mut engine = Engine::new(&TABLE);
    let mut seen = 0u64;
    engine
        .on_enter::<SysRead>(move |_cpu, _pc, args: &ReadArgs| {
            seen = seen.wrapping_add(u64::from(args.fd) ^ args.count ^ args.buf.addr());
            black_box(seen);
        })
        .unwrap();
    engine
        .on_return::<SysRead>(|_cpu, _pc, args: &ReadArgs, ret| {
            black_box((args.fd, ret.value));
        })
        .unwrap();
    let mut cpu = cpu_for_read(0x1000, 0x7ffc_0000);
    group.bench_function("enter_typed_hook", |b| {
        b.iter(|| engine.on_syscall(&mut cpu, black_box(0x40_1000), SyscallInsn::Syscall))
    });
    // Decode and one typed hook alone: a call that never returns keeps no
    // pending entry.
    let mut engine3 = Engine::new(&TABLE);
    engine3
        .on_enter::<SysExitGroup>(|_cpu, _pc, args: &ExitArgs| {
            black_box(args.error_code);
        })
        .unwrap();
    let mut exit_cpu = cpu_for_read(0x1000, 0x7ffc_0000);
    exit_cpu.regs[index(Reg::Rax)] = 231;
    group.bench_function("enter_typed_hook_no_pending", |b| {
        b.iter(|| engine3.on_syscall(&mut exit_cpu, black_box(0x40_2000), SyscallInsn::Syscall))
    });
    assert_eq!(engine3.pending_len(), 0);
    let mut engine2 = Engine::new(&TABLE);
    engine2
        .on_enter::<SysRead>(|_cpu, _pc, args: &ReadArgs| {
            black_box(args.fd);
        })
        .unwrap();
    engine2
        .on_return::<SysRead>(|_cpu, _pc, args: &ReadArgs, ret| {
            black_box((args.fd, ret.value));
        })
        .unwrap();
    group.bench_function("enter_and_return", |b| {
        b.iter(|| {
            cpu.regs[0] = 0;
            engine2.on_syscall(&mut cpu, black_box(0x40_1000), SyscallInsn::Syscall);
            cpu.regs[0] = 4096;
            engine2.on_block(&mut cpu, black_box(0x40_1002));
        })
    });
    assert_eq!(engine2.pending_len(), 0, "every enter was paired");
    group.finish();
}

criterion_group!(benches, block_miss, enter_and_return);
criterion_main!(benches);
