//! The list forms of `group_by`, `aggregate`, `join` and `left_join` for generated code
//! (C ABI), with the semantics of the stream forms (the same aggregate accumulators,
//! [`super::agg`], and key equality, [`super::value::key_bytes`]).
//!
//! Generated code computes, in a loop over the list, each element's projection (for a
//! group: its key then the arguments of the aggregates that take one; for a join: its key)
//! into an arena array; these kernels do the rest and write the result in the chunk's
//! arena. A [`ListGroup`] describes one `group_by`/`aggregate` call site; the compiled
//! program keeps it alive and passes its address.

use super::abi::{RowCtx, kiln_fail};
use super::agg::{AggPlan, OwnedProv, Table, write_aggs};
use super::plan::AggSpec;
use super::value::{deep_copy, key_bytes, wr};
use crate::arena::Arena;
use crate::layout::{KList, TypeDesc};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// One `group_by` (keyed) or `aggregate` of a list.
#[derive(Debug)]
pub struct ListGroup {
    /// The projection: `{ key, args.. }` (keyed) or `{ args.. }`.
    proj: TypeDesc,
    keyed: bool,
    plans: Vec<AggPlan>,
    /// The output row: `{ key, aggregates.. }` or `{ aggregates.. }`.
    out: TypeDesc,
}

impl ListGroup {
    /// `aggs[i].field` indexes `proj`'s fields; `aggs[i].out` is the type of `out`'s
    /// aggregate field `i` (after the key, when keyed).
    pub fn new(proj: TypeDesc, keyed: bool, aggs: &[AggSpec], out: TypeDesc) -> ListGroup {
        let plans = aggs.iter().map(|a| AggPlan::new(a, &proj)).collect();
        ListGroup { proj, keyed, plans, out }
    }
}

/// An `i64` / pointer result, or a failure already recorded.
enum Fail {
    /// Recorded with `kiln_fail` (an int sum that does not fit).
    Recorded,
    OutOfMemory,
}

/// The rows of a group over `n` projections at `projs`: for `aggregate` exactly one.
///
/// # Safety
/// `projs` holds `n` valid values of `g.proj`, their memory alive; `arena` live.
unsafe fn rows(
    ctx: *mut RowCtx,
    site: u32,
    g: &ListGroup,
    projs: *const u8,
    n: u64,
    arena: &mut Arena,
) -> Result<Vec<*mut u8>, Fail> {
    let key = match (&g.proj, g.keyed) {
        (TypeDesc::Record(fs), true) => fs.first().map(|(_, t)| t),
        _ => None,
    };
    let mut table = Table::default();
    let stride = g.proj.stride();
    for i in 0..n as usize {
        // SAFETY: projection `i` of `n` (per the contract).
        let p = unsafe { projs.add(i * stride) };
        // SAFETY: `p` holds a value of the projection type the plans were built with.
        unsafe { table.add(&g.plans, key, p, OwnedProv::default) }
            .map_err(|_| Fail::OutOfMemory)?;
    }
    if !g.keyed && table.groups.is_empty() {
        // `aggregate` of an empty list: one row of empty accumulators.
        let accs = g.plans.iter().map(AggPlan::empty_acc).collect();
        table.groups.push(super::agg::GroupState {
            key: Vec::new(),
            kb: Vec::new(),
            prov: OwnedProv::default(),
            accs,
        });
    }
    let offs = g.out.field_offsets();
    let agg_offs = if g.keyed { &offs[1..] } else { &offs[..] };
    let size = g.out.size();
    let mut out = Vec::with_capacity(table.groups.len());
    let mut tmp = vec![0u8; size.max(1)];
    for grp in &table.groups {
        tmp.iter_mut().for_each(|b| *b = 0);
        if g.keyed && !grp.key.is_empty() {
            let kt = key.map_or(0, TypeDesc::size);
            // SAFETY: the key field is at offset 0 of the row; `grp.key` holds its value.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    grp.key.as_ptr(),
                    tmp.as_mut_ptr(),
                    kt.min(grp.key.len()),
                )
            };
        }
        // SAFETY: `tmp` is a zeroed output row with the aggregates' fields at `agg_offs`.
        match unsafe { write_aggs(&g.plans, &grp.accs, agg_offs, tmp.as_mut_ptr(), arena) } {
            Err(_) => return Err(Fail::OutOfMemory),
            Ok(Err((i, message))) => {
                // SAFETY: `ctx` is the live context of the calling row.
                unsafe { kiln_fail(ctx, site + i as u32, message.as_ptr(), message.len()) };
                return Err(Fail::Recorded);
            }
            Ok(Ok(())) => {}
        }
        let row = arena.alloc(size.max(1), g.out.align());
        if row.is_null() {
            return Err(Fail::OutOfMemory);
        }
        // SAFETY: `tmp` holds a row of `g.out` whose memory lives in the table's arena or
        // `arena`; `row` is fresh and writable; the copy moves every part into `arena`.
        if !unsafe { deep_copy(&g.out, tmp.as_ptr(), row, arena) } {
            return Err(Fail::OutOfMemory);
        }
        out.push(row);
    }
    Ok(out)
}

fn oom(ctx: *mut RowCtx, site: u32) -> u32 {
    let m = "internal error: out of memory";
    // SAFETY: `ctx` is the live context of the calling row.
    unsafe { kiln_fail(ctx, site, m.as_ptr(), m.len()) }
}

/// `group_by` (`g.keyed`: a list of rows, written to `out` as a [`KList`]) or `aggregate`
/// (one row: its address written to `out`) over `n` projections at `projs`: 0, or 1 after
/// recording the failure (`site + i` for aggregate `i`'s int sum that does not fit, `site`
/// for running out of memory).
///
/// # Safety
/// `ctx` is the calling row's live context (with its arena); `g` a live [`ListGroup`];
/// `projs` holds `n` valid projections; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_group(
    ctx: *mut RowCtx,
    site: u32,
    g: *const ListGroup,
    projs: *const u8,
    n: u64,
    out: *mut u8,
) -> u32 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let (g, arena) = unsafe { (&*g, (*ctx).arena.as_mut()) };
        let Some(arena) = arena else { return Err(Fail::OutOfMemory) };
        // SAFETY: forwarded.
        let rows = unsafe { rows(ctx, site, g, projs, n, arena) }?;
        if !g.keyed {
            // SAFETY: `out` is writable (per the contract) for a record pointer.
            unsafe { wr(out, 0, rows.first().copied().unwrap_or(std::ptr::null_mut())) };
            return Ok(());
        }
        let stride = g.out.stride();
        let q = if rows.is_empty() {
            std::ptr::null_mut()
        } else {
            arena.alloc(rows.len() * stride, g.out.align().max(8))
        };
        if !rows.is_empty() && q.is_null() {
            return Err(Fail::OutOfMemory);
        }
        for (k, row) in rows.iter().enumerate() {
            // SAFETY: `q` has room for every row; each row has `g.out.size()` bytes.
            unsafe { std::ptr::copy_nonoverlapping(*row, q.add(k * stride), g.out.size()) };
        }
        // SAFETY: `out` is writable for a `KList`.
        unsafe { wr(out, 0, KList { ptr: q, len: rows.len() as u64 }) };
        Ok(())
    }));
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(Fail::Recorded)) => 1,
        _ => oom(ctx, site),
    }
}

/// `join(xs, ys, lk, rk)` / `left_join` (`left` not 0) on lists: records `{ left, right }`
/// (`rec`; for `left_join` its `right` is `R?`) for every pair with equal keys, in left
/// order then right order; a left element without a match is kept with `right: null` by
/// `left_join`. `lkeys` / `rkeys` hold the elements' keys (values of `key`, inline).
///
/// # Safety
/// `key`, `rec` and `relem` (the right elements' type) address live descriptions; `lkeys`/`xs` hold `ln` keys / elements of
/// `ls` bytes, `rkeys`/`ys` `rn` of `rs` bytes; `arena` live and this thread's; `out`
/// writable for a [`KList`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_list_join(
    key: *const TypeDesc,
    rec: *const TypeDesc,
    relem: *const TypeDesc,
    lkeys: *const u8,
    xs: *const u8,
    ln: u64,
    rkeys: *const u8,
    ys: *const u8,
    rn: u64,
    left: u8,
    arena: *mut Arena,
    out: *mut KList,
) -> u32 {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let (key, rec, relem, a) = unsafe { (&*key, &*rec, &*relem, arena.as_mut()?) };
        let TypeDesc::Record(fields) = rec else { return None };
        let (lt, rt) = (&fields.first()?.1, &fields.get(1)?.1);
        // A right element goes to `right` as is when it has its type (a `join`, or a
        // `left_join` whose right elements are optional already), else as the payload of
        // a present optional.
        let wrap = relem != rt;
        let (ls, rs, ks) = (lt.stride(), relem.stride(), key.stride());
        let offs = rec.field_offsets();
        let mut table: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for j in 0..rn as usize {
            let mut b = Vec::new();
            // SAFETY: key `j` of `rn`.
            unsafe { key_bytes(key, rkeys.add(j * ks), &mut b) };
            table.entry(b).or_default().push(j);
        }
        let mut pairs: Vec<(usize, Option<usize>)> = Vec::new();
        for i in 0..ln as usize {
            let mut b = Vec::new();
            // SAFETY: key `i` of `ln`.
            unsafe { key_bytes(key, lkeys.add(i * ks), &mut b) };
            match table.get(&b) {
                Some(js) => pairs.extend(js.iter().map(|&j| (i, Some(j)))),
                None if left != 0 => pairs.push((i, None)),
                None => {}
            }
        }
        let stride = rec.stride();
        let size = pairs.len().checked_mul(stride)?;
        let q = if size == 0 { std::ptr::null_mut() } else { a.alloc(size, rec.align().max(8)) };
        if size > 0 && q.is_null() {
            return None;
        }
        for (k, (i, j)) in pairs.iter().enumerate() {
            // SAFETY: record `k` of `q`, zeroed first; the left element `i` has `lt.size()`
            // bytes; a right element `j` has `right_inner.size()` bytes and goes to the
            // payload of an optional `right` (tag 1) or to `right` itself.
            unsafe {
                let r = q.add(k * stride);
                std::ptr::write_bytes(r, 0, stride);
                std::ptr::copy_nonoverlapping(xs.add(i * ls), r.add(offs[0]), lt.size());
                if let Some(j) = j {
                    let src = ys.add(j * rs);
                    if wrap {
                        r.add(offs[1]).write(1);
                        let at = r.add(offs[1] + rt.optional_payload_offset());
                        std::ptr::copy_nonoverlapping(src, at, relem.size());
                    } else {
                        std::ptr::copy_nonoverlapping(src, r.add(offs[1]), rt.size());
                    }
                }
            }
        }
        // SAFETY: per the contract.
        unsafe { out.write(KList { ptr: q, len: pairs.len() as u64 }) };
        Some(())
    }));
    match r {
        Ok(Some(())) => 0,
        _ => 1,
    }
}

/// The C ABI functions with their addresses, for `JITBuilder::symbol`.
pub fn c_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("kiln_list_group", kiln_list_group as *const u8),
        ("kiln_list_join", kiln_list_join as *const u8),
    ]
}
