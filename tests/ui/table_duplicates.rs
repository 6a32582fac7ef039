// A duplicate number: reported with both lines. (A name may repeat at another
// number: PANDA's tables do so, for other ABIs and old compat calls.)
mod t {
    syscalls2::syscall_table!("../../../../tests/ui/tables/dup/linux_x86_prototypes.txt");
}
fn main() {}
