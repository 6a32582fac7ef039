#!/usr/bin/env python3
"""DuckDB reads the plugin's JSON lines with typed columns.

Usage: tests/duckdb/events.py TRACE.jsonl

Loads a real guest's trace (the QEMU plugin's format=jsonl, schema v1) with
DuckDB's own JSON reader and checks what a user's first queries need:
numbers are numbers (`pc + 0` works, `asid` is an integer), calls can be
counted per name, an argument is found by its name with its type
(`args['filename'].str` is text, `args['fd'].uint` an integer), and a return
shares its `seq` with its enter. Exits non-zero with the reason otherwise.
"""
import sys

import duckdb


def main(path: str) -> int:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)",
        [path],
    )
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE ev)").fetchall())
    fails = []
    integers = {"BIGINT", "UBIGINT", "HUGEINT", "INTEGER", "UINTEGER"}
    for col in ["pc", "asid", "sp", "seq", "no", "ret", "ts", "vcpu"]:
        if types.get(col) not in integers:
            fails.append(f"column {col} is {types.get(col)}, expected an integer type")
    # DuckDB reads the argument object as a map from name to typed value.
    if not types.get("args", "").startswith(("MAP(VARCHAR, STRUCT(", "STRUCT(")):
        fails.append(f"args is {types.get('args')}, expected a map or struct of arguments")

    per_name = con.execute(
        "SELECT name, count(*) AS calls FROM ev WHERE ev = 'return' GROUP BY name ORDER BY calls DESC"
    ).fetchall()
    if not per_name or per_name[0][1] < 10:
        fails.append(f"calls per name: {per_name[:5]}")

    arith = con.execute("SELECT min(pc + 0), max(pc + 1 - pc) FROM ev").fetchone()
    if arith[1] != 1:
        fails.append(f"pc + 1 - pc = {arith[1]}")

    opens = con.execute(
        "SELECT args['filename'].str, ret FROM ev "
        "WHERE ev = 'return' AND name = 'openat' AND args['filename'].str = '/etc/hostname' AND ret >= 0"
    ).fetchall()
    if not opens:
        fails.append("no openat of /etc/hostname found by args['filename'].str")

    reads = con.execute(
        "SELECT args['fd'].uint + 0, ret FROM ev WHERE ev = 'return' AND name = 'read' AND ret > 0"
    ).fetchall()
    if not reads or not all(isinstance(fd, int) for fd, _ in reads):
        fails.append(f"read's fd is not an integer by name: {reads[:3]}")

    unpaired = con.execute(
        "SELECT count(*) FROM ev r WHERE r.ev = 'return' AND NOT EXISTS "
        "(SELECT 1 FROM ev e WHERE e.ev = 'enter' AND e.seq = r.seq AND e.pc = r.pc)"
    ).fetchone()[0]
    if unpaired:
        fails.append(f"{unpaired} returns without an enter of the same seq")

    errors = con.execute(
        "SELECT errno.name, errno.no, count(*) FROM ev WHERE errno IS NOT NULL GROUP BY ALL ORDER BY 3 DESC"
    ).fetchall()
    if not any(name == "ENOENT" and no == 2 for name, no, _ in errors):
        fails.append(f"no ENOENT (2) in errno: {errors[:5]}")

    total = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    print(f"duckdb {duckdb.__version__}: {total} events; top calls {per_name[:5]}; "
          f"{len(opens)} opens of /etc/hostname; errors {errors[:3]}")
    print(f"column types: {types}")
    for f in fails:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
