//! `syscall_table!`: from a table file to Rust items.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};
use syscalls2_abi::{Abi, ArgClass};
use syscalls2_prototypes::{parse_table, resolve, Bundled, ResolvedSyscall, ResolvedTable};

/// The macro's input: `"path"`, then optional `abi = linux_x64`,
/// `name = "myos_x64"` and `crate = "path"`.
pub struct TableArgs {
    /// The table file, as written.
    pub path: LitStr,
    /// `abi = ...`: the ABI, overriding the file name.
    pub abi: Option<(String, Span)>,
    /// `name = "..."`: the profile name, overriding the file name.
    pub name: Option<String>,
    /// `crate = "..."`: where the generated code finds syscalls2's types
    /// (default `::syscalls2`; `syscalls2_core` inside the family).
    pub krate: Option<syn::Path>,
}

/// Parses an option key, which may be the keyword `crate`.
pub(crate) fn parse_key(input: ParseStream<'_>) -> syn::Result<Ident> {
    if input.peek(Token![crate]) {
        let k: Token![crate] = input.parse()?;
        Ok(Ident::new("crate", k.span))
    } else {
        input.parse()
    }
}

/// Parses the value of `crate = ...`: a path, or a string holding one.
pub(crate) fn parse_crate_path(input: ParseStream<'_>) -> syn::Result<syn::Path> {
    if input.peek(LitStr) {
        input.parse::<LitStr>()?.parse()
    } else {
        input.parse()
    }
}

/// The path generated code names syscalls2 by.
pub fn crate_tokens(krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path),
        None => quote!(::syscalls2),
    }
}

impl Parse for TableArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse()?;
        let mut args = TableArgs {
            path,
            abi: None,
            name: None,
            krate: None,
        };
        while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key = parse_key(input)?;
            input.parse::<Token![=]>()?;
            if key == "crate" {
                args.krate = Some(parse_crate_path(input)?);
                continue;
            }
            let value = if input.peek(LitStr) {
                input.parse::<LitStr>()?.value()
            } else {
                input.parse::<Ident>()?.to_string()
            };
            match key.to_string().as_str() {
                "abi" => args.abi = Some((value, key.span())),
                "name" => args.name = Some(value),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{other}`: expected `abi = ...`, `name = \"...\"` or `crate = \"...\"`"
                        ),
                    ))
                }
            }
        }
        Ok(args)
    }
}

/// Where a table path points: relative to the calling crate's manifest
/// directory, or absolute; `..` resolved lexically, so error messages name
/// the file plainly.
pub fn table_path(path: &str, manifest_dir: &Path) -> PathBuf {
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        manifest_dir.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The profile name a table file gives: `linux_x86_prototypes.txt` → `linux_x86`.
pub fn profile_name(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".txt").unwrap_or(file_name);
    stem.strip_suffix("_prototypes").unwrap_or(stem).to_string()
}

/// Reads, parses and resolves the table `args` names; every failure is a
/// compile error at the path literal naming the file, line and column.
pub fn load(args: &TableArgs, manifest_dir: &Path) -> syn::Result<(PathBuf, ResolvedTable)> {
    let span = args.path.span();
    let path = table_path(&args.path.value(), manifest_dir);
    let source = std::fs::read_to_string(&path).map_err(|e| {
        syn::Error::new(
            span,
            format!("cannot read the syscall table {}: {e}", path.display()),
        )
    })?;
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let abi = match &args.abi {
        Some((name, abi_span)) => Abi::from_name(name).ok_or_else(|| {
            syn::Error::new(
                *abi_span,
                format!("unknown ABI `{name}`; known ABIs: {}", known_abis()),
            )
        })?,
        None => abi_of_file(&file_name).map_err(|e| syn::Error::new(span, e))?,
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| profile_name(&file_name));
    let table = resolve_text(&source, &path.display().to_string(), abi, &name)
        .map_err(|e| syn::Error::new(span, e))?;
    Ok((path, table))
}

fn known_abis() -> String {
    syscalls2_abi::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ABI a table file's name gives (`{os}_{arch}_prototypes.txt`), or
/// why there is none.
pub fn abi_of_file(file_name: &str) -> Result<Abi, String> {
    Abi::from_table_file_name(file_name).ok_or_else(|| {
        let mut oses: Vec<String> = syscalls2_abi::ALL
            .iter()
            .map(|a| format!("`{}*`", a.os.prefix()))
            .collect();
        let mut arches: Vec<&str> = syscalls2_abi::ALL.iter().map(|a| a.file_arch).collect();
        oses.dedup();
        arches.sort_unstable();
        arches.dedup();
        format!(
            "cannot tell the ABI of `{file_name}` from its name: tables are named \
             `{{os}}_{{arch}}_prototypes.txt` with os {} and arch {}; name it so, or \
             say `abi = ...` (one of {})",
            oses.join(", "),
            arches.join(", "),
            known_abis()
        )
    })
}

/// Parses and resolves the text of a table; `shown` names it in errors,
/// which give its line and column.
pub fn resolve_text(
    source: &str,
    shown: &str,
    abi: Abi,
    name: &str,
) -> Result<ResolvedTable, String> {
    let parsed = parse_table(source).map_err(|e| {
        format!(
            "{shown}:{}:{}: {}\n  | {}",
            e.line, e.column, e.message, e.text
        )
    })?;
    resolve(&parsed, abi, name).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|d| format!("{shown}:{}: {}", d.line, d.message))
            .collect();
        lines.join("\n")
    })
}

/// A bundled table ([`syscalls2_prototypes::BUNDLED`]), resolved.
pub fn resolve_bundled(table: &Bundled) -> Result<ResolvedTable, String> {
    let shown = format!("syscalls2-prototypes/tables/{}", table.file);
    let abi = abi_of_file(table.file).map_err(|e| format!("{shown}: {e}"))?;
    resolve_text(table.text, &shown, abi, table.profile)
}

/// An identifier for a table's name in value position (`nr::read`): the
/// name, raw where it is a Rust keyword (`r#break`), with `_` appended
/// where it cannot be raw (`self_`).
fn value_ident(name: &str) -> Ident {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => format_ident!("{name}_"),
        _ if syn::parse_str::<Ident>(name).is_ok() => Ident::new(name, Span::call_site()),
        _ => Ident::new_raw(name, Span::call_site()),
    }
}

/// The type names of the primaries ([`primaries`]): the name in camel case
/// (`SysRead`, `NtReadFile`), with the number appended where that would
/// clash with another's (`sys_read` and `sys__read`), with the table's own
/// items (a syscall named `call`), or be a keyword (`Self`).
fn type_names(table: &ResolvedTable, primary: &[usize]) -> Vec<String> {
    const OWN: [&str; 3] = ["Call", "TABLE", "SYSCALLS"];
    let mut count: HashMap<String, usize> = HashMap::new();
    for (i, s) in table.syscalls.iter().enumerate() {
        if primary[i] == i {
            *count.entry(s.type_name()).or_default() += 1;
        }
    }
    table
        .syscalls
        .iter()
        .map(|s| {
            let camel = s.type_name();
            let keyword = syn::parse_str::<Ident>(&camel).is_err();
            if count[&camel] > 1 || OWN.contains(&camel.as_str()) || keyword {
                format!("{camel}{}", s.number)
            } else {
                camel
            }
        })
        .collect()
}

/// For each syscall, the index of the one whose items (argument struct,
/// marker type, registration functions, `nr` constant) serve its name:
/// itself, or where a name repeats (a table holding several ABIs' calls;
/// old compat calls), the first entry of its name on the table's own ABI
/// in the file, else the first of its name. Every entry of the name is
/// decoded, reaches the `all` hooks, and the name's hooks where its
/// argument types are the same.
fn primaries(table: &ResolvedTable) -> Vec<usize> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, s) in table.syscalls.iter().enumerate() {
        let slot = first.entry(&s.name).or_insert(i);
        let current = &table.syscalls[*slot];
        let own = |x: &ResolvedSyscall| x.abi == table.abi;
        if (own(s) && !own(current)) || (own(s) == own(current) && s.line < current.line) {
            *slot = i;
        }
    }
    table
        .syscalls
        .iter()
        .map(|s| first[s.name.as_str()])
        .collect()
}

/// The items `syscall_table!` expands to, for a resolved table read from
/// `source` (a file whose changes rebuild the caller; `None` for a bundled
/// table), naming syscalls2's types through `krate`.
pub fn expand(table: &ResolvedTable, source: Option<&Path>, krate: &TokenStream) -> TokenStream {
    let name = &table.name;
    let abi = abi_tokens(table.abi, krate);
    let n = table.syscalls.len();
    let primary = primaries(table);
    let is_primary = |i: usize| primary[i] == i;
    let infos = table.syscalls.iter().map(|s| info_tokens(s, krate));
    let mut by_name: Vec<usize> = (0..n).collect();
    by_name.sort_by(|&a, &b| {
        let (sa, sb) = (&table.syscalls[a], &table.syscalls[b]);
        sa.name.cmp(&sb.name).then(sa.number.cmp(&sb.number))
    });
    let by_name = by_name.iter().map(|&i| Literal::u16_unsuffixed(i as u16));
    let primaries_only = || {
        table
            .syscalls
            .iter()
            .enumerate()
            .filter(|&(i, _)| is_primary(i))
    };
    let types = type_names(table, &primary);
    let nr = primaries_only().map(|(_, s)| {
        let ident = value_ident(&s.name);
        let no = Literal::u64_unsuffixed(s.number);
        let doc = format!("`{}`", s.prototype);
        quote!(#[doc = #doc] pub const #ident: u64 = #no;)
    });
    let per_syscall = primaries_only().map(|(i, s)| syscall_items(s, i, &types[i], krate));
    let variants = primaries_only().map(|(i, s)| {
        let ty = format_ident!("{}", types[i]);
        let args = format_ident!("{}Args", types[i]);
        let doc = format!("`{}`", s.prototype);
        quote!(#[doc = #doc] #ty(#args))
    });
    // Every number whose arguments read as its name's struct.
    let arms = table.syscalls.iter().enumerate().filter_map(|(i, s)| {
        let p = &table.syscalls[primary[i]];
        if p.signature() != s.signature() {
            return None;
        }
        let ty = format_ident!("{}", types[primary[i]]);
        let no = Literal::u64_unsuffixed(s.number);
        Some(quote!(#no => ::core::option::Option::Some(Call::#ty(#krate::SyscallArgs::from_raw(&ctx.args)))))
    });
    let from = source.and_then(|p| p.file_name()).map_or_else(
        || format!("{name}_prototypes.txt"),
        |f| f.to_string_lossy().into_owned(),
    );
    let table_doc = format!(
        "The `{name}` table: {n} syscalls on the {} ABI, from `{from}`.",
        table.abi
    );
    let track = source.map(|p| {
        let path_str = p.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path_str);
        )
    });
    let n_lit = Literal::usize_unsuffixed(n);
    quote! {
        #track

        #[doc = #table_doc]
        #[allow(dead_code)]
        pub static TABLE: #krate::Table = #krate::Table {
            name: #name,
            abi: #abi,
            syscalls: &SYSCALLS,
            by_name_index: &[#(#by_name),*],
        };

        /// Every syscall's metadata, sorted by number.
        #[allow(dead_code)]
        pub static SYSCALLS: [#krate::SyscallInfo; #n_lit] = [#(#infos),*];

        /// The syscall numbers, by the table's names.
        #[allow(dead_code, non_upper_case_globals)]
        pub mod nr {
            #(#nr)*
        }

        /// The name of syscall `no`, if the table has it.
        #[allow(dead_code)]
        pub fn name_of(no: u64) -> ::core::option::Option<&'static str> {
            TABLE.by_number(no).map(|s| s.name)
        }

        /// The number of the syscall named `name`, if the table has it.
        #[allow(dead_code)]
        pub fn number_of(name: &str) -> ::core::option::Option<u64> {
            TABLE.by_name(name).map(|s| s.no)
        }

        /// One syscall with its typed arguments.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(dead_code)]
        pub enum Call {
            #(#variants),*
        }

        impl Call {
            /// Decodes a context of this table into a typed call; `None` for
            /// an unknown number or another table's context.
            #[allow(dead_code)]
            pub fn from_ctx(ctx: &#krate::SyscallCtx) -> ::core::option::Option<Call> {
                if !::core::ptr::eq(ctx.table, &TABLE) {
                    return ::core::option::Option::None;
                }
                match ctx.no {
                    #(#arms,)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #(#per_syscall)*
    }
}

pub(crate) fn abi_tokens(abi: Abi, krate: &TokenStream) -> TokenStream {
    let module = format_ident!("{}", abi.name());
    quote!(#krate::abi::#module::ABI)
}

fn class_tokens(class: ArgClass, krate: &TokenStream) -> TokenStream {
    let k = quote!(#krate::ArgClass);
    match class {
        ArgClass::Int { signed, bits } => {
            let bits = Literal::u8_unsuffixed(bits);
            quote!(#k::Int { signed: #signed, bits: #bits })
        }
        other => {
            let v = format_ident!("{}", format!("{other:?}"));
            quote!(#k::#v)
        }
    }
}

pub(crate) fn info_tokens(s: &ResolvedSyscall, krate: &TokenStream) -> TokenStream {
    let no = Literal::u64_unsuffixed(s.number);
    let (name, rettype, prototype) = (&s.name, &s.rettype, &s.prototype);
    let signature = s.signature();
    let args = s.args.iter().map(|a| {
        let (aname, ctype, pointee) = (&a.name, &a.ctype, a.ctype_class.pointee());
        let class = class_tokens(a.class, krate);
        let (slot, slots) = (Literal::u8_unsuffixed(a.slot), Literal::u8_unsuffixed(a.slots));
        let dir = format_ident!("{}", format!("{:?}", a.dir));
        let pointee_class = match a.pointee_class {
            Some(c) => {
                let c = class_tokens(c, krate);
                quote!(::core::option::Option::Some(#c))
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(#krate::ArgInfo { name: #aname, ctype: #ctype, class: #class, pointee: #pointee, slot: #slot, slots: #slots, dir: #krate::ArgDir::#dir, pointee_class: #pointee_class })
    });
    let r = s.returns;
    let (noreturn, on_success, double) = (r.noreturn, r.noreturn_on_success, r.double_return);
    quote! {
        #krate::SyscallInfo {
            no: #no,
            name: #name,
            rettype: #rettype,
            args: &[#(#args),*],
            returns: #krate::ReturnKind { noreturn: #noreturn, noreturn_on_success: #on_success, double_return: #double },
            signature: #signature,
            prototype: #prototype,
        }
    }
}

/// The argument struct, the marker type and the registration functions of
/// one syscall.
fn syscall_items(
    s: &ResolvedSyscall,
    index: usize,
    type_name: &str,
    krate: &TokenStream,
) -> TokenStream {
    let ty = format_ident!("{}", type_name);
    let args_ty = format_ident!("{}Args", type_name);
    let typed: Vec<_> = s.args.iter().filter(|a| a.rust_type().is_some()).collect();
    let fields = typed.iter().map(|a| {
        let field: TokenStream = a.field.parse().expect("field names are identifiers");
        let rty: TokenStream = rust_type_path(a.rust_type().unwrap_or_default(), krate);
        let doc = format!("`{} {}`", a.ctype, a.name);
        quote!(#[doc = #doc] pub #field: #rty)
    });
    let inits = s
        .args
        .iter()
        .enumerate()
        .filter(|(_, a)| a.rust_type().is_some())
        .map(|(i, a)| {
            let field: TokenStream = a.field.parse().expect("field names are identifiers");
            let i = Literal::usize_unsuffixed(i);
            quote!(#field: #krate::ArgValue::from_raw(raw[#i]))
        });
    let raw_name = if typed.is_empty() {
        quote!(_raw)
    } else {
        quote!(raw)
    };
    let inits: Vec<_> = inits.collect();
    let proto_doc = format!("`{}`", s.prototype);
    let args_doc = format!("The arguments of `{}`: `{}`", s.name, s.prototype);
    let marker_doc = format!(
        "`{}` as a type, for `Engine::on_enter::<{}>`: `{}`",
        s.name, type_name, s.prototype
    );
    let enter = format_ident!("on_{}_enter", s.name.trim_start_matches("r#"));
    let ret = format_ident!("on_{}_return", s.name.trim_start_matches("r#"));
    let enter_doc = format!("Runs `f` when `{}` enters (PANDA's `{enter}`).", s.name);
    let ret_doc = format!(
        "Runs `f` when `{}` returns, with its return value (PANDA's `{ret}`).",
        s.name
    );
    let index = Literal::usize_unsuffixed(index);
    let (no, name) = (Literal::u64_unsuffixed(s.number), &s.name);
    quote! {
        #[doc = #args_doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(dead_code)]
        pub struct #args_ty { #(#fields),* }

        impl #krate::SyscallArgs for #args_ty {
            #[inline]
            fn from_raw(#raw_name: &[u64; #krate::MAX_SLOTS]) -> Self {
                #args_ty { #(#inits),* }
            }
        }

        #[doc = #marker_doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(dead_code)]
        pub struct #ty;

        #[allow(dead_code)]
        impl #ty {
            /// The number.
            pub const NO: u64 = #no;
            /// The name.
            pub const NAME: &'static str = #name;
        }

        impl #krate::Syscall for #ty {
            type Args = #args_ty;
            fn table() -> &'static #krate::Table {
                &TABLE
            }
            fn info() -> &'static #krate::SyscallInfo {
                &SYSCALLS[#index]
            }
        }

        #[doc = #enter_doc]
        #[doc = ""]
        #[doc = #proto_doc]
        #[allow(dead_code, non_snake_case)]
        pub fn #enter(
            engine: &mut #krate::Engine,
            f: impl FnMut(&mut dyn #krate::Cpu, u64, &#args_ty) + ::core::marker::Send + 'static,
        ) -> ::core::result::Result<#krate::HookId, #krate::HookError> {
            engine.on_enter::<#ty>(f)
        }

        #[doc = #ret_doc]
        #[doc = ""]
        #[doc = #proto_doc]
        #[allow(dead_code, non_snake_case)]
        pub fn #ret(
            engine: &mut #krate::Engine,
            f: impl FnMut(&mut dyn #krate::Cpu, u64, &#args_ty, #krate::Retval) + ::core::marker::Send + 'static,
        ) -> ::core::result::Result<#krate::HookId, #krate::HookError> {
            engine.on_return::<#ty>(f)
        }
    }
}

/// The path of a hook argument type: `u32` as is, `GuestPtr` in syscalls2.
pub fn rust_type_path(ty: &str, krate: &TokenStream) -> TokenStream {
    match ty {
        "GuestPtr" => quote!(#krate::GuestPtr),
        prim => {
            let ident = Ident::new(prim, Span::call_site());
            quote!(#ident)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(src: &str, file: &str) -> ResolvedTable {
        let abi = Abi::from_table_file_name(file).unwrap();
        resolve(&parse_table(src).unwrap(), abi, &profile_name(file)).unwrap()
    }

    fn expand_str(src: &str, file: &str) -> String {
        expand(
            &resolved(src, file),
            Some(Path::new(file)),
            &quote!(::syscalls2),
        )
        .to_string()
    }

    #[test]
    fn args_parse() {
        let a: TableArgs = syn::parse_str(r#""t.txt", abi = linux_x64, name = "myos""#).unwrap();
        assert_eq!(a.path.value(), "t.txt");
        assert_eq!(a.abi.unwrap().0, "linux_x64");
        assert_eq!(a.name.as_deref(), Some("myos"));
        let a: TableArgs = syn::parse_str(r#""t.txt", abi = "windows_x86""#).unwrap();
        assert_eq!(a.abi.unwrap().0, "windows_x86");
        let e = syn::parse_str::<TableArgs>(r#""t.txt", arch = x86"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("unknown option `arch`"));
    }

    #[test]
    fn profile_names_and_paths() {
        assert_eq!(profile_name("linux_x86_prototypes.txt"), "linux_x86");
        assert_eq!(profile_name("windows7_x64_prototypes.txt"), "windows7_x64");
        assert_eq!(
            table_path("a/b.txt", Path::new("/crate")),
            PathBuf::from("/crate/a/b.txt")
        );
        assert_eq!(
            table_path("/abs/b.txt", Path::new("/crate")),
            PathBuf::from("/abs/b.txt")
        );
    }

    #[test]
    fn expansion_has_every_item() {
        let out = expand_str(
            "3 long sys_read(unsigned int fd, char __user *buf, size_t count);\n// @noreturn\n1 long sys_exit(int error_code);\n",
            "linux_x86_prototypes.txt",
        );
        for needle in [
            "pub static TABLE : :: syscalls2 :: Table",
            "name : \"linux_x86\"",
            "abi : :: syscalls2 :: abi :: linux_x86 :: ABI",
            "pub const sys_read : u64 = 3",
            "pub struct SysReadArgs { # [doc = \"`unsigned int fd`\"] pub fd : u32",
            "pub buf : :: syscalls2 :: GuestPtr",
            "pub count : u64",
            "pub struct SysRead ;",
            "pub fn on_sys_read_enter",
            "pub fn on_sys_exit_return",
            "signature : \"u32,GuestPtr,u64\"",
            "noreturn : true",
            "class : :: syscalls2 :: ArgClass :: Int { signed : false , bits : 32 }",
            "class : :: syscalls2 :: ArgClass :: Buf",
            "3 => :: core :: option :: Option :: Some (Call :: SysRead",
            // Sorted: exit (1) is SYSCALLS[0], read (3) SYSCALLS[1].
            "& SYSCALLS [1]",
        ] {
            assert!(out.contains(needle), "missing `{needle}` in\n{out}");
        }
        // The prototype is each item's rustdoc.
        assert!(out.contains(
            "# [doc = \"`3 long sys_read(unsigned int fd, char __user *buf, size_t count);`\"]"
        ));
    }

    #[test]
    fn pairs_are_decoded_from_their_slots() {
        let src =
            "180 long sys_pread64(unsigned int fd, char __user *buf, size_t count, loff_t pos);";
        let arm = expand_str(src, "linux_arm_prototypes.txt");
        assert!(arm.contains("name : \"pos\" , ctype : \"loff_t\" , class : :: syscalls2 :: ArgClass :: Int { signed : true , bits : 64 } , pointee : \"\" , slot : 4 , slots : 2"), "{arm}");
        assert!(arm.contains("pos : :: syscalls2 :: ArgValue :: from_raw (raw [3])"));
    }

    #[test]
    fn windows_fields_are_snake_case() {
        let out = expand_str(
            "273 NTSTATUS NtReadFile (HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key);",
            "windows7_x86_prototypes.txt",
        );
        assert!(out.contains("pub file_handle : u64"), "{out}");
        assert!(out.contains("pub length : u32"));
        assert!(out.contains("pub fn on_NtReadFile_enter"));
        assert!(out.contains("pointee : \"IO_STATUS_BLOCK\""));
        assert!(out.contains("class : :: syscalls2 :: ArgClass :: FnPtr"));
    }

    #[test]
    fn load_reports_file_line_and_column() {
        let dir = std::env::temp_dir().join(format!("s2-macro-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("linux_x86_prototypes.txt"),
            "1 long a(void);\n2 long b(int x;\n",
        )
        .unwrap();
        std::fs::write(dir.join("odd_prototypes.txt"), "1 long a(void);\n").unwrap();
        let args = |s: &str| syn::parse_str::<TableArgs>(s).unwrap();
        let e = load(&args(r#""linux_x86_prototypes.txt""#), &dir)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("linux_x86_prototypes.txt:2:15: expected"), "{e}");
        let e = load(&args(r#""odd_prototypes.txt""#), &dir)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("cannot tell the ABI of `odd_prototypes.txt`"),
            "{e}"
        );
        assert!(load(&args(r#""odd_prototypes.txt", abi = linux_arm"#), &dir).is_ok());
        let e = load(&args(r#""missing_prototypes.txt""#), &dir)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(&format!(
                "cannot read the syscall table {}",
                dir.join("missing_prototypes.txt").display()
            )),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn awkward_names_still_make_rust() {
        // Keywords (FreeBSD has `break` and `yield`), a name whose type
        // would be the `Call` enum's, names equal after camel-casing, a
        // name that is a prelude trait's (`send`), repeated names.
        let src = "17 int break(char *nsize);\n321 int yield(void);\n1 long call(void);\n\
                   3 long sys_read(int fd);\n4 long sys__read(int fd);\n5 long self(void);\n\
                   6 long send(int s);\n30 int accept(int s);\n99 int accept(int s);\n";
        let out = expand(
            &resolved(src, "freebsd_x64_prototypes.txt"),
            None,
            &quote!(::syscalls2),
        );
        let file: syn::File = syn::parse2(out.clone()).expect("the expansion is Rust");
        let text = out.to_string();
        for needle in [
            "pub const r#break : u64 = 17",
            "pub const self_ : u64 = 5",
            "pub struct Self5 ;",
            "pub struct Call1 ;",
            "pub struct SysRead3 ;",
            "pub struct SysRead4 ;",
            "pub struct Send ;",
            "pub fn on_break_enter",
            "pub const accept : u64 = 30",
        ] {
            assert!(text.contains(needle), "missing `{needle}`");
        }
        // The repeated name's other number decodes as the same call.
        assert!(text.contains("99 => :: core :: option :: Option :: Some (Call :: Accept"));
        assert!(!file.items.is_empty());
    }
}
