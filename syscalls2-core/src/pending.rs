//! The pending-return store: every syscall that has entered and not yet
//! returned, found again by its return site.
//!
//! A backend asks, on every block start, whether the block's address is a
//! return site. That question must be nearly free when the answer is no, so
//! it is answered by a bit set indexed by a hash of the address (a Bloom
//! filter with one hash): one multiply, one shift, one load. Only on a
//! (possible) hit is the map of sites consulted.
//!
//! Entries are keyed by (address space, return address); threads waiting at
//! the same site are told apart by their stack pointer. A double-returning
//! call (fork, clone) is also listed by return address alone, where its child
//! is found: in a new address space (fork), or on a new stack (a thread).
//! The store is bounded: past its capacity the oldest entry is evicted.

use crate::context::SyscallCtx;
use std::collections::HashMap;

/// No entry.
const NIL: u32 = u32::MAX;
use std::hash::{BuildHasherDefault, Hasher};

/// log2 of the number of bits in the return-site filter: 2^18 bits, 32 KiB,
/// the size of a typical L1 data cache.
const FILTER_LOG2: u32 = 18;

/// The return-site filter: a bit per hash bucket, and beside it (off the hot
/// path) how many pending entries set each bit. The counts are `u32`: the
/// store's 65535 entries and the engine's retired calls may all share one
/// bucket (one return site), which a `u16` could not count.
pub(crate) struct SiteFilter {
    bits: Box<[u64]>,
    refs: Box<[u32]>,
}

impl SiteFilter {
    fn new() -> Self {
        SiteFilter {
            bits: vec![0; 1 << (FILTER_LOG2 - 6)].into_boxed_slice(),
            refs: vec![0; 1 << FILTER_LOG2].into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn bucket(addr: u64) -> usize {
        (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - FILTER_LOG2)) as usize
    }

    /// Whether `addr` may be a pending return site (false positives possible,
    /// false negatives not).
    #[inline(always)]
    pub(crate) fn may_contain(&self, addr: u64) -> bool {
        let b = Self::bucket(addr);
        // SAFETY-free indexing: `b < 2^FILTER_LOG2` by construction, so the
        // bounds check is elided by the optimiser.
        self.bits[b >> 6] & (1 << (b & 63)) != 0
    }

    pub(crate) fn add(&mut self, addr: u64) {
        let b = Self::bucket(addr);
        self.refs[b] += 1;
        self.bits[b >> 6] |= 1 << (b & 63);
    }

    pub(crate) fn remove(&mut self, addr: u64) {
        let b = Self::bucket(addr);
        debug_assert!(self.refs[b] > 0, "a site removed more often than added");
        self.refs[b] = self.refs[b].saturating_sub(1);
        if self.refs[b] == 0 {
            self.bits[b >> 6] &= !(1 << (b & 63));
        }
    }
}

/// A fast hasher for the small integer keys of the site maps (the Fx hash
/// of rustc: a multiply and a rotate per word). Keys are guest addresses,
/// not attacker-chosen host data, so HashDoS resistance is not needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One pending syscall.
pub(crate) struct PendingEntry {
    pub(crate) ctx: SyscallCtx,
    /// Which engine profile decoded it (0: main, 1: compat).
    pub(crate) profile: u8,
    /// Its position in that profile's table, or `u16::MAX` when unknown.
    pub(crate) index: u16,
    /// A double-returning call (fork, clone) waiting for one of its returns.
    pub(crate) double: bool,
    pub(crate) parent_done: bool,
    pub(crate) child_done: bool,
    seq: u64,
    /// Its site record, so that removing it needs no hashing.
    site: u32,
    /// The next older and next newer live entries (`NIL` at the ends): the
    /// eviction order, threaded through the entries.
    older: u32,
    newer: u32,
    /// Whether the slot holds a pending call (slots are reused in place).
    live: bool,
}

/// The pending calls of one (address space, return address).
struct Site {
    key: (u64, u64),
    slots: Vec<u32>,
}

/// How a return at a site matched a pending entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Match {
    /// The thread that entered (same stack pointer).
    Same(u32),
    /// The child of a double-returning call.
    Child(u32),
}

/// What [`Pending::record`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The entry's slot.
    pub(crate) slot: u32,
    /// The oldest entry was evicted to make room: its call's sequence number.
    pub(crate) evicted: Option<u64>,
    /// The same thread's unreturned entry at this site was replaced (the
    /// call was restarted, or its return was missed): its sequence number.
    pub(crate) replaced: Option<u64>,
}

/// The store: entries in a slab, site records in another, one hash map from
/// (address space, return address) to site record. A call and its return
/// cost one probe each.
pub(crate) struct Pending {
    entries: Vec<PendingEntry>,
    free: Vec<u32>,
    sites: Vec<Site>,
    free_sites: Vec<u32>,
    site_of: FxMap<(u64, u64), u32>,
    children: FxMap<u64, Vec<u32>>,
    /// The oldest and newest live entries (`NIL` when empty).
    oldest: u32,
    newest: u32,
    pub(crate) filter: SiteFilter,
    capacity: usize,
    len: usize,
    seq: u64,
}

impl Pending {
    pub(crate) fn new(capacity: usize) -> Self {
        Pending {
            entries: Vec::new(),
            free: Vec::new(),
            sites: Vec::new(),
            free_sites: Vec::new(),
            site_of: FxMap::default(),
            children: FxMap::default(),
            oldest: NIL,
            newest: NIL,
            filter: SiteFilter::new(),
            capacity: capacity.clamp(1, usize::from(u16::MAX)),
            len: 0,
            seq: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn get(&self, slot: u32) -> Option<&PendingEntry> {
        self.entries.get(slot as usize).filter(|e| e.live)
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut PendingEntry> {
        self.entries.get_mut(slot as usize).filter(|e| e.live)
    }

    /// The sequence number of the entry in `slot`, to tell a slot's later
    /// reuse from the entry it held.
    pub(crate) fn seq_of(&self, slot: u32) -> Option<u64> {
        self.get(slot).map(|e| e.seq)
    }

    /// The site record of `key`, made if new.
    fn site_for(&mut self, key: (u64, u64)) -> u32 {
        if let Some(&id) = self.site_of.get(&key) {
            return id;
        }
        // Emptied site records stay (allocated) for the next call at the
        // site; when stale ones pile up, free them.
        if self.site_of.len() > 2 * self.capacity + 64 {
            let sites = &self.sites;
            let free = &mut self.free_sites;
            self.site_of.retain(|_, &mut id| {
                let keep = !sites[id as usize].slots.is_empty();
                if !keep {
                    free.push(id);
                }
                keep
            });
            self.children.retain(|_, v| !v.is_empty());
        }
        let id = match self.free_sites.pop() {
            Some(id) => {
                self.sites[id as usize].key = key;
                id
            }
            None => {
                self.sites.push(Site {
                    key,
                    slots: Vec::new(),
                });
                (self.sites.len() - 1) as u32
            }
        };
        self.site_of.insert(key, id);
        id
    }

    /// Records a call waiting for its return. If the same thread (same
    /// address space, site and stack pointer) already waits there, its
    /// entry is replaced in place.
    pub(crate) fn record(
        &mut self,
        ctx: &SyscallCtx,
        profile: u8,
        index: u16,
        double: bool,
    ) -> Recorded {
        let site = self.site_for((ctx.asid, ctx.retaddr));
        let entries = &self.entries;
        let same_thread = self.sites[site as usize].slots.iter().copied().find(|&s| {
            let e = &entries[s as usize];
            e.ctx.sp == ctx.sp && !e.parent_done && !e.child_done
        });
        self.seq += 1;
        let seq = self.seq;
        if let Some(slot) = same_thread {
            let e = &mut self.entries[slot as usize];
            let was_double = e.double;
            let replaced = e.ctx.seq;
            e.ctx = *ctx;
            (e.profile, e.index, e.double, e.seq) = (profile, index, double, seq);
            if was_double {
                remove_from(&mut self.children, ctx.retaddr, slot);
            }
            if double {
                self.children.entry(ctx.retaddr).or_default().push(slot);
            }
            // Now the newest.
            self.unlink(slot);
            self.link_newest(slot);
            return Recorded {
                slot,
                evicted: None,
                replaced: Some(replaced),
            };
        }
        let evicted = if self.len >= self.capacity {
            self.evict_oldest()
        } else {
            None
        };
        let entry = PendingEntry {
            ctx: *ctx,
            profile,
            index,
            double,
            parent_done: false,
            child_done: false,
            seq,
            site,
            older: NIL,
            newer: NIL,
            live: true,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.entries[s as usize] = entry;
                s
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.sites[site as usize].slots.push(slot);
        if double {
            self.children.entry(ctx.retaddr).or_default().push(slot);
        }
        self.filter.add(ctx.retaddr);
        self.link_newest(slot);
        self.len += 1;
        Recorded {
            slot,
            evicted,
            replaced: None,
        }
    }

    /// Links the entry in `slot` as the newest.
    fn link_newest(&mut self, slot: u32) {
        let prev = self.newest;
        let e = &mut self.entries[slot as usize];
        (e.older, e.newer) = (prev, NIL);
        if prev == NIL {
            self.oldest = slot;
        } else {
            self.entries[prev as usize].newer = slot;
        }
        self.newest = slot;
    }

    /// Takes the entry in `slot` out of the eviction order.
    fn unlink(&mut self, slot: u32) {
        let (older, newer) = {
            let e = &self.entries[slot as usize];
            (e.older, e.newer)
        };
        match older {
            NIL => self.oldest = newer,
            o => self.entries[o as usize].newer = newer,
        }
        match newer {
            NIL => self.newest = older,
            n => self.entries[n as usize].older = older,
        }
    }

    /// Evicts the oldest entry; returns its call's sequence number.
    fn evict_oldest(&mut self) -> Option<u64> {
        let oldest = self.oldest;
        let seq = self.get(oldest)?.ctx.seq;
        self.remove(oldest).then_some(seq)
    }

    /// Removes the entry in `slot`; returns whether there was one.
    pub(crate) fn remove(&mut self, slot: u32) -> bool {
        let Some(entry) = self.get_mut(slot) else {
            return false;
        };
        entry.live = false;
        let (site, retaddr, double) = (entry.site, entry.ctx.retaddr, entry.double);
        self.unlink(slot);
        let slots = &mut self.sites[site as usize].slots;
        if let Some(i) = slots.iter().position(|&s| s == slot) {
            slots.swap_remove(i);
        }
        if double {
            remove_from(&mut self.children, retaddr, slot);
        }
        self.filter.remove(retaddr);
        self.free.push(slot);
        self.len -= 1;
        true
    }

    /// Finds the entry a return at `pc` in `asid` with stack pointer `sp`
    /// belongs to. `is_child` says whether the return value is the one a
    /// double-returning call gives its child (0).
    pub(crate) fn find_return(&self, asid: u64, pc: u64, sp: u64, is_child: bool) -> Option<Match> {
        if let Some(&site) = self.site_of.get(&(asid, pc)) {
            debug_assert_eq!(self.sites[site as usize].key, (asid, pc));
            for &s in &self.sites[site as usize].slots {
                let e = &self.entries[s as usize];
                if e.ctx.sp != sp {
                    continue;
                }
                if !e.double {
                    return Some(Match::Same(s));
                }
                // vfork: parent and child share the address space and stack.
                if is_child && !e.child_done {
                    return Some(Match::Child(s));
                }
                if !is_child && !e.parent_done {
                    return Some(Match::Same(s));
                }
            }
        }
        if !is_child {
            return None;
        }
        // The child of a fork (another address space) or of a thread-creating
        // clone (another stack): the oldest double-returning call at this
        // site still waiting for its child, preferring one on the same stack.
        let waiting = self.children.get(&pc).filter(|v| !v.is_empty())?;
        let candidates = waiting
            .iter()
            .copied()
            .filter(|&s| self.get(s).is_some_and(|e| !e.child_done));
        let mut best: Option<(u32, bool, u64)> = None;
        for s in candidates {
            let e = self.get(s)?;
            let same_sp = e.ctx.sp == sp;
            let better = match best {
                None => true,
                Some((_, best_sp, best_seq)) => {
                    (same_sp && !best_sp) || (same_sp == best_sp && e.seq < best_seq)
                }
            };
            if better {
                best = Some((s, same_sp, e.seq));
            }
        }
        best.map(|(s, _, _)| Match::Child(s))
    }

    /// Every pending entry, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PendingEntry> {
        let mut all: Vec<&PendingEntry> = self.entries.iter().filter(|e| e.live).collect();
        all.sort_by_key(|e| e.seq);
        all.into_iter()
    }
}

fn remove_from<K: std::hash::Hash + Eq>(map: &mut FxMap<K, Vec<u32>>, key: K, slot: u32) {
    if let Some(v) = map.get_mut(&key) {
        if let Some(i) = v.iter().position(|&s| s == slot) {
            v.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Table, MAX_SLOTS};

    static TABLE: Table = Table {
        name: "t",
        abi: syscalls2_abi::linux_x64::ABI,
        syscalls: &[],
        by_name_index: &[],
    };

    /// A call of one thread (its stack pointer) at one return site.
    fn call(retaddr: u64, sp: u64) -> SyscallCtx {
        SyscallCtx {
            seq: retaddr,
            no: 0,
            pc: retaddr - 2,
            asid: 1,
            retaddr,
            sp,
            vcpu: 0,
            args: [0; MAX_SLOTS],
            args_error: None,
            info: None,
            table: &TABLE,
            abi: TABLE.abi,
            retval: None,
            child: false,
        }
    }

    fn live(p: &Pending) -> Vec<u64> {
        p.iter().map(|e| e.ctx.retaddr).collect()
    }

    #[test]
    fn eviction_is_oldest_first_across_removals_and_restarts() {
        let mut p = Pending::new(3);
        let a = p.record(&call(0x10, 1), 0, 0, false);
        let b = p.record(&call(0x20, 1), 0, 0, false);
        p.record(&call(0x30, 1), 0, 0, false);
        assert!(p.remove(b.slot));
        p.record(&call(0x40, 1), 0, 0, false);
        assert_eq!(live(&p), [0x10, 0x30, 0x40]);
        // Full: the oldest (0x10) goes, and is reported by its call.
        assert_eq!(p.record(&call(0x50, 1), 0, 0, false).evicted, Some(0x10));
        assert_eq!(live(&p), [0x30, 0x40, 0x50]);
        assert!(
            !p.filter.may_contain(0x10),
            "an evicted site leaves the filter"
        );
        // A restart at 0x30 (same thread) makes it the newest: 0x40 goes next.
        let r = p.record(&call(0x30, 1), 0, 0, false);
        assert_eq!((r.replaced, r.evicted), (Some(0x30), None));
        assert_eq!(p.record(&call(0x60, 1), 0, 0, false).evicted, Some(0x40));
        assert_eq!(live(&p), [0x50, 0x30, 0x60]);
        assert_eq!(p.len(), 3);
        assert!(p.get(a.slot).is_none_or(|e| e.ctx.retaddr != 0x10));
    }

    #[test]
    fn a_bucket_counts_past_u16() {
        // A full store (65535 threads waiting at one return site) and the
        // engine's retired calls at that site all count in one bucket.
        let mut f = SiteFilter::new();
        let n = u32::from(u16::MAX) + 64;
        for _ in 0..n {
            f.add(0x10);
        }
        for _ in 1..n {
            f.remove(0x10);
            assert!(f.may_contain(0x10), "others still wait there");
        }
        f.remove(0x10);
        assert!(!f.may_contain(0x10));
    }

    #[test]
    fn threads_at_one_site_are_told_apart_by_stack_pointer() {
        let mut p = Pending::new(8);
        let t1 = p.record(&call(0x10, 0x7000), 0, 0, false);
        let t2 = p.record(&call(0x10, 0x6000), 0, 0, false);
        assert_eq!(
            p.find_return(1, 0x10, 0x6000, false),
            Some(Match::Same(t2.slot))
        );
        assert_eq!(
            p.find_return(1, 0x10, 0x7000, false),
            Some(Match::Same(t1.slot))
        );
        assert_eq!(p.find_return(1, 0x10, 0x5000, false), None);
        assert_eq!(
            p.find_return(2, 0x10, 0x7000, false),
            None,
            "another address space"
        );
    }
}
