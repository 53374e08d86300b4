//! The run-time guard against losing input: before any sink creates (truncates) its file,
//! every sink path is compared with every source path and every other sink path as *files*
//! (device and inode where the file exists, otherwise the normalized absolute path), so
//! `out/a.jsonl` and `./out/a.jsonl`, a symbolic link, a hard link or a param that names a
//! source's file are all caught. Two sources reading standard input are refused too: the
//! second would silently get no rows.
//!
//! Both engines call [`check`] with the paths they are about to open, so the refusal is
//! identical and comes before anything is written. The checker catches the cases it can see
//! in the text (equal literal paths, one param for both); this catches the rest.

use std::path::{Component, Path, PathBuf};

/// One path a run opens: a source it reads or a sink it writes.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint<'a> {
    /// The path as the engine opens it (`-` for standard input or output).
    pub path: &'a str,
    /// The source's name (for the message) or the sink's node name (unique).
    pub name: &'a str,
    pub is_sink: bool,
}

/// A refused pair: `at` is the index (into the slice given to [`check`]) of the endpoint
/// to blame, the later of the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clash {
    pub at: usize,
    pub message: String,
}

#[derive(PartialEq, Eq, Debug)]
enum Identity {
    Stdio,
    File { dev: u64, ino: u64 },
    Path(PathBuf),
}

fn identity(path: &str) -> Identity {
    if path == "-" {
        return Identity::Stdio;
    }
    let p = Path::new(path);
    if let Ok(m) = std::fs::metadata(p) {
        use std::os::unix::fs::MetadataExt;
        return Identity::File { dev: m.dev(), ino: m.ino() };
    }
    // Not there yet: the canonical folder (links resolved) and the file name, else the
    // path made absolute and normalized as written.
    let abs = std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf());
    let abs = normalize(&abs);
    if let (Some(dir), Some(name)) = (abs.parent(), abs.file_name())
        && let Ok(dir) = std::fs::canonicalize(dir)
    {
        return Identity::Path(dir.join(name));
    }
    Identity::Path(abs)
}

/// `a/./b/../c` → `a/c`, lexically (a `..` after a normal component removes it).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::ParentDir if matches!(out.last(), Some(Component::RootDir)) => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

fn shown(path: &str) -> String {
    if path == "-" { "standard input".into() } else { format!("`{path}`") }
}

/// Refuses a sink that would write a file a source reads or another sink writes, and a
/// second source of standard input. Standard output may be written by one sink only, which
/// the checker guarantees; it is not a source's file, so it is not compared here.
///
/// Where several pairs clash, the one reported does not depend on the order of
/// `endpoints` (the engines list them in different orders): the least by the blamed
/// endpoint's name, then the message.
pub fn check(endpoints: &[Endpoint]) -> Result<(), Clash> {
    let ids: Vec<Identity> = endpoints.iter().map(|e| identity(e.path)).collect();
    let mut found: Option<Clash> = None;
    for (j, b) in endpoints.iter().enumerate() {
        for (i, a) in endpoints[..j].iter().enumerate() {
            if ids[i] != ids[j] {
                continue;
            }
            let same = if a.path == b.path {
                shown(a.path)
            } else {
                format!("{} (as {})", shown(a.path), shown(b.path))
            };
            let message = match (a.is_sink, b.is_sink) {
                (false, false) if b.path == "-" => format!(
                    "sources `{}` and `{}` both read standard input; only the first would get its rows",
                    a.name, b.name
                ),
                (false, false) => continue,
                (true, true) if a.path == "-" => continue,
                (true, true) => {
                    format!("two sinks write {same}; the second would overwrite the first")
                }
                (false, true) | (true, false) => {
                    if a.path == "-" {
                        continue;
                    }
                    let src = if a.is_sink { b } else { a };
                    format!(
                        "this sink would overwrite {same}, which source `{}` reads; nothing was written",
                        src.name
                    )
                }
            };
            let at = if a.is_sink && !b.is_sink { i } else { j };
            let key = |c: &Clash| (endpoints[c.at].name, c.message.clone());
            let clash = Clash { at, message };
            if found.as_ref().is_none_or(|f| key(&clash) < key(f)) {
                found = Some(clash);
            }
        }
    }
    found.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep<'a>(path: &'a str, name: &'a str, is_sink: bool) -> Endpoint<'a> {
        Endpoint { path, name, is_sink }
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(Path::new("./out/../out/a.jsonl")), PathBuf::from("out/a.jsonl"));
        assert_eq!(normalize(Path::new("/a/./b//c/../d")), PathBuf::from("/a/b/d"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn refuses_a_sink_on_its_source_by_inode() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.jsonl");
        std::fs::write(&data, "{}\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        let (d, l) = (data.to_str().unwrap(), link.to_str().unwrap());
        let e = check(&[ep(d, "rs", false), ep(l, "out", true)]).unwrap_err();
        assert_eq!(e.at, 1);
        assert!(e.message.contains("this sink would overwrite"), "{}", e.message);
        assert!(e.message.contains("which source `rs` reads"), "{}", e.message);
        // The sink declared first is still the one blamed.
        assert_eq!(check(&[ep(l, "out", true), ep(d, "rs", false)]).unwrap_err().at, 0);
        assert_eq!(std::fs::read_to_string(&data).unwrap(), "{}\n");
    }

    #[test]
    fn refuses_two_sinks_on_one_new_file_spelled_two_ways() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out/a.jsonl");
        let b = dir.path().join("out/./x/../a.jsonl");
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        let e = check(&[ep(a, "s1", true), ep(b, "s2", true)]).unwrap_err();
        assert_eq!(e.at, 1);
        assert!(e.message.starts_with("two sinks write `"), "{}", e.message);
        assert!(e.message.contains("(as `"), "{}", e.message);
    }

    #[test]
    fn refuses_two_sources_of_standard_input_only() {
        let e = check(&[ep("-", "a", false), ep("-", "b", false)]).unwrap_err();
        assert!(e.message.contains("both read standard input"), "{}", e.message);
        assert!(check(&[ep("-", "a", false), ep("-", "out", true)]).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("d.csv");
        std::fs::write(&f, "a\n").unwrap();
        let f = f.to_str().unwrap();
        assert!(check(&[ep(f, "a", false), ep(f, "b", false)]).is_ok());
    }
}
