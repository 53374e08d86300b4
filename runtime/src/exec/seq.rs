//! The order-dependent operators ([`PNode::Seq`](super::PNode::Seq)): `take`, `skip`,
//! `enumerate`, `batch`, `distinct`, `sort_by`, `join` / `left_join` and `union`. They
//! run on the consumer thread, which sees every batch in input order, so their state is
//! plain (a counter, a hash set, a sorted buffer) and the semantics are exactly the
//! interpreter's.
//!
//! Rows an operator keeps beyond the batch they came in (a `sort_by`'s input, the right
//! side of a `join`, a `union`'s second stream while the first one runs, a `batch`
//! being filled) are deep-copied into the operator's own arena, packed (a row's bytes
//! and what it refers to, one after the other), with their provenance in a packed store
//! ([`super::keep`]), so the chunk they came from can be released. A `sort_by` releases
//! its rows [`RELEASE`] at a time, so what goes downstream stays small too.

use super::abi::RowCtx;
use super::agg::OwnedProv;
use super::engine::{Batch, ErrEntry, Row, Shared, op_order, site_entry};
use super::keep::{KeyIndex, KeySet, Provs};
use super::plan::{KeyFn, SeqOp};
use super::value::{compare, deep_copy, key_bytes, wr};
use crate::arena::Arena;
use crate::layout::{KList, KStr, TypeDesc, round_up};

/// How many rows a `sort_by` releases per batch.
pub(crate) const RELEASE: usize = 1 << 14;

/// What the rows a flush released point into, alive until they have gone downstream.
/// Dropped once they have.
pub(crate) struct Keep {
    _arena: Box<Arena>,
    _provs: Provs,
    _fixed: Vec<u64>,
}

/// The state of one order-dependent operator.
pub(crate) enum SeqState {
    /// Finished (or stateless).
    Done,
    Count {
        seen: i64,
    },
    Enumerate {
        next: i64,
    },
    Batch {
        held: Vec<*const u8>,
        first: Option<OwnedProv>,
        arena: Box<Arena>,
    },
    Distinct {
        seen: KeySet,
    },
    Sort {
        /// The kept (key, row) pairs in arrival order, `stride` words each: the key at
        /// the start, the row at [`row_at`] (what they refer to is in `arena`); pair `i`
        /// has provenance `i` in `provs`. Nothing points into `fixed` until it is sorted.
        fixed: Vec<u64>,
        /// The pairs' indices, in sorted order once the input ended; released from `next`.
        order: Vec<u32>,
        sorted: bool,
        next: usize,
        provs: Provs,
        arena: Box<Arena>,
    },
    Join {
        table: KeyIndex,
        /// Left rows (and their index in `provs`) that came before the right side ended.
        pending: Vec<(*const u8, u32)>,
        provs: Provs,
        right_done: bool,
        arena: Box<Arena>,
    },
    Union {
        left_done: bool,
        /// Rows of the second stream (and their index in `provs`) that came before the
        /// first one ended.
        other: Vec<(*const u8, u32)>,
        provs: Provs,
        arena: Box<Arena>,
    },
}

impl SeqState {
    pub fn new(op: &SeqOp) -> SeqState {
        let arena = || Box::new(Arena::new());
        match op {
            SeqOp::Take(_) | SeqOp::Skip(_) => SeqState::Count { seen: 0 },
            SeqOp::Enumerate => SeqState::Enumerate { next: 0 },
            SeqOp::Batch(_) => SeqState::Batch { held: Vec::new(), first: None, arena: arena() },
            SeqOp::Distinct(_) => SeqState::Distinct { seen: KeySet::default() },
            SeqOp::Sort { .. } => SeqState::Sort {
                fixed: Vec::new(),
                order: Vec::new(),
                sorted: false,
                next: 0,
                provs: Provs::default(),
                arena: arena(),
            },
            SeqOp::Join { .. } => SeqState::Join {
                table: KeyIndex::default(),
                pending: Vec::new(),
                provs: Provs::default(),
                right_done: false,
                arena: arena(),
            },
            SeqOp::Union { .. } => SeqState::Union {
                left_done: false,
                other: Vec::new(),
                provs: Provs::default(),
                arena: arena(),
            },
        }
    }
}

/// Deep-copies the value of `ty` at `row` into `arena`; null when out of memory.
///
/// # Safety
/// `row` must hold a live value of `ty`.
unsafe fn hold(ty: &TypeDesc, row: *const u8, arena: &mut Arena) -> *const u8 {
    let dst = arena.alloc_zeroed(ty.size().max(1), ty.align());
    // SAFETY: `dst` is zeroed, writable for `ty.size()` bytes, and fresh (no overlap).
    if dst.is_null() || !unsafe { deep_copy(ty, row, dst, arena) } {
        return std::ptr::null();
    }
    dst
}

/// Where [`hold_pair`] puts the row after a key of type `kt`.
pub(crate) fn row_at(kt: &TypeDesc, ty: &TypeDesc) -> usize {
    round_up(kt.size(), ty.align())
}

/// The words (`u64`) a kept (key, row) pair of a `sort_by` takes.
fn pair_words(kt: &TypeDesc, ty: &TypeDesc) -> usize {
    (row_at(kt, ty) + ty.size()).div_ceil(8).max(1)
}

/// Deep-copies key `key` (of `kt`) and row `row` (of `ty`) to the end of `fixed` (the key
/// first, the row at [`row_at`]; what they refer to into `arena`). False (with `fixed`
/// as before) when out of memory.
///
/// # Safety
/// `key` must hold a live value of `kt` and `row` one of `ty`; every alignment in `kt`
/// and `ty` is at most 8.
unsafe fn hold_pair(
    kt: &TypeDesc,
    key: *const u8,
    ty: &TypeDesc,
    row: *const u8,
    fixed: &mut Vec<u64>,
    arena: &mut Arena,
) -> bool {
    let base = fixed.len();
    fixed.resize(base + pair_words(kt, ty), 0);
    // SAFETY: the pair's words were just added (zeroed): the key's `kt.size()` bytes at
    // its start and the row's `ty.size()` at `row_at` (≥ `kt.size()`) fit and do not
    // overlap; `fixed` is 8-byte aligned, enough for both.
    let ok = unsafe {
        let dst = fixed.as_mut_ptr().add(base).cast::<u8>();
        deep_copy(kt, key, dst, arena) && deep_copy(ty, row, dst.add(row_at(kt, ty)), arena)
    };
    if !ok {
        fixed.truncate(base);
    }
    ok
}

/// What an operator step needs from the batch it runs in.
pub(crate) struct SeqCx<'a, 'p> {
    pub sh: &'a Shared<'p>,
    /// The batch's arena (new rows are allocated there).
    pub arena: *mut Arena,
    pub batch: &'a mut Batch,
    /// The node's name, for error entries.
    pub name: &'a str,
    /// The node's index in the plan, for the order of error entries.
    pub node: usize,
}

impl SeqCx<'_, '_> {
    fn oom(&mut self, prov: u32) {
        self.batch.errors.push(ErrEntry {
            prov,
            order: op_order(self.node, 0),
            site: None,
            stage: self.name.to_string(),
            message: "out of memory".into(),
            location: String::new(),
        });
    }

    fn alloc(&mut self, ty: &TypeDesc) -> *mut u8 {
        // SAFETY: the batch's arena is alive and not otherwise borrowed during a step.
        unsafe { (*self.arena).alloc_zeroed(ty.size().max(1), ty.align()) }
    }

    /// Runs key function `k` on `row`: a pointer to the key (of `k.key_ty`), or `None`
    /// after recording the row's failure.
    fn key(&mut self, k: &KeyFn, row: *const u8, prov: u32) -> Option<*const u8> {
        let buf = self.alloc(&k.key_ty);
        if buf.is_null() {
            self.oom(prov);
            return None;
        }
        let mut emitted: Vec<*const u8> = Vec::new();
        let mut ctx = RowCtx {
            arena: self.arena,
            out: &mut emitted,
            err_site: 0,
            err_msg: KStr { ptr: std::ptr::null(), len: 0 },
            fails: std::ptr::null_mut(),
            err_op: 0,
            params: self.sh.plan.params.as_ptr(),
        };
        // SAFETY: `row` is a live row of the key function's input type; `buf` is zeroed
        // and aligned for `{key: K}`, whose only field is at offset 0.
        if unsafe { (k.f)(&mut ctx, row, buf) } != 0 {
            let e = site_entry(self.sh, &ctx, prov, self.name, self.node);
            self.batch.errors.push(e);
            return None;
        }
        Some(buf)
    }

    fn key_bytes(&mut self, k: &KeyFn, row: *const u8, prov: u32) -> Option<Vec<u8>> {
        let p = self.key(k, row, prov)?;
        let mut kb = Vec::new();
        // SAFETY: `p` holds a key of `k.key_ty` just written.
        unsafe { key_bytes(&k.key_ty, p, &mut kb) };
        Some(kb)
    }

    /// Pushes the rows of `input` (and the second input `second`) through `op`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        op: &SeqOp,
        st: &mut SeqState,
        ty: &TypeDesc,
        oty: &TypeDesc,
        input: &[Row],
        second: &[Row],
        mine: &mut Vec<Row>,
    ) {
        match (op, st) {
            (SeqOp::Take(n), SeqState::Count { seen }) => {
                for &r in input {
                    if *seen < *n {
                        *seen += 1;
                        mine.push(r);
                    }
                }
            }
            (SeqOp::Skip(n), SeqState::Count { seen }) => {
                for &r in input {
                    if *seen < *n {
                        *seen += 1;
                    } else {
                        mine.push(r);
                    }
                }
            }
            (SeqOp::Enumerate, SeqState::Enumerate { next }) => {
                let offs = oty.field_offsets();
                for &(row, prov) in input {
                    let p = self.alloc(oty);
                    if p.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    // SAFETY: `p` is a zeroed `{index: int, item: T}`; `row` holds a `T`
                    // (`ty.size()` bytes), copied shallowly (what it refers to lives as
                    // long as the batch).
                    unsafe {
                        wr(p, offs[0], *next);
                        std::ptr::copy_nonoverlapping(row, p.add(offs[1]), ty.size());
                    }
                    *next += 1;
                    mine.push((p, prov));
                }
            }
            (SeqOp::Batch(n), SeqState::Batch { held, first, arena }) => {
                for &(row, prov) in input {
                    if held.is_empty() {
                        *first = Some(self.batch.owned(prov));
                    }
                    // SAFETY: `row` is a live row of `ty`.
                    let h = unsafe { hold(ty, row, arena) };
                    if h.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    held.push(h);
                    if held.len() >= *n {
                        let at = self.batch.provs.get(prov as usize).map(|p| (p.at, p.unit));
                        let list = self.list(ty, held, first.take(), at);
                        mine.extend(list);
                        arena.reset();
                    }
                }
            }
            (SeqOp::Distinct(k), SeqState::Distinct { seen }) => {
                for &(row, prov) in input {
                    if let Some(kb) = self.key_bytes(k, row, prov)
                        && seen.insert(&kb)
                    {
                        mine.push((row, prov));
                    }
                }
            }
            (SeqOp::Sort { key, .. }, SeqState::Sort { fixed, provs, arena, .. }) => {
                for &(row, prov) in input {
                    let Some(k) = self.key(key, row, prov) else { continue };
                    // SAFETY: `k` holds a key of `key.key_ty`, `row` a row of `ty`; layouts
                    // align to at most 8.
                    if !unsafe { hold_pair(&key.key_ty, k, ty, row, fixed, arena) } {
                        self.oom(prov);
                        continue;
                    }
                    provs.push(self.batch, prov);
                }
            }
            (
                SeqOp::Join { left_key, right_key, outer, right_ty, .. },
                SeqState::Join { table, pending, provs, right_done, arena },
            ) => {
                for &(row, prov) in second {
                    let Some(kb) = self.key_bytes(right_key, row, prov) else { continue };
                    // SAFETY: `row` is a live row of the right side's type.
                    let h = unsafe { hold(right_ty, row, arena) };
                    if h.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    if !table.push(&kb, h) {
                        self.oom(prov);
                    }
                }
                for &(row, prov) in input {
                    if *right_done {
                        self.probe(left_key, *outer, ty, right_ty, oty, table, (row, prov), mine);
                        continue;
                    }
                    // SAFETY: `row` is a live row of `ty`.
                    let h = unsafe { hold(ty, row, arena) };
                    if h.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    pending.push((h, provs.push(self.batch, prov)));
                }
            }
            (SeqOp::Union { .. }, SeqState::Union { left_done, other, provs, arena }) => {
                mine.extend_from_slice(input);
                for &(row, prov) in second {
                    if *left_done {
                        mine.push((row, prov));
                        continue;
                    }
                    // SAFETY: `row` is a live row of the (common) element type.
                    let h = unsafe { hold(ty, row, arena) };
                    if h.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    other.push((h, provs.push(self.batch, prov)));
                }
            }
            _ => {}
        }
    }

    /// A `batch` list of the `held` rows (deep-copied into the batch's arena), with the
    /// provenance of its first element, sorting at `at` (and in unit) of the row that
    /// filled it, when given. Clears `held`.
    fn list(
        &mut self,
        ty: &TypeDesc,
        held: &mut Vec<*const u8>,
        first: Option<OwnedProv>,
        at: Option<(u32, u32)>,
    ) -> Option<Row> {
        let first = first.unwrap_or_default();
        let prov = self.batch.push_owned(first, at);
        let stride = ty.stride();
        // SAFETY: the batch's arena is alive and not otherwise borrowed during a step.
        let arena = unsafe { &mut *self.arena };
        let elems = arena.alloc_zeroed(stride * held.len(), ty.align());
        let row = arena.alloc_zeroed(16, 8);
        if elems.is_null() || row.is_null() {
            held.clear();
            self.oom(prov);
            return None;
        }
        for (k, &h) in held.iter().enumerate() {
            // SAFETY: `h` holds a kept value of `ty`; slot `k` of `elems` is zeroed and
            // holds `stride` ≥ `ty.size()` bytes.
            if !unsafe { deep_copy(ty, h, elems.add(k * stride), arena) } {
                held.clear();
                self.oom(prov);
                return None;
            }
        }
        // SAFETY: `row` holds 16 writable bytes, a `KList`.
        unsafe { wr(row, 0, KList { ptr: elems, len: held.len() as u64 }) };
        held.clear();
        Some((row as *const u8, prov))
    }

    /// Joins left row `row` with its matches in `table`.
    #[allow(clippy::too_many_arguments)]
    fn probe(
        &mut self,
        left_key: &KeyFn,
        outer: bool,
        ty: &TypeDesc,
        right_ty: &TypeDesc,
        oty: &TypeDesc,
        table: &KeyIndex,
        (row, prov): Row,
        mine: &mut Vec<Row>,
    ) {
        let Some(kb) = self.key_bytes(left_key, row, prov) else { return };
        let offs = oty.field_offsets();
        // `right: R?`; when `R` is already optional (`T?`), `T??` is `T?`: the right value
        // (with its own tag) is the field, and a missing match is null like a null value.
        let wrap = outer && !matches!(right_ty, TypeDesc::Optional(_));
        let right_at = if wrap { offs[1] + round_up(1, right_ty.align()) } else { offs[1] };
        let mut out = |this: &mut Self, r: Option<*const u8>| {
            let p = this.alloc(oty);
            if p.is_null() {
                this.oom(prov);
                return;
            }
            // SAFETY: `p` is a zeroed `{left: L, right: R}` (or `R?`); `row` holds an `L`
            // and `r` an `R`, copied shallowly (they live as long as the batch / the
            // join's arena).
            unsafe {
                std::ptr::copy_nonoverlapping(row, p.add(offs[0]), ty.size());
                if let Some(r) = r {
                    if wrap {
                        wr::<u8>(p, offs[1], 1);
                    }
                    std::ptr::copy_nonoverlapping(r, p.add(right_at), right_ty.size());
                }
            }
            mine.push((p, prov));
        };
        let mut any = false;
        for r in table.get(&kb) {
            any = true;
            out(self, Some(r));
        }
        if outer && !any {
            out(self, None);
        }
    }

    /// The input `op` waits for has ended (see the consumer's `finish_ready`): the rows it
    /// releases go to `mine`, with provenances added to the (fresh) batch. The returned
    /// [`Keep`] holds what they point to and must outlive their walk; the flag says the
    /// operator has more to release (call again, with a fresh batch, once these rows went
    /// downstream).
    pub fn flush(
        &mut self,
        op: &SeqOp,
        st: &mut SeqState,
        ty: &TypeDesc,
        oty: &TypeDesc,
        mine: &mut Vec<Row>,
    ) -> (Option<Keep>, bool) {
        match (op, st) {
            (SeqOp::Batch(_), st @ SeqState::Batch { .. }) => {
                if let SeqState::Batch { held, first, .. } = st
                    && !held.is_empty()
                {
                    let list = self.list(ty, held, first.take(), None);
                    mine.extend(list);
                }
                *st = SeqState::Done;
                (None, false)
            }
            (SeqOp::Sort { key, desc }, st @ SeqState::Sort { .. }) => {
                let SeqState::Sort { fixed, order, sorted, next, provs, .. } = st else {
                    return (None, false);
                };
                let kt = &key.key_ty;
                let words = pair_words(kt, ty);
                let base = fixed.as_ptr().cast::<u8>();
                // SAFETY: `i` < the number of pairs, so its words are inside `fixed`.
                let pair = |i: u32| unsafe { base.add(i as usize * words * 8) };
                if !*sorted {
                    // A stable sort: equal keys keep their arrival order, which the index
                    // is (an unstable sort with it as the last key needs no scratch buffer
                    // the size of the input).
                    *order = (0..(fixed.len() / words) as u32).collect();
                    // SAFETY: every kept key is a live value of `kt` at its pair's start.
                    order.sort_unstable_by(|&a, &b| unsafe {
                        let o = if *desc {
                            compare(kt, pair(b), pair(a))
                        } else {
                            compare(kt, pair(a), pair(b))
                        };
                        o.then(a.cmp(&b))
                    });
                    *sorted = true;
                }
                let at = row_at(kt, ty);
                let end = order.len().min(next.saturating_add(RELEASE));
                for &i in &order[*next..end] {
                    let prov = provs.release(i, self.batch, None);
                    // SAFETY: the pair holds its row at `at`; `fixed` no longer changes
                    // and lives (in the state, then in the returned `Keep`) until the rows
                    // have gone downstream.
                    mine.push((unsafe { pair(i).add(at) }, prov));
                }
                *next = end;
                if end < order.len() {
                    return (None, true);
                }
                match std::mem::replace(st, SeqState::Done) {
                    SeqState::Sort { arena, provs, fixed, .. } => {
                        (Some(Keep { _arena: arena, _provs: provs, _fixed: fixed }), false)
                    }
                    _ => (None, false),
                }
            }
            (
                SeqOp::Join { left_key, outer, right_ty, .. },
                SeqState::Join { table, pending, provs, right_done, .. },
            ) => {
                *right_done = true;
                for (row, p) in std::mem::take(pending) {
                    let prov = provs.release(p, self.batch, None);
                    self.probe(left_key, *outer, ty, right_ty, oty, table, (row, prov), mine);
                }
                (None, false)
            }
            (SeqOp::Union { .. }, SeqState::Union { left_done, other, provs, arena }) => {
                *left_done = true;
                for (row, p) in std::mem::take(other) {
                    let prov = provs.release(p, self.batch, None);
                    mine.push((row, prov));
                }
                let arena = std::mem::replace(arena, Box::new(Arena::new()));
                let provs = std::mem::take(provs);
                (Some(Keep { _arena: arena, _provs: provs, _fixed: Vec::new() }), false)
            }
            _ => (None, false),
        }
    }
}
