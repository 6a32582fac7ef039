//! syscalls2
