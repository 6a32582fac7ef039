//! Fixture register snapshots: a recorded sequence of CPU states, replayed
//! through the engine with no emulator.
//!
//! # The format
//!
//! A fixture is one JSON object:
//!
//! ```json
//! {
//!   "profile": "linux_x64",
//!   "compat": "linux_x86",
//!   "source": "recorded by syscalls2-qemu: Debian linux-image-6.1.0-56-cloud-amd64, busybox-static",
//!   "events": [
//!     { "kind": "syscall", "vcpu": 0, "pc": "0x4a6b2c", "insn": "0f05", "asid": "0x2922000",
//!       "mode": { "wide": true },
//!       "regs": { "rax": "0x101", "rdi": "0xffffffffffffff9c", "rsi": "0x7ffc1000", "rdx": "0x0",
//!                 "r10": "0x0", "r8": "0x0", "r9": "0x0", "rsp": "0x7ffc0f00" },
//!       "mem": [ { "addr": "0x7ffc1000", "bytes": "2f6574632f686f73746e616d6500" } ] },
//!     { "kind": "block", "vcpu": 0, "pc": "0x4a6b2e", "asid": "0x2922000",
//!       "mode": { "wide": true }, "regs": { "rax": "0x3", "rsp": "0x7ffc0f00" } }
//!   ]
//! }
//! ```
//!
//! - `profile`: the bundled profile to decode with; `compat`, optional, the
//!   compat profile (32-bit processes on a 64-bit guest).
//! - `source`: where the fixture comes from. A hand-written fixture says so
//!   here, and names the ABI documentation it follows.
//! - `events`, in execution order: `"syscall"`, a syscall instruction
//!   executing at `pc` (`insn`: its bytes, in hex), or `"block"`, a block
//!   starting at `pc` (a possible return site).
//! - Each event has the state the engine and hooks read: `asid`, `mode`
//!   (`thumb`, `wide`, `big_endian`; absent fields are false), `regs` by the
//!   names of [`Reg::name`](crate::Reg::name) (x86 registers by their 64-bit
//!   names, also on i386), and `mem`, the guest memory read (virtual
//!   address, bytes in hex). A register absent from `regs` reads as 0; memory
//!   absent from `mem` is unreadable, as an unmapped page is.
//! - Numbers are strings of hex (`"0x..."`) so that 64-bit values survive
//!   every JSON reader; `vcpu` is a plain number.
//!
//! [`Recorder`] writes events from any live [`Cpu`], recording exactly what
//! the engine and hooks read; [`replay`] runs an engine over a fixture.

use crate::engine::Handler;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use syscalls2_abi::{Cpu, MemError, Mode, Reg};

/// A recorded run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixture {
    /// The profile to decode with (`"linux_x64"`).
    pub profile: String,
    /// The compat profile, if any (`"linux_x86"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<String>,
    /// Where the fixture comes from.
    pub source: String,
    /// The events, in execution order.
    pub events: Vec<Event>,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A syscall instruction executed.
    Syscall,
    /// A block started (at a possible return site).
    Block,
}

/// One CPU state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Syscall or block.
    pub kind: EventKind,
    /// The virtual CPU.
    #[serde(default)]
    pub vcpu: u32,
    /// The pc.
    pub pc: Hex,
    /// For a syscall: the instruction's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insn: Option<HexBytes>,
    /// The address-space id.
    pub asid: Hex,
    /// The mode bits.
    #[serde(default, with = "ModeDef")]
    pub mode: Mode,
    /// Registers by name.
    #[serde(default)]
    pub regs: BTreeMap<String, Hex>,
    /// Readable guest memory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mem: Vec<MemRegion>,
    /// A comment, for hand-written events: what this event is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// [`Mode`] as the fixture format writes it: absent fields are false.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Mode", default)]
struct ModeDef {
    thumb: bool,
    wide: bool,
    big_endian: bool,
}

impl Default for ModeDef {
    fn default() -> ModeDef {
        let Mode {
            thumb,
            wide,
            big_endian,
        } = Mode::default();
        ModeDef {
            thumb,
            wide,
            big_endian,
        }
    }
}

/// Bytes of guest memory at an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemRegion {
    /// The virtual address of the first byte.
    pub addr: Hex,
    /// The bytes.
    pub bytes: HexBytes,
}

/// A `u64` written as a `"0x..."` string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex(pub u64);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:#x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s
            .strip_prefix("0x")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("`{s}`: expected a \"0x...\" hex string"))
            })?;
        u64::from_str_radix(digits, 16)
            .map(Hex)
            .map_err(|_| serde::de::Error::custom(format!("`{s}`: too large for 64 bits")))
    }
}

/// Bytes written as a string of hex digits (`"2f6574"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            out.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&out)
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Some(at) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(serde::de::Error::custom(format!(
                "bad hex bytes: `{}` at offset {at} is not a hex digit",
                s[at..].chars().next().unwrap_or_default()
            )));
        }
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom(
                "hex bytes need an even number of digits",
            ));
        }
        // Only ASCII digits from here: every pair is on character boundaries.
        let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
        Ok(HexBytes(
            s.as_bytes()
                .chunks_exact(2)
                .map(|p| digit(p[0]) << 4 | digit(p[1]))
                .collect(),
        ))
    }
}

/// Why a fixture could not be replayed.
#[derive(Debug)]
pub enum FixtureError {
    /// Not valid JSON, or not of the format.
    Json(serde_json::Error),
    /// A syscall event whose `insn` is missing or is not a syscall instruction.
    NotASyscall {
        /// The event's position.
        event: usize,
    },
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixtureError::Json(e) => write!(f, "not a fixture: {e}"),
            FixtureError::NotASyscall { event } => {
                write!(f, "event {event}: a syscall event needs the bytes of a syscall instruction in `insn`")
            }
        }
    }
}

impl std::error::Error for FixtureError {}

impl Fixture {
    /// Reads a fixture from JSON text.
    pub fn from_json(text: &str) -> Result<Fixture, FixtureError> {
        serde_json::from_str(text).map_err(FixtureError::Json)
    }

    /// The fixture as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a fixture always serialises")
    }
}

/// A [`Cpu`] whose state is one recorded event.
#[derive(Debug)]
pub struct EventCpu<'a> {
    event: &'a Event,
}

impl<'a> EventCpu<'a> {
    /// The CPU as `event` recorded it.
    pub fn new(event: &'a Event) -> Self {
        EventCpu { event }
    }
}

impl Cpu for EventCpu<'_> {
    fn reg(&mut self, reg: Reg) -> u64 {
        self.event.regs.get(&reg.name()).map_or(0, |h| h.0)
    }

    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        // Fill from the regions; the first byte no region covers fails the read.
        for (i, out) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u64);
            let byte = self.event.mem.iter().find_map(|r| {
                let off = a.checked_sub(r.addr.0)?;
                r.bytes.0.get(usize::try_from(off).ok()?).copied()
            });
            *out = byte.ok_or(MemError { addr: a })?;
        }
        Ok(())
    }

    fn pc(&mut self) -> u64 {
        self.event.pc.0
    }

    fn asid(&mut self) -> u64 {
        self.event.asid.0
    }

    fn mode(&mut self) -> Mode {
        self.event.mode
    }

    fn index(&self) -> u32 {
        self.event.vcpu
    }
}

/// Runs `handler` (an [`Engine`](crate::Engine), or a trace session
/// around one) over every event of `fixture`, as a backend would.
pub fn replay(fixture: &Fixture, handler: &mut dyn Handler) -> Result<(), FixtureError> {
    let abi = handler.abi();
    for (i, event) in fixture.events.iter().enumerate() {
        let mut cpu = EventCpu::new(event);
        match event.kind {
            EventKind::Syscall => {
                let bytes = event
                    .insn
                    .as_ref()
                    .ok_or(FixtureError::NotASyscall { event: i })?;
                let insn = abi
                    .find_syscall_insn(&bytes.0, event.mode)
                    .ok_or(FixtureError::NotASyscall { event: i })?;
                handler.on_syscall(&mut cpu, event.pc.0, insn, &bytes.0);
            }
            EventKind::Block => handler.on_block(&mut cpu, event.pc.0),
        }
    }
    Ok(())
}

/// Wraps a live [`Cpu`] and records what is read through it into an
/// [`Event`]: a backend records a fixture by handing the engine a
/// `Recorder` instead of its CPU.
///
/// ```
/// # use syscalls2_core::fixture::{Recorder, EventKind, EventCpu, Event, Hex};
/// # use syscalls2_core::{Cpu, Reg};
/// # let source = Event { kind: EventKind::Block, vcpu: 0, pc: Hex(0x1000), insn: None, asid: Hex(1),
/// #     mode: Default::default(), regs: [("rax".to_string(), Hex(7))].into(), mem: vec![], note: None };
/// # let mut live = EventCpu::new(&source);
/// let mut rec = Recorder::new(&mut live, EventKind::Block, 0x1000, None);
/// assert_eq!(rec.reg(Reg::Rax), 7);
/// let event = rec.finish();
/// assert_eq!(event.regs["rax"], Hex(7));
/// ```
pub struct Recorder<'a, C: Cpu + ?Sized> {
    inner: &'a mut C,
    event: Event,
}

impl<'a, C: Cpu + ?Sized> Recorder<'a, C> {
    /// Starts an event at `pc` (for a syscall, with its instruction bytes).
    pub fn new(inner: &'a mut C, kind: EventKind, pc: u64, insn: Option<&[u8]>) -> Self {
        let event = Event {
            kind,
            vcpu: inner.index(),
            pc: Hex(pc),
            insn: insn.map(|b| HexBytes(b.to_vec())),
            asid: Hex(inner.asid()),
            mode: inner.mode(),
            regs: BTreeMap::new(),
            mem: Vec::new(),
            note: None,
        };
        Recorder { inner, event }
    }

    /// Whether anything beyond the event's own header was read: a block
    /// event the engine did not look into need not be kept.
    pub fn touched(&self) -> bool {
        !self.event.regs.is_empty() || !self.event.mem.is_empty()
    }

    /// The recorded event.
    pub fn finish(self) -> Event {
        self.event
    }
}

impl<C: Cpu + ?Sized> Cpu for Recorder<'_, C> {
    fn reg(&mut self, reg: Reg) -> u64 {
        let v = self.inner.reg(reg);
        self.event.regs.insert(reg.name(), Hex(v));
        v
    }

    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.inner.read_mem(addr, buf)?;
        self.event.mem.push(MemRegion {
            addr: Hex(addr),
            bytes: HexBytes(buf.to_vec()),
        });
        Ok(())
    }

    // The header was read from the live CPU when the event began: answer as
    // a replay of the event will.
    fn pc(&mut self) -> u64 {
        EventCpu::new(&self.event).pc()
    }

    fn asid(&mut self) -> u64 {
        EventCpu::new(&self.event).asid()
    }

    fn mode(&mut self) -> Mode {
        EventCpu::new(&self.event).mode()
    }

    fn index(&self) -> u32 {
        EventCpu::new(&self.event).index()
    }

    fn icount(&mut self) -> Option<u64> {
        self.inner.icount()
    }

    fn process(&mut self) -> Option<syscalls2_abi::Process> {
        self.inner.process()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let f = Fixture {
            profile: "linux_x64".into(),
            compat: None,
            source: "test".into(),
            events: vec![Event {
                kind: EventKind::Syscall,
                vcpu: 1,
                pc: Hex(0xffff_ffff_ffff_fff0),
                insn: Some(HexBytes(vec![0x0f, 0x05])),
                asid: Hex(0x1000),
                mode: Mode {
                    wide: true,
                    ..Mode::default()
                },
                regs: [("rax".to_string(), Hex(1))].into(),
                mem: vec![MemRegion {
                    addr: Hex(0x10),
                    bytes: HexBytes(b"hi\0".to_vec()),
                }],
                note: None,
            }],
        };
        let json = f.to_json();
        assert!(
            json.contains("\"0xfffffffffffffff0\"")
                && json.contains("\"0f05\"")
                && json.contains("\"686900\""),
            "{json}"
        );
        assert_eq!(Fixture::from_json(&json).unwrap(), f);
    }

    #[test]
    fn memory_outside_the_regions_is_unreadable() {
        let e: Event = serde_json::from_str(
            r#"{"kind":"block","pc":"0x0","asid":"0x0","mem":[{"addr":"0x100","bytes":"01020304"}]}"#,
        )
        .unwrap();
        let mut cpu = EventCpu::new(&e);
        let mut buf = [0; 4];
        cpu.read_mem(0x100, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
        assert_eq!(cpu.read_mem(0x102, &mut buf), Err(MemError { addr: 0x104 }));
        assert_eq!(cpu.reg(Reg::Rax), 0);
    }

    #[test]
    fn hex_is_digits_only() {
        let bytes = |v: &str| serde_json::from_str::<HexBytes>(&format!("\"{v}\""));
        let hex = |v: &str| serde_json::from_str::<Hex>(&format!("\"{v}\""));
        assert_eq!(bytes("2f65").unwrap(), HexBytes(vec![0x2f, 0x65]));
        // A sign is no digit (from_str_radix takes "+f").
        let e = bytes("+f+5").unwrap_err().to_string();
        assert!(e.contains("`+` at offset 0 is not a hex digit"), "{e}");
        // A two-byte character at an even offset: no pair splits it.
        let e = bytes("aé1").unwrap_err().to_string();
        assert!(e.contains("`é` at offset 1"), "{e}");
        assert!(bytes("é1").is_err() && bytes("aaé").is_err());
        for bad in ["0x+10", "0x", "0x-1", "0x 1", "0xé"] {
            let e = hex(bad).unwrap_err().to_string();
            assert!(e.contains("expected a \"0x...\" hex string"), "{bad}: {e}");
        }
        assert!(hex("0x10000000000000000")
            .unwrap_err()
            .to_string()
            .contains("too large"));
        assert_eq!(hex("0xffffffffffffffff").unwrap(), Hex(u64::MAX));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(Fixture::from_json("{").is_err());
        let e = Fixture::from_json(
            r#"{"profile":"x","source":"s","events":[{"kind":"block","pc":"12","asid":"0x0"}]}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("expected a \"0x...\" hex string"),
            "{e}"
        );
    }
}
