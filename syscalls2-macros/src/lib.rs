//! The procedural macros of syscalls2: glue only. The table format and type
//! classification are in `syscalls2-prototypes`, the code generation in
//! `syscalls2-codegen`: plain functions, unit-tested there.

use syscalls2_codegen::{hook, profiles, table};

use proc_macro::TokenStream;
use std::path::PathBuf;

fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
}

/// Expands a syscall prototype table into a typed profile, in the invoking
/// module: `TABLE` and `SYSCALLS` (metadata), `nr::*` (numbers),
/// `name_of`/`number_of`, one `…Args` struct and one marker type per
/// syscall, `on_<name>_enter`/`on_<name>_return` registration functions,
/// and the `Call` enum.
///
/// ```
/// mod linux_x64 {
///     // Relative to this crate's Cargo.toml.
///     syscalls2::syscall_table!("../syscalls2-prototypes/tables/linux_x64_prototypes.txt");
/// }
/// mod my_os {
///     // Any file name, with the ABI given.
///     syscalls2::syscall_table!(
///         "../syscalls2-prototypes/tables/linux_arm_prototypes.txt",
///         abi = linux_arm,
///         name = "my_os_arm",
///     );
/// }
/// assert_eq!(linux_x64::nr::sys_read, 0);
/// assert_eq!(linux_x64::name_of(257), Some("sys_openat"));
/// assert_eq!(my_os::TABLE.name, "my_os_arm");
/// ```
///
/// The path is relative to the calling crate's `Cargo.toml` (or absolute).
/// The ABI comes from the file name (`{os}_{arch}_prototypes.txt`), or from
/// `abi = ...`. A malformed table is a compile error naming the file, line
/// and column. `crate = "path"` names the crate the generated code finds
/// syscalls2's types in (default `::syscalls2`), as serde's
/// `#[serde(crate = "...")]` does.
#[proc_macro]
pub fn syscall_table(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as table::TableArgs);
    match table::load(&args, &manifest_dir()) {
        Ok((path, resolved)) => {
            let krate = table::crate_tokens(args.krate.as_ref());
            table::expand(&resolved, Some(&path), &krate).into()
        }
        Err(e) => e.to_compile_error().into(),
    }
}

/// Expands every bundled table (`syscalls2-prototypes/tables/`) into a
/// profile module gated by the cargo feature of its name, and `ALL`, the
/// enabled ones: what `syscalls2-profiles` consists of. Takes the crate path
/// the generated code names syscalls2's types by: `bundled_profiles!(syscalls2_core)`.
#[proc_macro]
pub fn bundled_profiles(input: TokenStream) -> TokenStream {
    with_crate_path(input, profiles::expand_bundled)
}

/// Runs `expand` on the crate path `input` names, errors as compile errors.
fn with_crate_path(
    input: TokenStream,
    expand: fn(&proc_macro2::TokenStream) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    let krate = syn::parse_macro_input!(input as syn::Path);
    match expand(&quote::quote!(#krate)) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Every Windows release as run-time data (see
/// `syscalls2_codegen::profiles::expand_windows_releases`): what
/// `syscalls2-profiles`' feature `windows_releases` builds its tables from.
/// The argument is the path of syscalls2-core; `Release` must be in scope.
#[proc_macro]
pub fn windows_releases(input: TokenStream) -> TokenStream {
    with_crate_path(input, profiles::expand_windows_releases)
}

/// Makes a plain function a syscall hook, live in every engine whose
/// profile has the syscall: no registration call.
///
/// ```
/// use syscalls2::{on_syscall, Cpu, GuestPtr, Retval, SyscallCtx};
///
/// #[on_syscall(sys_read, return)]
/// fn after_read(cpu: &mut dyn Cpu, pc: u64, fd: u32, buf: GuestPtr, count: u64, ret: Retval) {
///     if let Ok(n) = usize::try_from(ret.value) {
///         let _data = buf.read_bytes(cpu, n);
///     }
/// }
///
/// #[on_syscall(all, enter)]
/// fn every_enter(_cpu: &mut dyn Cpu, _pc: u64, callno: u64) {}
///
/// #[on_syscall(all, return2)]
/// fn every_return(_cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
///     let _ = (ctx.name(), ctx.retval);
/// }
/// ```
///
/// Forms: `(NAME, enter)`, `(NAME, return)`; `(all, enter)` and
/// `(unknown, enter)` with `fn(cpu, pc, callno: u64)` (`return` adds
/// `ret: Retval`); `(all, enter2)`, `(all, return2)` with
/// `fn(cpu, ctx: &SyscallCtx)`. Options: `profile = "linux_x86"` to pick
/// one profile, `table = "path"` (with `abi =`) to check against your own
/// table. The signature is checked against the prototype at compile time.
#[proc_macro_attribute]
pub fn on_syscall(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(attr as hook::HookArgs);
    let func = syn::parse_macro_input!(item as syn::ItemFn);
    match hook::expand(&args, &func, &manifest_dir()) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(quote::quote!(#func));
            out.into()
        }
    }
}
