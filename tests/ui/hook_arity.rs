// A hook missing arguments: the error names the expected signature.
use syscalls2::{on_syscall, Cpu};

#[on_syscall(sys_read, enter)]
fn on_read(cpu: &mut dyn Cpu, pc: u64) {
    let _ = (cpu, pc);
}

fn main() {}
