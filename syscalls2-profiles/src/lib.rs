//! The bundled OS profiles of syscalls2: one module and one cargo feature
//! per table in `syscalls2-prototypes/tables/`, generated from that
//! directory by `bundled_profiles!` (adding a table there and its feature
//! here is all it takes to bundle a profile).
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
//! | `linux_riscv64` | Linux 6.1, RISC-V 64 | `ecall` |
//! | `windows2000_x86` | Windows 2000 SP4 | `int 0x2e` |
//! | `windowsxp_sp2_x86` | Windows XP SP2 | `sysenter` |
//! | `windowsxp_sp3_x86` | Windows XP SP3 | `sysenter` |
//! | `windows7_x86` | Windows 7 SP1, x86 | `sysenter` |
//! | `windows7_x64` | Windows 7 SP1, x64 | `syscall` |
//! | `windows11_24h2_x64` | Windows 11 24H2, x64 | `syscall` |
//!
//! Default features: `linux_x86`, `linux_x64`, `linux_arm`, `linux_arm64`,
//! `windows7_x86`, `windows7_x64`. The `all` feature enables every profile.
//!
//! ```
//! let x64 = syscalls2_profiles::by_name("linux_x64").unwrap();
//! assert_eq!(x64.by_number(257).unwrap().name, "sys_openat");
//! // The 32-bit processes of an x86-64 guest are decoded with linux_x86.
//! assert_eq!(syscalls2_profiles::compat_for(x64)[0].name, "linux_x86");
//! ```

#![warn(missing_docs)]

use syscalls2_core::{Arch, Os, Table};

syscalls2_macros::bundled_profiles!(syscalls2_core);

/// Every profile enabled in this build.
pub fn all() -> &'static [&'static Table] {
    ALL
}

/// The enabled profile named `name` (`"linux_x64"`).
pub fn by_name(name: &str) -> Option<&'static Table> {
    ALL.iter().copied().find(|t| t.name == name)
}

/// The release part of a profile name: `linux` of `linux_x64`, `windows7`
/// of `windows7_x64` (profile names are `{release}_{file_arch}`).
fn release(table: &Table) -> &str {
    table
        .name
        .strip_suffix(table.abi.file_arch)
        .and_then(|r| r.strip_suffix('_'))
        .unwrap_or(table.name)
}

/// The enabled profiles that decode the compat calls of a guest running
/// `table` (linux_x86 beside linux_x64, linux_arm beside linux_arm64): the
/// same release, on each of its ABI's compat ABIs.
pub fn compat_for(table: &Table) -> Vec<&'static Table> {
    table
        .abi
        .compat
        .iter()
        .filter_map(|abi| {
            ALL.iter()
                .copied()
                .find(|t| t.abi == *abi && release(t) == release(table))
        })
        .collect()
}

/// The enabled profile of `os` for the native ABI of `arch`, newest
/// release first (`linux_x64` for Linux on x86-64).
pub fn native(os: Os, arch: Arch) -> Option<&'static Table> {
    let abi = syscalls2_core::Abi::native(os, arch)?;
    ALL.iter().rev().copied().find(|t| t.abi == abi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The features in Cargo.toml are the bundled tables, and `all` enables
    /// each.
    #[test]
    fn a_feature_per_bundled_table() {
        let manifest = include_str!("../Cargo.toml");
        let features = manifest
            .split("[features]")
            .nth(1)
            .expect("a [features] section");
        for b in syscalls2_prototypes::BUNDLED {
            assert!(
                features.contains(&format!("\n{} = []", b.profile)),
                "no feature `{}` in syscalls2-profiles/Cargo.toml",
                b.profile
            );
            let all = features
                .lines()
                .find(|l| l.starts_with("all ="))
                .expect("an `all` feature");
            assert!(
                all.contains(&format!("\"{}\"", b.profile)),
                "`all` lacks {}",
                b.profile
            );
        }
    }

    #[test]
    fn releases_and_compat() {
        let x64 = by_name("linux_x64").unwrap();
        assert_eq!(release(x64), "linux");
        assert_eq!(compat_for(x64)[0].name, "linux_x86");
        assert!(compat_for(by_name("linux_x86").unwrap()).is_empty());
        assert_eq!(native(Os::Linux, Arch::X86_64).unwrap().name, "linux_x64");
        assert_eq!(
            native(Os::Linux, Arch::Aarch64).unwrap().name,
            "linux_arm64"
        );
    }
}
