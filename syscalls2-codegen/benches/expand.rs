//! The compile-time cost of `syscall_table!`, without the compiler: parse,
//! resolve and expand each bundled table, largest first.
//!
//! `cargo bench -p syscalls2-codegen --bench expand`

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use syscalls2_codegen::table::{expand, load, TableArgs};

fn tables() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../syscalls2-prototypes/tables");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    files
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("syscall_table");
    for path in tables().into_iter().take(3) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let args: TableArgs = syn::parse_str(&format!("{:?}", path.display().to_string())).unwrap();
        group.bench_function(format!("parse+resolve {name}"), |b| {
            b.iter(|| load(&args, Path::new("/")).unwrap())
        });
        group.bench_function(format!("parse+resolve+expand {name}"), |b| {
            b.iter(|| {
                let (p, t) = load(&args, Path::new("/")).unwrap();
                expand(&t, Some(&p), &quote::quote!(::syscalls2))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
