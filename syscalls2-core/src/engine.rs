//! The engine: decode each syscall, run its hooks, pair its return.
//!
//! A backend drives it with two calls:
//!
//! - [`Engine::on_syscall`] at every executed syscall instruction: decodes
//!   the number and arguments, runs the enter hooks, and records a pending
//!   return (unless the call never returns);
//! - [`Engine::on_block`] at the start of a block that may be a return site
//!   ([`Engine::is_return_site`] is the cheap filter, and a backend that
//!   instruments at translation time calls in only where it says yes): finds
//!   the pending entry of this thread, reads the return value, and runs the
//!   return hooks with the entry's arguments.
//!
//! Pairing is right where PANDA is known to be wrong: fork, vfork and clone
//! return in the parent and in the child (PANDA #392); a failed execve
//! returns and is reported, a successful one leaves nothing behind (#561);
//! threads waiting at one return site are told apart by stack pointer; a
//! restarted call replaces its interrupted entry; the store is bounded; an
//! unknown number goes to the unknown-syscall hooks (#1128).

use crate::args::{Syscall, SyscallArgs};
use crate::context::SyscallCtx;
use crate::hooks::{DynHook, Hook, HookId, Target, When, STATIC_HOOKS};
use crate::meta::{SyscallInfo, Table};
use crate::pending::{Match, Pending};
use std::collections::VecDeque;
use std::fmt;
use syscalls2_abi::{Abi, Retval, SyscallInsn, MAX_SLOTS};
use syscalls2_abi::{Cpu, Process};

/// The default bound on pending returns.
pub const DEFAULT_CAPACITY: usize = 4096;

/// How many retired calls (see [`Stats::exec_succeeded`]) stay findable.
const RETIRED_CAPACITY: usize = 64;

/// A call retired as successful, kept in case it returns after all.
struct Retired {
    ctx: SyscallCtx,
    profile: u8,
    index: u16,
}

/// Numbers below this are looked up in a dense array; above it (ARM's
/// private calls at 0xf0000, win32k) by binary search.
const DENSE_LIMIT: u64 = 8192;

/// How many returns not yet followed by a syscall of their vCPU or thread
/// are kept to recognise their blocks run again ([`LastReturn`]); a vCPU
/// keeps more than one only while it switches threads without a syscall.
const LAST_RETURNS_KEPT: usize = 64;

/// Counters of what the engine saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "fixture", derive(serde::Serialize, serde::Deserialize))]
pub struct Stats {
    /// Syscall instructions decoded.
    pub enters: u64,
    /// Returns paired with their enter (a fork counts two).
    pub returns: u64,
    /// Enters whose number the table lacks.
    pub unknown: u64,
    /// Enters of calls that never return (no pending entry was made).
    pub noreturn: u64,
    /// Pending entries evicted, oldest first, because the store was full.
    pub evicted: u64,
    /// Pending entries replaced by a new enter of the same thread at the same
    /// site: the call was interrupted (a signal) and restarted, or its
    /// return was missed.
    pub restarted: u64,
    /// Calls that return only on failure (`execve`, `NtContinue`) retired as
    /// successful: their vCPU made another syscall before they returned.
    pub exec_succeeded: u64,
    /// Of those, the ones that returned after all (a failure that blocked
    /// while another thread ran on the vCPU): paired and reported late, and
    /// no longer counted in `exec_succeeded`.
    pub late_returns: u64,
    /// Syscall instructions whose number or return site could not be read.
    pub decode_errors: u64,
    /// Return-site blocks run again in the same thread before it made
    /// another syscall (the block's first instruction faulted, a page of a
    /// fork's child copied on write, and the block was entered anew): not
    /// returns, and not taken for another call's (see [`LastReturn`]).
    #[cfg_attr(feature = "fixture", serde(default))]
    pub rerun_return_blocks: u64,
}

/// The last return a vCPU took, until a syscall of that thread enters.
///
/// A block at a return site can run twice for one return: its first
/// instruction faults (a fork's child writing its stack, whose page is
/// copied on write), and the block is entered again after the fault. The
/// second run sees the same address space, stack pointer and result, so
/// with a result of 0 it would look like the return of another call: the
/// child of another fork at that site still waiting for its child (every
/// call of a statically linked busybox returns through one wrapper), which
/// then loses its own child. A block at the same place in the same thread,
/// before that vCPU or that thread (the same address space and stack
/// pointer) enters a syscall, is that rerun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LastReturn {
    vcpu: u32,
    asid: u64,
    pc: u64,
    sp: u64,
}

/// Why a typed closure could not be registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookError {
    /// The syscall's table is neither the engine's profile nor its compat
    /// profile.
    NotInProfile {
        /// The syscall.
        syscall: &'static str,
        /// Its table.
        table: &'static str,
        /// The engine's profile.
        profile: &'static str,
    },
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookError::NotInProfile {
                syscall,
                table,
                profile,
            } => write!(
                f,
                "{syscall} is from the {table} table, but this engine runs {profile}"
            ),
        }
    }
}

impl std::error::Error for HookError {}

/// One table with its dispatch lists.
struct Profile {
    table: &'static Table,
    dense: Vec<u16>,
    enter: Vec<Vec<Hook>>,
    ret: Vec<Vec<Hook>>,
}

const UNKNOWN: u16 = u16::MAX;

impl Profile {
    fn new(table: &'static Table) -> Profile {
        let mut dense = vec![UNKNOWN; DENSE_LIMIT as usize];
        for (i, s) in table.syscalls.iter().enumerate() {
            if s.no < DENSE_LIMIT {
                dense[s.no as usize] = i as u16;
            }
        }
        let n = table.syscalls.len();
        let mut p = Profile {
            table,
            dense,
            enter: (0..n).map(|_| Vec::new()).collect(),
            ret: (0..n).map(|_| Vec::new()).collect(),
        };
        for hook in STATIC_HOOKS.iter() {
            let Target::Syscall(name) = hook.target else {
                continue;
            };
            for i in table.indices_named(name) {
                if hook.applies_to(table.name, &table.syscalls[i]) {
                    p.list(hook.when, i).push(Hook::Static(hook.call));
                }
            }
        }
        p
    }

    #[inline]
    fn index(&self, no: u64) -> u16 {
        if no < DENSE_LIMIT {
            self.dense[no as usize]
        } else {
            self.table
                .syscalls
                .binary_search_by_key(&no, |s| s.no)
                .map_or(UNKNOWN, |i| i as u16)
        }
    }

    fn list(&mut self, when: When, i: usize) -> &mut Vec<Hook> {
        match when {
            When::Enter => &mut self.enter[i],
            When::Return => &mut self.ret[i],
        }
    }
}

/// The syscall engine for one guest: a profile (and optionally a compat
/// profile), hooks, and pending returns.
///
/// ```
/// # use syscalls2_core::{Engine, Table};
/// # static TABLE: Table = Table { name: "demo", abi: syscalls2_core::abi::linux_x64::ABI, syscalls: &[], by_name_index: &[] };
/// let mut engine = Engine::new(&TABLE);
/// let id = engine.on_all_enter(|_cpu, ctx| println!("{:?} at {:#x}", ctx.name(), ctx.pc));
/// assert!(engine.remove_hook(id));
/// ```
pub struct Engine {
    profiles: Vec<Profile>,
    generic: GenericHooks,
    pending: Pending,
    /// The pending calls that return only on failure whose outcome is not
    /// known yet: (vCPU, slot, sequence number). A flat list, not indexed by
    /// vCPU (a backend's vCPU number may be anything up to `u32::MAX`);
    /// stale items are pruned, so it stays within the pending store's bound.
    exec_watch: Vec<(u32, u32, u64)>,
    /// Calls retired as successful, newest last, still found at their return
    /// site should they return after all. Bounded by [`RETIRED_CAPACITY`].
    retired: VecDeque<Retired>,
    /// Per vCPU that returned from a call, its last return while no call of
    /// that thread has entered since (at most one item per vCPU).
    last_returns: Vec<LastReturn>,
    next_hook: u64,
    next_seq: u64,
    stats: Stats,
}

impl Engine {
    /// An engine for `table`'s profile, with every `#[on_syscall]` hook that
    /// applies to it installed.
    pub fn new(table: &'static Table) -> Engine {
        let mut engine = Engine {
            profiles: vec![Profile::new(table)],
            generic: GenericHooks::default(),
            pending: Pending::new(DEFAULT_CAPACITY),
            exec_watch: Vec::new(),
            retired: VecDeque::new(),
            last_returns: Vec::new(),
            next_hook: 0,
            next_seq: 0,
            stats: Stats::default(),
        };
        for hook in STATIC_HOOKS.iter() {
            if hook.profile.is_some_and(|p| p != table.name) {
                continue;
            }
            if let Some(list) = engine.generic.list(hook.target, hook.when) {
                list.push(Hook::Static(hook.call));
            }
        }
        engine
    }

    /// Adds a compat profile: calls whose ABI ([`Abi::for_call`]) is
    /// `table`'s are decoded with it (linux_x86 beside linux_x64, linux_arm
    /// beside linux_arm64). It replaces a compat profile of the same ABI.
    pub fn with_compat(mut self, table: &'static Table) -> Engine {
        let mut i = 1;
        while i < self.profiles.len() {
            if self.profiles[i].table.abi == table.abi {
                self.profiles.remove(i);
            } else {
                i += 1;
            }
        }
        self.profiles.push(Profile::new(table));
        self
    }

    /// The compat profiles' tables (see [`Engine::with_compat`]).
    pub fn compat_tables(&self) -> Vec<&'static Table> {
        self.profiles[1..].iter().map(|p| p.table).collect()
    }

    /// Bounds the pending returns at `capacity` (at most 65535; default
    /// [`DEFAULT_CAPACITY`]).
    pub fn with_capacity(mut self, capacity: usize) -> Engine {
        self.pending = Pending::new(capacity);
        self
    }

    /// The main profile's table.
    pub fn table(&self) -> &'static Table {
        self.profiles[0].table
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// How many calls wait for their return.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The bound on pending returns.
    pub fn capacity(&self) -> usize {
        self.pending.capacity()
    }

    /// The calls still waiting for their return, oldest first: at the end of
    /// a run, the unpaired ones.
    pub fn pending(&self) -> Vec<SyscallCtx> {
        self.pending.iter().map(|e| e.ctx).collect()
    }

    /// PANDA's `get_syscall_info`: the main table's entry for `no`.
    pub fn get_syscall_info(&self, no: u64) -> Option<&'static SyscallInfo> {
        self.table().by_number(no)
    }

    /// PANDA's `get_syscall_meta`: the main table.
    pub fn get_syscall_meta(&self) -> &'static Table {
        self.table()
    }

    /// PANDA's `get_syscall_retval`: the return value as the guest's ABI
    /// gives it now (meaningful in a return hook, or at a return site).
    pub fn get_syscall_retval(&self, cpu: &mut dyn Cpu) -> Retval {
        self.table().abi.retval(cpu)
    }

    /// Whether a block at `pc` may be a pending return site. Nearly free
    /// when it is not; may say yes wrongly (then [`Engine::on_block`] finds
    /// nothing), never no wrongly.
    #[inline(always)]
    pub fn is_return_site(&self, pc: u64) -> bool {
        self.pending.filter.may_contain(pc)
    }

    /// The profile that decodes a call made by `insn` in `mode`, and the
    /// call's ABI: the main profile for its own ABI's calls, a compat
    /// profile for a compat ABI's, or the main profile again when its table
    /// holds the compat ABI's calls too (PANDA's `linux_mips64`).
    fn profile_for(
        &self,
        cpu: &mut dyn Cpu,
        insn: SyscallInsn,
        mode: syscalls2_abi::Mode,
    ) -> Option<(u8, Abi)> {
        let main = self.profiles[0].table.abi;
        let abi = main.for_call(cpu, insn, mode);
        if abi == main {
            return Some((0, abi));
        }
        match self.profiles.iter().position(|p| p.table.abi == abi) {
            Some(i) => Some((i as u8, abi)),
            None => main
                .compat_numbers
                .iter()
                .any(|r| r.abi == abi)
                .then_some((0, abi)),
        }
    }

    /// Handles an executed syscall instruction `insn` at `pc`: decodes it,
    /// runs the enter hooks, and records the pending return.
    pub fn on_syscall(&mut self, cpu: &mut dyn Cpu, pc: u64, insn: SyscallInsn) {
        self.on_syscall_with(cpu, pc, insn, &mut ());
    }

    /// [`Engine::on_syscall`], telling `observer` of the call before its
    /// hooks run (and answering their [`Cpu::process`] from it).
    pub fn on_syscall_with(
        &mut self,
        cpu: &mut dyn Cpu,
        pc: u64,
        insn: SyscallInsn,
        observer: &mut dyn Observer,
    ) {
        let mode = cpu.mode();
        let Some((p, abi)) = self.profile_for(cpu, insn, mode) else {
            self.stats.decode_errors += 1;
            return;
        };
        let table = self.profiles[usize::from(p)].table;
        let Ok(entry) = abi.enter(cpu, insn, pc, mode) else {
            self.stats.decode_errors += 1;
            return;
        };
        let asid = cpu.asid();
        let vcpu = cpu.index();
        if !self.last_returns.is_empty() {
            let sp = entry.ret_sp;
            self.last_returns
                .retain(|r| r.vcpu != vcpu && (r.asid, r.sp) != (asid, sp));
        }
        self.settle_exec(vcpu, observer);
        self.stats.enters += 1;

        let index = self.profiles[usize::from(p)].index(entry.number);
        let info = (index != UNKNOWN).then(|| &table.syscalls[usize::from(index)]);
        self.next_seq += 1;
        let mut ctx = SyscallCtx {
            seq: self.next_seq,
            no: entry.number,
            pc,
            asid,
            retaddr: entry.retaddr,
            sp: entry.ret_sp,
            vcpu,
            args: [0; MAX_SLOTS],
            args_error: None,
            info,
            table,
            abi,
            retval: None,
            child: false,
        };
        ctx.args_error = match info {
            Some(info) => abi.read_args(cpu, &entry, info.args, &mut ctx.args),
            None => raw_slots(abi, cpu, &entry, &mut ctx.args),
        };

        observer.enter(cpu, &ctx);
        match info {
            Some(_) => run(
                &mut self.profiles[usize::from(p)].enter[usize::from(index)],
                cpu,
                observer,
                &ctx,
            ),
            None => {
                self.stats.unknown += 1;
                run(&mut self.generic.unknown_enter, cpu, observer, &ctx);
            }
        }
        run(&mut self.generic.all_enter, cpu, observer, &ctx);

        let returns = info.map(|i| i.returns).unwrap_or_default();
        if returns.noreturn {
            self.stats.noreturn += 1;
            return;
        }
        let recorded = self.pending.record(&ctx, p, index, returns.double_return);
        if let Some(seq) = recorded.replaced {
            self.stats.restarted += 1;
            observer.dropped(seq, Dropped::Restarted);
        }
        if let Some(seq) = recorded.evicted {
            self.stats.evicted += 1;
            observer.dropped(seq, Dropped::Evicted);
        }
        let slot = recorded.slot;
        if returns.noreturn_on_success {
            if let Some(seq) = self.pending.seq_of(slot) {
                if self.exec_watch.len() >= self.pending.capacity() {
                    let pending = &self.pending;
                    self.exec_watch
                        .retain(|&(_, slot, seq)| pending.seq_of(slot) == Some(seq));
                }
                self.exec_watch.push((vcpu, slot, seq));
            }
        }
    }

    /// Retires the calls on `vcpu` that return only on failure (`execve`,
    /// `NtContinue`) once that vCPU makes another syscall: a failure returns
    /// at once, so a call that has not returned by then most likely
    /// succeeded. If it does return after all (it failed after blocking
    /// while another thread ran), [`Engine::on_block`] finds it among the
    /// retired calls and reports it.
    fn settle_exec(&mut self, vcpu: u32, observer: &mut dyn Observer) {
        if self.exec_watch.is_empty() {
            return;
        }
        let mine: Vec<(u32, u64)> = self
            .exec_watch
            .iter()
            .filter(|w| w.0 == vcpu)
            .map(|&(_, slot, seq)| (slot, seq))
            .collect();
        self.exec_watch.retain(|w| w.0 != vcpu);
        for (slot, seq) in mine {
            if self.pending.seq_of(slot) != Some(seq) {
                continue; // It returned, or was evicted.
            }
            let Some(e) = self.pending.get(slot) else {
                continue;
            };
            let retired = Retired {
                ctx: e.ctx,
                profile: e.profile,
                index: e.index,
            };
            let retaddr = retired.ctx.retaddr;
            self.pending.remove(slot);
            // Keep its return site in the filter while it is findable.
            self.pending.filter.add(retaddr);
            if self.retired.len() == RETIRED_CAPACITY {
                if let Some(old) = self.retired.pop_front() {
                    self.pending.filter.remove(old.ctx.retaddr);
                }
            }
            observer.retired(&retired.ctx);
            self.retired.push_back(retired);
            self.stats.exec_succeeded += 1;
        }
    }

    /// Keeps `r` as its vCPU's latest return (see [`LastReturn`]).
    fn remember_return(&mut self, r: LastReturn) {
        if self.last_returns.len() >= LAST_RETURNS_KEPT {
            self.last_returns.remove(0);
        }
        self.last_returns.push(r);
    }

    /// A retired call of this thread returning after all: taken out of the
    /// retired list.
    fn claim_retired(&mut self, asid: u64, pc: u64, sp: u64) -> Option<Retired> {
        let i = self
            .retired
            .iter()
            .rposition(|r| r.ctx.asid == asid && r.ctx.retaddr == pc && r.ctx.sp == sp)?;
        let r = self.retired.remove(i)?;
        self.pending.filter.remove(r.ctx.retaddr);
        self.stats.exec_succeeded -= 1;
        self.stats.late_returns += 1;
        Some(r)
    }

    /// Handles the start of a block at `pc`: if it is the return site of a
    /// pending call of this thread, reads the return value and runs the
    /// return hooks. Cheap when it is not.
    #[inline]
    pub fn on_block(&mut self, cpu: &mut dyn Cpu, pc: u64) {
        if self.is_return_site(pc) {
            self.on_return_site(cpu, pc, &mut ());
        }
    }

    /// [`Engine::on_block`], telling `observer` of the return it pairs.
    #[inline]
    pub fn on_block_with(&mut self, cpu: &mut dyn Cpu, pc: u64, observer: &mut dyn Observer) {
        if self.is_return_site(pc) {
            self.on_return_site(cpu, pc, observer);
        }
    }

    #[inline(never)]
    fn on_return_site(&mut self, cpu: &mut dyn Cpu, pc: u64, observer: &mut dyn Observer) {
        let asid = cpu.asid();
        // The ABI whose registers are live (a 32-bit process's on a 64-bit
        // guest) reads the stack pointer and result to find the entry; the
        // entry's own ABI then reads the result with its conventions.
        let abi = self.profiles[0].table.abi.for_mode(cpu.mode());
        let sp = abi.read_sp(cpu);
        let here = LastReturn {
            vcpu: cpu.index(),
            asid,
            pc,
            sp,
        };
        let mut retval = abi.retval(cpu);
        // Only a rerun with a result of 0 can be taken for another call's
        // return (a child's); any other finds its call gone.
        if retval.value == 0 && self.last_returns.contains(&here) {
            self.stats.rerun_return_blocks += 1;
            return;
        }
        let Some(m) = self.pending.find_return(asid, pc, sp, retval.value == 0) else {
            if let Some(mut r) = self.claim_retired(asid, pc, sp) {
                self.remember_return(here);
                r.ctx.retval = Some(r.ctx.abi.retval(cpu));
                self.stats.returns += 1;
                observer.ret(cpu, &r.ctx);
                dispatch_return(
                    &mut self.generic,
                    &mut self.profiles,
                    usize::from(r.profile),
                    r.index,
                    cpu,
                    observer,
                    &r.ctx,
                );
            }
            return;
        };
        let (slot, child) = match m {
            Match::Same(s) => (s, false),
            Match::Child(s) => (s, true),
        };
        self.remember_return(here);
        // The hooks see the stored context, with the return filled in; a
        // double-returning call's entry is put back as it was for its other
        // return.
        let Some(entry) = self.pending.get_mut(slot) else {
            return;
        };
        if entry.ctx.abi != abi {
            retval = entry.ctx.abi.retval(cpu);
        }
        let saved = (entry.ctx.asid, entry.ctx.sp);
        entry.ctx.retval = Some(retval);
        entry.ctx.child = child;
        if child {
            entry.ctx.asid = asid;
            entry.ctx.sp = sp;
        }
        let done = if entry.double {
            if child {
                entry.child_done = true;
            } else {
                entry.parent_done = true;
            }
            // A failed fork has no child to wait for.
            (entry.parent_done && entry.child_done) || (!child && retval.is_error())
        } else {
            true
        };
        let (p, index) = (usize::from(entry.profile), entry.index);
        // The hooks borrow the stored context while the engine's hook lists
        // are borrowed mutably: disjoint fields, no copy.
        observer.ret(cpu, &entry.ctx);
        dispatch_return(
            &mut self.generic,
            &mut self.profiles,
            p,
            index,
            cpu,
            observer,
            &entry.ctx,
        );
        self.stats.returns += 1;
        // (A call watched by `settle_exec` that returns here is skipped there:
        // its slot's sequence number no longer matches.)
        if done {
            self.pending.remove(slot);
        } else if let Some(entry) = self.pending.get_mut(slot) {
            (entry.ctx.asid, entry.ctx.sp) = saved;
            entry.ctx.retval = None;
            entry.ctx.child = false;
        }
    }

    /// The profile holding `S`, and the positions of `S` in its table: one,
    /// or in a table holding several ABIs' calls, every entry of its name
    /// with its argument types.
    fn slots_of<S: Syscall>(&self) -> Result<(usize, Vec<usize>), HookError> {
        let table = S::table();
        let p = self
            .profiles
            .iter()
            .position(|p| std::ptr::eq(p.table, table))
            .ok_or(HookError::NotInProfile {
                syscall: S::info().name,
                table: table.name,
                profile: self.table().name,
            })?;
        let info = S::info();
        let slots = table
            .indices_named(info.name)
            .filter(|&i| table.syscalls[i].signature == info.signature)
            .collect();
        Ok((p, slots))
    }

    /// Installs a closure in the `when` lists of `slots` of profile `p`.
    fn install(&mut self, p: usize, slots: &[usize], when: When, f: DynHook) -> HookId {
        self.next_hook += 1;
        let id = HookId(self.next_hook);
        let profile = &mut self.profiles[p];
        match slots {
            [one] => profile.list(when, *one).push(Hook::Dyn(id, f)),
            many => {
                let shared = std::sync::Arc::new(std::sync::Mutex::new(f));
                for &i in many {
                    let f = shared.clone();
                    let call: DynHook = Box::new(move |cpu, ctx| {
                        let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                        f(cpu, ctx)
                    });
                    profile.list(when, i).push(Hook::Dyn(id, call));
                }
            }
        }
        id
    }

    /// Registers a typed closure run when `S` enters:
    /// `engine.on_enter::<linux_x64::SysRead>(|cpu, pc, args| ...)`.
    /// The generated `on_sys_read_enter(&mut engine, f)` calls this.
    pub fn on_enter<S: Syscall>(
        &mut self,
        mut f: impl FnMut(&mut dyn Cpu, u64, &S::Args) + Send + 'static,
    ) -> Result<HookId, HookError> {
        let (p, slots) = self.slots_of::<S>()?;
        let f: DynHook = Box::new(move |cpu, ctx| f(cpu, ctx.pc, &S::Args::from_raw(&ctx.args)));
        Ok(self.install(p, &slots, When::Enter, f))
    }

    /// Registers a typed closure run when `S` returns, with its entry
    /// arguments and its return value.
    pub fn on_return<S: Syscall>(
        &mut self,
        mut f: impl FnMut(&mut dyn Cpu, u64, &S::Args, Retval) + Send + 'static,
    ) -> Result<HookId, HookError> {
        let (p, slots) = self.slots_of::<S>()?;
        let f: DynHook = Box::new(move |cpu, ctx| {
            if let Some(ret) = ctx.retval {
                f(cpu, ctx.pc, &S::Args::from_raw(&ctx.args), ret)
            }
        });
        Ok(self.install(p, &slots, When::Return, f))
    }

    fn add_generic(
        &mut self,
        target: Target,
        when: When,
        f: impl FnMut(&mut dyn Cpu, &SyscallCtx) + Send + 'static,
    ) -> HookId {
        self.next_hook += 1;
        let id = HookId(self.next_hook);
        if let Some(list) = self.generic.list(target, when) {
            list.push(Hook::Dyn(id, Box::new(f)));
        }
        id
    }

    /// PANDA's `on_all_sys_enter2`: a closure run at every enter, with the
    /// context (`ctx.info` is the metadata, `None` for an unknown number).
    pub fn on_all_enter(
        &mut self,
        f: impl FnMut(&mut dyn Cpu, &SyscallCtx) + Send + 'static,
    ) -> HookId {
        self.add_generic(Target::All, When::Enter, f)
    }

    /// PANDA's `on_all_sys_return2`: a closure run at every paired return.
    pub fn on_all_return(
        &mut self,
        f: impl FnMut(&mut dyn Cpu, &SyscallCtx) + Send + 'static,
    ) -> HookId {
        self.add_generic(Target::All, When::Return, f)
    }

    /// PANDA's `on_unknown_sys_enter`: a closure run when the table lacks the number.
    pub fn on_unknown_enter(
        &mut self,
        f: impl FnMut(&mut dyn Cpu, &SyscallCtx) + Send + 'static,
    ) -> HookId {
        self.add_generic(Target::Unknown, When::Enter, f)
    }

    /// PANDA's `on_unknown_sys_return`.
    pub fn on_unknown_return(
        &mut self,
        f: impl FnMut(&mut dyn Cpu, &SyscallCtx) + Send + 'static,
    ) -> HookId {
        self.add_generic(Target::Unknown, When::Return, f)
    }

    /// Removes a closure registered on this engine (PANDA's
    /// `PPP_REMOVE_CB`). Returns whether it was found.
    pub fn remove_hook(&mut self, id: HookId) -> bool {
        let mut found = false;
        let mut strip = |list: &mut Vec<Hook>| {
            let before = list.len();
            list.retain(|h| h.id() != Some(id));
            found |= list.len() != before;
        };
        let g = &mut self.generic;
        for list in [
            &mut g.all_enter,
            &mut g.all_return,
            &mut g.unknown_enter,
            &mut g.unknown_return,
        ] {
            strip(list);
        }
        for p in &mut self.profiles {
            p.enter
                .iter_mut()
                .chain(p.ret.iter_mut())
                .for_each(&mut strip);
        }
        found
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("profile", &self.table().name)
            .field("pending", &self.pending.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What a backend drives, with two calls: at every executed syscall
/// instruction, and at block starts that may be return sites. [`Engine`]
/// is one; a trace session around an engine (`syscalls2::session`) is
/// another. A backend for a new emulator implements [`Cpu`] and makes
/// these two calls.
pub trait Handler {
    /// The ABI of the guest (whose syscall instructions the backend finds
    /// with [`Abi::find_syscall_insn`]).
    fn abi(&self) -> Abi;

    /// Whether a block at `pc` may be a return site (cheap; may say yes
    /// wrongly, never no wrongly).
    fn is_return_site(&self, pc: u64) -> bool;

    /// A syscall instruction `insn` (whose bytes are `bytes`) executes at `pc`.
    fn on_syscall(&mut self, cpu: &mut dyn Cpu, pc: u64, insn: SyscallInsn, bytes: &[u8]);

    /// A block starts at `pc`.
    fn on_block(&mut self, cpu: &mut dyn Cpu, pc: u64);
}

impl Handler for Engine {
    fn abi(&self) -> Abi {
        self.table().abi
    }

    fn is_return_site(&self, pc: u64) -> bool {
        Engine::is_return_site(self, pc)
    }

    fn on_syscall(&mut self, cpu: &mut dyn Cpu, pc: u64, insn: SyscallInsn, _bytes: &[u8]) {
        Engine::on_syscall(self, cpu, pc, insn);
    }

    fn on_block(&mut self, cpu: &mut dyn Cpu, pc: u64) {
        Engine::on_block(self, cpu, pc);
    }
}

/// Sees every call an engine handles, before its hooks run: what a trace
/// session (filters, sinks, summaries, who made the call) is built on,
/// without being a hook itself. `()` observes nothing.
pub trait Observer {
    /// A call entered ([`SyscallCtx::retval`] is `None`).
    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let _ = (cpu, ctx);
    }

    /// A call returned (both returns of a fork: [`SyscallCtx::child`]).
    fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let _ = (cpu, ctx);
    }

    /// A call that returns only on failure (`execve`) was retired as
    /// successful: its vCPU made another syscall first. It may still return
    /// late (then [`Observer::ret`] sees it, [`Stats::late_returns`]).
    fn retired(&mut self, ctx: &SyscallCtx) {
        let _ = ctx;
    }

    /// The pending call with sequence number `seq` will not be reported.
    fn dropped(&mut self, seq: u64, why: Dropped) {
        let _ = (seq, why);
    }

    /// Who made the call `ctx`, for its hooks ([`Cpu::process`] on the
    /// `cpu` a hook is given), asked after [`Observer::enter`] or
    /// [`Observer::ret`] saw the call; `None` when this observer cannot
    /// tell.
    fn process(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) -> Option<Process> {
        let _ = (cpu, ctx);
        None
    }
}

impl Observer for () {}

/// Why a pending call was dropped without its return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dropped {
    /// The store was full and it was the oldest ([`Stats::evicted`]).
    Evicted,
    /// The same thread entered again at the same site: the call was
    /// interrupted and restarted, or its return was missed
    /// ([`Stats::restarted`]).
    Restarted,
}

/// The hooks that are not for one syscall: every call's, unknown numbers'.
#[derive(Default)]
struct GenericHooks {
    all_enter: Vec<Hook>,
    all_return: Vec<Hook>,
    unknown_enter: Vec<Hook>,
    unknown_return: Vec<Hook>,
}

impl GenericHooks {
    /// The list for `target` and `when`; `None` for one syscall's hooks,
    /// which live in the profiles.
    fn list(&mut self, target: Target, when: When) -> Option<&mut Vec<Hook>> {
        Some(match (target, when) {
            (Target::All, When::Enter) => &mut self.all_enter,
            (Target::All, When::Return) => &mut self.all_return,
            (Target::Unknown, When::Enter) => &mut self.unknown_enter,
            (Target::Unknown, When::Return) => &mut self.unknown_return,
            (Target::Syscall(_), _) => return None,
        })
    }
}

/// Runs the return hooks of call `index` of profile `p` (or the unknown
/// ones), then every call's. Takes the hook lists, not the engine, so the
/// context can stay borrowed from the pending store.
fn dispatch_return(
    generic: &mut GenericHooks,
    profiles: &mut [Profile],
    p: usize,
    index: u16,
    cpu: &mut dyn Cpu,
    observer: &mut dyn Observer,
    ctx: &SyscallCtx,
) {
    if index == UNKNOWN {
        run(&mut generic.unknown_return, cpu, observer, ctx);
    } else {
        run(&mut profiles[p].ret[usize::from(index)], cpu, observer, ctx);
    }
    run(&mut generic.all_return, cpu, observer, ctx);
}

/// Runs `hooks` on the call `ctx`, each given the backend's CPU with
/// `observer` answering [`Cpu::process`].
#[inline]
fn run(hooks: &mut [Hook], cpu: &mut dyn Cpu, observer: &mut dyn Observer, ctx: &SyscallCtx) {
    if hooks.is_empty() {
        return;
    }
    let mut cpu = HookCpu { cpu, observer, ctx };
    for h in hooks {
        h.call(&mut cpu, ctx);
    }
}

/// The CPU a hook is given: the backend's, and the observer's answer to
/// who made the call being handled.
struct HookCpu<'a> {
    cpu: &'a mut dyn Cpu,
    observer: &'a mut dyn Observer,
    ctx: &'a SyscallCtx,
}

impl Cpu for HookCpu<'_> {
    fn reg(&mut self, reg: syscalls2_abi::Reg) -> u64 {
        self.cpu.reg(reg)
    }

    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), crate::MemError> {
        self.cpu.read_mem(addr, buf)
    }

    fn pc(&mut self) -> u64 {
        self.cpu.pc()
    }

    fn asid(&mut self) -> u64 {
        self.cpu.asid()
    }

    fn mode(&mut self) -> syscalls2_abi::Mode {
        self.cpu.mode()
    }

    fn index(&self) -> u32 {
        self.cpu.index()
    }

    fn icount(&mut self) -> Option<u64> {
        self.cpu.icount()
    }

    fn process(&mut self) -> Option<Process> {
        self.observer.process(self.cpu, self.ctx)
    }
}

/// For an unknown number: the first six slots as they are.
fn raw_slots(
    abi: Abi,
    cpu: &mut dyn Cpu,
    entry: &syscalls2_abi::Entry,
    out: &mut [u64; MAX_SLOTS],
) -> Option<crate::MemError> {
    for (i, v) in out.iter_mut().take(6).enumerate() {
        match abi.slot(cpu, entry, i) {
            Ok(x) => *v = x,
            Err(e) => return Some(e),
        }
    }
    None
}
