//! `syscalls2`: every system call of an emulated guest, strace-style.
//!
//! ```text
//! syscalls2 show                                   # a recorded x86-64 Debian guest, no emulator
//! syscalls2 tables linux_x64 openat                # number, name, prototype
//! syscalls2 trace --arch aarch64 -- 'ls /'         # boot the project's Debian guest, trace a command
//! syscalls2 trace -c -- 'find / > /dev/null'       # strace -c's summary table
//! syscalls2 record -o rec -- 'cat /etc/hostname'   # QEMU record/replay: record once,
//! syscalls2 replay rec -e trace=%file              # analyze many times, deterministically
//! syscalls2 qemu -- qemu-system-x86_64 -hda my.img # your own QEMU command line, the plugin injected
//! ```
//!
//! The trace session (filters, sinks, the `-c` table, timestamps) is the
//! library's ([`syscalls2::session`]); this crate is the command line, the
//! guest runner ([`guest`]) and the Parquet writer.

mod guest;
mod output;
#[cfg(feature = "parquet")]
mod parquet;
mod tables;

use clap::{Parser, Subcommand};
use output::Output;
use std::path::PathBuf;
use std::process::ExitCode;

/// Every system call of an emulated guest, decoded and paired with its
/// return, strace-style: PANDA's syscalls2 on a stock QEMU.
#[derive(Parser)]
#[command(name = "syscalls2", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a recorded fixture (the bundled x86-64 Debian guest's by
    /// default): no emulator needed.
    Show {
        /// A fixture file (`tests/fixtures/*.json` format); default: the
        /// bundled recording of a real x86-64 Debian 6.1 guest.
        fixture: Option<PathBuf>,
        /// Decode with this profile instead of the fixture's.
        #[arg(long, value_name = "PROFILE")]
        profile: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Look syscalls up, per profile: number, name, prototype (like
    /// ausyscall). No argument: the profiles.
    Tables {
        /// A profile (`linux_x64`, `windows7_x86`, ...), or a syscall name
        /// or number to look up in every profile.
        profile: Option<String>,
        /// A syscall name (`openat`, `sys_openat`, `NtReadFile`) or number.
        syscall: Option<String>,
    },
    /// Boot the project's Debian guest, run COMMAND in it, print the
    /// syscalls of COMMAND's processes.
    Trace {
        #[command(flatten)]
        guest: guest::GuestArgs,
        #[command(flatten)]
        plugin: guest::PluginArgs,
        /// Trace the whole boot, not only COMMAND's processes.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        output: Output,
        /// The shell command line the guest runs (after `--`).
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Boot the guest and record its whole run with QEMU's deterministic
    /// record/replay, to analyze it later with `replay`.
    Record {
        #[command(flatten)]
        guest: guest::GuestArgs,
        /// The directory the recording goes to (created; must not hold
        /// another recording).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        dir: PathBuf,
        /// The shell command line the guest runs (after `--`).
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Replay a recording made by `record` and print its syscalls: the
    /// guest is not rerun, every replay sees the same execution.
    Replay {
        /// The directory `record -o` wrote.
        dir: PathBuf,
        #[command(flatten)]
        plugin: guest::PluginArgs,
        #[command(flatten)]
        output: Output,
    },
    /// Run your own QEMU command line (your disk image, a Windows guest)
    /// with the plugin injected; the whole run is traced.
    Qemu {
        /// The profile to decode with (default: from the guest's
        /// architecture, e.g. linux_x64 on x86_64).
        #[arg(long, value_name = "PROFILE")]
        profile: Option<String>,
        #[command(flatten)]
        plugin: guest::PluginArgs,
        #[command(flatten)]
        output: Output,
        /// `qemu-system-ARCH ARGS...` (after `--`).
        #[arg(last = true, required = true, value_name = "QEMU")]
        qemu: Vec<String>,
    },
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Show {
            fixture,
            profile,
            output,
        } => output::show(fixture.as_deref(), profile.as_deref(), &output),
        Command::Tables { profile, syscall } => {
            print!(
                "{}",
                tables::lookup(profile.as_deref(), syscall.as_deref())?
            );
            Ok(())
        }
        Command::Trace {
            guest,
            plugin,
            all,
            output,
            command,
        } => guest::trace(&guest, &plugin, all, &output, &command.join(" ")),
        Command::Record {
            guest,
            dir,
            command,
        } => guest::record(&guest, &dir, &command.join(" ")),
        Command::Replay {
            dir,
            plugin,
            output,
        } => guest::replay(&dir, &plugin, &output),
        Command::Qemu {
            profile,
            plugin,
            output,
            qemu,
        } => guest::qemu(profile.as_deref(), &plugin, &output, &qemu),
    }
}

fn main() -> ExitCode {
    // clap exits 0 for --help and --version, 2 for a bad flag.
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syscalls2: {e}");
            ExitCode::FAILURE
        }
    }
}
