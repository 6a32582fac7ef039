//! The plugin: arguments, callbacks, trace output.

use crate::cpu::{read_vaddr, QemuCpu, RegMap, Target};
use qemu_plugin::install::{Args, Info};
use qemu_plugin::plugin::{HasCallbacks, Register};
use qemu_plugin::sys::{
    qemu_plugin_cb_flags, qemu_plugin_id_t, qemu_plugin_insn, qemu_plugin_insn_data,
    qemu_plugin_insn_haddr, qemu_plugin_insn_size, qemu_plugin_insn_vaddr,
    qemu_plugin_register_atexit_cb, qemu_plugin_register_flush_cb,
    qemu_plugin_register_vcpu_init_cb, qemu_plugin_register_vcpu_insn_exec_cb,
    qemu_plugin_register_vcpu_tb_exec_cb, qemu_plugin_register_vcpu_tb_trans_cb, qemu_plugin_reset,
    qemu_plugin_tb, qemu_plugin_tb_get_insn, qemu_plugin_tb_n_insns, qemu_plugin_tb_vaddr,
};
use qemu_plugin::PluginId;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::ffi::c_void;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use syscalls2::abi::find_syscall_insn;
use syscalls2::fixture::{Event, EventKind, Fixture, Recorder};
use syscalls2::strace::{Format as TraceFormat, Tracer};
use syscalls2::{Arch, Cpu, CpuExt, Engine, Mode, SyscallCtx, SyscallInsn, Table};

/// The trace format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One strace-like line per call.
    Strace,
    /// One JSON object per enter and per return.
    Jsonl,
}

/// How return sites get their callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnMode {
    /// Only blocks at addresses after syscall instructions (the default).
    Sites,
    /// Every block, filtered by the engine (for comparison).
    EveryBlock,
}

/// The plugin's arguments.
#[derive(Clone, Debug)]
pub struct Config {
    /// The main profile.
    pub profile: &'static Table,
    /// The compat profile.
    pub compat: Option<&'static Table>,
    /// Where the trace goes; `None`: stderr.
    pub log: Option<PathBuf>,
    /// No trace at all (`log=none`).
    pub quiet: bool,
    /// The trace format.
    pub format: Format,
    /// Only these address spaces (empty: all).
    pub asids: Vec<u64>,
    /// Start marker (see the crate docs).
    pub after: Option<String>,
    /// Stop marker.
    pub until: Option<String>,
    /// Fixture output.
    pub record: Option<PathBuf>,
    /// Cap on recorded events.
    pub record_max: usize,
    /// Return-site instrumentation.
    pub returns: ReturnMode,
    /// Where the exit summary goes; `None`: stderr.
    pub stats: Option<PathBuf>,
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

impl Config {
    /// Parses QEMU's `key=value` plugin arguments for `target`.
    pub fn parse(target: Target, raw: &[String]) -> Result<Config, String> {
        let (main, compat) = target.default_profile();
        let mut cfg = Config {
            profile: syscalls2::profiles::by_name(main)
                .ok_or_else(|| format!("profile {main} is not built in"))?,
            compat: compat.and_then(syscalls2::profiles::by_name),
            log: None,
            quiet: false,
            format: Format::Strace,
            asids: Vec::new(),
            after: None,
            until: None,
            record: None,
            record_max: 600,
            returns: ReturnMode::Sites,
            stats: None,
        };
        for arg in raw {
            let (k, v) = arg
                .split_once('=')
                .ok_or_else(|| format!("argument `{arg}`: expected key=value"))?;
            match k {
                "profile" => {
                    cfg.profile = syscalls2::profiles::by_name(v)
                        .ok_or_else(|| format!("unknown profile `{v}`"))?;
                    cfg.compat = syscalls2::profiles::compat_for(cfg.profile);
                }
                "compat" => {
                    cfg.compat = match v {
                        "none" => None,
                        _ => Some(
                            syscalls2::profiles::by_name(v)
                                .ok_or_else(|| format!("unknown profile `{v}`"))?,
                        ),
                    }
                }
                "log" if v == "none" => cfg.quiet = true,
                "log" => cfg.log = Some(v.into()),
                "format" => {
                    cfg.format = match v {
                        "strace" => Format::Strace,
                        "jsonl" | "json" => Format::Jsonl,
                        _ => return Err(format!("format=`{v}`: expected strace or jsonl")),
                    }
                }
                "asid" => cfg
                    .asids
                    .push(parse_u64(v).ok_or_else(|| format!("asid=`{v}`: not a number"))?),
                "after" => cfg.after = Some(v.into()),
                "until" => cfg.until = Some(v.into()),
                "record" => cfg.record = Some(v.into()),
                "record_max" => {
                    cfg.record_max = v.parse().map_err(|_| format!("record_max=`{v}`"))?
                }
                "returns" => {
                    cfg.returns = match v {
                        "sites" => ReturnMode::Sites,
                        "every-block" => ReturnMode::EveryBlock,
                        _ => return Err(format!("returns=`{v}`: expected sites or every-block")),
                    }
                }
                "stats" => cfg.stats = Some(v.into()),
                _ => return Err(format!("unknown argument `{k}`")),
            }
        }
        Ok(cfg)
    }
}

/// A syscall instruction found at translation time.
struct Site {
    pc: u64,
    insn: SyscallInsn,
    bytes: [u8; 4],
    /// The code after the instruction, as translated (for the i386 vDSO,
    /// whose page `qemu_plugin_read_memory_vaddr` cannot read).
    after: Option<[u8; 16]>,
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

/// Which processes are traced.
struct Filter {
    asids: Vec<u64>,
    after: Option<String>,
    until: Option<String>,
    /// The writer of the `after` marker, once seen.
    root: Option<u64>,
    stopped: bool,
    traced: HashSet<u64>,
    /// Open fork-like calls of traced processes, by return address.
    forking: HashMap<u64, u32>,
    /// Per vCPU: the traced address space that called execve.
    exec_from: Vec<Option<u64>>,
}

impl Filter {
    fn active(&self) -> bool {
        self.after.is_none() || (self.root.is_some() && !self.stopped)
    }

    fn wants(&self, asid: u64) -> bool {
        if !self.asids.is_empty() && !self.asids.contains(&asid) {
            return false;
        }
        match &self.after {
            None => true,
            Some(_) => self.active() && self.traced.contains(&asid),
        }
    }

    fn marker(cpu: &mut dyn Cpu, ctx: &SyscallCtx, text: &str) -> bool {
        if ctx.name() != Some("sys_write") {
            return false;
        }
        let len = (ctx.args[2] as usize).min(256);
        cpu.read_bytes(ctx.args[1], len)
            .is_ok_and(|b| b.windows(text.len()).any(|w| w == text.as_bytes()))
    }

    fn on_enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        if self.after.is_none() {
            return;
        }
        let v = ctx.vcpu as usize;
        if self.exec_from.len() <= v {
            self.exec_from.resize(v + 1, None);
        }
        if let Some(a) = self.exec_from[v] {
            if ctx.asid == a {
                // The execve failed, or has not happened yet.
                self.exec_from[v] = None;
            } else if !self.traced.contains(&ctx.asid) && self.root != Some(ctx.asid) {
                // The first call of the new image on the vCPU that made a
                // traced execve.
                self.traced.insert(ctx.asid);
                self.exec_from[v] = None;
            }
        }
        let traced_or_root = self.traced.contains(&ctx.asid) || self.root == Some(ctx.asid);
        if traced_or_root && ctx.info.is_some_and(|i| i.returns.double_return) {
            *self.forking.entry(ctx.retaddr).or_default() += 1;
        }
        let exec = ctx.info.is_some_and(|i| i.returns.noreturn_on_success);
        if exec && self.traced.contains(&ctx.asid) {
            self.exec_from[v] = Some(ctx.asid);
        }
        match (&self.after, self.root) {
            (Some(after), None) if Self::marker(cpu, ctx, after) => {
                self.root = Some(ctx.asid);
            }
            (_, Some(root)) if ctx.asid == root && !self.stopped => {
                if let Some(until) = &self.until {
                    if Self::marker(cpu, ctx, until) {
                        self.stopped = true;
                    }
                }
            }
            _ => {}
        }
    }

    fn on_return(&mut self, ctx: &SyscallCtx, ret_asid: u64) {
        if self.after.is_none() || !self.active() {
            return;
        }
        let double = ctx.info.is_some_and(|i| i.returns.double_return);
        let waiting = self.forking.get(&ctx.retaddr).copied().unwrap_or(0);
        if !double || waiting == 0 {
            return;
        }
        // A traced fork's child (the engine reports it in the child's
        // address space), or a failed traced fork.
        let failed = ctx.retval.is_some_and(|r| r.is_error());
        if ctx.child || failed {
            if waiting == 1 {
                self.forking.remove(&ctx.retaddr);
            } else {
                self.forking.insert(ctx.retaddr, waiting - 1);
            }
        }
        if ctx.child && Some(ret_asid) != self.root {
            self.traced.insert(ret_asid);
        }
    }
}

/// The trace writer and its state, shared by the hooks.
struct Sink {
    out: Option<Box<dyn Write + Send>>,
    format: Format,
    tracer: Tracer,
    /// `record=` is set.
    recording: bool,
    filter: Filter,
    /// Whether the current event was traced (for the recorder).
    traced_now: bool,
}

fn insn_name(insn: SyscallInsn) -> &'static str {
    match insn {
        SyscallInsn::Int80 => "int80",
        SyscallInsn::Sysenter => "sysenter",
        SyscallInsn::Syscall => "syscall",
        SyscallInsn::Int2e => "int2e",
        SyscallInsn::ArmSvc { thumb: true, .. } => "svc-thumb",
        SyscallInsn::ArmSvc { thumb: false, .. } => "svc-arm",
        SyscallInsn::A64Svc => "svc",
        SyscallInsn::MipsSyscall => "syscall",
    }
}

thread_local! {
    /// The instruction of the syscall being handled on this vCPU thread.
    static CURRENT_INSN: std::cell::Cell<Option<SyscallInsn>> = const { std::cell::Cell::new(None) };
}

impl Sink {
    fn event(&self, ev: &str, ctx: &SyscallCtx, line: Option<&str>) -> Value {
        let n = ctx.info.map_or(6, |i| i.slots().max(i.args.len())).min(8);
        let mut v = json!({
            "ev": ev,
            "vcpu": ctx.vcpu,
            "asid": format!("{:#x}", ctx.asid),
            "pc": format!("{:#x}", ctx.pc),
            "sp": format!("{:#x}", ctx.sp),
            "retaddr": format!("{:#x}", ctx.retaddr),
            "no": ctx.no,
            "name": ctx.name().map(|n| n.strip_prefix("sys_").unwrap_or(n)),
            "profile": ctx.table.name,
            "args": ctx.args[..n].iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>(),
        });
        if let Some(insn) = CURRENT_INSN.with(|c| c.get()).filter(|_| ev == "enter") {
            v["insn"] = json!(insn_name(insn));
        }
        if let Some(line) = line {
            v["line"] = json!(line);
        }
        v
    }

    fn write(&mut self, text: &str) {
        if let Some(out) = self.out.as_mut() {
            let _ = out.write_all(text.as_bytes());
            let _ = out.write_all(b"\n");
        }
    }

    fn enter(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        self.filter.on_enter(cpu, ctx);
        self.traced_now = self.filter.wants(ctx.asid);
        // While recording, the tracer runs even with no log, so that the
        // strings and buffers it reads are in the fixture.
        if !self.traced_now || (self.out.is_none() && !self.recording) {
            return;
        }
        let line = self.tracer.enter(cpu, ctx);
        match self.format {
            Format::Strace => {
                if let Some(line) = line {
                    self.write(&line);
                }
            }
            Format::Jsonl => {
                let v = self.event("enter", ctx, line.as_deref());
                self.write(&v.to_string());
            }
        }
    }

    fn ret(&mut self, cpu: &mut dyn Cpu, ctx: &SyscallCtx) {
        let ret_asid = cpu.asid();
        self.filter.on_return(ctx, ret_asid);
        self.traced_now = self.filter.wants(ctx.asid) || self.filter.wants(ret_asid);
        if !self.traced_now || (self.out.is_none() && !self.recording) {
            return;
        }
        let line = self.tracer.exit(cpu, ctx);
        match self.format {
            Format::Strace => {
                if let Some(line) = line {
                    self.write(&line);
                }
            }
            Format::Jsonl => {
                let mut v = self.event("return", ctx, line.as_deref());
                let r = ctx.retval.unwrap_or(syscalls2::Retval::linux(0));
                v["ret"] = json!(r.value);
                v["errno"] = json!(r.error);
                v["child"] = json!(ctx.child);
                v["ret_asid"] = json!(format!("{ret_asid:#x}"));
                self.write(&v.to_string());
            }
        }
    }
}

/// The plugin's state.
struct State {
    id: qemu_plugin_id_t,
    target: Target,
    arch: Arch,
    cfg: Config,
    engine: Mutex<Engine>,
    sink: Arc<Mutex<Sink>>,
    sites: Mutex<Sites>,
    vcpus: Box<[OnceLock<RegMap>]>,
    resetting: AtomicBool,
    resets: AtomicU64,
    return_tbs: AtomicU64,
    tbs: AtomicU64,
    false_svc: AtomicU64,
    recorded: Mutex<Vec<Event>>,
}

static STATE: OnceLock<State> = OnceLock::new();

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

impl Entry {
    fn install(&mut self, id: PluginId, args: &Args, info: &Info) -> Result<(), String> {
        let target = Target::from_qemu(&info.target_name).ok_or_else(|| {
            format!(
                "unsupported QEMU target `{}` (x86_64, i386, arm, aarch64)",
                info.target_name
            )
        })?;
        let cfg = Config::parse(target, &args.raw)?;
        let mut engine = Engine::new(cfg.profile);
        if let Some(compat) = cfg.compat {
            engine = engine.with_compat(compat);
        }
        let out: Option<Box<dyn Write + Send>> = if cfg.quiet {
            None
        } else if let Some(path) = &cfg.log {
            let f = File::create(path).map_err(|e| format!("log={}: {e}", path.display()))?;
            Some(Box::new(BufWriter::with_capacity(1 << 16, f)))
        } else {
            Some(Box::new(std::io::stderr()))
        };
        let sink = Arc::new(Mutex::new(Sink {
            out,
            format: cfg.format,
            tracer: Tracer::new(TraceFormat::Strace),
            recording: cfg.record.is_some(),
            filter: Filter {
                asids: cfg.asids.clone(),
                after: cfg.after.clone(),
                until: cfg.until.clone(),
                root: None,
                stopped: false,
                traced: HashSet::new(),
                forking: HashMap::new(),
                exec_from: Vec::new(),
            },
            traced_now: false,
        }));
        let s = sink.clone();
        engine.on_all_enter(move |cpu, ctx| s.lock().unwrap().enter(cpu, ctx));
        let s = sink.clone();
        engine.on_all_return(move |cpu, ctx| s.lock().unwrap().ret(cpu, ctx));
        if let Some(setup) = self.setup.lock().unwrap().take() {
            setup(&mut engine);
        }
        let max_vcpus = info
            .system
            .as_ref()
            .map_or(64, |s| s.max_vcpus.max(s.smp_vcpus).max(1) as usize);
        let arch = match target {
            Target::X86_64 => Arch::X86_64,
            Target::I386 => Arch::X86,
            Target::Arm => Arch::Arm,
            Target::Aarch64 => Arch::Aarch64,
        };
        let st = State {
            id,
            target,
            arch,
            cfg,
            engine: Mutex::new(engine),
            sink,
            sites: Mutex::new(Sites::default()),
            vcpus: (0..max_vcpus).map(|_| OnceLock::new()).collect(),
            resetting: AtomicBool::new(false),
            resets: AtomicU64::new(0),
            return_tbs: AtomicU64::new(0),
            tbs: AtomicU64::new(0),
            false_svc: AtomicU64::new(0),
            recorded: Mutex::new(Vec::new()),
        };
        STATE
            .set(st)
            .map_err(|_| "the plugin is installed twice".to_string())?;
        register_callbacks(id);
        Ok(())
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
    let map = RegMap::for_current_vcpu(st.target);
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
    state().sites.lock().unwrap().translated.clear();
}

unsafe extern "C" fn after_reset(id: qemu_plugin_id_t) {
    let st = state();
    st.sites.lock().unwrap().translated.clear();
    register_callbacks(id);
    st.resetting.store(false, Ordering::SeqCst);
}

fn request_reset(st: &State) {
    if !st.resetting.swap(true, Ordering::SeqCst) {
        st.resets.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the raw API (the crate's wrapper calls the wrong callback).
        unsafe { qemu_plugin_reset(st.id, Some(after_reset)) };
    }
}

/// The syscall instruction at the start of `bytes` (of length `size`), if any.
fn classify(arch: Arch, bytes: &[u8], size: usize) -> Option<SyscallInsn> {
    let mode = match (arch, size) {
        (Arch::Arm, 2) => Mode {
            thumb: true,
            ..Mode::default()
        },
        (Arch::Arm, 4) => Mode::default(),
        (Arch::X86_64 | Arch::Aarch64, _) => Mode {
            wide: true,
            ..Mode::default()
        },
        (Arch::X86, _) => Mode::default(),
        _ => return None,
    };
    let insn = find_syscall_insn(arch, bytes, mode)?;
    (insn.len() as usize == size).then_some(insn)
}

unsafe extern "C" fn tb_trans(_id: qemu_plugin_id_t, tb: *mut qemu_plugin_tb) {
    let st = state();
    st.tbs.fetch_add(1, Ordering::Relaxed);
    let tb_pc = qemu_plugin_tb_vaddr(tb);
    let n = qemu_plugin_tb_n_insns(tb);
    let mut sites = st.sites.lock().unwrap();
    sites.translated.insert(tb_pc);
    let every = st.cfg.returns == ReturnMode::EveryBlock;
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
    let mut need_reset = false;
    for i in 0..n {
        let insn = qemu_plugin_tb_get_insn(tb, i);
        let size = qemu_plugin_insn_size(insn);
        if size != 2 && size != 4 {
            continue;
        }
        let mut bytes = [0u8; 4];
        qemu_plugin_insn_data(insn, bytes.as_mut_ptr() as *mut c_void, size);
        let Some(kind) = classify(st.arch, &bytes[..size], size) else {
            continue;
        };
        let pc = qemu_plugin_insn_vaddr(insn);
        let after = matches!(kind, SyscallInsn::Sysenter | SyscallInsn::Syscall)
            .then(|| code_after(insn, pc, size))
            .flatten();
        let site: &'static Site = sites.syscalls.entry((pc, bytes)).or_insert_with(|| {
            Box::leak(Box::new(Site {
                pc,
                insn: kind,
                bytes,
                after,
            }))
        });
        qemu_plugin_register_vcpu_insn_exec_cb(
            insn,
            Some(on_syscall_insn),
            qemu_plugin_cb_flags::QEMU_PLUGIN_CB_R_REGS,
            site as *const Site as *mut c_void,
        );
        let mut returns = vec![pc + kind.len()];
        if matches!(kind, SyscallInsn::Sysenter | SyscallInsn::Syscall) {
            // The i386 vDSO returns after the `int $0x80` that follows.
            if let Some(code) = site.after {
                if let Some(at) = code.windows(2).position(|w| w == [0xcd, 0x80]) {
                    returns.push(pc + kind.len() + at as u64 + 2);
                }
            }
        }
        for r in returns {
            if sites.returns.insert(r) && sites.translated.contains(&r) && !every {
                need_reset = true;
            }
        }
    }
    drop(sites);
    if need_reset {
        request_reset(st);
    }
}

/// The 16 bytes after the instruction `insn` of `size` bytes at `pc`: read
/// through the guest virtual address, or else from the translator's host
/// pointer into guest RAM (within the same guest page).
unsafe fn code_after(insn: *const qemu_plugin_insn, pc: u64, size: usize) -> Option<[u8; 16]> {
    let mut code = [0u8; 16];
    let from = pc + size as u64;
    if read_vaddr(from, &mut code).is_ok() {
        return Some(code);
    }
    let host = qemu_plugin_insn_haddr(insn) as *const u8;
    let page_left = (0x1000 - (pc & 0xfff)) as usize;
    if host.is_null() || page_left < size + 16 {
        return None;
    }
    // SAFETY: `host` points at the instruction in guest RAM, and the 16
    // bytes after it are on the same guest page.
    std::ptr::copy_nonoverlapping(host.add(size), code.as_mut_ptr(), 16);
    Some(code)
}

fn regs_of(st: &State, vcpu: u32) -> Option<&RegMap> {
    st.vcpus.get(vcpu as usize)?.get()
}

unsafe extern "C" fn on_syscall_insn(vcpu: u32, udata: *mut c_void) {
    let st = state();
    // SAFETY: `udata` is a leaked `Site`.
    let site = unsafe { &*(udata as *const Site) };
    let Some(regs) = regs_of(st, vcpu) else {
        return;
    };
    let mut cpu = QemuCpu::new(regs, vcpu, site.pc);
    if let Some(code) = &site.after {
        cpu.set_code(site.pc + site.insn.len(), code);
    }
    if st.target == Target::Arm
        && matches!(site.insn, SyscallInsn::ArmSvc { thumb: false, .. })
        && cpu.mode().thumb
    {
        // A Thumb-2 instruction whose bits look like an ARM `svc`.
        st.false_svc.fetch_add(1, Ordering::Relaxed);
        return;
    }
    CURRENT_INSN.with(|c| c.set(Some(site.insn)));
    let mut engine = st.engine.lock().unwrap();
    if st.cfg.record.is_some() {
        let len = site.insn.len() as usize;
        let mut rec = Recorder::new(
            &mut cpu,
            EventKind::Syscall,
            site.pc,
            Some(&site.bytes[..len]),
        );
        engine.on_syscall(&mut rec, site.pc, site.insn);
        keep_event(st, rec.finish());
    } else {
        engine.on_syscall(&mut cpu, site.pc, site.insn);
    }
    CURRENT_INSN.with(|c| c.set(None));
}

unsafe extern "C" fn on_return_block(vcpu: u32, udata: *mut c_void) {
    let st = state();
    let pc = udata as usize as u64;
    let mut engine = st.engine.lock().unwrap();
    if !engine.is_return_site(pc) {
        return;
    }
    let Some(regs) = regs_of(st, vcpu) else {
        return;
    };
    let mut cpu = QemuCpu::new(regs, vcpu, pc);
    if st.cfg.record.is_some() {
        let before = engine.stats().returns;
        let mut rec = Recorder::new(&mut cpu, EventKind::Block, pc, None);
        engine.on_block(&mut rec, pc);
        if engine.stats().returns != before {
            keep_event(st, rec.finish());
        }
    } else {
        engine.on_block(&mut cpu, pc);
    }
}

/// Keeps a recorded event if its call was traced.
fn keep_event(st: &State, event: Event) {
    let mut sink = st.sink.lock().unwrap();
    if !sink.traced_now {
        return;
    }
    sink.traced_now = false;
    drop(sink);
    let mut rec = st.recorded.lock().unwrap();
    if rec.len() < st.cfg.record_max {
        rec.push(event);
    }
}

fn summary(st: &State) -> (String, Value) {
    let engine = st.engine.lock().unwrap();
    let s = engine.stats();
    let pending = engine.pending();
    let names: Vec<Value> = pending
        .iter()
        .map(|c| {
            json!({
                "name": c.name().map(|n| n.strip_prefix("sys_").unwrap_or(n)),
                "asid": format!("{:#x}", c.asid),
                "pc": format!("{:#x}", c.pc),
                "vcpu": c.vcpu,
            })
        })
        .collect();
    let v = json!({
        "ev": "exit",
        "profile": engine.table().name,
        "enters": s.enters,
        "returns": s.returns,
        "unknown": s.unknown,
        "noreturn": s.noreturn,
        "evicted": s.evicted,
        "restarted": s.restarted,
        "exec_succeeded": s.exec_succeeded,
        "decode_errors": s.decode_errors,
        "pending": pending.len(),
        "pending_calls": names,
        "resets": st.resets.load(Ordering::Relaxed),
        "tbs_translated": st.tbs.load(Ordering::Relaxed),
        "return_site_tbs": st.return_tbs.load(Ordering::Relaxed),
        "false_arm_svc": st.false_svc.load(Ordering::Relaxed),
    });
    let list: Vec<String> = pending
        .iter()
        .map(|c| {
            format!(
                "{}@{:#x}",
                c.name()
                    .map_or("?", |n| n.strip_prefix("sys_").unwrap_or(n)),
                c.asid
            )
        })
        .collect();
    let text = format!(
        "syscalls2: profile {} enters {} returns {} noreturn {} unknown {} restarted {} exec_succeeded {} evicted {} decode_errors {} unpaired(pending) {} [{}] flushes {}",
        engine.table().name,
        s.enters,
        s.returns,
        s.noreturn,
        s.unknown,
        s.restarted,
        s.exec_succeeded,
        s.evicted,
        s.decode_errors,
        pending.len(),
        list.join(" "),
        st.resets.load(Ordering::Relaxed),
    );
    (text, v)
}

unsafe extern "C" fn at_exit(_id: qemu_plugin_id_t, _udata: *mut c_void) {
    let st = state();
    let (text, v) = summary(st);
    {
        let mut sink = st.sink.lock().unwrap();
        if sink.format == Format::Jsonl {
            sink.write(&v.to_string());
        }
        if let Some(out) = sink.out.as_mut() {
            let _ = out.flush();
        }
    }
    match &st.cfg.stats {
        Some(path) => {
            let _ = std::fs::write(path, format!("{text}\n{v}\n"));
        }
        None => eprintln!("{text}"),
    }
    if let Some(path) = &st.cfg.record {
        let events = std::mem::take(&mut *st.recorded.lock().unwrap());
        let fixture = Fixture {
            profile: st.cfg.profile.name.to_string(),
            compat: st.cfg.compat.map(|t| t.name.to_string()),
            source: format!(
                "recorded by syscalls2-qemu on qemu-system-{}",
                match st.target {
                    Target::X86_64 => "x86_64",
                    Target::I386 => "i386",
                    Target::Arm => "arm",
                    Target::Aarch64 => "aarch64",
                }
            ),
            events,
        };
        if let Err(e) = std::fs::write(path, fixture.to_json()) {
            eprintln!("syscalls2: record={}: {e}", path.display());
        }
    }
}
