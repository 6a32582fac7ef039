// A file name that does not say the OS and arch, and no `abi =`.
mod t {
    syscalls2::syscall_table!("../../../../tests/ui/tables/myos_prototypes.txt");
}
mod u {
    syscalls2::syscall_table!(
        "../../../../tests/ui/tables/myos_prototypes.txt",
        abi = linux_sparc
    );
}
fn main() {}
