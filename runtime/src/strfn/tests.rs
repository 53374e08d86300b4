//! The kernels against the standard library / `textdef` definitions the interpreter uses.

use super::*;

fn s_of(k: KStr) -> String {
    // SAFETY: kernels return valid strings that live in the test's arena or arguments.
    unsafe { text(k.ptr, k.len) }.to_string()
}

fn empty() -> KStr {
    KStr { ptr: std::ptr::null(), len: 0 }
}

fn list_of(l: KList) -> Vec<String> {
    if l.len == 0 {
        return Vec::new();
    }
    // SAFETY: kernels return `len` KStrs in the arena.
    let xs = unsafe { std::slice::from_raw_parts(l.ptr.cast::<KStr>(), l.len as usize) };
    xs.iter().map(|k| s_of(*k)).collect()
}

const SAMPLES: &[&str] =
    &["", " ", "  a b  ", "héllo wörld", "日本語", "🦀x🦀", "\t\nx\u{3000}", "a,b,,c"];

#[test]
fn trim_and_substr_match_std() {
    for s in SAMPLES {
        let mut out = empty();
        // SAFETY: valid string, writable out.
        unsafe { kiln_str_trim(s.as_ptr(), s.len() as u64, &mut out) };
        assert_eq!(s_of(out), s.trim());
        for start in [-3i64, 0, 1, 2, 5, 100] {
            for n in [-1i64, 0, 1, 3, i64::MAX] {
                // SAFETY: as above.
                unsafe { kiln_str_substr(s.as_ptr(), s.len() as u64, start, n, &mut out) };
                let st = usize::try_from(start.max(0)).unwrap();
                let k = usize::try_from(n.max(0)).unwrap();
                let want: String = s.chars().skip(st).take(k).collect();
                assert_eq!(s_of(out), want, "substr({s:?}, {start}, {n})");
            }
        }
    }
    let mut out = empty();
    // SAFETY: a null string is the empty string.
    unsafe { kiln_str_substr(std::ptr::null(), 0, 0, 5, &mut out) };
    assert_eq!(s_of(out), "");
}

#[test]
fn searches_match_std() {
    for a in SAMPLES {
        for b in ["", "a", "b ", "ö", "🦀", ",,", "日本語"] {
            let (ap, al, bp, bl) = (a.as_ptr(), a.len() as u64, b.as_ptr(), b.len() as u64);
            // SAFETY: valid strings.
            unsafe {
                assert_eq!(kiln_str_contains(ap, al, bp, bl), u32::from(a.contains(b)));
                assert_eq!(kiln_str_starts_with(ap, al, bp, bl), u32::from(a.starts_with(b)));
                assert_eq!(kiln_str_ends_with(ap, al, bp, bl), u32::from(a.ends_with(b)));
            }
        }
    }
}

#[test]
fn building_functions_match_std() {
    let mut arena = Arena::new();
    for s in SAMPLES {
        for (from, to) in [("", "-"), ("a", "xyz"), (",", ""), ("ö", "oe"), ("q", "r")] {
            let mut out = empty();
            // SAFETY: valid strings, live arena, writable out.
            let st = unsafe {
                kiln_str_replace(
                    &mut arena,
                    s.as_ptr(),
                    s.len() as u64,
                    from.as_ptr(),
                    from.len() as u64,
                    to.as_ptr(),
                    to.len() as u64,
                    &mut out,
                )
            };
            assert_eq!((st, s_of(out)), (0, s.replace(from, to)));
        }
        let mut out = empty();
        // SAFETY: as above.
        let st = unsafe { kiln_str_reverse(&mut arena, s.as_ptr(), s.len() as u64, &mut out) };
        assert_eq!(st, 0);
        assert_eq!(s_of(out), s.chars().rev().collect::<String>());
        for sep in ["", ",", " ", "本"] {
            let mut l = KList { ptr: std::ptr::null_mut(), len: 0 };
            // SAFETY: as above.
            let st = unsafe {
                kiln_str_split(
                    &mut arena,
                    s.as_ptr(),
                    s.len() as u64,
                    sep.as_ptr(),
                    sep.len() as u64,
                    &mut l,
                )
            };
            let want: Vec<String> = if sep.is_empty() {
                s.chars().map(String::from).collect()
            } else {
                s.split(sep).map(String::from).collect()
            };
            assert_eq!((st, list_of(l)), (0, want));
        }
        let mut l = KList { ptr: std::ptr::null_mut(), len: 0 };
        // SAFETY: as above.
        assert_eq!(unsafe { kiln_str_tokens(&mut arena, s.as_ptr(), s.len() as u64, &mut l) }, 0);
        assert_eq!(list_of(l), crate::textdef::tokens(s));
    }
    let parts = ["a", "", "日本", "x"];
    let ks: Vec<KStr> = parts.iter().map(|p| kstr(p)).collect();
    for sep in ["", ", "] {
        let mut out = empty();
        // SAFETY: `ks` holds valid strings; live arena.
        let st = unsafe {
            kiln_str_join(
                &mut arena,
                ks.as_ptr(),
                ks.len() as u64,
                sep.as_ptr(),
                sep.len() as u64,
                &mut out,
            )
        };
        assert_eq!((st, s_of(out)), (0, parts.join(sep)));
    }
    let mut out = empty();
    // SAFETY: `kiln_str_join` allows a null list with `n == 0`; `","` is 1 readable byte, the
    // arena is live and `out` writable.
    let st = unsafe { kiln_str_join(&mut arena, std::ptr::null(), 0, ",".as_ptr(), 1, &mut out) };
    assert_eq!(st, 0);
    assert_eq!(s_of(out), "");
}

#[test]
fn allocation_failure_is_a_status() {
    let mut out = empty();
    let s = "abc";
    // SAFETY: a null arena is allowed and reported.
    let st = unsafe { kiln_str_reverse(std::ptr::null_mut(), s.as_ptr(), 3, &mut out) };
    assert_eq!(st, 1);
    // SAFETY: as above.
    assert_eq!(unsafe { kiln_fmt_int(std::ptr::null_mut(), 5, &mut out) }, 1);
}

#[test]
fn numbers_parse_and_print_as_the_interpreter() {
    for s in [" 42 ", "+7", "-0", "1_000", "", "x", "99999999999999999999", "-9223372036854775808"]
    {
        let mut v = 0i64;
        // SAFETY: valid string, writable out.
        let st = unsafe { kiln_parse_int(s.as_ptr(), s.len() as u64, &mut v) };
        match crate::textdef::parse_int(s) {
            Ok(n) => assert_eq!((st, v), (0, n)),
            Err(_) => assert_eq!(st, 1),
        }
    }
    for s in ["1e3", ".5", "5.", "-0.0", "inf", "nan", "1e999", "1e", " 2.5 "] {
        let mut v = 0f64;
        // SAFETY: as above.
        let st = unsafe { kiln_parse_float(s.as_ptr(), s.len() as u64, &mut v) };
        match crate::textdef::parse_float(s) {
            Ok(x) => assert_eq!((st, v.to_bits()), (0, x.to_bits())),
            Err(_) => assert_eq!(st, 1),
        }
    }
    let mut arena = Arena::new();
    for x in [0.1 + 0.2, 2.0, -0.0, 1e300, f64::NAN, f64::INFINITY, 5e-324] {
        let mut out = empty();
        // SAFETY: live arena, writable out.
        assert_eq!(unsafe { kiln_fmt_float(&mut arena, x, &mut out) }, 0);
        assert_eq!(s_of(out), crate::io::write::f64_to_string(x));
    }
    let mut out = empty();
    // SAFETY: as above.
    assert_eq!(unsafe { kiln_fmt_int(&mut arena, i64::MIN, &mut out) }, 0);
    assert_eq!(s_of(out), i64::MIN.to_string());
}

#[test]
fn math_matches_std() {
    for x in [-2.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0, 1e10, f64::NAN] {
        assert_eq!(kiln_math1(0, x).to_bits(), x.round().to_bits());
        assert_eq!(kiln_math1(1, x).to_bits(), x.exp().to_bits());
        assert_eq!(kiln_math1(3, x).to_bits(), x.tanh().to_bits());
        for y in [1.0, -0.0, f64::NAN, 3.0] {
            assert_eq!(kiln_math2(0, x, y).to_bits(), x.powf(y).to_bits());
            assert_eq!(kiln_math2(1, x, y).to_bits(), x.min(y).to_bits());
            assert_eq!(kiln_math2(2, x, y).to_bits(), x.max(y).to_bits());
            let fd = crate::arith::floor_div_f64(x, y);
            assert_eq!(kiln_math2(3, x, y).to_bits(), fd.to_bits());
            let fm = crate::arith::floor_mod_f64(x, y);
            assert_eq!(kiln_math2(4, x, y).to_bits(), fm.to_bits());
        }
    }
}

#[test]
fn text_push_all_sizes_exactly_and_appends_every_piece() {
    let mut arena = Arena::new();
    let mut b = KBuf { ptr: std::ptr::null_mut(), len: 0, cap: 0 };
    let big = "x".repeat(4000);
    // Every length of the small-copy paths (0 to 17), a long piece and a null one.
    let smalls: Vec<String> =
        (0..18).map(|n| "abcdefghijklmnopq".chars().take(n).collect()).collect();
    let mut pieces: Vec<KStr> = vec![KStr { ptr: big.as_ptr(), len: big.len() as u64 }];
    pieces.extend(smalls.iter().map(|s| KStr { ptr: s.as_ptr(), len: s.len() as u64 }));
    pieces.push(empty());
    let want: String =
        std::iter::once(big.as_str()).chain(smalls.iter().map(String::as_str)).collect();
    // SAFETY: a live arena and buffer; each piece is null or addresses its length.
    unsafe {
        assert_eq!(kiln_text_push_all(&mut arena, &mut b, pieces.as_ptr(), pieces.len() as u64), 0);
        assert_eq!((b.len, b.cap), (want.len() as u64, want.len() as u64), "exactly the size");
        assert_eq!(arena.used(), want.len(), "no other room taken");
        assert_eq!(std::slice::from_raw_parts(b.ptr, b.len as usize), want.as_bytes());
        // More: at least twice the room, the text kept.
        let more = [KStr { ptr: "!".as_ptr(), len: 1 }];
        assert_eq!(kiln_text_push_all(&mut arena, &mut b, more.as_ptr(), 1), 0);
        assert!(b.cap >= 2 * want.len() as u64);
        assert_eq!(
            std::slice::from_raw_parts(b.ptr, b.len as usize),
            format!("{want}!").as_bytes()
        );
        // Nothing to add: no change; an overflow or no arena fails.
        let before = (b.ptr, b.len, b.cap);
        assert_eq!(kiln_text_push_all(&mut arena, &mut b, std::ptr::null(), 0), 0);
        assert_eq!((b.ptr, b.len, b.cap), before);
        let huge = [KStr { ptr: big.as_ptr(), len: u64::MAX }];
        assert_eq!(kiln_text_push_all(&mut arena, &mut b, huge.as_ptr(), 1), 1);
        assert_eq!(kiln_text_push_all(std::ptr::null_mut(), &mut b, more.as_ptr(), 1), 1);
        assert_eq!((b.ptr, b.len, b.cap), before);
    }
}

#[test]
fn text_push_all_writes_integer_pieces_as_str_does() {
    let ints = [0i64, 7, -7, 9, 10, -10, 99, 100, 12345, i64::MAX, i64::MIN, -1, 1_000_000_000_000];
    for v in ints {
        assert_eq!(int_len(v), v.to_string().len() as u64, "{v}");
    }
    let mut arena = Arena::new();
    let mut b = KBuf { ptr: std::ptr::null_mut(), len: 0, cap: 0 };
    let sep = " | ";
    let mut pieces = Vec::new();
    for v in ints {
        pieces.push(KStr { ptr: INT_PIECE as *const u8, len: v as u64 });
        pieces.push(KStr { ptr: sep.as_ptr(), len: sep.len() as u64 });
    }
    let want: String = ints.iter().map(|v| format!("{v}{sep}")).collect();
    // SAFETY: a live arena and buffer; the pieces are integers or live strings.
    unsafe {
        assert_eq!(kiln_text_push_all(&mut arena, &mut b, pieces.as_ptr(), pieces.len() as u64), 0);
        assert_eq!((b.len, b.cap), (want.len() as u64, want.len() as u64));
        assert_eq!(std::slice::from_raw_parts(b.ptr, b.len as usize), want.as_bytes());
    }
}
