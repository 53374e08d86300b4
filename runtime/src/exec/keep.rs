//! What the order-dependent operators keep across chunks, packed (issue 18): the
//! provenance of a kept row is 24 bytes in one vector ([`Provs`]), whose record text is
//! a reference into the memory-mapped input it came from (not a copy: the input stays
//! mapped while the store lives, and its pages are read again only if an error record
//! needs the text) or, for inputs that are not mapped, a range of one shared byte
//! buffer; the keys of `distinct` and of a join's right side are one byte buffer with a
//! hash table of ranges into it ([`KeySet`], [`KeyIndex`]), not a heap allocation each.

use super::engine::{Batch, Raw};
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::sync::Arc;

/// The bytes of a memory-mapped input (kept alive by whoever holds a clone).
pub(crate) type Input = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The address of an input's first byte (its identity).
fn base(m: &Input) -> *const u8 {
    m.as_ref().as_ref().as_ptr()
}

/// The input of `maps` that holds `p .. p + n`, with the offset of `p` in it.
pub(crate) fn find_map(maps: &[Input], p: *const u8, n: usize) -> Option<(usize, usize)> {
    let a = p as usize;
    maps.iter().enumerate().find_map(|(k, m)| {
        let b = base(m) as usize;
        let len = m.as_ref().as_ref().len();
        (a >= b && a.checked_add(n)? <= b + len).then_some((k, a - b))
    })
}

/// Adds `m` to `maps` unless it is there already; its index.
pub(crate) fn intern_map(maps: &mut Vec<Input>, m: &Input) -> usize {
    match maps.iter().position(|x| std::ptr::eq(base(x), base(m))) {
        Some(k) => k,
        None => {
            maps.push(m.clone());
            maps.len() - 1
        }
    }
}

/// Where a kept record's text is.
const AT_BYTES: u32 = 0;
const AT_INT: u32 = 1;
/// `AT_MAP + k`: in `maps[k]`.
const AT_MAP: u32 = 2;

/// What kept provenances share (few distinct ones): the source name, where the text is,
/// whether the row derives from an error record.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Origin {
    source: u32,
    at: u32,
    from_errors: bool,
}

#[derive(Clone, Copy)]
struct Packed {
    line: u64,
    /// An offset (into `bytes` or a map), or the value of a `range` element.
    raw: u64,
    len: u32,
    /// Index in `origins`.
    origin: u32,
}

/// Provenances of kept rows, packed. See the module documentation.
#[derive(Default)]
pub(crate) struct Provs {
    sources: Vec<Arc<str>>,
    maps: Vec<Input>,
    origins: Vec<Origin>,
    entries: Vec<Packed>,
    bytes: Vec<u8>,
}

impl Provs {
    /// Keeps the provenance `prov` of `batch`; its index in the store.
    pub fn push(&mut self, batch: &Batch, prov: u32) -> u32 {
        let i = self.entries.len() as u32;
        let Some(pv) = batch.provs.get(prov as usize) else {
            let source = self.source(&Arc::from(""));
            let origin = self.origin(Origin { source, at: AT_BYTES, from_errors: false });
            self.entries.push(Packed { line: 0, raw: 0, len: 0, origin });
            return i;
        };
        let name = batch.sources.get(pv.source as usize).cloned().unwrap_or_else(|| Arc::from(""));
        let source = self.source(&name);
        let (raw, len, at) = match &pv.raw {
            Raw::Int(v) => (*v as u64, 0, AT_INT),
            Raw::Ptr(p, n) if *n > 0 && u32::try_from(*n).is_ok() => {
                match find_map(&batch.maps, *p, *n) {
                    Some((k, off)) => {
                        let m = intern_map(&mut self.maps, &batch.maps[k]);
                        (off as u64, *n as u32, AT_MAP + m as u32)
                    }
                    None => self.copy(&pv.raw_bytes()),
                }
            }
            _ => self.copy(&pv.raw_bytes()),
        };
        let origin = self.origin(Origin { source, at, from_errors: pv.from_errors });
        self.entries.push(Packed { line: pv.line, raw, len, origin });
        i
    }

    fn origin(&mut self, o: Origin) -> u32 {
        // Consecutive rows nearly always share their origin: the last one is tried first.
        if let Some(k) = self.entries.last().map(|e| e.origin)
            && self.origins.get(k as usize) == Some(&o)
        {
            return k;
        }
        match self.origins.iter().position(|x| *x == o) {
            Some(k) => k as u32,
            None => {
                self.origins.push(o);
                self.origins.len() as u32 - 1
            }
        }
    }

    fn source(&mut self, name: &Arc<str>) -> u32 {
        match self.sources.iter().position(|s| Arc::ptr_eq(s, name)) {
            Some(k) => k as u32,
            None => {
                self.sources.push(name.clone());
                self.sources.len() as u32 - 1
            }
        }
    }

    fn copy(&mut self, b: &[u8]) -> (u64, u32, u32) {
        // A record longer than 4 GiB keeps its first 4 GiB of text (it could not have been
        // read into one chunk anyway).
        let b = &b[..b.len().min(u32::MAX as usize)];
        let off = self.bytes.len() as u64;
        self.bytes.extend_from_slice(b);
        (off, b.len() as u32, AT_BYTES)
    }

    /// Adds kept provenance `i` to `batch` (sorting as `at` and in unit `unit` when
    /// given). The batch's text of it refers to this store, which must outlive the
    /// batch and not change while it lives.
    pub fn release(&self, i: u32, batch: &mut Batch, at: Option<(u32, u32)>) -> u32 {
        let entry = self.entries.get(i as usize).copied();
        let Some((e, o)) = entry.and_then(|e| Some((e, *self.origins.get(e.origin as usize)?)))
        else {
            return batch.push(0, 0, Raw::Int(0), false);
        };
        let name = self.sources.get(o.source as usize).cloned().unwrap_or_else(|| Arc::from(""));
        let source = match batch.sources.iter().position(|s| Arc::ptr_eq(s, &name)) {
            Some(k) => k as u32,
            None => {
                batch.sources.push(name);
                batch.sources.len() as u32 - 1
            }
        };
        let raw = match o.at {
            AT_INT => Raw::Int(e.raw as i64),
            AT_BYTES => {
                let s = e.raw as usize;
                match self.bytes.get(s..s + e.len as usize) {
                    Some(b) if !b.is_empty() => Raw::Ptr(b.as_ptr(), b.len()),
                    _ => Raw::Ptr(std::ptr::null(), 0),
                }
            }
            m => match self.maps.get((m - AT_MAP) as usize) {
                Some(map) => {
                    let k = intern_map(&mut batch.maps, map);
                    let bytes = batch.maps[k].as_ref().as_ref();
                    let s = e.raw as usize;
                    match bytes.get(s..s + e.len as usize) {
                        Some(b) => Raw::Ptr(b.as_ptr(), b.len()),
                        None => Raw::Ptr(std::ptr::null(), 0),
                    }
                }
                None => Raw::Ptr(std::ptr::null(), 0),
            },
        };
        let k = batch.push(source, e.line, raw, o.from_errors);
        if let Some((at, unit)) = at {
            batch.provs[k as usize].at = at;
            batch.provs[k as usize].unit = unit;
        }
        k
    }
}

/// A range of a [`Keys`] buffer (16 bytes: the hash is not stored, a table that grows
/// hashes the bytes again).
#[derive(Clone, Copy)]
struct KeyRef {
    off: usize,
    len: u32,
}

/// Key bytes, packed in one buffer, found by hash.
#[derive(Default)]
struct Keys {
    bytes: Vec<u8>,
    hasher: std::hash::RandomState,
}

impl Keys {
    fn get(&self, r: &KeyRef) -> &[u8] {
        &self.bytes[r.off..r.off + r.len as usize]
    }

    fn add(&mut self, kb: &[u8]) -> KeyRef {
        let off = self.bytes.len();
        self.bytes.extend_from_slice(kb);
        KeyRef { off, len: kb.len() as u32 }
    }

    fn hash(&self, kb: &[u8]) -> u64 {
        self.hasher.hash_one(kb)
    }
}

/// The keys `distinct` has seen.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Keys,
    table: HashTable<KeyRef>,
}

impl KeySet {
    /// Adds `kb`; false when it was there already.
    pub fn insert(&mut self, kb: &[u8]) -> bool {
        let hash = self.keys.hash(kb);
        let keys = &self.keys;
        if self.table.find(hash, |r| keys.get(r) == kb).is_some() {
            return false;
        }
        let r = self.keys.add(kb);
        let keys = &self.keys;
        self.table.insert_unique(hash, r, |r| keys.hash(keys.get(r)));
        true
    }
}

/// A join's right side: for each key, its rows in arrival order.
#[derive(Default)]
pub(crate) struct KeyIndex {
    keys: Keys,
    /// Key, first and last row of its chain in `rows`.
    table: HashTable<(KeyRef, u32, u32)>,
    /// A row and the next row of the same key (`u32::MAX`: none).
    rows: Vec<(*const u8, u32)>,
}

impl KeyIndex {
    /// Adds `row` under key `kb`. False when the index is full (`u32::MAX` rows).
    pub fn push(&mut self, kb: &[u8], row: *const u8) -> bool {
        let Ok(i) = u32::try_from(self.rows.len()) else { return false };
        if i == u32::MAX {
            return false;
        }
        self.rows.push((row, u32::MAX));
        let hash = self.keys.hash(kb);
        let keys = &self.keys;
        if let Some(e) = self.table.find_mut(hash, |(r, ..)| keys.get(r) == kb) {
            self.rows[e.2 as usize].1 = i;
            e.2 = i;
            return true;
        }
        let r = self.keys.add(kb);
        let keys = &self.keys;
        self.table.insert_unique(hash, (r, i, i), |(r, ..)| keys.hash(keys.get(r)));
        true
    }

    /// The rows of key `kb`, in arrival order.
    pub fn get(&self, kb: &[u8]) -> impl Iterator<Item = *const u8> + '_ {
        let hash = self.keys.hash(kb);
        let first =
            self.table.find(hash, |(r, ..)| self.keys.get(r) == kb).map_or(u32::MAX, |e| e.1);
        let mut next = first;
        std::iter::from_fn(move || {
            let &(row, n) = self.rows.get(next as usize)?;
            next = n;
            Some(row)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_set_sees_each_key_once() {
        let mut s = KeySet::default();
        let keys: Vec<Vec<u8>> = (0..5000u32).map(|i| (i % 1234).to_le_bytes().to_vec()).collect();
        let fresh = keys.iter().filter(|k| s.insert(k)).count();
        assert_eq!(fresh, 1234);
        assert!(!s.insert(&7u32.to_le_bytes()));
        assert!(s.insert(b""));
        assert!(!s.insert(b""));
    }

    #[test]
    fn key_index_keeps_arrival_order_per_key() {
        let mut ix = KeyIndex::default();
        let rows: Vec<u64> = (0..3000).collect();
        for r in &rows {
            assert!(ix.push(&(r % 7).to_le_bytes(), (r as *const u64).cast()));
        }
        for k in 0..7u64 {
            let got: Vec<u64> = ix.get(&k.to_le_bytes()).map(unsafe_read).collect::<Vec<_>>();
            let want: Vec<u64> = rows.iter().copied().filter(|r| r % 7 == k).collect();
            assert_eq!(got, want);
        }
        assert_eq!(ix.get(&99u64.to_le_bytes()).count(), 0);
    }

    fn unsafe_read(p: *const u8) -> u64 {
        // SAFETY: every pointer in the test index addresses an element of `rows`, alive.
        unsafe { p.cast::<u64>().read() }
    }

    #[test]
    fn provenances_come_back_as_they_went_in() {
        let text: Input = Arc::new(b"{\"a\":1}\n{\"a\":2}\n".to_vec());
        let bytes = text.as_ref().as_ref();
        let mut b = Batch::new(vec![Arc::from("in.jsonl")]);
        b.maps.push(text.clone());
        b.push(0, 2, Raw::Ptr(bytes[8..].as_ptr(), 7), false);
        b.push(0, 9, Raw::Owned(b"own".to_vec()), true);
        b.push(0, 4, Raw::Int(-3), false);
        let mut store = Provs::default();
        let ids: Vec<u32> = (0..3).map(|p| store.push(&b, p)).collect();
        drop(b);
        let mut out = Batch::new(Vec::new());
        let got: Vec<(u64, Vec<u8>, bool, String)> = ids
            .iter()
            .map(|&i| {
                let k = store.release(i, &mut out, None) as usize;
                let pv = &out.provs[k];
                let src = out.sources[pv.source as usize].to_string();
                (pv.line, pv.raw_bytes().into_owned(), pv.from_errors, src)
            })
            .collect();
        let want = [
            (2, b"{\"a\":2}".to_vec(), false, "in.jsonl".to_string()),
            (9, b"own".to_vec(), true, "in.jsonl".to_string()),
            (4, b"-3".to_vec(), false, "in.jsonl".to_string()),
        ];
        assert_eq!(got, want);
        // The mapped text is referred to, not copied.
        assert!(store.bytes.len() == 3 && out.maps.len() == 1);
    }
}
