#!/usr/bin/env python3
"""DuckDB reads `syscalls2 --format parquet` with typed columns, row for row
the JSON lines of the same run.

Usage: tests/duckdb/parquet.py TRACE.parquet TRACE.jsonl

The two files are two outputs of the same events (two replays of one
recording, or one fixture shown twice). Checks what a user's queries need:
the numbers are integer columns (UBIGINT for pc, asid, no, ts; BIGINT for
ret), names are VARCHAR, `args` is a map from an argument's name to a
struct of its typed members (`args['filename'].str`), `errno` a struct; and
that the Parquet file holds the JSON lines' events: the same count per call
and, in order, the same rows (every column but the host times `ts` and
`duration_ns`, which differ between two runs). Exits non-zero with the
reason otherwise.
"""
import json
import sys

import duckdb

# Host time: differs between two replays of the same recording.
HOST_TIME = {"ts", "duration_ns"}


def strip_nulls(value):
    """A value without its null members: JSON omits an argument's absent
    members, Parquet's struct has them as null."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def main(parquet: str, jsonl: str) -> int:
    con = duckdb.connect()
    con.execute("CREATE TABLE pq AS SELECT * FROM read_parquet(?)", [parquet])
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE pq)").fetchall())
    fails = []
    expected = {
        "pc": "UBIGINT", "asid": "UBIGINT", "no": "UBIGINT", "ts": "UBIGINT",
        "seq": "UBIGINT", "sp": "UBIGINT", "retaddr": "UBIGINT", "duration_ns": "UBIGINT",
        "ret": "BIGINT", "pid": "UINTEGER", "vcpu": "UINTEGER",
        "name": "VARCHAR", "comm": "VARCHAR", "ev": "VARCHAR", "profile": "VARCHAR",
        "errno": 'STRUCT("name" VARCHAR, "no" UINTEGER)', "child": "BOOLEAN",
    }
    for col, ty in expected.items():
        if types.get(col) != ty:
            fails.append(f"column {col} is {types.get(col)}, expected {ty}")
    if not types.get("args", "").startswith('MAP(VARCHAR, STRUCT("int" BIGINT, uint UBIGINT, ptr UBIGINT, str VARCHAR'):
        fails.append(f"args is {types.get('args')}, expected a map of name to typed members")

    # An argument by its name, typed.
    opens = con.execute(
        "SELECT args['filename'].str, ret FROM pq "
        "WHERE ev = 'return' AND name = 'openat' AND args['filename'].str = '/etc/hostname' AND ret >= 0"
    ).fetchall()
    if not opens:
        fails.append("no openat of /etc/hostname found by args['filename'].str")
    fds = con.execute(
        "SELECT name, args['fd'].uint + 1, typeof(args['fd'].uint) FROM pq "
        "WHERE ev = 'return' AND args['fd'].uint IS NOT NULL"
    ).fetchall()
    if not fds or any(t != "UBIGINT" for _, _, t in fds):
        fails.append(f"an fd argument is not a UBIGINT by name: {fds[:3]}")
    errors = con.execute(
        "SELECT errno.name, errno.no FROM pq WHERE errno IS NOT NULL GROUP BY ALL"
    ).fetchall()
    if ("ENOENT", 2) not in errors:
        fails.append(f"no ENOENT (2) in errno: {errors[:5]}")

    # The same events as the JSON lines.
    con.execute(
        "CREATE TABLE js AS SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)",
        [jsonl],
    )
    count = "SELECT ev, name, count(*) FROM {} GROUP BY ALL ORDER BY ALL"
    per_call = con.execute(count.format("pq")).fetchall()
    if per_call != con.execute(count.format("js")).fetchall():
        fails.append("the calls per name differ from the JSON lines'")
    columns = [c for c in types if c not in HOST_TIME]
    rows = con.execute(f"SELECT to_json(struct_pack({', '.join(columns)})) FROM pq").fetchall()
    with open(jsonl) as f:
        lines = [json.loads(line) for line in f]
    if len(rows) != len(lines):
        fails.append(f"{len(rows)} rows in the Parquet file, {len(lines)} JSON lines")
    for i, ((row,), line) in enumerate(zip(rows, lines)):
        row = strip_nulls(json.loads(row))
        line = strip_nulls({k: v for k, v in line.items() if k not in HOST_TIME})
        if row != line:
            fails.append(f"row {i} differs:\n  parquet {row}\n  jsonl   {line}")
            break

    groups = con.execute("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)", [parquet]).fetchone()[0]
    print(f"duckdb {duckdb.__version__}: {len(rows)} rows in {groups} row group(s), "
          f"the same as the {len(lines)} JSON lines but for {sorted(HOST_TIME)}; "
          f"{len(per_call)} (phase, call) pairs; {len(opens)} opens of /etc/hostname")
    for f in fails:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
