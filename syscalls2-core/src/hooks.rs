//! Hooks: functions and closures the engine calls on enter and on return.
//!
//! - `#[on_syscall]` functions are [`StaticHook`]s, collected at link time
//!   into [`STATIC_HOOKS`] (a `linkme` distributed slice: no init call, no
//!   life-before-main). Every [`crate::Engine`] installs those whose
//!   syscall its profile has, with a matching signature.
//! - Closures are registered at run time on an engine and removed by their
//!   [`HookId`], as PANDA's `PPP_REG_CB` / `PPP_REMOVE_CB` do.

use crate::context::SyscallCtx;
use syscalls2_abi::Cpu;

/// When a hook runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum When {
    /// At the syscall instruction, before the kernel runs it.
    Enter,
    /// At the first block of the return site, with the return value.
    Return,
}

/// Which syscalls a static hook is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The syscall of this name in any profile that has it (`"sys_read"`).
    Syscall(&'static str),
    /// Every syscall (PANDA's `on_all_sys_enter` / `_return`, and the `2` variants).
    All,
    /// Numbers the profile's table lacks (PANDA's `on_unknown_sys_enter` / `_return`).
    Unknown,
}

/// The function a static hook registers: an adapter that `#[on_syscall]`
/// generates around the user's typed function.
pub type HookFn = fn(&mut dyn Cpu, &SyscallCtx);

/// A hook registered at compile time by `#[on_syscall]`.
#[derive(Debug)]
pub struct StaticHook {
    /// What it hooks.
    pub target: Target,
    /// Enter or return.
    pub when: When,
    /// The arch-neutral argument types the hook was checked against
    /// (see [`crate::SyscallInfo::signature`]); empty for [`Target::All`]
    /// and [`Target::Unknown`].
    pub signature: &'static str,
    /// Restricts the hook to one profile (`profile = "linux_x86"`).
    pub profile: Option<&'static str>,
    /// The adapter.
    pub call: HookFn,
    /// The user's function, for diagnostics (`"my_crate::log_reads"`).
    pub name: &'static str,
}

impl StaticHook {
    /// Whether this hook belongs in a profile's slot for `info`.
    pub fn applies_to(&self, profile: &str, info: &crate::SyscallInfo) -> bool {
        self.profile.is_none_or(|p| p == profile)
            && matches!(self.target, Target::Syscall(name) if name == info.name)
            && self.signature == info.signature
    }
}

/// Every `#[on_syscall]` hook linked into the program.
#[linkme::distributed_slice]
pub static STATIC_HOOKS: [StaticHook];

/// Identifies a closure registered on an engine, to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HookId(pub(crate) u64);

/// A boxed closure hook.
pub(crate) type DynHook = Box<dyn FnMut(&mut dyn Cpu, &SyscallCtx) + Send>;

/// A hook in an engine's dispatch list.
pub(crate) enum Hook {
    Static(HookFn),
    Dyn(HookId, DynHook),
}

impl Hook {
    #[inline]
    pub(crate) fn call(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        match self {
            Hook::Static(f) => f(cpu, ctx),
            Hook::Dyn(_, f) => f(cpu, ctx),
        }
    }

    pub(crate) fn id(&self) -> Option<HookId> {
        match self {
            Hook::Static(_) => None,
            Hook::Dyn(id, _) => Some(*id),
        }
    }
}
