//! `cargo xtask`: the project's own tools.
//!
//! - `cargo xtask prototypes linux --source DIR [--out prototypes/]`: the Linux tables from a kernel tree.
//! - `cargo xtask prototypes windows [--out prototypes/]`: the Windows tables from `../shared/reference`.
//! - `cargo xtask qemu-trace`, `cargo xtask qemu-test`: the QEMU plugin on real guests.
//! - `cargo xtask strace-compare`: the plugin's trace against strace's, inside the same guests.

use std::process::ExitCode;

mod prototypes;
mod qemu;
mod strace_compare;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("prototypes") => prototypes::main(&args[1..]),
        Some("qemu-trace") => qemu::trace(&args[1..]),
        Some("qemu-test") => qemu::test(&args[1..]),
        Some("strace-compare") => strace_compare::main(&args[1..]),
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

fn usage() -> String {
    "usage: cargo xtask <command>\n\
     \n\
     commands:\n\
     \x20 prototypes linux --source KERNEL_DIR [--out DIR]   Linux tables from a kernel source tree\n\
     \x20 prototypes windows [--reference DIR] [--out DIR]   Windows tables from shared/reference\n\
     \x20 qemu-trace --arch ARCH [--all] [--jsonl] [--smp N] -- CMD   boot a guest, run CMD, print its syscalls\n\
     \x20 qemu-test [ARCH...]                                 boot every guest with the QEMU plugin and check its trace\n\
     \x20 strace-compare [--arch A]... [--min PCT] [--top N]   the plugin's trace against strace's in the same guests\n"
        .to_string()
}
