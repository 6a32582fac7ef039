//! The event schema: what every writer of syscalls2 traces writes (the QEMU
//! plugin's `format=jsonl`, the fixture replayer, the command-line tool)
//! and every reader reads, one JSON object per line.
//!
//! Version 1 (`"v": 1`). Each syscall gives an `enter` event and, when it
//! returns, a `return` event with the same `seq` (a fork's two returns share
//! it too, told apart by `child`). Every field is present on every line,
//! `null` where it has no value, so that a reader sees one set of columns:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `v` | integer | schema version, 1 |
//! | `ev` | `"enter"` \| `"return"` | which half of the call |
//! | `seq` | integer | the call's number in its session; enter and return share it |
//! | `ts` | integer | host nanoseconds since the session started |
//! | `icount` | integer \| null | the guest's instruction count (QEMU with `-icount`) |
//! | `vcpu` | integer | the virtual CPU |
//! | `asid` | integer | the address space (CR3, TTBR0): the child's, for a fork's child return |
//! | `pc` | integer | the syscall instruction |
//! | `sp` | integer | the stack pointer the call returns with |
//! | `retaddr` | integer | where it returns |
//! | `insn` | string \| null | the instruction at enter (`"syscall"`, `"sysenter"`, `"svc"`) |
//! | `profile`, `abi` | string | the table and the ABI it was decoded with |
//! | `no` | integer | the syscall number |
//! | `name` | string \| null | its name as strace prints it (`"openat"`); null when unknown |
//! | `syscall` | string \| null | its name in the table, as hooks name it (`"sys_openat"`) |
//! | `pid`, `tid`, `ppid` | integer \| null | the process (thread group), thread and parent, where known |
//! | `comm` | string \| null | the process name, where known |
//! | `attribution` | `"kernel"` \| `"syscalls"` \| null | which method gave `pid`..`comm` ([`syscalls2_core::introspect::Source`]) |
//! | `args` | object | every argument, by its prototype's name, in order ([`ArgValue`]) |
//! | `ret` | integer \| null | the return value, sign-extended (return only) |
//! | `errno` | object \| null | `{"name": "ENOENT", "no": 2}` when the call failed (Windows: the NTSTATUS) |
//! | `duration_ns` | integer \| null | host nanoseconds from enter to return |
//! | `child` | boolean \| null | a fork-like call's return in the child (return only) |
//!
//! The JSON Schema of an event is `schema/event-v1.schema.json` in the
//! repository; the tests validate real outputs against it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema version this module writes.
pub const VERSION: u32 = 1;

/// Which half of a call an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The call entered.
    Enter,
    /// The call returned.
    Return,
}

/// One event: a call's enter or its return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = every_field_required))]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The schema version ([`VERSION`]).
    pub v: u32,
    /// Enter or return.
    pub ev: Phase,
    /// The call's number in its session: its enter and return share it.
    pub seq: u64,
    /// Host nanoseconds since the session started.
    pub ts: u64,
    /// The guest's instruction count, when the backend knows it.
    pub icount: Option<u64>,
    /// The virtual CPU.
    pub vcpu: u32,
    /// The address space: the child's, for a fork's return in the child.
    pub asid: u64,
    /// The address of the syscall instruction.
    pub pc: u64,
    /// The stack pointer the call returns with.
    pub sp: u64,
    /// Where the call returns.
    pub retaddr: u64,
    /// The syscall instruction, at enter.
    pub insn: Option<String>,
    /// The profile (table) it was decoded with.
    pub profile: String,
    /// The ABI it follows.
    pub abi: String,
    /// The syscall number.
    pub no: u64,
    /// The name as strace prints it; `None` for a number the table lacks.
    pub name: Option<String>,
    /// The name in the table, as hooks name it.
    pub syscall: Option<String>,
    /// The process id (thread group id), where known.
    pub pid: Option<u32>,
    /// The thread id, where known.
    pub tid: Option<u32>,
    /// The parent's process id, where known.
    pub ppid: Option<u32>,
    /// The process name, where known.
    pub comm: Option<String>,
    /// Which method gave `pid`, `tid`, `ppid` and `comm`: `"kernel"` (the
    /// guest kernel's task) or `"syscalls"` (what the calls revealed).
    pub attribution: Option<String>,
    /// Every argument by name, in the prototype's order.
    pub args: Args,
    /// The return value (return events).
    pub ret: Option<i64>,
    /// The error, when the call failed.
    pub errno: Option<ErrorCode>,
    /// Host nanoseconds from enter to return (return events).
    pub duration_ns: Option<u64>,
    /// Whether this return is a fork-like call's in the child (return events).
    pub child: Option<bool>,
}

/// An error a call returned: Linux's errno, or Windows' NTSTATUS.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorCode {
    /// Its name (`"ENOENT"`, `"STATUS_OBJECT_NAME_NOT_FOUND"`), when known.
    pub name: Option<String>,
    /// Its number (2; 0xC0000034 = 3221225524).
    pub no: u32,
}

/// A call's arguments, by name, in order (and a structure's fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(pub Vec<(String, ArgValue)>);

impl Args {
    /// The argument named `name`.
    pub fn get(&self, name: &str) -> Option<&ArgValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The arguments in order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, ArgValue)> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Args {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Args".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Every argument by its prototype's name, in order.",
            "type": "object",
            "additionalProperties": generator.subschema_for::<ArgValue>(),
        })
    }
}

/// Every field of an event is written, `null` where it has no value: the
/// schema says so.
#[cfg(feature = "schema")]
fn every_field_required(schema: &mut schemars::Schema) {
    let keys: Vec<serde_json::Value> = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().map(serde_json::Value::String).collect())
        .unwrap_or_default();
    schema.insert("required".into(), keys.into());
}

/// The JSON Schema of an [`Event`] (the file `schema/event-v1.schema.json`).
#[cfg(feature = "schema")]
pub fn schema() -> String {
    let schema = schemars::schema_for!(Event);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}

impl Serialize for Args {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Args;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of argument names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Args, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Args(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// One argument's value: a JSON object whose members say what it is.
///
/// - an integer: `{"int": -100}` (signed types) or `{"uint": 3}`;
/// - a pointer: `{"ptr": 140737488351232}`, `{"ptr": 0}` for NULL;
/// - a string it points to: `{"ptr": .., "str": "/etc/hostname", "truncated": false}`
///   (text decoded as UTF-8 with replacement; `truncated` when cut);
/// - bytes it points to: `{"ptr": .., "bytes": "68656c6c6f0a", "truncated": false}` (hex);
/// - an array of strings (`argv`): `{"ptr": .., "array": ["sh", "-c"], "truncated": false}`;
/// - integers it points to (a wait status, two fds): `{"ptr": .., "ints": [3, 4]}`;
/// - a structure it points to: `{"ptr": .., "fields": {"tv_sec": {"uint": 15}, "tv_nsec": {"uint": 785}}}`;
/// - memory that could not be read: `{"ptr": .., "unreadable": true}`;
/// - a Windows handle with the name of its object: `{"uint": 124, "object": "\\??\\C:\\x.txt"}`;
/// - a Windows integer by the names of its constants (an access mask, a
///   create option, an information class, an NTSTATUS argument):
///   `{"uint": 1048705, "names": "FILE_READ_DATA|FILE_READ_ATTRIBUTES|SYNCHRONIZE"}`.
///
/// A reader picks the member it wants (`args.filename.str` in DuckDB).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ArgValue {
    /// A signed integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int: Option<i64>,
    /// An unsigned integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uint: Option<u64>,
    /// A guest address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptr: Option<u64>,
    /// The string at `ptr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub str: Option<String>,
    /// The bytes at `ptr`, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// The strings of the array at `ptr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<Vec<String>>,
    /// Whether `str`, `bytes` or `array` was cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// The integers at `ptr`, for a pointer the call writes integers
    /// through (`wait4`'s status, `pipe2`'s two fds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ints: Option<Vec<i64>>,
    /// The fields of the structure at `ptr`, by name, in order (`timespec`,
    /// `stat`, `utsname`): those strace prints, as `data/linux_constants.txt` lists them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Args>,
    /// The memory at `ptr` could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<bool>,
    /// The object a Windows handle refers to, as the call that created it
    /// named it (`\\??\\C:\\Users\\alice\\secret.txt`, `pid:1234`): for a handle
    /// argument, for the handle a call wrote through an out-pointer, and for
    /// an `OBJECT_ATTRIBUTES` the full name (after its RootDirectory's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// A Windows integer by its constants' names, as strace prints flags
    /// (`FILE_READ_DATA|SYNCHRONIZE`, what no name covers in hex) or a value
    /// (`FILE_OPEN`, `FileBasicInformation`, `STATUS_SUCCESS`): for an
    /// argument or a structure's field `data/windows_args.txt` gives a
    /// meaning (the values are mingw-w64's: `data/windows_constants.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<String>,
}

impl ArgValue {
    /// A signed integer.
    pub fn int(v: i64) -> ArgValue {
        ArgValue {
            int: Some(v),
            ..ArgValue::default()
        }
    }

    /// An unsigned integer.
    pub fn uint(v: u64) -> ArgValue {
        ArgValue {
            uint: Some(v),
            ..ArgValue::default()
        }
    }

    /// A pointer not followed.
    pub fn ptr(addr: u64) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            ..ArgValue::default()
        }
    }

    /// A pointer whose memory could not be read.
    pub fn unreadable(addr: u64) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            unreadable: Some(true),
            ..ArgValue::default()
        }
    }

    /// The string at `addr`.
    pub fn string(addr: u64, text: &[u8], truncated: bool) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            str: Some(String::from_utf8_lossy(text).into_owned()),
            truncated: Some(truncated),
            ..ArgValue::default()
        }
    }

    /// The bytes at `addr`.
    pub fn bytes(addr: u64, data: &[u8], truncated: bool) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            bytes: Some(hex(data)),
            truncated: Some(truncated),
            ..ArgValue::default()
        }
    }

    /// The strings of the array at `addr`.
    pub fn array(addr: u64, items: &[Vec<u8>], truncated: bool) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            array: Some(
                items
                    .iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect(),
            ),
            truncated: Some(truncated),
            ..ArgValue::default()
        }
    }

    /// The integers at `addr`.
    pub fn ints(addr: u64, values: Vec<i64>) -> ArgValue {
        ArgValue {
            ptr: Some(addr),
            ints: Some(values),
            ..ArgValue::default()
        }
    }

    /// The bytes of `bytes`, decoded from hex.
    pub fn bytes_data(&self) -> Option<Vec<u8>> {
        let hex = self.bytes.as_deref()?;
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// The value as a number: the integer, or the address.
    pub fn number(&self) -> Option<u64> {
        self.int.map(|v| v as u64).or(self.uint).or(self.ptr)
    }
}

fn hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What a session counted, written at its end (`stats=` of the QEMU plugin,
/// `--summary` of the tool): the engine's counters, the calls left
/// unpaired, and the backend's own counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The schema version ([`VERSION`]).
    pub v: u32,
    /// The main profile.
    pub profile: String,
    /// The engine's counters.
    #[serde(flatten)]
    pub counters: syscalls2_core::Stats,
    /// Events written (after filtering).
    pub events: u64,
    /// The calls still waiting for their return at the end.
    pub pending: Vec<PendingCall>,
    /// The backend's own counters (the QEMU plugin's flushes, ...).
    pub backend: BTreeMap<String, u64>,
}

/// A call left waiting for its return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PendingCall {
    /// Its sequence number.
    pub seq: u64,
    /// Its name as strace prints it.
    pub name: Option<String>,
    /// Its number.
    pub no: u64,
    /// Its address space.
    pub asid: u64,
    /// Its syscall instruction.
    pub pc: u64,
    /// Its virtual CPU.
    pub vcpu: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_keep_their_order_and_types() {
        let args = Args(vec![
            ("dfd".into(), ArgValue::int(-100)),
            (
                "filename".into(),
                ArgValue::string(0x1000, b"/etc/hostname", false),
            ),
            ("buf".into(), ArgValue::bytes(0x2000, b"hi\n", true)),
            ("p".into(), ArgValue::unreadable(0x3000)),
        ]);
        let json = serde_json::to_string(&args).unwrap();
        assert_eq!(
            json,
            r#"{"dfd":{"int":-100},"filename":{"ptr":4096,"str":"/etc/hostname","truncated":false},"buf":{"ptr":8192,"bytes":"68690a","truncated":true},"p":{"ptr":12288,"unreadable":true}}"#
        );
        let back: Args = serde_json::from_str(&json).unwrap();
        assert_eq!(back, args);
        assert_eq!(back.get("buf").unwrap().bytes_data().unwrap(), b"hi\n");
    }
}
