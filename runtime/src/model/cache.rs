//! The answer cache on disk: one file per answer, named by the BLAKE3 hash of the endpoint
//! and the exact request bytes (so anything that changes the answer changes the name; the
//! API key is not part of the request body and never written). A file is written to a
//! temporary name and renamed into place, so a run killed mid-write leaves no half file
//! under a real name; each file carries a checksum of its answer, and a file whose checksum
//! does not match is treated as missing. Only successful answers are stored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &str = "kiln-cache 1";

/// A request's cache key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Key(pub [u8; 32]);

impl Key {
    pub fn of(endpoint: &str, body: &[u8]) -> Key {
        let mut h = blake3::Hasher::new();
        h.update(endpoint.as_bytes());
        h.update(b"\n");
        h.update(body);
        Key(*h.finalize().as_bytes())
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A cached answer: its text and the tokens the original call spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

pub struct Cache {
    dir: PathBuf,
    tmp: AtomicU64,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir, tmp: AtomicU64::new(0) }
    }

    fn path(&self, k: &Key) -> PathBuf {
        let h = k.hex();
        self.dir.join(&h[..2]).join(format!("{h}.json"))
    }

    /// The stored answer for `k`, if there is a whole, intact one.
    pub fn get(&self, k: &Key) -> Option<Entry> {
        let text = std::fs::read_to_string(self.path(k)).ok()?;
        decode(&text)
    }

    /// Stores `e` under `k`. A failure to write is not an error of the call: the answer is
    /// still returned, and only a later run pays for it again.
    pub fn put(&self, k: &Key, e: &Entry) {
        let _ = self.try_put(k, e);
    }

    fn try_put(&self, k: &Key, e: &Entry) -> std::io::Result<()> {
        let path = self.path(k);
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let n = self.tmp.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{}.{}.{n}.tmp", k.hex(), std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(encode(e).as_bytes())?;
        drop(f);
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

/// `kiln-cache 1 <checksum>\n<payload>`, the payload a JSON object (readable in a review
/// of a committed cache).
fn encode(e: &Entry) -> String {
    let payload = serde_json::json!({
        "text": e.text,
        "tokens_in": e.tokens_in,
        "tokens_out": e.tokens_out,
    })
    .to_string();
    format!("{MAGIC} {}\n{payload}\n", blake3::hash(payload.as_bytes()).to_hex())
}

fn decode(file: &str) -> Option<Entry> {
    let (head, rest) = file.split_once('\n')?;
    let sum = head.strip_prefix(MAGIC)?.trim();
    let payload = rest.strip_suffix('\n')?;
    if blake3::hash(payload.as_bytes()).to_hex().as_str() != sum {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    Some(Entry {
        text: v.get("text")?.as_str()?.to_string(),
        tokens_in: v.get("tokens_in")?.as_u64()?,
        tokens_out: v.get("tokens_out")?.as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::new(d.path().join("c"));
        let k = Key::of("http://x/v1/chat/completions", b"{}");
        assert_eq!(c.get(&k), None);
        let e = Entry { text: "é\n\"x\"".into(), tokens_in: 3, tokens_out: 4 };
        c.put(&k, &e);
        assert_eq!(c.get(&k), Some(e));
        // A torn or edited file is a miss.
        let p = c.path(&k);
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replace("\"tokens_in\":3", "\"tokens_in\":5")).unwrap();
        assert_eq!(c.get(&k), None);
        std::fs::write(&p, &t[..t.len() - 5]).unwrap();
        assert_eq!(c.get(&k), None);
        assert_ne!(k, Key::of("http://y/v1/chat/completions", b"{}"));
    }
}
