//! `--format parquet`: the events as a Parquet file, with the columns of the
//! JSON lines schema ([`syscalls2::event`]), so that one query runs on
//! either (`SELECT args['filename'].str FROM 'trace.parquet'` in DuckDB).
//!
//! | column | Parquet / Arrow type | DuckDB reads |
//! |---|---|---|
//! | `v`, `vcpu` | UInt32 | `UINTEGER` |
//! | `ev`, `insn`, `profile`, `abi`, `name`, `syscall`, `comm`, `attribution` | Utf8 | `VARCHAR` |
//! | `seq`, `ts`, `icount`, `asid`, `pc`, `sp`, `retaddr`, `no`, `duration_ns` | UInt64 | `UBIGINT` |
//! | `pid`, `tid`, `ppid` | UInt32 | `UINTEGER` |
//! | `args` | Map<Utf8, [argument](arg_fields)> | `MAP(VARCHAR, STRUCT(...))` |
//! | `ret` | Int64 | `BIGINT` |
//! | `errno` | Struct<`name` Utf8, `no` UInt32> | `STRUCT(name VARCHAR, no UINTEGER)` |
//! | `child` | Boolean | `BOOLEAN` |
//!
//! Each column's type is its field's Rust type in [`Event`]; a column is
//! nullable where the field is an `Option` (null where JSON has `null`).
//! An argument is a struct of [`ArgValue`]'s members, each null where the
//! JSON object lacks it: `int` Int64, `uint` and `ptr` UInt64, `str` and
//! `bytes` (hex, as in JSON) Utf8, `array` List<Utf8>, `truncated` and
//! `unreadable` Boolean, `ints` List<Int64>, `object` and `names` Utf8, and `fields` — a structure's
//! fields, again a map of name to argument (one level: a field has no
//! fields of its own, as the capture writes them; a deeper one is an
//! error).
//!
//! The file is written as it goes: events are gathered in batches of
//! [`BATCH_ROWS`] and the writer closes a row group every
//! [`ROW_GROUP_ROWS`] events, so memory stays bounded however long the
//! trace. Pages are Snappy-compressed.

use arrow_array::{
    ArrayRef, BooleanArray, Int64Array, ListArray, MapArray, RecordBatch, StringArray, StructArray,
    UInt32Array, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use syscalls2::event::{ArgValue, Args, Event, Summary};
use syscalls2::session::{Record, Sink};

/// Events gathered before they are encoded as one Arrow batch.
pub const BATCH_ROWS: usize = 8192;

/// Events per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 65536;

/// One column: its name, type, whether it may be null, and how it is made
/// from a batch of events.
struct Column {
    name: &'static str,
    ty: DataType,
    nullable: bool,
    make: fn(&[Event]) -> Result<ArrayRef, String>,
}

fn u32s(events: &[Event], f: impl Fn(&Event) -> Option<u32>) -> Result<ArrayRef, String> {
    Ok(Arc::new(events.iter().map(f).collect::<UInt32Array>()))
}

fn u64s(events: &[Event], f: impl Fn(&Event) -> Option<u64>) -> Result<ArrayRef, String> {
    Ok(Arc::new(events.iter().map(f).collect::<UInt64Array>()))
}

fn strs<'a>(
    events: &'a [Event],
    f: impl Fn(&'a Event) -> Option<&'a str>,
) -> Result<ArrayRef, String> {
    Ok(Arc::new(events.iter().map(f).collect::<StringArray>()))
}

/// The columns, in the JSON schema's order.
fn columns() -> Vec<Column> {
    use DataType::{Boolean, Int64, UInt32, UInt64, Utf8};
    let col = |name, ty, nullable, make| Column {
        name,
        ty,
        nullable,
        make,
    };
    vec![
        col("v", UInt32, false, |e| u32s(e, |e| Some(e.v))),
        col("ev", Utf8, false, |e| {
            strs(e, |e| {
                Some(match e.ev {
                    syscalls2::event::Phase::Enter => "enter",
                    syscalls2::event::Phase::Return => "return",
                })
            })
        }),
        col("seq", UInt64, false, |e| u64s(e, |e| Some(e.seq))),
        col("ts", UInt64, false, |e| u64s(e, |e| Some(e.ts))),
        col("icount", UInt64, true, |e| u64s(e, |e| e.icount)),
        col("vcpu", UInt32, false, |e| u32s(e, |e| Some(e.vcpu))),
        col("asid", UInt64, false, |e| u64s(e, |e| Some(e.asid))),
        col("pc", UInt64, false, |e| u64s(e, |e| Some(e.pc))),
        col("sp", UInt64, false, |e| u64s(e, |e| Some(e.sp))),
        col("retaddr", UInt64, false, |e| u64s(e, |e| Some(e.retaddr))),
        col("insn", Utf8, true, |e| strs(e, |e| e.insn.as_deref())),
        col("profile", Utf8, false, |e| strs(e, |e| Some(&e.profile))),
        col("abi", Utf8, false, |e| strs(e, |e| Some(&e.abi))),
        col("no", UInt64, false, |e| u64s(e, |e| Some(e.no))),
        col("name", Utf8, true, |e| strs(e, |e| e.name.as_deref())),
        col("syscall", Utf8, true, |e| strs(e, |e| e.syscall.as_deref())),
        col("pid", UInt32, true, |e| u32s(e, |e| e.pid)),
        col("tid", UInt32, true, |e| u32s(e, |e| e.tid)),
        col("ppid", UInt32, true, |e| u32s(e, |e| e.ppid)),
        col("comm", Utf8, true, |e| strs(e, |e| e.comm.as_deref())),
        col("attribution", Utf8, true, |e| {
            strs(e, |e| e.attribution.as_deref())
        }),
        col("args", args_type(true), false, |e| {
            let rows: Vec<Option<&Args>> = e.iter().map(|e| Some(&e.args)).collect();
            Ok(Arc::new(args_map(&rows, true)?))
        }),
        col("ret", Int64, true, |e| {
            Ok(Arc::new(e.iter().map(|e| e.ret).collect::<Int64Array>()))
        }),
        col("errno", DataType::Struct(errno_fields()), true, |e| {
            let name: StringArray = e
                .iter()
                .map(|e| e.errno.as_ref().and_then(|c| c.name.as_deref()))
                .collect();
            let no: UInt32Array = e.iter().map(|e| e.errno.as_ref().map(|c| c.no)).collect();
            let nulls = NullBuffer::from(e.iter().map(|e| e.errno.is_some()).collect::<Vec<_>>());
            Ok(Arc::new(
                StructArray::try_new(
                    errno_fields(),
                    vec![Arc::new(name), Arc::new(no)],
                    Some(nulls),
                )
                .map_err(|e| e.to_string())?,
            ))
        }),
        col("duration_ns", UInt64, true, |e| u64s(e, |e| e.duration_ns)),
        col("child", Boolean, true, |e| {
            Ok(Arc::new(
                e.iter().map(|e| e.child).collect::<BooleanArray>(),
            ))
        }),
    ]
}

fn errno_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("no", DataType::UInt32, false),
    ])
}

/// An argument's members, as [`ArgValue`] has them; `nested` adds
/// `fields` (a structure's fields, whose own values have none).
pub fn arg_fields(nested: bool) -> Fields {
    use DataType::{Boolean, Int64, UInt64, Utf8};
    let mut f = vec![
        Field::new("int", Int64, true),
        Field::new("uint", UInt64, true),
        Field::new("ptr", UInt64, true),
        Field::new("str", Utf8, true),
        Field::new("bytes", Utf8, true),
        Field::new("array", DataType::List(item(Utf8)), true),
        Field::new("truncated", Boolean, true),
        Field::new("ints", DataType::List(item(Int64)), true),
        Field::new("object", Utf8, true),
        Field::new("names", Utf8, true),
    ];
    if nested {
        f.push(Field::new("fields", args_type(false), true));
    }
    f.push(Field::new("unreadable", Boolean, true));
    Fields::from(f)
}

fn item(ty: DataType) -> FieldRef {
    Arc::new(Field::new("item", ty, true))
}

/// The map's entries: `key` (the argument's name) and `value`.
fn entries(nested: bool) -> FieldRef {
    Arc::new(Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Struct(arg_fields(nested)), true),
        ])),
        false,
    ))
}

/// A map of argument names to arguments.
fn args_type(nested: bool) -> DataType {
    DataType::Map(entries(nested), false)
}

/// The arguments of each row (null where `None`), in order.
fn args_map(rows: &[Option<&Args>], nested: bool) -> Result<MapArray, String> {
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(|r| r.map_or(0, Args::len)));
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    let flat: Vec<&(String, ArgValue)> = rows.iter().flatten().flat_map(|a| a.iter()).collect();
    let keys: StringArray = flat.iter().map(|(k, _)| Some(k.as_str())).collect();
    let values: Vec<&ArgValue> = flat.iter().map(|(_, v)| v).collect();
    let DataType::Struct(entry_fields) = entries(nested).data_type().clone() else {
        unreachable!("entries is a struct")
    };
    let entries_array = StructArray::try_new(
        entry_fields,
        vec![Arc::new(keys), Arc::new(arg_struct(&values, nested)?)],
        None,
    )
    .map_err(|e| e.to_string())?;
    MapArray::try_new(entries(nested), offsets, entries_array, Some(nulls), false)
        .map_err(|e| e.to_string())
}

/// A list per row, null where `None`; `values` makes the flattened items.
fn list<'a, T>(
    rows: &[Option<&'a [T]>],
    ty: DataType,
    values: impl FnOnce(Vec<&'a T>) -> ArrayRef,
) -> Result<ArrayRef, String> {
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(|r| r.map_or(0, <[T]>::len)));
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    let flat = rows.iter().flatten().flat_map(|r| r.iter()).collect();
    Ok(Arc::new(
        ListArray::try_new(item(ty), offsets, values(flat), Some(nulls))
            .map_err(|e| e.to_string())?,
    ))
}

/// The arguments as a struct array (see [`arg_fields`]).
fn arg_struct(values: &[&ArgValue], nested: bool) -> Result<StructArray, String> {
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(values.iter().map(|v| v.int).collect::<Int64Array>()),
        Arc::new(values.iter().map(|v| v.uint).collect::<UInt64Array>()),
        Arc::new(values.iter().map(|v| v.ptr).collect::<UInt64Array>()),
        Arc::new(
            values
                .iter()
                .map(|v| v.str.as_deref())
                .collect::<StringArray>(),
        ),
        Arc::new(
            values
                .iter()
                .map(|v| v.bytes.as_deref())
                .collect::<StringArray>(),
        ),
        list(
            &values
                .iter()
                .map(|v| v.array.as_deref())
                .collect::<Vec<_>>(),
            DataType::Utf8,
            |s| {
                Arc::new(
                    s.into_iter()
                        .map(|s| Some(s.as_str()))
                        .collect::<StringArray>(),
                )
            },
        )?,
        Arc::new(values.iter().map(|v| v.truncated).collect::<BooleanArray>()),
        list(
            &values.iter().map(|v| v.ints.as_deref()).collect::<Vec<_>>(),
            DataType::Int64,
            |i| Arc::new(i.into_iter().map(|i| Some(*i)).collect::<Int64Array>()),
        )?,
        Arc::new(
            values
                .iter()
                .map(|v| v.object.as_deref())
                .collect::<StringArray>(),
        ),
        Arc::new(
            values
                .iter()
                .map(|v| v.names.as_deref())
                .collect::<StringArray>(),
        ),
    ];
    if nested {
        let rows: Vec<Option<&Args>> = values.iter().map(|v| v.fields.as_ref()).collect();
        arrays.push(Arc::new(args_map(&rows, false)?));
    } else if values.iter().any(|v| v.fields.is_some()) {
        return Err(
            "a structure's field is itself a structure: Parquet's columns hold one level of fields"
                .into(),
        );
    }
    arrays.push(Arc::new(
        values
            .iter()
            .map(|v| v.unreadable)
            .collect::<BooleanArray>(),
    ));
    StructArray::try_new(arg_fields(nested), arrays, None).map_err(|e| e.to_string())
}

/// The Arrow schema of the file.
pub fn schema() -> Schema {
    Schema::new(
        columns()
            .into_iter()
            .map(|c| Field::new(c.name, c.ty, c.nullable))
            .collect::<Vec<_>>(),
    )
}

/// A batch of events as one Arrow record batch.
pub fn batch(schema: &SchemaRef, events: &[Event]) -> Result<RecordBatch, String> {
    let arrays = columns()
        .iter()
        .map(|c| (c.make)(events))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())
}

/// A sink writing the events to a Parquet file.
pub struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    pending: Vec<Event>,
}

impl ParquetSink {
    /// Creates `path` (replacing a file there).
    pub fn create(path: &Path) -> Result<ParquetSink, String> {
        ParquetSink::with_row_groups(path, ROW_GROUP_ROWS)
    }

    /// Creates `path`, closing a row group every `rows` events.
    fn with_row_groups(path: &Path, rows: usize) -> Result<ParquetSink, String> {
        let file = File::create(path).map_err(|e| format!("-o {}: {e}", path.display()))?;
        let schema = Arc::new(schema());
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(rows))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| format!("-o {}: {e}", path.display()))?;
        Ok(ParquetSink {
            writer,
            schema,
            pending: Vec::with_capacity(BATCH_ROWS),
        })
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = batch(&self.schema, &self.pending).map_err(io::Error::other)?;
        self.pending.clear();
        self.writer.write(&batch).map_err(io::Error::other)
    }
}

impl Sink for ParquetSink {
    fn event(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.pending.push(record.event.clone());
        if self.pending.len() >= BATCH_ROWS {
            self.write_pending()?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.write_pending()?;
        self.writer.finish().map_err(io::Error::other)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    /// An openat's return that failed, every column set.
    fn sample() -> Event {
        Event {
            v: 1,
            ev: syscalls2::event::Phase::Return,
            seq: 7,
            ts: 1200,
            icount: Some(99),
            vcpu: 0,
            asid: 0x1000,
            pc: 0x401000,
            sp: 0x7ffc0000,
            retaddr: 0x401002,
            insn: Some("syscall".into()),
            profile: "linux_x64".into(),
            abi: "linux_x64".into(),
            no: 257,
            name: Some("openat".into()),
            syscall: Some("sys_openat".into()),
            pid: Some(97),
            tid: Some(97),
            ppid: Some(92),
            comm: Some("cat".into()),
            attribution: Some("kernel".into()),
            args: Args(vec![
                ("dfd".into(), ArgValue::int(-100)),
                (
                    "filename".into(),
                    ArgValue::string(0x2000, b"/nonexistent", false),
                ),
                ("flags".into(), ArgValue::int(0)),
                ("mode".into(), ArgValue::uint(0)),
            ]),
            ret: Some(-2),
            errno: Some(syscalls2::event::ErrorCode {
                name: Some("ENOENT".into()),
                no: 2,
            }),
            duration_ns: Some(41200),
            child: Some(false),
        }
    }

    #[test]
    fn the_columns_are_the_fields_of_the_json_lines() {
        let event = serde_json::to_value(sample()).unwrap();
        let json: Vec<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let schema = schema();
        let parquet: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut sorted = parquet.clone();
        sorted.sort();
        assert_eq!(sorted, json, "the same columns as the JSON lines");
    }

    /// Row groups are written out as events come, not at the end.
    #[test]
    fn the_file_is_written_as_the_trace_goes() {
        let path =
            std::env::temp_dir().join(format!("s2-rowgroups-{}.parquet", std::process::id()));
        let mut sink = ParquetSink::with_row_groups(&path, BATCH_ROWS).unwrap();
        let event = sample();
        let record = Record::of(&event).unwrap();
        for _ in 0..3 * BATCH_ROWS {
            sink.event(&record).unwrap();
        }
        assert_eq!(
            sink.writer.flushed_row_groups().len(),
            3,
            "three row groups written before the end"
        );
        sink.finish(&Summary::default()).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(
            &parquet::file::reader::SerializedFileReader::new(File::open(&path).unwrap()).unwrap(),
        )
        .clone();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(meta.file_metadata().num_rows() as usize, 3 * BATCH_ROWS);
    }

    #[test]
    fn a_structures_fields_are_a_nested_map_and_deeper_nesting_is_an_error() {
        let stat = ArgValue {
            ptr: Some(0x1000),
            fields: Some(Args(vec![("st_size".into(), ArgValue::uint(42))])),
            ..ArgValue::default()
        };
        let values = [&stat, &stat];
        let s = arg_struct(&values, true).unwrap();
        let fields = s.column_by_name("fields").unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields.null_count(), 0);
        let deeper = ArgValue {
            fields: Some(Args(vec![("inner".into(), stat.clone())])),
            ..ArgValue::default()
        };
        let e = arg_struct(&[&deeper], true).unwrap_err();
        assert!(e.contains("one level"), "{e}");
    }
}
