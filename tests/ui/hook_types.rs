// A hook with a wrong argument type: the compiler names the expected fn type.
use syscalls2::{on_syscall, Cpu, GuestPtr};

#[on_syscall(sys_read, enter)]
fn on_read(cpu: &mut dyn Cpu, pc: u64, fd: u64, buf: GuestPtr, count: u64) {
    let _ = (cpu, pc, fd, buf, count);
}

fn main() {}
