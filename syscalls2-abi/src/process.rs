//! Who is running: the process and thread that made a call, as a guest
//! introspection layer answers it (the layer itself lives in
//! `syscalls2_core::introspect`; this crate has the answer's type so that a
//! [`Cpu`](crate::Cpu) can give it to hooks).

/// Which method gave a [`Process`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The guest kernel's own data (the running task's `task_struct`).
    Kernel,
    /// What the traced calls revealed (fork returns, getpid, execve).
    Syscalls,
}

impl Source {
    /// Its name in events (`"kernel"`, `"syscalls"`).
    pub fn name(self) -> &'static str {
        match self {
            Source::Kernel => "kernel",
            Source::Syscalls => "syscalls",
        }
    }
}

/// The process and thread running on a vCPU, as far as its [`Source`]
/// knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Process {
    /// The process id (Linux: the thread group id, what `getpid` returns).
    pub pid: Option<u32>,
    /// The thread id (what `gettid` returns; the pid for the main thread).
    pub tid: Option<u32>,
    /// The parent's process id (what `getppid` returns).
    pub ppid: Option<u32>,
    /// The process name (Linux `comm`: at most 15 bytes, set by
    /// `execve` and `prctl(PR_SET_NAME)`).
    pub comm: Option<String>,
    /// Which method gave this.
    pub source: Source,
}
