//! `bundled_profiles!`: every bundled table as a profile module, each
//! behind the cargo feature of its name, and the list of those enabled.

use crate::table::{expand, resolve_bundled};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syscalls2_prototypes::BUNDLED;

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
    Ok(quote! {
        #(#modules)*

        /// Every profile enabled in this build, in the order of their file names.
        pub static ALL: &[&#krate::Table] = &[#(#entries),*];
    })
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
