//! The bundled OS profiles of syscalls2: one module and one cargo feature
//! per table in `syscalls2-prototypes/tables/`, generated from that
//! directory by `bundled_profiles!` (adding a table there and its feature
//! here is all it takes to bundle a profile).
//!
//! | feature | OS | ABI |
//! |---|---|---|
//! | `linux_x86` | Linux 6.12, i386 | `int 0x80`, `sysenter` |
//! | `linux_x64` | Linux 6.12, x86-64 | `syscall` |
//! | `linux_arm` | Linux 6.12, ARM EABI | `svc #0` |
//! | `linux_arm64` | Linux 6.12, AArch64 | `svc #0` |
//! | `linux_mips` | Linux 6.12, MIPS o32 | `syscall` |
//! | `linux_mips64` | Linux 6.12, MIPS n64 | `syscall` |
//! | `linux_mips64n32` | Linux 6.12, MIPS n32 | `syscall` |
//! | `linux_riscv64` | Linux 6.12, RISC-V 64 | `ecall` |
//! | `linux_6_1_x86` … `linux_6_1_riscv64` | Linux 6.1, each ABI above | as above |
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
//! **The kernel version is part of the profile's name**: `linux_x64` is the
//! newest kernel's table (Linux 6.12 LTS), `linux_6_1_x64` Linux 6.1's
//! (family feature `linux_6_1`). Linux never renumbers a call, so the newest
//! table decodes an older kernel's calls too; the older table is for a
//! trace that must not name what that kernel did not have (a 6.1 kernel
//! answers `fchmodat2`, 452, with ENOSYS). [`native`] picks the newest
//! enabled table, [`compat_for`] the compat table of the same kernel.
//!
//! **Every Windows release** (NT 3.1 to 11 25H2, x86 and x64, ntoskrnl and
//! win32k: the tables of `syscalls2-prototypes/tables/windows/` and the
//! Windows ones above) is the family feature `windows_releases`, part of
//! `all`: the release is chosen at run time by name ([`by_name`], e.g.
//! `"windows_10_1909_x64"`), and its table is built the first time it is
//! asked for, from one description per call name and the release's
//! numbers. It has no typed module (`windows7_x86::on_NtReadFile_enter`);
//! `#[on_syscall]` hooks and the generic ones run on it as on any profile.
//! The names are PANDA's where PANDA has the table (`windows_7_x86`,
//! `windows_xpsp2_x86`, `windows_vistasp12_x64`, `windows_8sp1_x86`; see
//! [`ALIASES`]), otherwise `windows_{release}_{arch}` with the service pack
//! or version always given (`windows_7sp0_x86`, `windows_10_22h2_x64`,
//! `windows_server2022_x64`).
//!
//! ```
//! let x64 = syscalls2_profiles::by_name("linux_x64").unwrap();
//! assert_eq!(x64.by_number(257).unwrap().name, "sys_openat");
//! // The 32-bit processes of an x86-64 guest are decoded with linux_x86.
//! assert_eq!(syscalls2_profiles::compat_for(x64)[0].name, "linux_x86");
//! // PANDA's name of the Windows 7 x86 profile.
//! assert_eq!(syscalls2_profiles::by_name("windows_7_x86").unwrap().name, "windows7_x86");
//! ```

#![warn(missing_docs)]

use syscalls2_core::{Abi, Arch, Os, SyscallInfo, Table};

syscalls2_macros::bundled_profiles!(syscalls2_core);

#[cfg(feature = "windows_releases")]
mod windows_releases {
    use super::Release;
    syscalls2_macros::windows_releases!(syscalls2_core);
}

/// Every profile enabled in this build, as static tables (the Windows
/// release family's are built on demand: [`windows_releases`]).
pub fn all() -> &'static [&'static Table] {
    ALL
}

/// The profile named `name` (`"linux_x64"`, or an alias of [`ALIASES`]:
/// `"windows_7_x86"`): one enabled by its own feature, else (feature
/// `windows_releases`) the Windows release of that name, built the first
/// time.
pub fn by_name(name: &str) -> Option<&'static Table> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, profile)| profile);
    ALL.iter().copied().find(|t| t.name == name).or_else(|| {
        windows_releases()
            .iter()
            .find(|r| r.name == name)
            .map(Release::table)
    })
}

/// The Windows releases this build can give a table for at run time
/// (feature `windows_releases`; empty without it).
pub fn windows_releases() -> &'static [Release] {
    #[cfg(feature = "windows_releases")]
    return &windows_releases::RELEASES;
    #[cfg(not(feature = "windows_releases"))]
    &[]
}

/// One Windows release of the family feature: its name and ABI, and what
/// its table is built from.
#[derive(Debug)]
pub struct Release {
    /// The profile name (`"windows_10_1909_x64"`).
    pub name: &'static str,
    /// The ABI (windows_x86 or windows_x64).
    pub abi: Abi,
    calls: &'static [SyscallInfo],
    numbers: &'static [u8],
    table: std::sync::OnceLock<Table>,
}

impl Release {
    /// What `windows_releases!` emits: `calls` one per name, `numbers`
    /// little-endian `(u16 number, u16 index into calls)` pairs.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        abi: Abi,
        calls: &'static [SyscallInfo],
        numbers: &'static [u8],
    ) -> Release {
        Release {
            name,
            abi,
            calls,
            numbers,
            table: std::sync::OnceLock::new(),
        }
    }

    /// The release's table, built the first time (a few hundred
    /// microseconds; its memory is kept for the rest of the program).
    pub fn table(&'static self) -> &'static Table {
        self.table.get_or_init(|| {
            let mut syscalls: Vec<SyscallInfo> = self
                .numbers
                .chunks_exact(4)
                .map(|c| {
                    let no = u16::from_le_bytes([c[0], c[1]]);
                    let i = u16::from_le_bytes([c[2], c[3]]);
                    SyscallInfo {
                        no: u64::from(no),
                        ..self.calls[usize::from(i)]
                    }
                })
                .collect();
            syscalls.sort_by_key(|s| s.no);
            let syscalls: &'static [SyscallInfo] = Box::leak(syscalls.into_boxed_slice());
            let mut by_name: Vec<u16> = (0..syscalls.len() as u16).collect();
            by_name.sort_by_key(|&i| (syscalls[usize::from(i)].name, syscalls[usize::from(i)].no));
            Table {
                name: self.name,
                abi: self.abi,
                syscalls,
                by_name_index: Box::leak(by_name.into_boxed_slice()),
            }
        })
    }
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
    fn aliases_name_the_bundled_profiles() {
        assert_eq!(by_name("windows_7_x64").unwrap().name, "windows7_x64");
        assert_eq!(by_name("windows_7sp1_x86").unwrap().name, "windows7_x86");
        assert!(by_name("windows_95_x86").is_none());
    }

    /// Every release of the family builds, with the numbers of its table
    /// file, and the same metadata as the bundled module where there is one.
    #[cfg(feature = "windows_releases")]
    #[test]
    fn every_windows_release_builds_from_its_table() {
        use syscalls2_prototypes::{BUNDLED, WINDOWS_RELEASES};
        assert_eq!(windows_releases().len(), 81);
        for b in BUNDLED
            .iter()
            .filter(|b| b.profile.starts_with("windows"))
            .chain(WINDOWS_RELEASES)
        {
            let r = windows_releases()
                .iter()
                .find(|r| r.name == b.profile)
                .unwrap_or_else(|| panic!("no release {}", b.profile));
            let t = r.table();
            let source = syscalls2_prototypes::parse_table(b.text).unwrap();
            assert_eq!(t.syscalls.len(), source.prototypes.len(), "{}", b.profile);
            for p in &source.prototypes {
                let s = t.by_number(p.number.unwrap()).unwrap();
                assert_eq!(s.name, p.name, "{}", b.profile);
                assert_eq!(s.args.len(), p.params.len());
                assert_eq!(t.by_name(&p.name).unwrap().no, s.no);
            }
        }
        let w10 = by_name("windows_10_1909_x64").unwrap();
        let read = w10.by_name("NtReadFile").unwrap();
        assert_eq!(read.no, 6);
        assert_eq!(read.args[4].name, "IoStatusBlock");
        assert_eq!(read.args[4].dir, syscalls2_core::ArgDir::Out);
        assert_eq!(read.args[0].dir, syscalls2_core::ArgDir::In);
        // win32k: numbered from 0x1000, with phnt's NtUser signatures.
        assert!(w10.by_name("NtUserBlockInput").unwrap().no >= 0x1000);
        #[cfg(feature = "windows7_x86")]
        {
            let family = windows_releases()
                .iter()
                .find(|r| r.name == "windows7_x86")
                .unwrap()
                .table();
            for (a, b) in family.syscalls.iter().zip(windows7_x86::TABLE.syscalls) {
                assert_eq!(
                    (a.no, a.name, a.args, a.signature),
                    (b.no, b.name, b.args, b.signature)
                );
            }
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

    /// The newest kernel's tables name the calls added after 6.1; the 6.1
    /// tables do not, and agree with them on every number they share.
    #[cfg(all(feature = "linux_x64", feature = "linux_6_1_x64"))]
    #[test]
    fn kernel_versions_are_profiles() {
        let (new, old) = (&linux_x64::TABLE, &linux_6_1_x64::TABLE);
        for (no, name) in [
            (451, "sys_cachestat"),
            (452, "sys_fchmodat2"),
            (453, "sys_map_shadow_stack"),
            (454, "sys_futex_wake"),
            (457, "sys_statmount"),
            (458, "sys_listmount"),
            (459, "sys_lsm_get_self_attr"),
            (462, "sys_mseal"),
        ] {
            assert_eq!(new.by_number(no).map(|s| s.name), Some(name));
            assert!(old.by_number(no).is_none(), "{name} in 6.1");
        }
        let shared = old
            .syscalls
            .iter()
            .filter(|s| new.by_number(s.no).is_some_and(|n| n.name == s.name))
            .count();
        // lookup_dcookie (212) is gone since Linux 6.9.
        assert_eq!(shared + 1, old.syscalls.len());
        assert_eq!(release(old), "linux_6_1");
        assert_eq!(by_name("linux_6_1_x64").unwrap().name, "linux_6_1_x64");
        #[cfg(feature = "linux_6_1_x86")]
        assert_eq!(compat_for(old)[0].name, "linux_6_1_x86");
        assert_eq!(native(Os::Linux, Arch::X86_64).unwrap().name, "linux_x64");
    }
}
