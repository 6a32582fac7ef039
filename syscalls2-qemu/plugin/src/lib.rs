//! The default syscalls2 QEMU plugin. Everything is in `syscalls2-qemu`;
//! see its crate documentation for the arguments.
//!
//! ```text
//! cargo build --release -p syscalls2-qemu-plugin
//! qemu-system-x86_64 ... -plugin target/release/libsyscalls2_qemu_plugin.so,log=trace.txt
//! ```

syscalls2_qemu::plugin!();
