//! Property tests: the fixture reader and the engine (inside a trace
//! session, with its sinks and filters) driven by arbitrary input, as a
//! hostile guest or a broken recording would drive them. Each property
//! holds for every generated case: no panic, no abort, no unbounded
//! allocation (the pending store and the session's open calls stay within
//! their bounds), and an error located at its line and column.
//!
//! The case counts keep the whole file to a few seconds; a failure prints
//! the smallest input proptest found.

use proptest::prelude::*;
use std::collections::BTreeMap;
use syscalls2::fixture::Fixture;
use syscalls2::session::{Filter, JsonlSink, Session, StraceSink};
use syscalls2::{profiles, Cpu, Engine, Handler, MemError, Mode, Reg};

/// A CPU whose state is whatever the test generated: registers from a
/// seed (any 64-bit value), memory readable or not by address, any mode,
/// address space, vCPU and pc.
#[derive(Clone, Debug)]
struct ArbitraryCpu {
    seed: u64,
    /// Registers set explicitly (the call number, the stack pointer).
    regs: BTreeMap<Reg, u64>,
    /// Memory is readable below this address (0: none at all).
    readable_below: u64,
    mode: Mode,
    asid: u64,
    vcpu: u32,
    pc: u64,
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

impl Cpu for ArbitraryCpu {
    fn reg(&mut self, reg: Reg) -> u64 {
        let name = reg.name();
        let h = name.bytes().fold(self.seed, |h, b| mix(h ^ u64::from(b)));
        self.regs.get(&reg).copied().unwrap_or(h)
    }

    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u64);
            if a >= self.readable_below {
                return Err(MemError { addr: a });
            }
            *b = mix(a ^ self.seed) as u8;
        }
        Ok(())
    }

    fn pc(&mut self) -> u64 {
        self.pc
    }

    fn asid(&mut self) -> u64 {
        self.asid
    }

    fn mode(&mut self) -> Mode {
        self.mode
    }

    fn index(&self) -> u32 {
        self.vcpu
    }
}

/// One backend call.
#[derive(Clone, Debug)]
enum Step {
    /// A syscall instruction (its bytes) executing with `cpu`'s state.
    Syscall { bytes: Vec<u8>, cpu: ArbitraryCpu },
    /// A block starting: at the return address of an earlier call
    /// (`Some(k)`, the k-th from last), or at `cpu.pc`.
    Block {
        back: Option<usize>,
        cpu: ArbitraryCpu,
    },
}

/// Syscall instruction bytes of every ABI, and some that are none.
fn insn_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0x0f, 0x05]),             // syscall
        Just(vec![0xcd, 0x80]),             // int 0x80
        Just(vec![0x0f, 0x34]),             // sysenter
        Just(vec![0xcd, 0x2e]),             // int 0x2e
        Just(vec![0x00, 0x00, 0x00, 0xef]), // svc #0 (ARM)
        Just(vec![0x05, 0x00, 0x90, 0xef]), // svc #0x900005 (ARM)
        Just(vec![0x00, 0xdf]),             // svc 0 (Thumb)
        Just(vec![0x01, 0x00, 0x00, 0xd4]), // svc #0 (AArch64)
        Just(vec![0x0c, 0x00, 0x00, 0x00]), // syscall (MIPS, little-endian)
        Just(vec![0x00, 0x00, 0x00, 0x0c]), // syscall (MIPS, big-endian)
        proptest::collection::vec(any::<u8>(), 0..5),
    ]
}

/// Values a hostile guest likes: small call numbers, their disguises
/// (high bits set), range edges, anything.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..600,
        4000u64..4500,
        5000u64..5400,
        6000u64..6400,
        (0u64..600).prop_map(|n| n | 1 << 32),
        (0u64..600).prop_map(|n| n | 0x4000_0000),
        (0u64..0x2000).prop_map(|n| n | 0xffff_e000),
        Just(u64::MAX),
        any::<u64>(),
    ]
}

fn cpu() -> impl Strategy<Value = ArbitraryCpu> {
    (
        any::<u64>(),
        number(),
        prop_oneof![Just(0x7ffc_0000u64), any::<u64>()],
        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop_oneof![0u64..4, any::<u64>()],
        prop_oneof![0u32..4, Just(u32::MAX), any::<u32>()],
        prop_oneof![
            0x40_0000u64..0x40_0100,
            (u64::MAX - 8)..=u64::MAX,
            any::<u64>()
        ],
    )
        .prop_map(
            |(seed, no, sp, readable_below, (thumb, wide, big_endian), asid, vcpu, pc)| {
                let regs = BTreeMap::from([
                    (Reg::Rax, no),
                    (Reg::X(8), no),
                    (Reg::Arm(7), no),
                    (Reg::Mips(2), no),
                    (Reg::Rsp, sp),
                    (Reg::Sp, sp),
                    (Reg::Arm(13), sp),
                    (Reg::Mips(29), sp),
                ]);
                ArbitraryCpu {
                    seed,
                    regs,
                    readable_below,
                    mode: Mode {
                        thumb,
                        wide,
                        big_endian,
                    },
                    asid,
                    vcpu,
                    pc,
                }
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (insn_bytes(), cpu()).prop_map(|(bytes, cpu)| Step::Syscall { bytes, cpu }),
        (proptest::option::of(0usize..8), cpu()).prop_map(|(back, cpu)| Step::Block { back, cpu }),
    ]
}

/// Runs `steps` through a session over `profile` (with its compat
/// profiles), a small pending store, both sinks and perhaps a marker filter,
/// checking the bounds after every step.
fn drive(profile: &str, capacity: usize, follow: bool, steps: Vec<Step>) {
    let table = profiles::by_name(profile).expect("the profile is built");
    let engine = profiles::compat_for(table)
        .into_iter()
        .fold(Engine::new(table), Engine::with_compat)
        .with_capacity(capacity);
    let mut filter = Filter::default();
    if follow {
        filter = filter.following("\u{1}", Some("\u{2}")).expect("markers");
    }
    let mut session = Session::new(engine).with_filter(filter);
    session.add_sink(StraceSink::new(std::io::sink()));
    session.add_sink(JsonlSink::new(std::io::sink()));
    let abi = session.abi();
    let mut retaddrs: Vec<u64> = Vec::new();
    for step in steps {
        match step {
            Step::Syscall { bytes, mut cpu } => {
                let Some(insn) = abi.find_syscall_insn(&bytes, cpu.mode) else {
                    continue;
                };
                let pc = cpu.pc;
                session.on_syscall(&mut cpu, pc, insn, &bytes);
                retaddrs.push(pc.wrapping_add(insn.len()));
            }
            Step::Block { back, mut cpu } => {
                let pc = back
                    .and_then(|k| retaddrs.iter().rev().nth(k).copied())
                    .unwrap_or(cpu.pc);
                cpu.pc = pc;
                if session.is_return_site(pc) {
                    session.on_block(&mut cpu, pc);
                }
            }
        }
        let engine = session.engine();
        assert!(engine.pending_len() <= engine.capacity());
    }
    let summary = session
        .finish(BTreeMap::new())
        .expect("sinks that cannot fail");
    assert!(summary.pending.len() <= capacity);
    let c = summary.counters;
    assert!(c.unknown <= c.enters && c.noreturn <= c.enters, "{c:?}");
}

/// The bundled profiles this build has (every one with `--all-features`).
fn profile() -> impl Strategy<Value = &'static str> {
    let names: Vec<&'static str> = profiles::all().iter().map(|t| t.name).collect();
    proptest::sample::select(names)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_survives_any_cpu(
        profile in profile(),
        capacity in prop_oneof![1usize..4, Just(64usize)],
        follow in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        drive(profile, capacity, follow, steps);
    }

    #[test]
    fn the_fixture_reader_takes_any_text_and_locates_its_errors(text in ".{0,200}") {
        if let Err(e) = Fixture::from_json(&text) {
            let msg = e.to_string();
            prop_assert!(msg.contains("line") && msg.contains("column"), "{msg}");
        }
    }

    #[test]
    fn the_fixture_reader_takes_any_mutation_of_a_fixture(
        at in any::<prop::sample::Index>(),
        len in 0usize..8,
        with in "[\\PC]{0,6}",
    ) {
        // A recorded fixture with a slice replaced by arbitrary characters:
        // an error with its place, or a fixture that replays.
        let mut text = FIXTURE.to_string();
        let mut start = at.index(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, &with);
        match Fixture::from_json(&text) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("line") && msg.contains("column"), "{msg}");
            }
            Ok(f) => {
                if let Some(table) = profiles::by_name(&f.profile) {
                    let mut session = Session::new(Engine::new(table));
                    session.add_sink(StraceSink::new(std::io::sink()));
                    let _ = session.replay(&f);
                }
            }
        }
    }
}

const FIXTURE: &str = include_str!("fixtures/linux_x64_pairing.json");
