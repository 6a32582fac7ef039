//! `#[on_syscall]`: a plain function becomes a hook, checked against the
//! prototype.

use crate::table::{
    crate_tokens, load, parse_crate_path, parse_key, resolve_bundled, rust_type_path, TableArgs,
};
use once_cell::sync::Lazy;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeMap;
use std::path::Path;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Token};
use syscalls2_prototypes::{ResolvedSyscall, ResolvedTable, BUNDLED};

/// The bundled tables, resolved once per compiler process; a table that
/// does not resolve is an error every hook checked against the bundled
/// profiles reports (it would otherwise surface as "no syscall named X").
static BUNDLED_TABLES: Lazy<Result<Vec<ResolvedTable>, String>> =
    Lazy::new(|| BUNDLED.iter().map(resolve_bundled).collect());

/// What a hook is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookTarget {
    /// A syscall by name.
    Syscall(String),
    /// Every syscall (`all`).
    All,
    /// Unknown numbers (`unknown`).
    Unknown,
}

/// When it runs, and with what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// `enter`: typed arguments, or `(cpu, pc, callno)` for all/unknown.
    Enter,
    /// `return`: as `enter`, plus the return value.
    Return,
    /// `enter2`: `(cpu, ctx)`, the context with metadata (all/unknown only).
    Enter2,
    /// `return2`.
    Return2,
}

impl HookKind {
    /// "an enter", "a return", ... for messages.
    fn article_name(self) -> &'static str {
        match self {
            HookKind::Enter => "an enter",
            HookKind::Return => "a return",
            HookKind::Enter2 => "an enter2",
            HookKind::Return2 => "a return2",
        }
    }
}

/// The attribute's arguments: `sys_read, enter`, optionally with
/// `profile = "linux_x86"` or `table = "path", abi = ...`.
pub struct HookArgs {
    /// The target.
    pub target: HookTarget,
    /// Its span.
    pub target_span: Span,
    /// The kind.
    pub kind: HookKind,
    /// `profile = ...`.
    pub profile: Option<String>,
    /// `table = "..."` (with its own `abi =`, `name =`).
    pub table: Option<TableArgs>,
    /// `crate = "..."`: where the generated code finds syscalls2.
    pub krate: Option<syn::Path>,
}

impl Parse for HookArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let target: Ident = input.parse()?;
        input.parse::<Token![,]>()?;
        let kind_ident: Ident = if input.peek(Token![return]) {
            let r: Token![return] = input.parse()?;
            Ident::new("return", r.span)
        } else {
            input.parse()?
        };
        let kind = match kind_ident.to_string().as_str() {
            "enter" => HookKind::Enter,
            "return" => HookKind::Return,
            "enter2" => HookKind::Enter2,
            "return2" => HookKind::Return2,
            other => {
                return Err(syn::Error::new(
                    kind_ident.span(),
                    format!("expected `enter`, `return`, `enter2` or `return2`, found `{other}`"),
                ))
            }
        };
        let mut args = HookArgs {
            target: match target.to_string().as_str() {
                "all" => HookTarget::All,
                "unknown" => HookTarget::Unknown,
                name => HookTarget::Syscall(name.to_string()),
            },
            target_span: target.span(),
            kind,
            profile: None,
            table: None,
            krate: None,
        };
        let mut abi = None;
        let mut name = None;
        while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key = parse_key(input)?;
            input.parse::<Token![=]>()?;
            if key == "crate" {
                args.krate = Some(parse_crate_path(input)?);
                continue;
            }
            let value: LitStr = if input.peek(LitStr) {
                input.parse()?
            } else {
                let i: Ident = input.parse()?;
                LitStr::new(&i.to_string(), i.span())
            };
            match key.to_string().as_str() {
                "profile" => args.profile = Some(value.value()),
                "table" => {
                    args.table = Some(TableArgs {
                        path: value,
                        abi: None,
                        name: None,
                        krate: None,
                    })
                }
                "abi" => abi = Some((value.value(), value.span())),
                "name" => name = Some(value.value()),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                        "unknown option `{other}`: expected `profile`, `table`, `abi`, `name` or `crate`"
                    ),
                    ))
                }
            }
        }
        if let Some(t) = &mut args.table {
            t.abi = abi;
            t.name = name;
        }
        if matches!(args.target, HookTarget::Syscall(_))
            && matches!(kind, HookKind::Enter2 | HookKind::Return2)
        {
            return Err(syn::Error::new(
                kind_ident.span(),
                "`enter2`/`return2` are for `all` and `unknown`; a named syscall's hook gets typed arguments with `enter`/`return`",
            ));
        }
        Ok(args)
    }
}

/// The prototype a named hook is checked against: the one syscall of that
/// name in the given table, or the bundled profiles' (which must agree on
/// the Rust signature unless `profile =` picks one).
pub fn expected(args: &HookArgs, name: &str, manifest_dir: &Path) -> syn::Result<ResolvedSyscall> {
    let span = args.target_span;
    let owned;
    let tables: &[ResolvedTable] = match &args.table {
        Some(t) => {
            owned = [load(t, manifest_dir)?.1];
            &owned
        }
        None => BUNDLED_TABLES
            .as_ref()
            .map_err(|e| syn::Error::new(span, format!("a bundled table is broken:\n{e}")))?,
    };
    let mut by_signature: BTreeMap<String, (Vec<String>, ResolvedSyscall)> = BTreeMap::new();
    for t in tables {
        if args.profile.as_ref().is_some_and(|p| *p != t.name) {
            continue;
        }
        if let Some(s) = t.syscalls.iter().find(|s| s.name == name) {
            let e = by_signature
                .entry(s.signature())
                .or_insert_with(|| (Vec::new(), s.clone()));
            e.0.push(t.name.clone());
        }
    }
    match by_signature.len() {
        1 => Ok(by_signature.into_values().next().expect("one entry").1),
        0 => {
            let mut all: Vec<&str> = tables
                .iter()
                .flat_map(|t| t.syscalls.iter().map(|s| s.name.as_str()))
                .collect();
            all.sort_unstable();
            all.dedup();
            let near = all
                .iter()
                .filter(|c| edit_distance(c, name) <= 2)
                .take(3)
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>();
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", near.join(" or "))
            };
            let scope = match (&args.profile, &args.table) {
                (Some(p), _) => format!("the `{p}` profile"),
                (None, Some(t)) => format!("`{}`", t.path.value()),
                (None, None) => "any bundled profile".to_string(),
            };
            Err(syn::Error::new(
                span,
                format!("no syscall named `{name}` in {scope}{hint}"),
            ))
        }
        _ => {
            let lines: Vec<String> = by_signature
                .values()
                .map(|(profiles, s)| format!("  {}: {}", profiles.join(", "), s.prototype))
                .collect();
            Err(syn::Error::new(
                span,
                format!(
                    "`{name}` has different arguments in different profiles; pick one with `profile = \"...\"`:\n{}",
                    lines.join("\n")
                ),
            ))
        }
    }
}

/// The parameter list a hook of `kind` for `s` must have, as text, for
/// error messages: `(cpu: &mut dyn Cpu, pc: u64, fd: u32, ...)`.
pub fn expected_signature(s: Option<&ResolvedSyscall>, kind: HookKind) -> String {
    let mut params = vec!["cpu: &mut dyn Cpu".to_string()];
    match (s, kind) {
        (Some(s), _) => {
            params.push("pc: u64".into());
            for a in &s.args {
                if let Some(t) = a.rust_type() {
                    params.push(format!("{}: {t}", a.field));
                }
            }
        }
        (None, HookKind::Enter | HookKind::Return) => {
            params.extend(["pc: u64".into(), "callno: u64".into()])
        }
        (None, _) => params.push("ctx: &SyscallCtx".into()),
    }
    if kind == HookKind::Return {
        params.push("ret: Retval".into());
    }
    format!("fn({})", params.join(", "))
}

/// The whole expansion: the function unchanged, a compile-time check of its
/// signature, and its registration.
pub fn expand(args: &HookArgs, func: &ItemFn, manifest_dir: &Path) -> syn::Result<TokenStream> {
    let krate = crate_tokens(args.krate.as_ref());
    let ident = &func.sig.ident;
    let proto = match &args.target {
        HookTarget::Syscall(name) => Some(expected(args, name, manifest_dir)?),
        _ => None,
    };
    let wanted = expected_signature(proto.as_ref(), args.kind);
    let n_typed = proto
        .as_ref()
        .map(|s| s.args.iter().filter(|a| a.rust_type().is_some()).count());
    let arity = match (n_typed, args.kind) {
        (Some(n), HookKind::Enter) => 2 + n,
        (Some(n), _) => 3 + n,
        (None, HookKind::Enter) => 3,
        (None, HookKind::Return) => 4,
        (None, _) => 2,
    };
    let what = match &proto {
        // Without its number, which differs between profiles.
        Some(s) => format!(
            "`{}`",
            s.prototype
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
        ),
        None => "this hook".to_string(),
    };
    if func.sig.inputs.len() != arity {
        return Err(syn::Error::new(
            func.sig.inputs.span().join(func.sig.ident.span()).unwrap_or(func.sig.ident.span()),
            format!(
                "{} hook for {what} takes {arity} arguments, this one takes {}: expected `{wanted}`",
                args.kind.article_name(),
                func.sig.inputs.len()
            ),
        ));
    }
    if let Some(FnArg::Receiver(r)) = func.sig.inputs.first() {
        return Err(syn::Error::new(
            r.span(),
            "a hook is a free function, not a method",
        ));
    }
    // The types, checked by the compiler: the function must coerce to this
    // fn pointer type. The span points at the user's signature.
    let mut types = vec![quote!(&mut dyn #krate::Cpu)];
    let mut call_args = vec![quote!(cpu)];
    match (&proto, args.kind) {
        (Some(s), _) => {
            types.push(quote!(u64));
            call_args.push(quote!(ctx.pc));
            for (i, a) in s.args.iter().enumerate() {
                if let Some(t) = a.rust_type() {
                    let ty = rust_type_path(t, &krate);
                    types.push(ty.clone());
                    // Inferred from the user's parameter: a wrong type is
                    // reported once, by the fn-pointer check above.
                    call_args.push(quote!(#krate::ArgValue::from_raw(ctx.args[#i])));
                }
            }
        }
        (None, HookKind::Enter | HookKind::Return) => {
            types.extend([quote!(u64), quote!(u64)]);
            call_args.extend([quote!(ctx.pc), quote!(ctx.no)]);
        }
        (None, _) => {
            types.push(quote!(&#krate::SyscallCtx));
            call_args.push(quote!(ctx));
        }
    }
    let is_return = matches!(args.kind, HookKind::Return | HookKind::Return2);
    if args.kind == HookKind::Return {
        types.push(quote!(#krate::Retval));
        call_args.push(quote!(ret));
    }
    let get_ret = if args.kind == HookKind::Return {
        quote!(let ::core::option::Option::Some(ret) = ctx.retval else { return; };)
    } else {
        quote!()
    };
    let sig_span = func.sig.span();
    let check = quote_spanned! {sig_span=>
        const _: fn(#(#types),*) = #ident;
    };
    let target = match &args.target {
        HookTarget::Syscall(name) => quote!(#krate::Target::Syscall(#name)),
        HookTarget::All => quote!(#krate::Target::All),
        HookTarget::Unknown => quote!(#krate::Target::Unknown),
    };
    let when = if is_return {
        quote!(#krate::When::Return)
    } else {
        quote!(#krate::When::Enter)
    };
    let signature = proto
        .as_ref()
        .map(ResolvedSyscall::signature)
        .unwrap_or_default();
    let profile = match &args.profile {
        Some(p) => quote!(::core::option::Option::Some(#p)),
        None => quote!(::core::option::Option::None),
    };
    let adapter = format_ident!("__syscalls2_adapter_{}", ident);
    let fn_name = ident.to_string();
    Ok(quote! {
        #func

        #[doc(hidden)]
        #[allow(non_snake_case, clippy::type_complexity)]
        const _: () = {
            #check
            fn #adapter(cpu: &mut dyn #krate::Cpu, ctx: &#krate::SyscallCtx) {
                #get_ret
                #ident(#(#call_args),*)
            }
            #[#krate::__private::linkme::distributed_slice(#krate::STATIC_HOOKS)]
            #[linkme(crate = #krate::__private::linkme)]
            static HOOK: #krate::StaticHook = #krate::StaticHook {
                target: #target,
                when: #when,
                signature: #signature,
                profile: #profile,
                call: #adapter,
                name: ::core::concat!(::core::module_path!(), "::", #fn_name),
            };
        };
    })
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> HookArgs {
        syn::parse_str(s).unwrap()
    }

    fn write_table(dir: &Path) -> String {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("linux_x64_prototypes.txt");
        std::fs::write(&path, "0 long sys_read(unsigned int fd, char __user *buf, size_t count);\n60 long sys_exit(int error_code);\n").unwrap();
        path.display().to_string()
    }

    #[test]
    fn attribute_arguments() {
        let a = args("sys_read, enter");
        assert_eq!(a.target, HookTarget::Syscall("sys_read".into()));
        assert_eq!(a.kind, HookKind::Enter);
        let a = args("NtReadFile, return, profile = windows7_x86");
        assert_eq!(a.kind, HookKind::Return);
        assert_eq!(a.profile.as_deref(), Some("windows7_x86"));
        assert_eq!(args("all, enter2").target, HookTarget::All);
        assert!(syn::parse_str::<HookArgs>("sys_read, exit").is_err());
        assert!(syn::parse_str::<HookArgs>("sys_read, enter2").is_err());
    }

    #[test]
    fn expected_signatures_read_like_rust() {
        let dir = std::env::temp_dir().join(format!("s2-hook-{}", std::process::id()));
        let path = write_table(&dir);
        let a = args(&format!("sys_read, enter, table = {path:?}"));
        let s = expected(&a, "sys_read", &dir).unwrap();
        assert_eq!(
            expected_signature(Some(&s), HookKind::Enter),
            "fn(cpu: &mut dyn Cpu, pc: u64, fd: u32, buf: GuestPtr, count: u64)"
        );
        assert_eq!(
            expected_signature(Some(&s), HookKind::Return),
            "fn(cpu: &mut dyn Cpu, pc: u64, fd: u32, buf: GuestPtr, count: u64, ret: Retval)"
        );
        assert_eq!(
            expected_signature(None, HookKind::Enter),
            "fn(cpu: &mut dyn Cpu, pc: u64, callno: u64)"
        );
        assert_eq!(
            expected_signature(None, HookKind::Return2),
            "fn(cpu: &mut dyn Cpu, ctx: &SyscallCtx)"
        );
        let e = expected(&a, "sys_raed", &dir).unwrap_err().to_string();
        assert!(
            e.contains("no syscall named `sys_raed`") && e.contains("did you mean `sys_read`"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn expansion_checks_and_registers() {
        let dir = std::env::temp_dir().join(format!("s2-hook2-{}", std::process::id()));
        let path = write_table(&dir);
        let a = args(&format!("sys_read, return, table = {path:?}"));
        let f: ItemFn = syn::parse_str("fn log(cpu: &mut dyn Cpu, pc: u64, fd: u32, buf: GuestPtr, count: u64, ret: Retval) {}").unwrap();
        let out = expand(&a, &f, &dir).unwrap().to_string();
        for needle in [
            "const _ : fn (& mut dyn :: syscalls2 :: Cpu , u64 , u32 , :: syscalls2 :: GuestPtr , u64 , :: syscalls2 :: Retval) = log ;",
            "target : :: syscalls2 :: Target :: Syscall (\"sys_read\")",
            "when : :: syscalls2 :: When :: Return",
            "signature : \"u32,GuestPtr,u64\"",
            "distributed_slice (:: syscalls2 :: STATIC_HOOKS)",
            ":: syscalls2 :: ArgValue :: from_raw (ctx . args [0usize])",
        ] {
            assert!(out.contains(needle), "missing `{needle}` in\n{out}");
        }
        let f: ItemFn = syn::parse_str("fn log(cpu: &mut dyn Cpu, pc: u64, fd: u32) {}").unwrap();
        let e = expand(&a, &f, &dir).unwrap_err().to_string();
        assert!(e.contains("a return hook for `long sys_read(unsigned int fd, char __user *buf, size_t count);` takes 6 arguments, this one takes 3"), "{e}");
        assert!(
            e.contains(
                "fn(cpu: &mut dyn Cpu, pc: u64, fd: u32, buf: GuestPtr, count: u64, ret: Retval)"
            ),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("sys_read", "sys_raed"), 2);
        assert_eq!(edit_distance("a", "a"), 0);
    }
}
