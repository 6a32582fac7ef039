//! `cargo xtask`: the project's own tools.
//!
//! - `cargo xtask prototypes linux --source DIR [--out syscalls2-prototypes/tables/]`: the Linux tables from a kernel tree.
//! - `cargo xtask prototypes windows [--out syscalls2-prototypes/tables/]`: the Windows tables from `../shared/reference`.
//! - `cargo xtask schema`: `schema/event-v1.schema.json` from the event types.
//! - `cargo xtask constants --debs DIR`: the constants and argument rules strace's
//!   rendering uses, `src/generated/linux_constants.rs`, from `data/` and each ABI's UAPI headers.
//! - `cargo xtask errno --source DIR`: the errno and NTSTATUS name tables in
//!   `syscalls2-abi/src/generated/` from a kernel tree, glibc, strace and mingw-w64.
//! - `cargo xtask kernel-layout --dbg DEB --image DEB --out FILE`: a Debian
//!   kernel's layout for process attribution (`kernels/`).
//! - `cargo xtask qemu-test`: the QEMU plugin on real guests, checked.
//! - `cargo xtask qemu-trace ARGS`: an alias of `syscalls2 trace ARGS` (the `syscalls2-cli` crate).
//! - `cargo xtask strace-compare`: the plugin's trace against strace's, inside the same guests.
//! - `cargo xtask hostile`: the plugin against a guest program that tries to hide its calls.
//! - `cargo xtask windows-guest`: the plugin's Windows paths (`sysenter`, `int 0x2e`, x64
//!   `syscall`) on small guests making Windows-convention calls, against what the guests say.

use std::process::ExitCode;

mod constants;
mod errno;
mod hostile;
mod kernel_layout;
mod prototypes;
mod qemu;
mod strace_compare;
mod windows_guest;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("prototypes") => prototypes::main(&args[1..]),
        Some("errno") => errno::main(&args[1..]),
        Some("constants") => constants::main(&args[1..]),
        Some("schema") => schema(),
        Some("kernel-layout") => kernel_layout::main(&args[1..]),
        Some("qemu-trace") => qemu_trace(&args[1..]),
        Some("qemu-test") => qemu::test(&args[1..]),
        Some("strace-compare") => strace_compare::main(&args[1..]),
        Some("hostile") => hostile::main(&args[1..]),
        Some("windows-guest") => windows_guest::main(&args[1..]),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask qemu-trace ARGS`: `syscalls2 trace ARGS`, built from this
/// workspace.
fn qemu_trace(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["run", "--quiet", "-p", "syscalls2-cli", "--", "trace"])
        .args(args)
        .status()
        .map_err(|e| format!("cargo run -p syscalls2-cli: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("syscalls2 trace exited with {status}"))
    }
}

/// `cargo xtask schema`: the JSON Schema of the event types, written to
/// `schema/event-v1.schema.json`.
fn schema() -> Result<(), String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("schema/event-v1.schema.json");
    std::fs::write(&path, syscalls2::event::schema())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn usage() -> String {
    "usage: cargo xtask <command>\n\
     \n\
     commands:\n\
     \x20 prototypes linux --source KERNEL_DIR [--out DIR]   Linux tables from a kernel source tree\n\
     \x20 prototypes windows [--reference DIR] [--out DIR]   Windows tables from shared/reference\n\
     \x20 errno --source KERNEL_DIR [--ntstatus H] [--strace BIN] [--out DIR]   errno and NTSTATUS names\n\
     \x20 kernel-layout --dbg DEB --image DEB --out FILE     a Debian kernel's layout for process attribution\n\
     \x20 schema                                              write schema/event-v1.schema.json from the event types\n\
     \x20 constants --debs DIR [--cc clang-14]                 strace's constants and argument rules from data/ and UAPI headers\n\
     \x20 constants windows --debs DIR [--cc clang-14]         the Windows constants from data/ and mingw-w64's headers\n\
     \x20 qemu-trace [ARGS] -- CMD                           `syscalls2 trace`: boot a guest, run CMD, print its syscalls\n\
     \x20 qemu-test [ARCH...]                                 boot every guest with the QEMU plugin and check its trace\n\
     \x20 strace-compare [--arch A]... [--min PCT] [--top N]   the plugin's trace against strace's in the same guests\n\
     \x20 hostile [ARCH...]                                   a guest program that tries to hide its calls, against the trace\n\
     \x20 windows-guest [x86] [x64] [--record DIR]            Windows-convention calls (sysenter, int 0x2e, syscall) from small guests, against the trace\n\
     \n\
     S2_TIMEOUT (seconds) bounds each guest; S2_PLUGIN_ARGS (e.g. returns=exits) adds plugin options to strace-compare's boots.\n"
        .to_string()
}
