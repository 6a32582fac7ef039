// A misspelt syscall name.
use syscalls2::{on_syscall, Cpu};

#[on_syscall(sys_raed, enter)]
fn on_read(cpu: &mut dyn Cpu, pc: u64) {
    let _ = (cpu, pc);
}

#[on_syscall(sys_read, leave)]
fn on_read2(cpu: &mut dyn Cpu, pc: u64) {
    let _ = (cpu, pc);
}

fn main() {}
