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
pub(crate) type Keep = Option<(Box<Arena>, Provs)>;

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
        /// (key and row, index in `provs`), in arrival order; sorted once the input
        /// ended, then released from `next` on. The key is at the start of its block, the
        /// row at `row_at` (see [`hold_keyed`]).
        items: Vec<(*const u8, u32)>,
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
                items: Vec::new(),
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

/// Where [`hold_keyed`] puts the row after a key of type `kt`.
pub(crate) fn row_at(kt: &TypeDesc, ty: &TypeDesc) -> usize {
    round_up(kt.size(), ty.align())
}

/// Deep-copies key `key` (of `kt`) and row `row` (of `ty`) into one block of `arena`: the
/// key at its start, the row at [`row_at`]. Null when out of memory.
///
/// # Safety
/// `key` must hold a live value of `kt` and `row` one of `ty`.
unsafe fn hold_keyed(
    kt: &TypeDesc,
    key: *const u8,
    ty: &TypeDesc,
    row: *const u8,
    arena: &mut Arena,
) -> *const u8 {
    let at = row_at(kt, ty);
    let dst = arena.alloc_zeroed((at + ty.size()).max(1), kt.align().max(ty.align()));
    // SAFETY: `dst` is zeroed and fresh, `at + ty.size()` bytes: the key's `kt.size()`
    // bytes at 0 and the row's at `at` (≥ `kt.size()`, aligned for `ty`) do not overlap.
    if dst.is_null()
        || !unsafe { deep_copy(kt, key, dst, arena) }
        || !unsafe { deep_copy(ty, row, dst.add(at), arena) }
    {
        return std::ptr::null();
    }
    dst
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
            (SeqOp::Sort { key, .. }, SeqState::Sort { items, provs, arena, .. }) => {
                for &(row, prov) in input {
                    let Some(k) = self.key(key, row, prov) else { continue };
                    // SAFETY: `k` holds a key of `key.key_ty`, `row` a row of `ty`.
                    let h = unsafe { hold_keyed(&key.key_ty, k, ty, row, arena) };
                    if h.is_null() {
                        self.oom(prov);
                        continue;
                    }
                    items.push((h, provs.push(self.batch, prov)));
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
    ) -> (Keep, bool) {
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
                let SeqState::Sort { items, sorted, next, provs, .. } = st else {
                    return (None, false);
                };
                let kt = &key.key_ty;
                if !*sorted {
                    // A stable sort: equal keys keep their arrival order, which the index
                    // in `provs` is (an unstable sort with it as the last key needs no
                    // scratch buffer the size of the input).
                    // SAFETY: every kept key is a live value of `kt` in the state's arena.
                    items.sort_unstable_by(|a, b| unsafe {
                        let o = if *desc { compare(kt, b.0, a.0) } else { compare(kt, a.0, b.0) };
                        o.then(a.1.cmp(&b.1))
                    });
                    *sorted = true;
                }
                let at = row_at(kt, ty);
                let end = items.len().min(next.saturating_add(RELEASE));
                for &(block, p) in &items[*next..end] {
                    let prov = provs.release(p, self.batch, None);
                    // SAFETY: `block` holds the key, then the row at `at` (`hold_keyed`).
                    mine.push((unsafe { block.add(at) }, prov));
                }
                *next = end;
                if end < items.len() {
                    return (None, true);
                }
                match std::mem::replace(st, SeqState::Done) {
                    SeqState::Sort { arena, provs, .. } => (Some((arena, provs)), false),
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
                (Some((arena, std::mem::take(provs))), false)
            }
            _ => (None, false),
        }
    }
}
