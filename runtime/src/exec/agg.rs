//! `group_by` and `aggregate` state: per-chunk partial tables built by the workers, merged
//! in chunk order by the ordered consumer into one global table per node, and turned into
//! output rows when the node's input ends.
//!
//! Semantics (the interpreter's `interp/agg.rs`):
//! - groups in order of the key's first appearance (keys compared by [`super::value::key_bytes`]);
//! - `count` and int `sum` add up exactly (int sums in `i128`); an int sum whose *final*
//!   total does not fit in `int` is an error of that group: one error record, with the
//!   group's first row as provenance, stands for the group, whose row is dropped;
//! - float `sum` and `mean` are exact until the end ([`crate::fsum::FSum`], merged exactly),
//!   so they are correctly rounded for any chunking; an int `mean` is the exact `i128`
//!   total divided by the count, rounded once ([`crate::fsum::ratio`]);
//! - `min` / `max` keep the first of equal values (the [`super::value::compare`] order);
//!   `first`, `last`, `collect` keep input order.
//!
//! Kept values (keys, min/max/first/last, collected elements) are deep-copied out of the
//! chunk's arena into the table's own arena.

use super::plan::{AggKind, AggSpec};
use super::value::{as_f64, as_i64, compare, deep_copy, key_bytes, stored, wr};
use crate::arena::Arena;
use crate::fsum::{FSum, ratio};
use crate::layout::{KList, TypeDesc};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a row came from, owned (for group outputs, which outlive their chunk).
#[derive(Clone, Default)]
pub(crate) struct OwnedProv {
    pub source: Arc<str>,
    pub line: u64,
    pub raw: OwnedRaw,
    pub from_errors: bool,
}

/// The text of an [`OwnedProv`]'s record.
#[derive(Clone)]
pub(crate) enum OwnedRaw {
    Bytes(Vec<u8>),
    /// `len` bytes at `offset` of a memory-mapped input (kept mapped by this reference).
    Mapped(super::keep::Input, usize, usize),
}

impl Default for OwnedRaw {
    fn default() -> Self {
        OwnedRaw::Bytes(Vec::new())
    }
}

/// One aggregate, compiled against the projection type.
#[derive(Clone, Debug)]
pub(crate) struct AggPlan {
    kind: AggKind,
    /// The argument's type and offset in the projection.
    arg: Option<(TypeDesc, usize)>,
    float_sum: bool,
    /// A `mean` of plain ints (exact).
    int_mean: bool,
    out: TypeDesc,
}

impl AggPlan {
    pub fn new(spec: &AggSpec, proj_ty: &TypeDesc) -> AggPlan {
        let arg = spec.field.and_then(|i| match proj_ty {
            TypeDesc::Record(fields) => {
                Some((fields.get(i)?.1.clone(), *proj_ty.field_offsets().get(i)?))
            }
            _ => None,
        });
        let strip = |t: &TypeDesc| match t {
            TypeDesc::Optional(t) => (**t).clone(),
            t => t.clone(),
        };
        let float_sum = spec.kind == AggKind::Sum
            && arg.as_ref().is_some_and(|(t, _)| strip(t) == TypeDesc::Float);
        let int_mean =
            spec.kind == AggKind::Mean && arg.as_ref().is_some_and(|(t, _)| *t == TypeDesc::Int);
        AggPlan { kind: spec.kind, arg, float_sum, int_mean, out: spec.out.clone() }
    }

    pub fn empty_acc(&self) -> Acc {
        match self.kind {
            AggKind::Count => Acc::Count(0),
            AggKind::Sum if !self.float_sum => Acc::SumInt(0),
            AggKind::Mean if self.int_mean => Acc::MeanInt { sum: 0, n: 0 },
            AggKind::Sum | AggKind::Mean => Acc::Floats { sum: FSum::new(), n: 0 },
            AggKind::Collect => Acc::Collect(Vec::new(), 0),
            _ => Acc::Best(None),
        }
    }
}

#[derive(Debug)]
pub(crate) enum Acc {
    Count(i64),
    SumInt(i128),
    /// The exact sum of `n` floats.
    Floats {
        sum: FSum,
        n: i64,
    },
    /// The exact sum of `n` ints (an int `mean`).
    MeanInt {
        sum: i128,
        n: i64,
    },
    /// min / max / first / last: the value's bytes (referring to the table's arena).
    Best(Option<Vec<u8>>),
    /// Elements back to back at the element stride, and their count.
    Collect(Vec<u8>, usize),
}

/// A group: its key (value bytes and key encoding), where its first row came from, and its
/// aggregates.
pub(crate) struct GroupState {
    pub key: Vec<u8>,
    pub kb: Vec<u8>,
    pub prov: OwnedProv,
    pub accs: Vec<Acc>,
}

/// Groups in order of first appearance, with the arena their kept values live in.
#[derive(Default)]
pub(crate) struct Table {
    pub index: HashMap<Vec<u8>, usize>,
    pub groups: Vec<GroupState>,
    pub arena: Arena,
    /// The key bytes of the row being added (reused, so adding allocates nothing).
    scratch: Vec<u8>,
}

/// Out of memory while copying a value.
pub(crate) struct Oom;

impl Table {
    /// Adds one projected row. `key`: the key's type and offset in `proj` (`None` for
    /// `aggregate`). `prov` is called only for a new group.
    ///
    /// # Safety
    /// `proj` must hold a valid value of the projection type the plans were built with.
    pub unsafe fn add(
        &mut self,
        plans: &[AggPlan],
        key: Option<&TypeDesc>,
        proj: *const u8,
        prov: impl FnOnce() -> OwnedProv,
    ) -> Result<(), Oom> {
        let mut kb = std::mem::take(&mut self.scratch);
        kb.clear();
        if let Some(kt) = key {
            // SAFETY: the key is field 0 of the projection, at offset 0.
            unsafe { key_bytes(kt, proj, &mut kb) };
        }
        let found = self.index.get(&kb).copied();
        self.scratch = kb;
        let kb = &self.scratch;
        let gi = match found {
            Some(i) => i,
            None => {
                let key = match key {
                    // SAFETY: as above.
                    Some(kt) => unsafe { stored(kt, proj, &mut self.arena) }.ok_or(Oom)?,
                    None => Vec::new(),
                };
                let kb = kb.clone();
                self.index.insert(kb.clone(), self.groups.len());
                let accs = plans.iter().map(AggPlan::empty_acc).collect();
                self.groups.push(GroupState { key, kb, prov: prov(), accs });
                self.groups.len() - 1
            }
        };
        let Some(g) = self.groups.get_mut(gi) else { return Ok(()) };
        for (plan, acc) in plans.iter().zip(g.accs.iter_mut()) {
            let arg = plan.arg.as_ref().map(|(t, off)| {
                // SAFETY: the offset comes from the projection type.
                (t, unsafe { proj.add(*off) })
            });
            // SAFETY: `arg` points into the projection (see above).
            unsafe { add_one(plan, acc, arg, &mut self.arena) }?;
        }
        Ok(())
    }

    /// Merges a later chunk's partial table into this one (chunk order = input order).
    /// Provenance of rows from the errors stream gets `errors_before` added to its line.
    pub fn merge(
        &mut self,
        plans: &[AggPlan],
        key: Option<&TypeDesc>,
        part: Table,
        errors_before: u64,
    ) -> Result<(), Oom> {
        let Table { groups, .. } = part;
        for pg in groups {
            let gi = match self.index.get(&pg.kb) {
                Some(&i) => i,
                None => {
                    let key = match key {
                        Some(kt) => {
                            // SAFETY: `pg.key` holds a value of the key type (deep-copied by
                            // the partial table's `add`), whose strings and lists live in
                            // `part.arena`, alive until the end of this function; `stored`
                            // copies them into `self.arena`.
                            unsafe { stored(kt, pg.key.as_ptr(), &mut self.arena) }.ok_or(Oom)?
                        }
                        None => Vec::new(),
                    };
                    let mut prov = pg.prov.clone();
                    if prov.from_errors {
                        prov.line += errors_before;
                    }
                    self.index.insert(pg.kb.clone(), self.groups.len());
                    let accs = plans.iter().map(AggPlan::empty_acc).collect();
                    self.groups.push(GroupState { key, kb: pg.kb, prov, accs });
                    self.groups.len() - 1
                }
            };
            let Some(g) = self.groups.get_mut(gi) else { continue };
            for ((plan, acc), pacc) in plans.iter().zip(g.accs.iter_mut()).zip(pg.accs) {
                merge_one(plan, acc, pacc, &mut self.arena)?;
            }
        }
        Ok(())
    }
}

/// # Safety
/// `arg` must point to a valid value of its type.
unsafe fn add_one(
    plan: &AggPlan,
    acc: &mut Acc,
    arg: Option<(&TypeDesc, *const u8)>,
    arena: &mut Arena,
) -> Result<(), Oom> {
    // SAFETY: per the caller, `arg`'s pointer holds a valid value of its type (with its
    // referred memory alive), which is what `as_i64`, `as_f64`, `compare`, `stored` and
    // `deep_copy` require of it; `cur` holds a value of the same type kept by `stored`
    // (memory in `arena`, alive); the tag read `*p` is the optional's first byte;
    // `bytes.as_mut_ptr().add(at)` points to the `t.stride() >= t.size()` zeroed bytes the
    // `resize` just appended, which `deep_copy` may write and which do not overlap `p`.
    unsafe {
        match (acc, arg) {
            (Acc::Count(n), _) => *n = n.saturating_add(1),
            (Acc::SumInt(s), Some((t, p))) => {
                if let Some(x) = as_i64(t, p) {
                    *s = s.saturating_add(i128::from(x));
                }
            }
            (Acc::Floats { sum, n }, Some((t, p))) => {
                sum.add(as_f64(t, p));
                *n += 1;
            }
            (Acc::MeanInt { sum, n }, Some((t, p))) => {
                *sum += i128::from(as_i64(t, p).unwrap_or(0));
                *n += 1;
            }
            // `min` and `max` skip nulls (an optional's tag byte 0): null only when
            // every value is.
            (Acc::Best(_), Some((TypeDesc::Optional(_), p)))
                if matches!(plan.kind, AggKind::Min | AggKind::Max) && *p == 0 => {}
            (Acc::Best(cur), Some((t, p))) => {
                let replace = match (plan.kind, cur.as_ref()) {
                    (_, None) => true,
                    (AggKind::Min, Some(c)) => compare(t, p, c.as_ptr()) == Ordering::Less,
                    (AggKind::Max, Some(c)) => compare(t, p, c.as_ptr()) == Ordering::Greater,
                    (AggKind::Last, Some(_)) => true,
                    _ => false,
                };
                if replace {
                    *cur = Some(stored(t, p, arena).ok_or(Oom)?);
                }
            }
            (Acc::Collect(bytes, n), Some((t, p))) => {
                let at = bytes.len();
                bytes.resize(at + t.stride(), 0);
                if !deep_copy(t, p, bytes.as_mut_ptr().add(at), arena) {
                    return Err(Oom);
                }
                *n += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

fn merge_one(plan: &AggPlan, acc: &mut Acc, part: Acc, arena: &mut Arena) -> Result<(), Oom> {
    let ty = plan.arg.as_ref().map(|(t, _)| t);
    match (acc, part, ty) {
        (Acc::Count(n), Acc::Count(m), _) => *n = n.saturating_add(m),
        (Acc::SumInt(s), Acc::SumInt(m), _) => *s = s.saturating_add(m),
        (Acc::Floats { sum, n }, Acc::Floats { sum: s2, n: n2 }, _) => {
            sum.merge(s2);
            *n += n2;
        }
        (Acc::MeanInt { sum, n }, Acc::MeanInt { sum: s2, n: n2 }, _) => {
            *sum += s2;
            *n += n2;
        }
        (Acc::Best(cur), Acc::Best(Some(v)), Some(t)) => {
            let replace = match (plan.kind, cur.as_ref()) {
                (_, None) => true,
                (AggKind::Min, Some(c)) => {
                    // SAFETY: `v` and `c` each hold a value of `t` kept by `stored`, whose
                    // memory is alive (the partial's and this table's arenas).
                    (unsafe { compare(t, v.as_ptr(), c.as_ptr()) }) == Ordering::Less
                }
                (AggKind::Max, Some(c)) => {
                    // SAFETY: as for `Min`.
                    (unsafe { compare(t, v.as_ptr(), c.as_ptr()) }) == Ordering::Greater
                }
                (AggKind::Last, Some(_)) => true,
                _ => false,
            };
            if replace {
                // SAFETY: `v` holds a value of `t` (memory in the partial's arena).
                *cur = Some(unsafe { stored(t, v.as_ptr(), arena) }.ok_or(Oom)?);
            }
        }
        (Acc::Collect(bytes, n), Acc::Collect(more, m), Some(t)) => {
            let stride = t.stride();
            for i in 0..m {
                let at = bytes.len();
                bytes.resize(at + stride, 0);
                // SAFETY: `more` holds `m` values of `t` at `stride`; `bytes` was just
                // extended by `stride` zeroed bytes at `at`.
                if !unsafe {
                    deep_copy(t, more.as_ptr().add(i * stride), bytes.as_mut_ptr().add(at), arena)
                } {
                    return Err(Oom);
                }
            }
            *n += m;
        }
        _ => {}
    }
    Ok(())
}

/// The message of an int sum whose total does not fit in `int` (the interpreter's too).
pub fn sum_overflow(total: i128) -> String {
    format!("integer overflow: the sum {total} does not fit in int")
}

/// Writes a value of type `val` (its bytes at `src`, or null) into a field of type `out`,
/// which is `val` or `val?`.
///
/// # Safety
/// `dst` must be writable for `out.size()` zeroed bytes; `src` must hold a value of `val`.
unsafe fn put(out: &TypeDesc, val: &TypeDesc, src: Option<*const u8>, dst: *mut u8) {
    let Some(src) = src else { return };
    // SAFETY: per the caller, `dst` is writable for `out.size()` bytes and `src` holds
    // `val.size()` readable bytes. When `out` is `val?`, the tag byte at 0 and the payload
    // at `optional_payload_offset() .. + val.size()` lie within `out.size()`; otherwise at
    // most `min(val.size(), out.size())` bytes are copied. `src` is a value distinct from
    // the output record, so the copies do not overlap.
    unsafe {
        match out {
            TypeDesc::Optional(inner) if **inner == *val => {
                wr(dst, 0, 1u8);
                std::ptr::copy_nonoverlapping(
                    src,
                    dst.add(out.optional_payload_offset()),
                    val.size(),
                );
            }
            _ => std::ptr::copy_nonoverlapping(src, dst, val.size().min(out.size())),
        }
    }
}

/// Writes the aggregates of a finished group at their offsets in `dst` (an output record,
/// zeroed). Strings and lists refer to `table_arena` or are allocated in `arena`.
/// `Err((index of the aggregate, message))` when an int sum does not fit in `int`.
///
/// # Safety
/// `dst` must be a zeroed, writable output record whose fields at `offsets` have the
/// plans' output types.
pub(crate) unsafe fn write_aggs(
    plans: &[AggPlan],
    accs: &[Acc],
    offsets: &[usize],
    dst: *mut u8,
    arena: &mut Arena,
) -> Result<Result<(), (usize, String)>, Oom> {
    for (i, ((plan, acc), &off)) in plans.iter().zip(accs).zip(offsets).enumerate() {
        // SAFETY: `off` is the field's offset in the zeroed record (per the caller).
        let d = unsafe { dst.add(off) };
        let out = &plan.out;
        match acc {
            // SAFETY: `d` is the zeroed, writable field of type `out` in the record (per the
            // caller); `n` points to an `i64`, a value of `int`.
            Acc::Count(n) => unsafe { put(out, &TypeDesc::Int, Some((n as *const i64).cast()), d) },
            Acc::SumInt(s) => {
                let Ok(v) = i64::try_from(*s) else {
                    return Ok(Err((i, sum_overflow(*s))));
                };
                // SAFETY: `d` as for `Count`; `v` is a local `i64`, a value of `int`.
                unsafe { put(out, &TypeDesc::Int, Some((&v as *const i64).cast()), d) }
            }
            Acc::Floats { sum, n } => {
                let v = if plan.kind == AggKind::Mean {
                    if *n == 0 {
                        continue;
                    }
                    sum.value() / *n as f64
                } else {
                    sum.value()
                };
                // SAFETY: `d` as for `Count`; `v` is a local `f64`, a value of `float`.
                unsafe { put(out, &TypeDesc::Float, Some((&v as *const f64).cast()), d) }
            }
            Acc::MeanInt { sum, n } => {
                if *n == 0 {
                    continue;
                }
                let v = ratio(*sum, *n);
                // SAFETY: `d` as for `Count`; `v` is a local `f64`, a value of `float`.
                unsafe { put(out, &TypeDesc::Float, Some((&v as *const f64).cast()), d) }
            }
            Acc::Best(v) => {
                let Some((t, _)) = &plan.arg else { continue };
                // SAFETY: `d` as for `Count`; a kept value holds a value of the argument
                // type `t` (copied by `stored`, its memory in the table's arena, alive).
                unsafe { put(out, t, v.as_ref().map(|v| v.as_ptr()), d) }
            }
            Acc::Collect(bytes, n) => {
                let Some((t, _)) = &plan.arg else { continue };
                let p = arena.alloc(bytes.len(), t.align());
                if p.is_null() {
                    return Err(Oom);
                }
                // SAFETY: `p` holds `bytes.len()` fresh bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
                let l = KList { ptr: p, len: *n as u64 };
                let lt = TypeDesc::List(Box::new(t.clone()));
                // SAFETY: `d` as for `Count`; `l` is a local `KList` of the `n` elements of
                // `t` just copied to `p` (deep copies, memory in the arenas), a value of `lt`.
                unsafe { put(out, &lt, Some((&l as *const KList).cast()), d) }
            }
        }
    }
    Ok(Ok(()))
}
