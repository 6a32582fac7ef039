//! The plugin: QEMU's callbacks, driving a trace session
//! ([`syscalls2::session::Session`]). Everything that is not about QEMU
//! (options, filters, sinks, the summary) is in the session.

use crate::cpu::{read_vaddr, QemuCpu, RegMap, Target};
use qemu_plugin::install::{Args, Info};
use qemu_plugin::plugin::{HasCallbacks, Register};
use qemu_plugin::sys::{
    qemu_plugin_cb_flags, qemu_plugin_cond, qemu_plugin_id_t, qemu_plugin_insn,
    qemu_plugin_insn_data, qemu_plugin_insn_haddr, qemu_plugin_insn_size, qemu_plugin_insn_vaddr,
    qemu_plugin_op, qemu_plugin_register_atexit_cb, qemu_plugin_register_flush_cb,
    qemu_plugin_register_vcpu_init_cb, qemu_plugin_register_vcpu_insn_exec_cb,
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu, qemu_plugin_register_vcpu_tb_exec_cb,
    qemu_plugin_register_vcpu_tb_exec_cond_cb, qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu,
    qemu_plugin_register_vcpu_tb_trans_cb, qemu_plugin_reset, qemu_plugin_scoreboard_new,
    qemu_plugin_tb, qemu_plugin_tb_get_insn, qemu_plugin_tb_n_insns, qemu_plugin_tb_vaddr,
    qemu_plugin_u64, qemu_plugin_u64_set,
};
use qemu_plugin::PluginId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use syscalls2::options::Options;
use syscalls2::session::Session;
use syscalls2::{profiles, Abi, Cpu, Engine, Handler, Mode, ReturnSite, SyscallInsn};

/// How returns are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnMode {
    /// `Sites` until the translation cache has been flushed
    /// [`AUTO_FLUSHES`] times for return sites translated too early (code
    /// generated at run time: a JIT), then `Exits` for the rest of the run
    /// (the default). `Sites` costs nothing measurable on ordinary code,
    /// `Exits` a check at every block (about 29 % more QEMU CPU time on the
    /// x86_64 guest's `find /` workload, `scripts/overhead.sh`) but no
    /// flushes. Not the default yet: one run of the hostile test on i386
    /// lost three `clone` returns across the change.
    Auto,
    /// The first block each vCPU runs after the kernel's exception-return
    /// instructions ([`Arch::is_exception_return`](syscalls2::Arch)), by a
    /// conditional callback on a per-vCPU flag. No flushes, so code
    /// generated at run time (a JIT) costs nothing extra.
    Exits,
    /// Only blocks at addresses after syscall instructions, learnt at
    /// translation; a block translated before its syscall instruction
    /// costs a flush of the translation cache (the default).
    Sites,
    /// Every block, filtered by the engine (for comparison).
    EveryBlock,
}

/// Flushes after which `returns=auto` changes from sites to exits.
pub const AUTO_FLUSHES: u64 = 8;

/// The plugin's own options, beside the session's
/// ([`syscalls2::options`]).
#[derive(Clone, Copy, Debug)]
pub struct QemuOptions {
    /// `returns=auto|exits|sites|every-block`.
    pub returns: ReturnMode,
    /// `icount=on|off`: count each vCPU's guest instructions (an inline
    /// add per block), for the events' `icount`.
    pub icount: bool,
    /// `floor=on`: the same instrumentation, and at each syscall and at the
    /// block it returns to (the vCPU's last syscall's next instruction)
    /// every register the ABI reads and the address space are read, but
    /// nothing is decoded, paired or written: the cost no tracer on these
    /// instrumentation points can go below (`scripts/overhead.sh`'s floor).
    pub floor: bool,
}

impl QemuOptions {
    /// Parses the pairs the session left to the backend; an unknown key is
    /// an error.
    pub fn parse(pairs: &[(String, String)]) -> Result<QemuOptions, String> {
        let mut o = QemuOptions {
            returns: ReturnMode::Sites,
            icount: false,
            floor: false,
        };
        for (k, v) in pairs {
            match (k.as_str(), v.as_str()) {
                ("returns", "auto") => o.returns = ReturnMode::Auto,
                ("returns", "exits") => o.returns = ReturnMode::Exits,
                ("returns", "sites") => o.returns = ReturnMode::Sites,
                ("returns", "every-block") => o.returns = ReturnMode::EveryBlock,
                ("returns", _) => {
                    return Err(format!(
                        "returns=`{v}`: expected auto, exits, sites or every-block"
                    ))
                }
                ("icount", "on") => o.icount = true,
                ("icount", "off") => o.icount = false,
                ("icount", _) => return Err(format!("icount=`{v}`: expected on or off")),
                ("floor", "on") => o.floor = true,
                ("floor", "off") => o.floor = false,
                ("floor", _) => return Err(format!("floor=`{v}`: expected on or off")),
                _ => {
                    return Err(format!(
                        "unknown argument `{k}` (see the syscalls2-qemu documentation)"
                    ))
                }
            }
        }
        Ok(o)
    }
}

/// A syscall instruction found at translation time.
struct Site {
    pc: u64,
    insn: SyscallInsn,
    bytes: [u8; 4],
    /// The code after the instruction, as translated: reads there are
    /// served from it (the i386 vDSO's landing pad is found in it).
    after: Option<[u8; 16]>,
    /// Whether the call's return site is known only as it executes
    /// (Windows x86's `sysenter` returns to `[EDX]`): learnt then.
    dynamic: bool,
}

#[derive(Default)]
struct Sites {
    /// Interned syscall sites (their addresses are callback user data).
    syscalls: HashMap<(u64, [u8; 4]), &'static Site>,
    /// Addresses where a syscall may return.
    returns: HashSet<u64>,
    /// Start addresses of blocks translated since the last flush.
    translated: HashSet<u64>,
}

/// The plugin's state.
struct State {
    id: qemu_plugin_id_t,
    target: Target,
    abi: Abi,
    options: Options,
    qemu: QemuOptions,
    session: Mutex<Session>,
    sites: Mutex<Sites>,
    vcpus: Box<[OnceLock<RegMap>]>,
    /// `floor=on`: per vCPU, where its last syscall returns.
    floor_returns: Box<[AtomicU64]>,
    icount: Option<qemu_plugin_u64>,
    /// `returns=exits` (and `auto`): per vCPU, 1 from an exception return
    /// until the next block starts.
    armed: Option<qemu_plugin_u64>,
    /// `returns=auto`: exits from now on (sites until then).
    auto_exits: AtomicBool,
    resetting: AtomicBool,
    resets: AtomicU64,
    return_tbs: AtomicU64,
    exit_blocks: AtomicU64,
    tbs: AtomicU64,
    false_svc: AtomicU64,
    /// RISC-V: `ecall`s executed in S-mode (SBI calls) at addresses
    /// [`Target::may_be_user_code`] let through.
    kernel_ecalls: AtomicU64,
}

// SAFETY: the scoreboard handle is QEMU's, valid for the plugin's lifetime
// and safe to read from any vCPU thread.
unsafe impl Send for State {}
unsafe impl Sync for State {}

static STATE: OnceLock<State> = OnceLock::new();

impl State {
    /// How returns are found for the blocks translated now (`auto`
    /// resolved to sites or exits).
    fn mode(&self) -> ReturnMode {
        match self.qemu.returns {
            ReturnMode::Auto if self.auto_exits.load(Ordering::Relaxed) => ReturnMode::Exits,
            ReturnMode::Auto => ReturnMode::Sites,
            mode => mode,
        }
    }
}

fn state() -> &'static State {
    STATE.get().expect("the plugin is installed")
}

type Setup = Box<dyn FnOnce(&mut Engine) + Send + Sync>;

/// The plugin's entry object: what [`crate::plugin!`] registers.
pub struct Entry {
    setup: Mutex<Option<Setup>>,
}

impl Entry {
    /// An entry calling `setup` on the engine at install.
    pub fn new(setup: impl FnOnce(&mut Engine) + Send + Sync + 'static) -> Entry {
        Entry {
            setup: Mutex::new(Some(Box::new(setup))),
        }
    }
}

impl HasCallbacks for Entry {}

impl Register for Entry {
    fn register_default(
        &mut self,
        id: PluginId,
        args: &Args,
        info: &Info,
    ) -> qemu_plugin::Result<()> {
        if let Err(e) = self.install(id, args, info) {
            eprintln!("syscalls2: {e}");
            std::process::exit(2);
        }
        Ok(())
    }
}

/// The engine the options ask for on `target`: the profile (checked
/// against the target's instruction set) and its compat profiles.
fn engine_for(target: Target, options: &Options) -> Result<Engine, String> {
    let arch = target.arch();
    let known: Vec<&str> = profiles::all().iter().map(|t| t.name).collect();
    let default = profiles::native(syscalls2::Os::Linux, arch);
    let table = options
        .table(default, profiles::by_name, &known)
        .map_err(|e| e.to_string())?;
    if !target.runs(table.abi.arch) {
        return Err(format!(
            "profile={}: its {} calls cannot run on qemu-system-{}",
            table.name,
            table.abi,
            target.name()
        ));
    }
    let compat =
        match &options.compat {
            None => profiles::compat_for(table),
            Some(None) => Vec::new(),
            Some(Some(name)) => vec![profiles::by_name(name)
                .ok_or_else(|| format!("unknown compat profile `{name}`"))?],
        };
    Ok(compat
        .into_iter()
        .fold(Engine::new(table), Engine::with_compat))
}

impl Entry {
    fn install(&mut self, id: PluginId, args: &Args, info: &Info) -> Result<(), String> {
        let target = Target::from_qemu(&info.target_name).ok_or_else(|| {
            format!(
                "unsupported QEMU target `{}` (x86_64, i386, arm, aarch64, mipsel, mips64el, riscv64)",
                info.target_name
            )
        })?;
        let options = Options::parse(&args.raw).map_err(|e| e.to_string())?;
        let qemu = QemuOptions::parse(&options.backend)?;
        let mut engine = engine_for(target, &options)?;
        if let Some(setup) = self.setup.lock().unwrap_or_else(|e| e.into_inner()).take() {
            setup(&mut engine);
        }
        let abi = engine.table().abi;
        let session = options.session(engine).map_err(|e| e.to_string())?;
        let max_vcpus = info
            .system
            .as_ref()
            .map_or(64, |s| s.max_vcpus.max(s.smp_vcpus).max(1) as usize);
        let icount = qemu.icount.then(per_vcpu_u64);
        let armed = matches!(qemu.returns, ReturnMode::Exits | ReturnMode::Auto).then(per_vcpu_u64);
        let st = State {
            id,
            target,
            abi,
            options,
            qemu,
            session: Mutex::new(session),
            sites: Mutex::new(Sites::default()),
            vcpus: (0..max_vcpus).map(|_| OnceLock::new()).collect(),
            floor_returns: (0..max_vcpus).map(|_| AtomicU64::new(u64::MAX)).collect(),
            icount,
            armed,
            auto_exits: AtomicBool::new(false),
            resetting: AtomicBool::new(false),
            resets: AtomicU64::new(0),
            return_tbs: AtomicU64::new(0),
            exit_blocks: AtomicU64::new(0),
            tbs: AtomicU64::new(0),
            false_svc: AtomicU64::new(0),
            kernel_ecalls: AtomicU64::new(0),
        };
        STATE
            .set(st)
            .map_err(|_| "the plugin is installed twice".to_string())?;
        register_callbacks(id);
        Ok(())
    }
}

/// A new scoreboard of one u64 per vCPU, zeroed.
fn per_vcpu_u64() -> qemu_plugin_u64 {
    qemu_plugin_u64 {
        // SAFETY: a scoreboard of one u64 per vCPU, never freed.
        score: unsafe { qemu_plugin_scoreboard_new(std::mem::size_of::<u64>()) },
        offset: 0,
    }
}

fn register_callbacks(id: qemu_plugin_id_t) {
    // SAFETY: plain registrations of extern "C" callbacks.
    unsafe {
        qemu_plugin_register_vcpu_init_cb(id, Some(vcpu_init));
        qemu_plugin_register_vcpu_tb_trans_cb(id, Some(tb_trans));
        qemu_plugin_register_flush_cb(id, Some(on_flush));
        qemu_plugin_register_atexit_cb(id, Some(at_exit), std::ptr::null_mut());
    }
}

unsafe extern "C" fn vcpu_init(_id: qemu_plugin_id_t, vcpu: u32) {
    let st = state();
    let Some(slot) = st.vcpus.get(vcpu as usize) else {
        eprintln!(
            "syscalls2: vCPU {vcpu} beyond the {} expected",
            st.vcpus.len()
        );
        return;
    };
    let map = RegMap::for_current_vcpu(st.target, st.abi);
    let missing = map.missing();
    if !missing.is_empty() && vcpu == 0 {
        eprintln!(
            "syscalls2: QEMU does not expose {} (registers: {})",
            missing.join(", "),
            map.names.join(" ")
        );
    }
    let _ = slot.set(map);
}

unsafe extern "C" fn on_flush(_id: qemu_plugin_id_t) {
    lock(&state().sites).translated.clear();
}

unsafe extern "C" fn after_reset(id: qemu_plugin_id_t) {
    let st = state();
    lock(&st.sites).translated.clear();
    register_callbacks(id);
    st.resetting.store(false, Ordering::SeqCst);
}

fn request_reset(st: &State) {
    if !st.resetting.swap(true, Ordering::SeqCst) {
        let done = st.resets.fetch_add(1, Ordering::Relaxed) + 1;
        if st.qemu.returns == ReturnMode::Auto && done >= AUTO_FLUSHES {
            // Code is being generated: the blocks translated from now on
            // check for exception returns, and no return site needs a
            // flush any more.
            st.auto_exits.store(true, Ordering::SeqCst);
            eprintln!(
                "syscalls2: {done} translation-cache flushes for return sites (generated code?): \
                 finding returns at exception returns from now on (returns=exits)"
            );
        }
        // SAFETY: the raw API (the crate's wrapper calls the wrong callback).
        unsafe { qemu_plugin_reset(st.id, Some(after_reset)) };
    }
}

/// A lock that a panicking hook cannot poison for the rest of the run.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

unsafe extern "C" fn tb_trans(_id: qemu_plugin_id_t, tb: *mut qemu_plugin_tb) {
    let st = state();
    st.tbs.fetch_add(1, Ordering::Relaxed);
    let tb_pc = qemu_plugin_tb_vaddr(tb);
    let n = qemu_plugin_tb_n_insns(tb);
    if let Some(entry) = st.icount {
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb,
            qemu_plugin_op::QEMU_PLUGIN_INLINE_ADD_U64,
            entry,
            n as u64,
        );
    }
    let mode = st.mode();
    let mut sites = lock(&st.sites);
    match (mode, st.armed) {
        (ReturnMode::Exits, Some(armed)) => {
            // Every block: a callback when the vCPU has just returned from
            // an exception (one load and compare otherwise).
            qemu_plugin_register_vcpu_tb_exec_cond_cb(
                tb,
                Some(on_block_after_exit),
                qemu_plugin_cb_flags::QEMU_PLUGIN_CB_R_REGS,
                qemu_plugin_cond::QEMU_PLUGIN_COND_NE,
                armed,
                0,
                tb_pc as usize as *mut c_void,
            );
        }
        _ => {
            sites.translated.insert(tb_pc);
            let every = mode == ReturnMode::EveryBlock;
            if every || sites.returns.contains(&tb_pc) {
                if !every {
                    st.return_tbs.fetch_add(1, Ordering::Relaxed);
                }
                qemu_plugin_register_vcpu_tb_exec_cb(
                    tb,
                    Some(on_return_block),
                    qemu_plugin_cb_flags::QEMU_PLUGIN_CB_R_REGS,
                    tb_pc as usize as *mut c_void,
                );
            }
        }
    }
    let mut need_reset = false;
    let arch = st.target.arch();
    let mut first = [0u8; 4];
    if n > 0 {
        qemu_plugin_insn_data(
            qemu_plugin_tb_get_insn(tb, 0),
            first.as_mut_ptr() as *mut c_void,
            4,
        );
    }
    for i in 0..n {
        let insn = qemu_plugin_tb_get_insn(tb, i);
        let size = qemu_plugin_insn_size(insn).min(16);
        let mut bytes = [0u8; 16];
        qemu_plugin_insn_data(insn, bytes.as_mut_ptr() as *mut c_void, size);
        if let (ReturnMode::Exits, Some(armed)) = (mode, st.armed) {
            if arch.is_exception_return(&bytes[..size], Mode::default()) {
                qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn,
                    qemu_plugin_op::QEMU_PLUGIN_INLINE_STORE_U64,
                    armed,
                    1,
                );
                continue;
            }
        }
        if let Some(rt) = st.target.address_space_write(&first, &bytes[..size]) {
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn,
                Some(on_address_space_write),
                qemu_plugin_cb_flags::QEMU_PLUGIN_CB_R_REGS,
                rt as usize as *mut c_void,
            );
            continue;
        }
        if size != 2 && size != 4 {
            continue;
        }
        let Some(kind) = st.target.find_syscall_insn(st.abi, &bytes[..size]) else {
            continue;
        };
        let pc = qemu_plugin_insn_vaddr(insn);
        if !st.target.may_be_user_code(pc) {
            continue;
        }
        let mut key = [0u8; 4];
        key[..size].copy_from_slice(&bytes[..size]);
        let after = code_after(insn, pc, size);
        let site: &'static Site = sites.syscalls.entry((pc, key)).or_insert_with(|| {
            let code = after.as_ref().map_or(&[][..], |c| &c[..]);
            let dynamic = std::iter::once(&st.abi)
                .chain(st.abi.compat)
                .any(|abi| matches!(abi.return_site(kind, pc, code), ReturnSite::Dynamic));
            Box::leak(Box::new(Site {
                pc,
                insn: kind,
                bytes: key,
                after,
                dynamic,
            }))
        });
        qemu_plugin_register_vcpu_insn_exec_cb(
            insn,
            Some(on_syscall_insn),
            qemu_plugin_cb_flags::QEMU_PLUGIN_CB_R_REGS,
            site as *const Site as *mut c_void,
        );
        if mode != ReturnMode::Sites {
            continue;
        }
        // Where the call returns, by the ABIs that use the instruction (a
        // 32-bit vDSO's `sysenter` returns to its landing pad).
        let code = site.after.as_ref().map_or(&[][..], |c| &c[..]);
        let mut returns = vec![pc.wrapping_add(kind.len())];
        for abi in std::iter::once(&st.abi).chain(st.abi.compat) {
            if let ReturnSite::At(r) = abi.return_site(kind, pc, code) {
                returns.push(r);
            }
        }
        for r in returns {
            if sites.returns.insert(r) && sites.translated.contains(&r) {
                need_reset = true;
            }
        }
    }
    drop(sites);
    if need_reset {
        request_reset(st);
    }
}

/// The 16 bytes after the instruction `insn` of `size` bytes at `pc`, as
/// translated: from the translator's host pointer into guest RAM when the
/// bytes are on the same guest page, else through the guest's page tables.
unsafe fn code_after(insn: *const qemu_plugin_insn, pc: u64, size: usize) -> Option<[u8; 16]> {
    let mut code = [0u8; 16];
    let host = qemu_plugin_insn_haddr(insn) as *const u8;
    let page_left = (0x1000 - (pc & 0xfff)) as usize;
    if !host.is_null() && page_left >= size + 16 {
        // SAFETY: `host` points at the instruction in guest RAM, and the 16
        // bytes after it are on the same guest page.
        std::ptr::copy_nonoverlapping(host.add(size), code.as_mut_ptr(), 16);
        return Some(code);
    }
    read_vaddr(pc.wrapping_add(size as u64), &mut code)
        .ok()
        .map(|()| code)
}

fn regs_of(st: &State, vcpu: u32) -> Option<&RegMap> {
    st.vcpus.get(vcpu as usize)?.get()
}

fn icount_of(st: &State, vcpu: u32) -> Option<u64> {
    // SAFETY: the scoreboard outlives the plugin; `vcpu` is a live vCPU.
    st.icount
        .map(|entry| unsafe { qemu_plugin::sys::qemu_plugin_u64_get(entry, vcpu) })
}

unsafe extern "C" fn on_syscall_insn(vcpu: u32, udata: *mut c_void) {
    let st = state();
    // SAFETY: `udata` is a leaked `Site`.
    let site = unsafe { &*(udata as *const Site) };
    let Some(regs) = regs_of(st, vcpu) else {
        return;
    };
    let mut cpu = QemuCpu::new(regs, vcpu, site.pc, icount_of(st, vcpu));
    if let Some(code) = &site.after {
        cpu.set_code(site.pc.wrapping_add(site.insn.len()), code);
    }
    if !st.target.executes(site.insn, cpu.mode()) {
        // A Thumb-2 instruction whose bits look like an ARM `svc`.
        st.false_svc.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if !cpu.in_user_mode() {
        // RISC-V: the kernel's `ecall` to the SBI firmware.
        st.kernel_ecalls.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if st.qemu.floor {
        read_floor(st, &mut cpu);
        if let Some(next) = st.floor_returns.get(vcpu as usize) {
            next.store(site.pc.wrapping_add(site.insn.len()), Ordering::Relaxed);
        }
        return;
    }
    let len = site.insn.len() as usize;
    lock(&st.session).on_syscall(&mut cpu, site.pc, site.insn, &site.bytes[..len]);
    if site.dynamic && st.mode() == ReturnMode::Sites {
        // Its return site, learnt now: the block there gets its callback
        // when it is translated (a flush if it already was).
        let mode = cpu.mode();
        if let Ok(entry) = st.abi.enter(&mut cpu, site.insn, site.pc, mode) {
            let mut sites = lock(&st.sites);
            let reset =
                sites.returns.insert(entry.retaddr) && sites.translated.contains(&entry.retaddr);
            drop(sites);
            if reset {
                request_reset(st);
            }
        }
    }
}

/// MIPS: the kernel hands the TLB refill handler the page directory in
/// general register `udata`: the vCPU's address space from now on
/// ([`Target::address_space_write`]).
unsafe extern "C" fn on_address_space_write(vcpu: u32, udata: *mut c_void) {
    let st = state();
    if let Some(regs) = regs_of(st, vcpu) {
        if let Some(v) = regs.read_mips_gpr(udata as usize as u8) {
            regs.set_address_space(st.target.address_space_key(v));
        }
    }
}

/// `floor=on`: what any tracer reads at a call or a return (every register
/// of the ABI, and the address space), kept from being optimised away.
fn read_floor(st: &State, cpu: &mut QemuCpu) {
    let mut sum = cpu.asid();
    for &reg in st.abi.regs {
        sum = sum.wrapping_add(cpu.reg(reg));
    }
    std::hint::black_box(sum);
}

/// `returns=exits`: the first block after an exception return.
unsafe extern "C" fn on_block_after_exit(vcpu: u32, udata: *mut c_void) {
    let st = state();
    if let Some(armed) = st.armed {
        // SAFETY: the scoreboard outlives the plugin; `vcpu` is this vCPU.
        unsafe { qemu_plugin_u64_set(armed, vcpu, 0) };
    }
    st.exit_blocks.fetch_add(1, Ordering::Relaxed);
    on_return_block(vcpu, udata);
}

unsafe extern "C" fn on_return_block(vcpu: u32, udata: *mut c_void) {
    let st = state();
    let pc = udata as usize as u64;
    if st.qemu.floor {
        let next = st.floor_returns.get(vcpu as usize);
        if next.is_some_and(|n| n.load(Ordering::Relaxed) == pc) {
            if let Some(regs) = regs_of(st, vcpu) {
                read_floor(st, &mut QemuCpu::new(regs, vcpu, pc, None));
            }
        }
        return;
    }
    let mut session = lock(&st.session);
    if !session.is_return_site(pc) {
        return;
    }
    let Some(regs) = regs_of(st, vcpu) else {
        return;
    };
    let mut cpu = QemuCpu::new(regs, vcpu, pc, icount_of(st, vcpu));
    session.on_block(&mut cpu, pc);
}

unsafe extern "C" fn at_exit(_id: qemu_plugin_id_t, _udata: *mut c_void) {
    let st = state();
    let mut session = lock(&st.session);
    let backend = BTreeMap::from([
        ("flushes".to_string(), st.resets.load(Ordering::Relaxed)),
        (
            "returns_at_exits".to_string(),
            u64::from(st.mode() == ReturnMode::Exits),
        ),
        ("tbs_translated".to_string(), st.tbs.load(Ordering::Relaxed)),
        (
            "return_site_tbs".to_string(),
            st.return_tbs.load(Ordering::Relaxed),
        ),
        (
            "blocks_after_exits".to_string(),
            st.exit_blocks.load(Ordering::Relaxed),
        ),
        (
            "false_arm_svc".to_string(),
            st.false_svc.load(Ordering::Relaxed),
        ),
        (
            "kernel_ecalls".to_string(),
            st.kernel_ecalls.load(Ordering::Relaxed),
        ),
    ]);
    let summary = match session.finish(backend.clone()) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!(
                "syscalls2: {}: {e}; the trace is incomplete",
                st.options.log
            );
            session.summary(backend)
        }
    };
    let source = format!(
        "recorded by syscalls2-qemu on qemu-system-{}",
        st.target.name()
    );
    for e in st.options.write_results(&session, &summary, &source) {
        eprintln!("syscalls2: {e}");
    }
}
