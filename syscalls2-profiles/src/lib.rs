//! The bundled OS profiles of syscalls2: one module and one cargo feature
//! per table in `prototypes/`, each expanded by `syscall_table!`.
//!
//! | feature | OS | ABI |
//! |---|---|---|
//! | `linux_x86` | Linux 6.1, i386 | `int 0x80`, `sysenter` |
//! | `linux_x64` | Linux 6.1, x86-64 | `syscall` |
//! | `linux_arm` | Linux 6.1, ARM EABI | `svc #0` |
//! | `linux_arm64` | Linux 6.1, AArch64 | `svc #0` |
//! | `linux_mips` | Linux 6.1, MIPS o32 | `syscall` |
//! | `linux_mips64` | Linux 6.1, MIPS n64 | `syscall` |
//! | `linux_mips64n32` | Linux 6.1, MIPS n32 | `syscall` |
//! | `windows2000_x86` | Windows 2000 SP4 | `int 0x2e` |
//! | `windowsxp_sp2_x86` | Windows XP SP2 | `sysenter` |
//! | `windowsxp_sp3_x86` | Windows XP SP3 | `sysenter` |
//! | `windows7_x86` | Windows 7 SP1, x86 | `sysenter` |
//! | `windows7_x64` | Windows 7 SP1, x64 | `syscall` |
//! | `windows11_24h2_x64` | Windows 11 24H2, x64 | `syscall` |
//!
//! Default features: `linux_x86`, `linux_x64`, `linux_arm`, `linux_arm64`, `windows7_x86`, `windows7_x64`. The `all`
//! feature enables every profile.

#![warn(missing_docs)]

// The generated code names `::syscalls2`; in this crate that is the core.
extern crate syscalls2_core as syscalls2;

/// The `linux_x86` profile, from `prototypes/linux_x86_prototypes.txt`.
#[cfg(feature = "linux_x86")]
pub mod linux_x86 {
    syscalls2_macros::syscall_table!("../prototypes/linux_x86_prototypes.txt");
}

/// The `linux_x64` profile, from `prototypes/linux_x64_prototypes.txt`.
#[cfg(feature = "linux_x64")]
pub mod linux_x64 {
    syscalls2_macros::syscall_table!("../prototypes/linux_x64_prototypes.txt");
}

/// The `linux_arm` profile, from `prototypes/linux_arm_prototypes.txt`.
#[cfg(feature = "linux_arm")]
pub mod linux_arm {
    syscalls2_macros::syscall_table!("../prototypes/linux_arm_prototypes.txt");
}

/// The `linux_arm64` profile, from `prototypes/linux_arm64_prototypes.txt`.
#[cfg(feature = "linux_arm64")]
pub mod linux_arm64 {
    syscalls2_macros::syscall_table!("../prototypes/linux_arm64_prototypes.txt");
}

/// The `linux_mips` profile, from `prototypes/linux_mips_prototypes.txt`.
#[cfg(feature = "linux_mips")]
pub mod linux_mips {
    syscalls2_macros::syscall_table!("../prototypes/linux_mips_prototypes.txt");
}

/// The `linux_mips64` profile, from `prototypes/linux_mips64_prototypes.txt`.
#[cfg(feature = "linux_mips64")]
pub mod linux_mips64 {
    syscalls2_macros::syscall_table!("../prototypes/linux_mips64_prototypes.txt");
}

/// The `linux_mips64n32` profile, from `prototypes/linux_mips64n32_prototypes.txt`.
#[cfg(feature = "linux_mips64n32")]
pub mod linux_mips64n32 {
    syscalls2_macros::syscall_table!("../prototypes/linux_mips64n32_prototypes.txt");
}

/// The `windows2000_x86` profile, from `prototypes/windows2000_x86_prototypes.txt`.
#[cfg(feature = "windows2000_x86")]
pub mod windows2000_x86 {
    syscalls2_macros::syscall_table!("../prototypes/windows2000_x86_prototypes.txt");
}

/// The `windowsxp_sp2_x86` profile, from `prototypes/windowsxp_sp2_x86_prototypes.txt`.
#[cfg(feature = "windowsxp_sp2_x86")]
pub mod windowsxp_sp2_x86 {
    syscalls2_macros::syscall_table!("../prototypes/windowsxp_sp2_x86_prototypes.txt");
}

/// The `windowsxp_sp3_x86` profile, from `prototypes/windowsxp_sp3_x86_prototypes.txt`.
#[cfg(feature = "windowsxp_sp3_x86")]
pub mod windowsxp_sp3_x86 {
    syscalls2_macros::syscall_table!("../prototypes/windowsxp_sp3_x86_prototypes.txt");
}

/// The `windows7_x86` profile, from `prototypes/windows7_x86_prototypes.txt`.
#[cfg(feature = "windows7_x86")]
pub mod windows7_x86 {
    syscalls2_macros::syscall_table!("../prototypes/windows7_x86_prototypes.txt");
}

/// The `windows7_x64` profile, from `prototypes/windows7_x64_prototypes.txt`.
#[cfg(feature = "windows7_x64")]
pub mod windows7_x64 {
    syscalls2_macros::syscall_table!("../prototypes/windows7_x64_prototypes.txt");
}

/// The `windows11_24h2_x64` profile, from `prototypes/windows11_24h2_x64_prototypes.txt`.
#[cfg(feature = "windows11_24h2_x64")]
pub mod windows11_24h2_x64 {
    syscalls2_macros::syscall_table!("../prototypes/windows11_24h2_x64_prototypes.txt");
}

/// Every profile enabled in this build.
pub fn all() -> &'static [&'static syscalls2::Table] {
    static ALL: &[&syscalls2::Table] = &[
        #[cfg(feature = "linux_x86")]
        &linux_x86::TABLE,
        #[cfg(feature = "linux_x64")]
        &linux_x64::TABLE,
        #[cfg(feature = "linux_arm")]
        &linux_arm::TABLE,
        #[cfg(feature = "linux_arm64")]
        &linux_arm64::TABLE,
        #[cfg(feature = "linux_mips")]
        &linux_mips::TABLE,
        #[cfg(feature = "linux_mips64")]
        &linux_mips64::TABLE,
        #[cfg(feature = "linux_mips64n32")]
        &linux_mips64n32::TABLE,
        #[cfg(feature = "windows2000_x86")]
        &windows2000_x86::TABLE,
        #[cfg(feature = "windowsxp_sp2_x86")]
        &windowsxp_sp2_x86::TABLE,
        #[cfg(feature = "windowsxp_sp3_x86")]
        &windowsxp_sp3_x86::TABLE,
        #[cfg(feature = "windows7_x86")]
        &windows7_x86::TABLE,
        #[cfg(feature = "windows7_x64")]
        &windows7_x64::TABLE,
        #[cfg(feature = "windows11_24h2_x64")]
        &windows11_24h2_x64::TABLE,
    ];
    ALL
}

/// The enabled profile named `name` (`"linux_x64"`).
pub fn by_name(name: &str) -> Option<&'static syscalls2::Table> {
    all().iter().copied().find(|t| t.name == name)
}

/// The compat profile that decodes 32-bit processes on a guest running
/// `table` (linux_x86 for linux_x64, linux_arm for linux_arm64), if enabled.
pub fn compat_for(table: &syscalls2::Table) -> Option<&'static syscalls2::Table> {
    let name = match table.name {
        "linux_x64" => "linux_x86",
        "linux_arm64" => "linux_arm",
        _ => return None,
    };
    by_name(name)
}
