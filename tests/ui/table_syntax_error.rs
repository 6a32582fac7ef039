// A malformed line: the error names the file, line and column, and what was expected.
mod t {
    syscalls2::syscall_table!("../../../../tests/ui/tables/syntax/linux_x86_prototypes.txt");
}
fn main() {}
