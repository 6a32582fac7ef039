// A duplicate number and a duplicate name: each reported with both lines.
mod t {
    syscalls2::syscall_table!("../../../../tests/ui/tables/dup/linux_x86_prototypes.txt");
}
fn main() {}
