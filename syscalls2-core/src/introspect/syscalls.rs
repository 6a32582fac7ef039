//! What the calls themselves reveal about who makes them.
//!
//! Tracked per address space (a process) and, within one, per stack (a
//! thread):
//!
//! | the call | reveals |
//! |---|---|
//! | `getpid` | its return: the pid |
//! | `getppid` | its return: the parent's pid |
//! | `gettid` | its return: the calling thread's tid |
//! | `set_tid_address` | its return: the calling thread's tid, and the pid: a C library calls it once, as a process starts with one thread (another pid than the one known there: a new process in an address space a killed one left) |
//! | a call that names its caller ([`Introspect::renamed`]: `prctl(PR_SET_NAME)`) | the new name |
//! | a fork-like call (the table's `@doublereturn`: fork, vfork, clone, clone3) | the parent's return: the child's pid (or a new thread's tid); the child's return: where the child runs. The child inherits the parent's name; its parent is the caller |
//! | an exec-like call (`@noreturn-on-success`, with a `filename` argument) | the new name, the file's base name cut to 15 bytes; the process keeps its pid and parent, and its next call on that vCPU from an address space no process is known in is the new image's (calls from known ones in between are other processes'; where a killed process left the image's address space known, the image's `set_tid_address` returning the pid tells); the old one is gone (it may be reused) |
//! | `exit_group` | the address space is gone (it may be reused) |
//!
//! A process or thread is known only from such calls: one that made none
//! since tracing began has no pid. A single-threaded process's only thread
//! has the pid as its tid (a fork's child, and a process after `execve`,
//! are single-threaded). Limits, all of them answered by the kernel
//! method: `vfork`'s child, which runs in its parent's address space until
//! it execs, is taken for a thread; threads that made none of the calls
//! above are not seen; a process killed by a signal leaves its address
//! space known until another process's fork, exec or `set_tid_address`
//! there says who runs in it.

use super::{comm_of, Introspect, Process, Source};
use crate::context::SyscallCtx;
use std::collections::HashMap;
use syscalls2_abi::{ArgClass, Cpu, CpuExt};

/// How far (bytes) a thread's stack pointer may be from where it was last
/// seen and still be taken for the same thread.
const THREAD_SPAN: u64 = 1 << 20;

/// Open fork-like calls kept at most (the oldest are forgotten beyond).
const FORKS_KEPT: usize = 1024;

/// What is known about one address space.
#[derive(Clone, Debug, Default)]
struct Known {
    pid: Option<u32>,
    ppid: Option<u32>,
    comm: Option<String>,
    /// Threads by the stack pointer they were last seen with.
    threads: Vec<(u64, u32)>,
}

impl Known {
    fn thread(&mut self, sp: u64) -> Option<&mut (u64, u32)> {
        self.threads
            .iter_mut()
            .filter(|(at, _)| at.abs_diff(sp) < THREAD_SPAN)
            .min_by_key(|(at, _)| at.abs_diff(sp))
    }

    fn set_thread(&mut self, sp: u64, tid: u32) {
        match self.thread(sp) {
            Some(t) => *t = (sp, tid),
            None => self.threads.push((sp, tid)),
        }
    }
}

/// A fork-like call between its enter and both its returns.
#[derive(Clone, Debug)]
struct Fork {
    parent: u64,
    parent_sp: u64,
    /// The new pid or tid (the parent's return).
    id: Option<u32>,
    /// Where the child returned: address space and stack (its new
    /// image's, when the child exec'd before the parent's return).
    child: Option<(u64, u64)>,
    /// The name the child's exec gave it before the fork settled.
    exec_comm: Option<String>,
}

/// Process attribution from the calls' own results (see the [module
/// docs](self)).
#[derive(Debug, Default)]
pub struct SyscallDerived {
    procs: HashMap<u64, Known>,
    forks: HashMap<u64, Fork>,
    /// Per vCPU: the exec in flight (its address space, the new name).
    /// A map, not a vector by vCPU number: any `u32` is a vCPU number.
    execs: HashMap<u32, (u64, String)>,
    /// Per vCPU: the address space whose process called `exit_group`,
    /// forgotten at that vCPU's next call (its `exit_group` is still its
    /// own), unless a new process is known there first.
    exiting: HashMap<u32, u64>,
}

impl SyscallDerived {
    /// Whether a process is known in `asid` (an entry with a pid or a name).
    fn is_known(&self, asid: u64) -> bool {
        self.procs
            .get(&asid)
            .is_some_and(|k| k.pid.is_some() || k.comm.is_some())
    }

    /// The exec made on `vcpu` succeeded, its new image runs in `asid` on
    /// stack `sp`: the process moves there with its new name; its old
    /// address space is gone. A fork whose child this is and whose parent
    /// has not returned yet will settle there.
    fn exec_lands(&mut self, vcpu: u32, asid: u64, sp: u64) {
        let Some((from, comm)) = self.execs.remove(&vcpu) else {
            return;
        };
        let old = self.procs.remove(&from).unwrap_or_default();
        self.exiting.retain(|_, a| *a != asid);
        for fork in self.forks.values_mut() {
            if fork.id.is_none() && fork.child.is_some_and(|(a, _)| a == from) {
                fork.child = Some((asid, sp));
                fork.exec_comm = Some(comm.clone());
            }
        }
        self.procs.insert(
            asid,
            Known {
                comm: Some(comm),
                threads: Vec::new(),
                ..old
            },
        );
    }

    /// Links a fork's child once both returns are seen.
    fn settle(&mut self, seq: u64) {
        let Some(Fork {
            parent,
            parent_sp,
            id: Some(id),
            child: Some((asid, sp)),
            exec_comm,
        }) = self.forks.get(&seq).cloned()
        else {
            return;
        };
        self.forks.remove(&seq);
        let mut from = self.procs.get(&parent).cloned().unwrap_or_default();
        if asid == parent {
            // A thread (or vfork's child): the parent thread stays known by
            // its stack.
            let tid = from.thread(parent_sp).map(|t| t.1).or(from.pid);
            let known = self.procs.entry(asid).or_default();
            if let Some(tid) = tid {
                if known.threads.is_empty() {
                    known.set_thread(parent_sp, tid);
                }
            }
            known.set_thread(sp, id);
        } else {
            from.threads.clear();
            self.exiting.retain(|_, a| *a != asid);
            self.procs.insert(
                asid,
                Known {
                    pid: Some(id),
                    ppid: from.pid,
                    comm: exec_comm.or(from.comm),
                    threads: Vec::new(),
                },
            );
        }
    }
}

impl Introspect for SyscallDerived {
    fn current(&mut self, _cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Process> {
        let known = self.procs.get_mut(&ctx.asid)?;
        let single = known.threads.is_empty();
        let tid = match known.thread(ctx.sp) {
            Some(t) => {
                t.0 = ctx.sp;
                Some(t.1)
            }
            None if single => known.pid,
            None => None,
        };
        Some(Process {
            pid: known.pid,
            tid,
            ppid: known.ppid,
            comm: known.comm.clone(),
            source: Source::Syscalls,
        })
        .filter(|p| p.pid.is_some() || p.comm.is_some())
    }

    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        if let Some(gone) = self.exiting.remove(&ctx.vcpu) {
            self.procs.remove(&gone);
        }
        // The first call of a new image on the vCPU that made an exec: a
        // call from an address space no process is known in. A known one is
        // another process the kernel ran first (its calls are its own), or
        // one a process left without an exit_group, which the new image's
        // `set_tid_address` tells (see `ret`).
        if let Some((from, _)) = self.execs.get(&ctx.vcpu) {
            if ctx.asid != *from && !self.is_known(ctx.asid) {
                self.exec_lands(ctx.vcpu, ctx.asid, ctx.sp);
            }
        }
        let Some(info) = ctx.info else { return };
        if info.returns.double_return {
            if self.forks.len() >= FORKS_KEPT {
                self.forks.clear();
            }
            self.forks.insert(
                ctx.seq,
                Fork {
                    parent: ctx.asid,
                    parent_sp: ctx.sp,
                    id: None,
                    child: None,
                    exec_comm: None,
                },
            );
        } else if info.returns.noreturn_on_success {
            let file = info
                .args
                .iter()
                .position(|a| a.name == "filename" && a.class == ArgClass::CStr)
                .and_then(|i| cpu.read_cstr(ctx.args[i], 4096).ok());
            if let Some(path) = file {
                let base = path.rsplit(|&b| b == b'/').next().unwrap_or(&path);
                self.execs.insert(ctx.vcpu, (ctx.asid, comm_of(base)));
            }
        } else if info.returns.noreturn && info.name == "sys_exit_group" {
            self.exiting.insert(ctx.vcpu, ctx.asid);
        }
    }

    fn ret(&mut self, _cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let (Some(info), Some(ret)) = (ctx.info, ctx.retval) else {
            return;
        };
        if ret.is_error() {
            self.forks.remove(&ctx.seq);
            if info.returns.noreturn_on_success {
                self.execs.remove(&ctx.vcpu);
            }
            return;
        }
        let Ok(value) = u32::try_from(ret.value) else {
            return;
        };
        if info.returns.double_return {
            if let Some(fork) = self.forks.get_mut(&ctx.seq) {
                if ctx.child {
                    fork.child = Some((ctx.asid, ctx.sp));
                } else {
                    fork.id = Some(value);
                }
                self.settle(ctx.seq);
            }
            return;
        }
        match info.name {
            "sys_getpid" => self.procs.entry(ctx.asid).or_default().pid = Some(value),
            "sys_getppid" => self.procs.entry(ctx.asid).or_default().ppid = Some(value),
            "sys_gettid" => {
                let known = self.procs.entry(ctx.asid).or_default();
                known.set_thread(ctx.sp, value);
            }
            "sys_set_tid_address" => {
                // A process starting: its one thread's tid is its pid. In an
                // address space known as another's, it may be the image of
                // an exec still waiting for its first call: the one whose
                // process has this pid.
                let here = self.procs.get(&ctx.asid).and_then(|k| k.pid);
                if here.is_some_and(|p| p != value) {
                    let exec = self.execs.iter().find_map(|(&vcpu, (from, _))| {
                        let pid = self.procs.get(from).and_then(|k| k.pid);
                        (pid == Some(value)).then_some(vcpu)
                    });
                    if let Some(vcpu) = exec {
                        self.exec_lands(vcpu, ctx.asid, ctx.sp);
                    }
                }
                let known = self.procs.entry(ctx.asid).or_default();
                if known.pid.is_some_and(|p| p != value) {
                    // Another process than the one known here: the address
                    // space was left by one that did not exit_group.
                    *known = Known::default();
                    self.exiting.retain(|_, a| *a != ctx.asid);
                }
                known.pid = Some(value);
                known.set_thread(ctx.sp, value);
            }
            _ => {}
        }
    }

    fn renamed(&mut self, ctx: &SyscallCtx, comm: &[u8]) {
        self.procs.entry(ctx.asid).or_default().comm = Some(comm_of(comm));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::testing::FakeCpu;
    use super::*;
    use crate::meta::{SyscallInfo, Table};
    use syscalls2_abi::{ArgDir, ArgInfo, ReturnKind, Retval};

    const FILENAME: ArgInfo = ArgInfo {
        name: "filename",
        ctype: "const char *",
        class: ArgClass::CStr,
        pointee: "",
        slot: 0,
        slots: 1,
        dir: ArgDir::Unknown,
        pointee_class: None,
    };

    const fn info(
        no: u64,
        name: &'static str,
        args: &'static [ArgInfo],
        returns: ReturnKind,
    ) -> SyscallInfo {
        SyscallInfo {
            no,
            name,
            rettype: "long",
            args,
            returns,
            signature: "",
            prototype: "",
        }
    }

    const PLAIN: ReturnKind = ReturnKind {
        noreturn: false,
        noreturn_on_success: false,
        double_return: false,
    };

    /// Hand-written entries (the x86-64 numbers).
    static CALLS: [SyscallInfo; 7] = [
        info(39, "sys_getpid", &[], PLAIN),
        info(
            56,
            "sys_clone",
            &[],
            ReturnKind {
                double_return: true,
                ..PLAIN
            },
        ),
        info(
            59,
            "sys_execve",
            &[FILENAME],
            ReturnKind {
                noreturn_on_success: true,
                ..PLAIN
            },
        ),
        info(110, "sys_getppid", &[], PLAIN),
        info(186, "sys_gettid", &[], PLAIN),
        info(218, "sys_set_tid_address", &[], PLAIN),
        info(
            231,
            "sys_exit_group",
            &[],
            ReturnKind {
                noreturn: true,
                ..PLAIN
            },
        ),
    ];

    static TABLE: Table = Table {
        name: "test",
        abi: syscalls2_abi::linux_x64::ABI,
        syscalls: &CALLS,
        by_name_index: &[],
    };

    /// A call of `name` in `asid` with stack `sp`; returned with `ret`.
    pub(crate) fn ctx(name: &str, asid: u64, sp: u64, ret: Option<i64>, child: bool) -> SyscallCtx {
        let info = CALLS.iter().find(|i| i.name.ends_with(name)).unwrap();
        SyscallCtx {
            seq: 0,
            no: info.no,
            pc: 0,
            asid,
            retaddr: 0,
            sp,
            vcpu: 0,
            args: {
                let mut a = [0; syscalls2_abi::MAX_SLOTS];
                a[0] = 0x5000;
                a
            },
            args_error: None,
            info: Some(info),
            table: &TABLE,
            abi: TABLE.abi,
            retval: ret.map(Retval::linux),
            child,
        }
    }

    fn call(osi: &mut SyscallDerived, cpu: &mut FakeCpu, c: SyscallCtx) -> Option<Process> {
        if c.retval.is_none() {
            osi.enter(cpu, &c);
        } else {
            osi.ret(cpu, &c);
        }
        osi.current(cpu, &c)
    }

    fn ids(p: Option<Process>) -> (Option<u32>, Option<u32>, Option<u32>, Option<String>) {
        p.map(|p| (p.pid, p.tid, p.ppid, p.comm))
            .unwrap_or_default()
    }

    #[test]
    fn a_fork_names_its_child_and_an_exec_renames_it() {
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        cpu.put(0x5000, b"/bin/cat\0");
        assert_eq!(
            call(
                &mut osi,
                &mut cpu,
                ctx("getpid", 0xa000, 0x7f00, None, false)
            ),
            None
        );
        let p = call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7f00, Some(40), false),
        );
        assert_eq!(ids(p), (Some(40), Some(40), None, None));
        call(
            &mut osi,
            &mut cpu,
            ctx("getppid", 0xa000, 0x7f00, Some(1), false),
        );
        // fork: the parent's return (pid 41), then the child's, in a new
        // address space.
        call(
            &mut osi,
            &mut cpu,
            ctx("clone", 0xa000, 0x7f00, None, false),
        );
        call(
            &mut osi,
            &mut cpu,
            ctx("clone", 0xa000, 0x7f00, Some(41), false),
        );
        let child = call(
            &mut osi,
            &mut cpu,
            ctx("clone", 0xb000, 0x7f00, Some(0), true),
        );
        assert_eq!(ids(child), (Some(41), Some(41), Some(40), None));
        // The child execs: the next call, from a new address space, is cat's.
        call(
            &mut osi,
            &mut cpu,
            ctx("execve", 0xb000, 0x7f00, None, false),
        );
        let cat = call(
            &mut osi,
            &mut cpu,
            ctx("getppid", 0xc000, 0x7e00, None, false),
        );
        assert_eq!(ids(cat), (Some(41), Some(41), Some(40), Some("cat".into())));
        // exit_group forgets the address space (it may be reused).
        call(
            &mut osi,
            &mut cpu,
            ctx("exit_group", 0xc000, 0x7e00, None, false),
        );
        assert_eq!(
            call(
                &mut osi,
                &mut cpu,
                ctx("getppid", 0xc000, 0x7e00, None, false)
            ),
            None
        );
    }

    #[test]
    fn threads_are_told_apart_by_stack() {
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7fff_0000, Some(40), false),
        );
        // A thread's clone: the child returns on its own stack, same space;
        // the child's return comes first here.
        let mut c = ctx("clone", 0xa000, 0x7fff_0000, None, false);
        c.seq = 7;
        call(&mut osi, &mut cpu, c);
        let mut child = ctx("clone", 0xa000, 0x7f00_0000, Some(0), true);
        child.seq = 7;
        call(&mut osi, &mut cpu, child);
        let mut parent = ctx("clone", 0xa000, 0x7fff_0000, Some(42), false);
        parent.seq = 7;
        call(&mut osi, &mut cpu, parent);
        let t = call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7f00_0100, None, false),
        );
        assert_eq!(ids(t), (Some(40), Some(42), None, None));
        let main = call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7fff_0200, None, false),
        );
        assert_eq!(ids(main), (Some(40), Some(40), None, None));
    }

    #[test]
    fn a_failed_exec_keeps_the_name() {
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        cpu.put(0x5000, b"/bin/missing\0");
        call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7f00, Some(40), false),
        );
        call(
            &mut osi,
            &mut cpu,
            ctx("execve", 0xa000, 0x7f00, None, false),
        );
        call(
            &mut osi,
            &mut cpu,
            ctx("execve", 0xa000, 0x7f00, Some(-2), false),
        );
        let p = call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xd000, 0x7f00, None, false),
        );
        assert_eq!(
            p, None,
            "another process's call is not taken for the exec's"
        );
    }

    #[test]
    fn an_exec_into_a_killed_process_s_address_space_is_told_by_set_tid_address() {
        // As on the armhf guest: pid 30 was killed in 0xb000 (no exit_group);
        // pid 40 in 0xa000 execs cat, whose image gets 0xb000.
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        cpu.put(0x5000, b"/bin/cat\0");
        let steps = [
            ("getpid", 0xb000, 0x7f00, Some(30)),
            ("getpid", 0xa000, 0x7f00, Some(40)),
            ("getppid", 0xa000, 0x7f00, Some(1)),
            ("execve", 0xa000, 0x7f00, None),
            // The new image's first call: 0xb000 is not told yet.
            ("gettid", 0xb000, 0x7e00, None),
            // The C library's start says who runs in 0xb000: the exec's
            // process, with its parent and its new name.
            ("set_tid_address", 0xb000, 0x7e00, Some(40)),
            ("getppid", 0xb000, 0x7e40, None),
            // The old address space is gone with the exec.
            ("gettid", 0xa000, 0x7f00, None),
        ];
        let seen: Vec<_> = steps
            .iter()
            .map(|&(name, asid, sp, ret)| {
                ids(call(&mut osi, &mut cpu, ctx(name, asid, sp, ret, false)))
            })
            .collect();
        assert_eq!(seen[4].0, Some(30), "the known one, until told");
        let cat = (Some(40), Some(40), Some(1), Some("cat".to_string()));
        assert_eq!(seen[5], cat);
        assert_eq!(seen[6], cat);
        assert_eq!(seen[7], (None, None, None, None));
    }

    #[test]
    fn another_process_between_an_exec_and_its_image_keeps_its_own_calls() {
        // As on the armhf guest: pid 89 execs /proc/self/exe; before the
        // new image's first call, the vCPU runs its parent, pid 88 (wait4).
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        cpu.put(0x5000, b"/proc/self/exe\0");
        let steps = [
            ("getpid", 0xc000, 0x7f00, Some(88)),
            ("getpid", 0xa000, 0x7f00, Some(89)),
            ("getppid", 0xa000, 0x7f00, Some(88)),
            ("execve", 0xa000, 0x7f00, None),
            ("getpid", 0xc000, 0x7f00, None),
            // The new image, in an address space no process is known in.
            ("getppid", 0xd000, 0x7e00, None),
        ];
        let seen: Vec<_> = steps
            .iter()
            .map(|&(name, asid, sp, ret)| {
                ids(call(&mut osi, &mut cpu, ctx(name, asid, sp, ret, false)))
            })
            .collect();
        assert_eq!(seen[4], (Some(88), Some(88), None, None));
        assert_eq!(
            seen[5],
            (Some(89), Some(89), Some(88), Some("exe".to_string()))
        );
    }

    /// A fork's steps, with the fork's sequence number.
    fn fork_step(name: &str, asid: u64, ret: Option<i64>, child: bool) -> SyscallCtx {
        let mut c = ctx(name, asid, 0x7f00, ret, child);
        c.seq = 5;
        c
    }

    /// The shell (pid 1, 0xa000) forks; its child returns first (0xb000)
    /// and execs cat, as on the riscv64 guest. Then `steps`, each a call's
    /// enter or return, and who each is said to be made by.
    fn fork_exec_then(steps: &[SyscallCtx]) -> Vec<Option<Process>> {
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        cpu.put(0x5000, b"/bin/cat\0");
        let start = [
            ctx("getpid", 0xa000, 0x7f00, Some(1), false),
            fork_step("clone", 0xa000, None, false),
            fork_step("clone", 0xb000, Some(0), true),
            ctx("execve", 0xb000, 0x7f00, None, false),
        ];
        for c in start {
            call(&mut osi, &mut cpu, c);
        }
        steps.iter().map(|c| call(&mut osi, &mut cpu, *c)).collect()
    }

    #[test]
    fn a_process_running_while_an_exec_loads_is_not_taken_for_its_image() {
        // The shell runs (its own return, then another call) before the
        // new image's first call.
        let seen = fork_exec_then(&[
            fork_step("clone", 0xa000, Some(41), false),
            ctx("getppid", 0xa000, 0x7f00, None, false),
            ctx("getppid", 0xc000, 0x7e00, None, false),
        ]);
        assert_eq!(ids(seen[1].clone()), (Some(1), Some(1), None, None));
        assert_eq!(
            ids(seen[2].clone()),
            (Some(41), Some(41), Some(1), Some("cat".into()))
        );
    }

    #[test]
    fn a_child_that_execs_before_its_parent_returns_settles_in_its_new_image() {
        let seen = fork_exec_then(&[
            ctx("getppid", 0xc000, 0x7e00, None, false),
            fork_step("clone", 0xa000, Some(41), false),
            ctx("getppid", 0xc000, 0x7e00, None, false),
            ctx("getppid", 0xb000, 0x7f00, None, false),
        ]);
        assert_eq!(ids(seen[0].clone()), (None, None, None, Some("cat".into())));
        assert_eq!(
            ids(seen[2].clone()),
            (Some(41), Some(41), Some(1), Some("cat".into()))
        );
        assert_eq!(seen[3], None, "the child's first address space is gone");
    }

    #[test]
    fn a_rename_names_the_process() {
        let mut osi = SyscallDerived::default();
        let mut cpu = FakeCpu::default();
        call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7f00, Some(40), false),
        );
        osi.renamed(
            &ctx("getpid", 0xa000, 0x7f00, Some(0), false),
            b"a-very-long-name-cut\0",
        );
        let p = call(
            &mut osi,
            &mut cpu,
            ctx("getpid", 0xa000, 0x7f00, None, false),
        );
        assert_eq!(ids(p).3.as_deref(), Some("a-very-long-nam"));
    }
}
