//! Writing static libraries: GNU `ar` archives with a symbol index, so `cc main.c libx.a`
//! finds every member without `ranlib`. Deterministic (zero dates and owners).

/// One archive member: file name, contents and the global symbols it defines.
pub struct Member<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub symbols: &'a [&'a str],
}

fn header(out: &mut Vec<u8>, name: &str, size: usize) {
    let mut h = format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644);
    h.truncate(60);
    out.extend_from_slice(h.as_bytes());
}

fn pad(out: &mut Vec<u8>) {
    if out.len() % 2 == 1 {
        out.push(b'\n');
    }
}

/// The archive bytes for `members`, in order.
pub fn write(members: &[Member]) -> Vec<u8> {
    // Long names ("//" member): every name, each ended by "/\n".
    let mut names = Vec::new();
    let mut name_refs = Vec::new();
    for m in members {
        if m.name.len() <= 15 {
            name_refs.push(format!("{}/", m.name));
        } else {
            name_refs.push(format!("/{}", names.len()));
            names.extend_from_slice(m.name.as_bytes());
            names.extend_from_slice(b"/\n");
        }
    }
    let nsyms: usize = members.iter().map(|m| m.symbols.len()).sum();
    let strtab: usize = members.iter().flat_map(|m| m.symbols.iter()).map(|s| s.len() + 1).sum();
    let symtab_size = 4 + 4 * nsyms + strtab;
    // Offsets of the member headers, after the magic, the index and the name table.
    let mut offset = 8 + 60 + symtab_size + symtab_size % 2;
    if !names.is_empty() {
        offset += 60 + names.len() + names.len() % 2;
    }
    let mut offsets = Vec::new();
    for m in members {
        offsets.push(offset);
        offset += 60 + m.bytes.len() + m.bytes.len() % 2;
    }
    let mut out = b"!<arch>\n".to_vec();
    header(&mut out, "/", symtab_size);
    out.extend_from_slice(&(nsyms as u32).to_be_bytes());
    for (m, off) in members.iter().zip(&offsets) {
        for _ in m.symbols.iter() {
            out.extend_from_slice(&(*off as u32).to_be_bytes());
        }
    }
    for s in members.iter().flat_map(|m| m.symbols.iter()) {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    pad(&mut out);
    if !names.is_empty() {
        header(&mut out, "//", names.len());
        out.extend_from_slice(&names);
        pad(&mut out);
    }
    for (m, r) in members.iter().zip(&name_refs) {
        header(&mut out, r, m.bytes.len());
        out.extend_from_slice(m.bytes);
        pad(&mut out);
    }
    out
}

/// The members of a GNU or BSD-free `ar` archive (symbol index and name table skipped),
/// as (name, bytes); `None` when the bytes are not such an archive.
pub fn read(bytes: &[u8]) -> Option<Vec<(String, &[u8])>> {
    let mut rest = bytes.strip_prefix(b"!<arch>\n")?;
    let mut names: &[u8] = &[];
    let mut out = Vec::new();
    while rest.len() >= 60 {
        let h = &rest[..60];
        let size: usize = std::str::from_utf8(&h[48..58]).ok()?.trim().parse().ok()?;
        let data = rest.get(60..60 + size)?;
        let raw = std::str::from_utf8(&h[..16]).ok()?.trim_end();
        if raw == "//" {
            names = data;
        } else if raw != "/" && raw != "/SYM64/" {
            let name = if let Some(off) = raw.strip_prefix('/') {
                let off: usize = off.parse().ok()?;
                let tail = names.get(off..)?;
                let end = tail.windows(2).position(|w| w == b"/\n").unwrap_or(tail.len());
                String::from_utf8_lossy(&tail[..end]).into_owned()
            } else {
                raw.trim_end_matches('/').to_string()
            };
            out.push((name, data));
        }
        let next = 60 + size + size % 2;
        rest = rest.get(next..).unwrap_or(&[]);
    }
    Some(out)
}

/// A member of an archive: name, bytes and the symbols the archive's index gives it.
pub type Indexed<'a> = (String, &'a [u8], Vec<String>);

/// The members of a GNU `ar` archive with the symbols its index gives each, as (name,
/// bytes, symbols); `None` when the bytes are not such an archive. (To add a member to a
/// library without re-indexing it with a tool that must understand every member.)
pub fn read_indexed(bytes: &[u8]) -> Option<Vec<Indexed<'_>>> {
    let members = read(bytes)?;
    let mut by_offset: std::collections::HashMap<usize, Vec<String>> = Default::default();
    let rest = bytes.strip_prefix(b"!<arch>\n")?;
    if rest.len() >= 60 && std::str::from_utf8(&rest[..16]).ok()?.trim_end() == "/" {
        let size: usize = std::str::from_utf8(&rest[48..58]).ok()?.trim().parse().ok()?;
        let index = rest.get(60..60 + size)?;
        let n = u32::from_be_bytes(index.get(..4)?.try_into().ok()?) as usize;
        let offsets = index.get(4..4 + 4 * n)?;
        let mut names = index.get(4 + 4 * n..)?.split(|b| *b == 0);
        for o in offsets.chunks(4) {
            let off = u32::from_be_bytes(o.try_into().ok()?) as usize;
            let name = String::from_utf8_lossy(names.next()?).into_owned();
            by_offset.entry(off).or_default().push(name);
        }
    }
    // Walk the members again to learn each one's header offset.
    let mut out = Vec::with_capacity(members.len());
    let mut at = 8;
    let mut it = members.into_iter();
    while at + 60 <= bytes.len() {
        let h = &bytes[at..at + 60];
        let size: usize = std::str::from_utf8(&h[48..58]).ok()?.trim().parse().ok()?;
        let raw = std::str::from_utf8(&h[..16]).ok()?.trim_end();
        if raw != "/" && raw != "//" && raw != "/SYM64/" {
            let (name, data) = it.next()?;
            out.push((name, data, by_offset.remove(&at).unwrap_or_default()));
        }
        at += 60 + size + size % 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = write(&[
            Member { name: "short.o", bytes: b"abc", symbols: &["f", "g"] },
            Member { name: "a_rather_long_member_name.o", bytes: b"hello!", symbols: &["h"] },
        ]);
        let m = read(&a).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], ("short.o".to_string(), &b"abc"[..]));
        assert_eq!(m[1], ("a_rather_long_member_name.o".to_string(), &b"hello!"[..]));
        // The index: 3 symbols, the offsets point at the member headers.
        assert_eq!(&a[68..72], &3u32.to_be_bytes());
        let off = u32::from_be_bytes(a[72..76].try_into().unwrap()) as usize;
        assert_eq!(&a[off..off + 8], b"short.o/");
        let m = read_indexed(&a).unwrap();
        assert_eq!(m[0].2, vec!["f".to_string(), "g".to_string()]);
        assert_eq!(m[1].2, vec!["h".to_string()]);
    }
}
