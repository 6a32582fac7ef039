// A path that does not exist: the error names the path searched.
mod t {
    syscalls2::syscall_table!("../../../../tests/ui/tables/linux_x86_nonexistent_prototypes.txt");
}
fn main() {}
