//! Argument slots: how arguments of given widths are laid over an ABI's
//! slots, and how their values are read back and widened.

use crate::{Abi, ArgClass, ArgInfo, Cpu, Entry, MemError, MAX_SLOTS};

/// See [`Abi::layout_slots`].
pub(crate) fn layout_slots(widths: &[u8], slot_bits: u8, aligns_pairs: bool) -> Vec<(u8, u8)> {
    let mut next = 0u8;
    widths
        .iter()
        .map(|&bits| {
            if bits == 0 {
                return (next, 0);
            }
            let count = if bits > slot_bits { 2 } else { 1 };
            if count == 2 && aligns_pairs && next % 2 == 1 {
                next += 1;
            }
            let first = next;
            next += count;
            (first, count)
        })
        .collect()
}

/// See [`Abi::read_args`].
pub(crate) fn read_args(
    abi: Abi,
    cpu: &mut dyn Cpu,
    entry: &Entry,
    args: &[ArgInfo],
    out: &mut [u64; MAX_SLOTS],
) -> Option<MemError> {
    let mut error = None;
    let slot_bits = abi.slot_bits;
    for (value, arg) in out.iter_mut().zip(args) {
        let first = arg.slot;
        let raw = match arg.slots {
            0 => Ok(0),
            1 => abi.slot(cpu, entry, usize::from(first)),
            _ => abi
                .slot(cpu, entry, usize::from(first))
                .and_then(|low_slot| {
                    let high_slot = abi.slot(cpu, entry, usize::from(first) + 1)?;
                    let (lo, hi) = if entry.mode.big_endian {
                        (high_slot, low_slot)
                    } else {
                        (low_slot, high_slot)
                    };
                    let bits = u32::from(slot_bits);
                    Ok((lo & mask(bits)) | (hi << bits))
                }),
        };
        *value = match raw {
            Ok(raw) => widen(raw, arg.class, slot_bits),
            Err(e) => {
                error.get_or_insert(e);
                0
            }
        };
    }
    error
}

/// The low `bits` bits set.
pub(crate) const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Truncates `raw` to the width of `class` and widens it back to 64 bits,
/// sign-extending signed integers. Pointers are zero-extended.
#[inline]
pub(crate) fn widen(raw: u64, class: ArgClass, slot_bits: u8) -> u64 {
    let (signed, bits) = match class {
        ArgClass::Int { signed, bits } => (signed, u32::from(bits)),
        _ => (false, u32::from(slot_bits)),
    };
    if bits >= 64 {
        return raw;
    }
    let value = raw & mask(bits);
    let sign = 1u64 << (bits - 1);
    if signed && value & sign != 0 {
        value | !mask(bits)
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{linux_arm, linux_mips, linux_mips64n32, linux_x64, linux_x86, windows_x86};

    #[test]
    fn pair_layouts() {
        // pread64(unsigned int fd, char *buf, size_t count, loff_t pos)
        let pread = [32, 32, 32, 64];
        assert_eq!(
            linux_x86::ABI.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (3, 2)]
        );
        assert_eq!(
            linux_arm::ABI.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (4, 2)]
        );
        assert_eq!(
            linux_mips::ABI.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (4, 2)]
        );
        assert_eq!(
            linux_x64::ABI.layout_slots(&[32, 64, 64, 64]),
            [(0, 1), (1, 1), (2, 1), (3, 1)]
        );
        assert_eq!(
            linux_mips64n32::ABI.layout_slots(&pread),
            [(0, 1), (1, 1), (2, 1), (3, 1)]
        );
        // fadvise64_64(int fd, loff_t offset, loff_t len, int advice) on i386:
        // consecutive pairs, no hole.
        assert_eq!(
            linux_x86::ABI.layout_slots(&[32, 64, 64, 32]),
            [(0, 1), (1, 2), (3, 2), (5, 1)]
        );
        assert_eq!(
            linux_arm::ABI.layout_slots(&[32, 64, 64, 32]),
            [(0, 1), (2, 2), (4, 2), (6, 1)]
        );
        assert_eq!(
            windows_x86::ABI.layout_slots(&[32, 64, 32]),
            [(0, 1), (1, 2), (3, 1)]
        );
        // Varargs take no slot.
        assert_eq!(linux_x86::ABI.layout_slots(&[32, 0]), [(0, 1), (1, 0)]);
    }

    #[test]
    fn widening_follows_the_class() {
        let int = |signed, bits| ArgClass::Int { signed, bits };
        assert_eq!(widen(0xffff_ffff, int(true, 32), 32), u64::MAX);
        assert_eq!(widen(0xffff_ffff, int(false, 32), 32), 0xffff_ffff);
        assert_eq!(widen(0x1_ffff_ffff, int(false, 32), 64), 0xffff_ffff);
        assert_eq!(widen(0x8000, int(true, 16), 32), 0xffff_ffff_ffff_8000);
        assert_eq!(widen(0xdead_beef_0000_0001, ArgClass::Buf, 32), 1);
        assert_eq!(
            widen(0xdead_beef_0000_0001, ArgClass::Buf, 64),
            0xdead_beef_0000_0001
        );
    }
}
