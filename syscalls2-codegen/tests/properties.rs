//! Property tests of the table parser and of `syscall_table!`'s expansion
//! (the codegen functions the macro calls, called as plain functions):
//! any text parses or fails with an error at a line and column of that
//! text; any table that resolves expands to Rust that parses, with no two
//! items of one namespace sharing a name (what would be a rustc error with
//! no table line).

use proptest::prelude::*;
use quote::quote;
use std::collections::HashSet;
use syscalls2_abi::Abi;
use syscalls2_codegen::table::{expand, resolve_text};
use syscalls2_prototypes::{parse_table, resolve};

/// Words a table may use where names go: keywords, names that clash
/// after camel-casing, the expansion's own item names, ordinary ones.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "fn",
            "type",
            "self",
            "Self",
            "crate",
            "super",
            "r#fn",
            "_",
            "_1",
            "call",
            "Call",
            "TABLE",
            "SYSCALLS",
            "sys_read",
            "sys__read",
            "SysRead",
            "read",
            "raw",
            "cpu",
            "pc",
            "ctx",
            "args",
            "break",
            "yield",
            "async",
            "dyn",
            "try",
            "union",
            "nr",
            "info",
            "a",
            "A",
            "a_1",
            "NtReadFile",
            "nt_read_file",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
    ]
}

fn ctype() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "int",
        "unsigned int",
        "long",
        "unsigned long",
        "size_t",
        "loff_t",
        "u64",
        "umode_t",
        "const char __user *",
        "char *",
        "void *",
        "struct stat *",
        "const char *const *",
        "HANDLE",
        "PULONG",
        "PUNICODE_STRING",
        "BOOLEAN",
    ])
}

/// A prototype line: a number (sometimes huge), a name, arguments.
fn prototype() -> impl Strategy<Value = String> {
    (
        prop_oneof![0u64..64, any::<u64>()],
        name(),
        proptest::collection::vec((ctype(), proptest::option::of(name())), 0..7),
        proptest::option::of(proptest::sample::select(vec![
            "// @noreturn\n",
            "// @doublereturn\n",
            "// @noreturn-on-success\n",
            "// @bogus\n",
        ])),
    )
        .prop_map(|(no, name, args, note)| {
            let args: Vec<String> = args
                .into_iter()
                .map(|(t, n)| match n {
                    Some(n) => format!("{t} {n}"),
                    None => t.to_string(),
                })
                .collect();
            let args = if args.is_empty() {
                "void".to_string()
            } else {
                args.join(", ")
            };
            format!("{}{no} long {name}({args});", note.unwrap_or(""))
        })
}

fn line_ending() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["\n", "\r\n", "\r"])
}

fn table() -> impl Strategy<Value = String> {
    proptest::collection::vec((prototype(), line_ending()), 1..12)
        .prop_map(|lines| lines.into_iter().map(|(l, e)| l + e).collect())
}

fn abi() -> impl Strategy<Value = Abi> {
    proptest::sample::select(syscalls2_abi::ALL.to_vec())
}

/// The lines of `text` as the grammar ends them (`\n`, `\r\n`, `\r`).
fn lines_of(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\n', '\r']) {
        out.push(&rest[..i]);
        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + skip..];
    }
    out.push(rest);
    out
}

/// Names declared twice in one module and namespace of the expansion.
fn clashes(items: &[syn::Item], path: &str, out: &mut Vec<String>) {
    let mut types = HashSet::new();
    let mut values = HashSet::new();
    for item in items {
        let (ns, ident) = match item {
            syn::Item::Struct(s) => (&mut types, s.ident.to_string()),
            syn::Item::Enum(e) => (&mut types, e.ident.to_string()),
            syn::Item::Type(t) => (&mut types, t.ident.to_string()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    clashes(inner, &format!("{path}::{}", m.ident), out);
                }
                (&mut types, m.ident.to_string())
            }
            syn::Item::Fn(f) => (&mut values, f.sig.ident.to_string()),
            syn::Item::Const(c) => (&mut values, c.ident.to_string()),
            syn::Item::Static(s) => (&mut values, s.ident.to_string()),
            _ => continue,
        };
        if !ns.insert(ident.clone()) {
            out.push(format!("{path}::{ident}"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_fails_at_a_place_in_it(text in "(\\PC|[\r\n();,*])*") {
        match parse_table(&text) {
            Ok(t) => {
                let lines = lines_of(&text);
                for p in &t.prototypes {
                    prop_assert_eq!(p.text.as_str(), lines[p.line - 1]);
                }
                let _ = t.validate();
            }
            Err(e) => {
                let lines = lines_of(&text);
                prop_assert!(e.line >= 1 && e.line <= lines.len(), "{e}");
                prop_assert_eq!(e.text.as_str(), lines[e.line - 1]);
                prop_assert!(e.column >= 1 && e.column <= e.text.chars().count() + 1, "{e}");
            }
        }
    }

    #[test]
    fn any_table_resolves_and_expands_to_rust_or_fails_at_a_line(
        src in table(),
        abi in abi(),
    ) {
        let lines = lines_of(&src);
        match resolve_text(&src, "t.txt", abi, "t") {
            Err(e) => {
                // Every error names a line of the table.
                for l in e.lines().filter(|l| l.starts_with("t.txt:")) {
                    let line: usize = l["t.txt:".len()..]
                        .split(':')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    prop_assert!(line >= 1 && line <= lines.len(), "{l}");
                }
            }
            Ok(table) => {
                let out = expand(&table, None, &quote!(::syscalls2));
                let file: syn::File = syn::parse2(out).map_err(|e| {
                    TestCaseError::fail(format!("not Rust: {e}"))
                })?;
                let mut dup = Vec::new();
                clashes(&file.items, "", &mut dup);
                prop_assert!(dup.is_empty(), "declared twice: {dup:?}\n{src}");
            }
        }
    }
}

#[test]
fn a_long_table_parses_with_every_line_in_place() {
    // 20,000 lines (locating each prototype by scanning from the start of
    // the file made this quadratic: 40k lines took 11 s in release).
    let n = 20_000;
    let src: String = (0..n)
        .map(|i| format!("{i} long sys_f{i}(int a);\n"))
        .collect();
    let t = parse_table(&src).unwrap();
    assert_eq!(t.prototypes.len(), n);
    assert_eq!(t.prototypes[n - 1].line, n);
    assert_eq!(
        t.prototypes[n - 1].text,
        format!("{} long sys_f{}(int a);", n - 1, n - 1)
    );
    let r = resolve(&t, syscalls2_abi::linux_x64::ABI, "t").unwrap();
    assert_eq!(r.syscalls.len(), n);
}
