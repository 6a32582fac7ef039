//! `bundled_profiles!`: every bundled table as a profile module, each
//! behind the cargo feature of its name, and the list of those enabled.

use crate::table::{abi_tokens, expand, info_tokens, resolve_bundled};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;
use syscalls2_prototypes::{windows_aliases, ResolvedSyscall, BUNDLED, WINDOWS_RELEASES};

/// The expansion: for each table of [`BUNDLED`],
/// `#[cfg(feature = "NAME")] pub mod NAME { ... }`, then
/// `pub static ALL: &[&Table]` listing the enabled ones. A table that does
/// not resolve is a compile error naming its file and line.
pub fn expand_bundled(krate: &TokenStream) -> syn::Result<TokenStream> {
    let mut modules = Vec::new();
    let mut entries = Vec::new();
    for bundled in BUNDLED {
        let table = resolve_bundled(bundled).map_err(|e| syn::Error::new(Span::call_site(), e))?;
        let module = format_ident!("{}", bundled.profile);
        let feature = bundled.profile;
        let doc = format!(
            "The `{feature}` profile: {} syscalls on the {} ABI, from `syscalls2-prototypes/tables/{}` (cargo feature `{feature}`).",
            table.syscalls.len(),
            table.abi,
            bundled.file
        );
        let items = expand(&table, None, krate);
        modules.push(quote! {
            #[cfg(feature = #feature)]
            #[doc = #doc]
            pub mod #module {
                #items
            }
        });
        entries.push(quote! {
            #[cfg(feature = #feature)]
            &#module::TABLE
        });
    }
    let aliases = windows_aliases().map(|(a, p)| quote!((#a, #p)));
    Ok(quote! {
        #(#modules)*

        /// Every profile enabled in this build, in the order of their file names.
        pub static ALL: &[&#krate::Table] = &[#(#entries),*];

        /// Other names of profiles, `(alias, profile)`: PANDA's table names
        /// (`windows_7_x86`) and the releases' systematic names
        /// (`windows_7sp1_x86`), from `tables/windows/aliases.txt`.
        pub static ALIASES: &[(&str, &str)] = &[#(#aliases),*];
    })
}

/// `windows_releases!`: every Windows release (the Windows tables of
/// [`BUNDLED`] and [`WINDOWS_RELEASES`]) as data a program turns into a
/// table at run time, instead of one module each. Per ABI, one
/// `SyscallInfo` per call name (the union of the releases; `no` is 0 and
/// the prototype has no number), and per release its numbers: a byte string
/// of little-endian `(u16 number, u16 index into the union)` pairs. Emits
/// `pub static RELEASES: [Release; N]`, `Release` being the caller's
/// (`Release::new(name, abi, calls, numbers)`).
pub fn expand_windows_releases(krate: &TokenStream) -> syn::Result<TokenStream> {
    let err = |e: String| syn::Error::new(Span::call_site(), e);
    let mut per_abi: HashMap<String, (Vec<ResolvedSyscall>, HashMap<String, usize>)> =
        HashMap::new();
    let tables = BUNDLED
        .iter()
        .filter(|b| b.profile.starts_with("windows"))
        .chain(WINDOWS_RELEASES);
    let mut releases = Vec::new();
    for bundled in tables {
        let table = resolve_bundled(bundled).map_err(err)?;
        let abi = table.abi.name().to_string();
        let (calls, index) = per_abi.entry(abi.clone()).or_default();
        let mut numbers = Vec::with_capacity(table.syscalls.len() * 4);
        for s in &table.syscalls {
            let mut general = s.clone();
            general.number = 0;
            general.line = 0;
            general.prototype = strip_number(&s.prototype);
            let i = match index.get(&s.name) {
                Some(&i) => {
                    if calls[i] != general {
                        return Err(err(format!(
                            "{}: `{}` differs from its prototype in another Windows release ({} against {}): the release family keeps one per name",
                            bundled.file, s.name, general.prototype, calls[i].prototype
                        )));
                    }
                    i
                }
                None => {
                    calls.push(general);
                    index.insert(s.name.clone(), calls.len() - 1);
                    calls.len() - 1
                }
            };
            let (no, i) = (u16::try_from(s.number), u16::try_from(i));
            let (Ok(no), Ok(i)) = (no, i) else {
                return Err(err(format!(
                    "{}: `{}` number {} or index {i:?} beyond 16 bits",
                    bundled.file, s.name, s.number
                )));
            };
            numbers.extend(no.to_le_bytes());
            numbers.extend(i.to_le_bytes());
        }
        releases.push((bundled.profile, table.abi, abi, numbers));
    }
    let mut abis: Vec<&String> = per_abi.keys().collect();
    abis.sort();
    let statics = abis.iter().map(|abi| {
        let calls = &per_abi[*abi].0;
        let ident = format_ident!("{}_CALLS", abi.to_ascii_uppercase());
        let n = Literal::usize_unsuffixed(calls.len());
        let infos = calls.iter().map(|s| info_tokens(s, krate));
        let doc = format!("Every call of the {abi} releases, numbered 0: one per name.");
        quote!(#[doc = #doc] static #ident: [#krate::SyscallInfo; #n] = [#(#infos),*];)
    });
    let n = Literal::usize_unsuffixed(releases.len());
    let entries = releases.iter().map(|(name, abi, abi_name, numbers)| {
        let calls = format_ident!("{}_CALLS", abi_name.to_ascii_uppercase());
        let abi = abi_tokens(*abi, krate);
        let bytes = Literal::byte_string(numbers);
        quote!(Release::new(#name, #abi, &#calls, #bytes))
    });
    Ok(quote! {
        #(#statics)*

        /// Every Windows release, x86 and x64, sorted by name within each
        /// list of `syscalls2-prototypes` (the bundled tables, then `tables/windows/`).
        pub static RELEASES: [Release; #n] = [#(#entries),*];
    })
}

/// A prototype line without its number (`273 NTSTATUS NtReadFile (..);` ->
/// `NTSTATUS NtReadFile (..);`), as PANDA's signature list writes it.
fn strip_number(line: &str) -> String {
    let t = line.trim_start();
    match t.split_once(' ') {
        Some((n, rest))
            if n.chars().all(|c| c.is_ascii_alphanumeric())
                && n.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_table_becomes_a_feature_gated_module() {
        let out = expand_bundled(&quote!(::syscalls2_core))
            .unwrap()
            .to_string();
        for b in BUNDLED {
            let gate = format!("# [cfg (feature = \"{}\")] # [doc", b.profile);
            assert!(out.contains(&gate), "no module for {}", b.profile);
            assert!(out.contains(&format!("& {} :: TABLE", b.profile)));
        }
        assert!(out.contains("pub static ALL : & [& :: syscalls2_core :: Table]"));
    }
}
