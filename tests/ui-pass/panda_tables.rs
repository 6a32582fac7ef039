// Every numbered table of PANDA's syscalls2 (../shared/reference/panda)
// expands through syscall_table! unchanged, linux_mips64 (o32, n64 and n32
// calls in one file) and freebsd_x64 included.
#![deny(warnings)]
mod freebsd_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/freebsd_x64_prototypes.txt", name = "panda_freebsd_x64");
}
mod linux_arm64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_arm64_prototypes.txt", name = "panda_linux_arm64");
}
mod linux_arm {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_arm_prototypes.txt", name = "panda_linux_arm");
}
mod linux_mips64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_mips64_prototypes.txt", name = "panda_linux_mips64");
}
mod linux_mips64n32 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_mips64n32_prototypes.txt", name = "panda_linux_mips64n32");
}
mod linux_mips {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_mips_prototypes.txt", name = "panda_linux_mips");
}
mod linux_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_x64_prototypes.txt", name = "panda_linux_x64");
}
mod linux_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/linux_x86_prototypes.txt", name = "panda_linux_x86");
}
mod windows_2000_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_2000_x86_prototypes.txt", name = "panda_windows_2000_x86");
}
mod windows_2003sp0_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_2003sp0_x86_prototypes.txt", name = "panda_windows_2003sp0_x86");
}
mod windows_2003sp12_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_2003sp12_x64_prototypes.txt", name = "panda_windows_2003sp12_x64");
}
mod windows_2003sp12_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_2003sp12_x86_prototypes.txt", name = "panda_windows_2003sp12_x86");
}
mod windows_7_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_7_x64_prototypes.txt", name = "panda_windows_7_x64");
}
mod windows_7_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_7_x86_prototypes.txt", name = "panda_windows_7_x86");
}
mod windows_8sp0_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_8sp0_x64_prototypes.txt", name = "panda_windows_8sp0_x64");
}
mod windows_8sp0_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_8sp0_x86_prototypes.txt", name = "panda_windows_8sp0_x86");
}
mod windows_8sp1_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_8sp1_x64_prototypes.txt", name = "panda_windows_8sp1_x64");
}
mod windows_8sp1_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_8sp1_x86_prototypes.txt", name = "panda_windows_8sp1_x86");
}
mod windows_vistasp0_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_vistasp0_x64_prototypes.txt", name = "panda_windows_vistasp0_x64");
}
mod windows_vistasp0_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_vistasp0_x86_prototypes.txt", name = "panda_windows_vistasp0_x86");
}
mod windows_vistasp12_x64 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_vistasp12_x64_prototypes.txt", name = "panda_windows_vistasp12_x64");
}
mod windows_vistasp12_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_vistasp12_x86_prototypes.txt", name = "panda_windows_vistasp12_x86");
}
mod windows_xpsp2_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_xpsp2_x86_prototypes.txt", name = "panda_windows_xpsp2_x86");
}
mod windows_xpsp3_x86 {
    syscalls2::syscall_table!("../../../../../shared/reference/panda/windows_xpsp3_x86_prototypes.txt", name = "panda_windows_xpsp3_x86");
}
fn main() {
    // PANDA's MIPS64 table holds one sys_read per ABI; each decodes as its own.
    let reads: Vec<u64> = linux_mips64::SYSCALLS
        .iter()
        .filter(|s| s.name == "sys_read")
        .map(|s| s.no)
        .collect();
    assert_eq!(reads, [4003, 5000, 6000]);
    assert_eq!(linux_mips64::nr::sys_read, 5000);
    assert_eq!(linux_mips64::TABLE.abi, syscalls2::abi::linux_mips64::ABI);
    assert_eq!(freebsd_x64::name_of(3), Some("read"));
    assert!(!freebsd_x64::SYSCALLS.is_empty());
    assert!(!linux_arm64::SYSCALLS.is_empty());
    assert!(!linux_arm::SYSCALLS.is_empty());
    assert!(!linux_mips64::SYSCALLS.is_empty());
    assert!(!linux_mips64n32::SYSCALLS.is_empty());
    assert!(!linux_mips::SYSCALLS.is_empty());
    assert!(!linux_x64::SYSCALLS.is_empty());
    assert!(!linux_x86::SYSCALLS.is_empty());
    assert!(!windows_2000_x86::SYSCALLS.is_empty());
    assert!(!windows_2003sp0_x86::SYSCALLS.is_empty());
    assert!(!windows_2003sp12_x64::SYSCALLS.is_empty());
    assert!(!windows_2003sp12_x86::SYSCALLS.is_empty());
    assert!(!windows_7_x64::SYSCALLS.is_empty());
    assert!(!windows_7_x86::SYSCALLS.is_empty());
    assert!(!windows_8sp0_x64::SYSCALLS.is_empty());
    assert!(!windows_8sp0_x86::SYSCALLS.is_empty());
    assert!(!windows_8sp1_x64::SYSCALLS.is_empty());
    assert!(!windows_8sp1_x86::SYSCALLS.is_empty());
    assert!(!windows_vistasp0_x64::SYSCALLS.is_empty());
    assert!(!windows_vistasp0_x86::SYSCALLS.is_empty());
    assert!(!windows_vistasp12_x64::SYSCALLS.is_empty());
    assert!(!windows_vistasp12_x86::SYSCALLS.is_empty());
    assert!(!windows_xpsp2_x86::SYSCALLS.is_empty());
    assert!(!windows_xpsp3_x86::SYSCALLS.is_empty());
}
