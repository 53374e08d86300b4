//! "Did you mean ...?": the closest candidate by edit distance, if close enough.

/// Edit distance over chars where swapping two neighbours counts as one edit (optimal
/// string alignment), so `stras` is one edit from `stars`.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The candidate closest to `name`, when the distance is at most a third of its length
/// (at least 1), or when they differ only in case and underscores (`sortby`, `sortBy` →
/// `sort_by`). Ties go to the first candidate in sorted order, so suggestions are stable.
pub fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    closest_with_distance(name, candidates).map(|(_, c)| c)
}

/// Lowercase without underscores: `sort_by`, `sortBy` and `sortby` are the same name.
fn normalized(name: &str) -> String {
    name.chars().filter(|&c| c != '_').flat_map(char::to_lowercase).collect()
}

fn closest_with_distance<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<(usize, &'c str)> {
    let limit = (name.chars().count() / 3).max(1);
    let plain = normalized(name);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name || c.starts_with('\u{0}') {
            continue;
        }
        let d = if normalized(c) == plain { 0 } else { distance(name, c) };
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best
}

/// What to suggest for an unknown function: a name from another language written exactly
/// (`length` → `len`), else whichever is closer of a defined name (`sortby` → `sort_by`)
/// and a misspelled name from another language (`lenght` → `len`); a defined name wins a tie.
pub fn function<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    if let Some(to) = habit(name) {
        return Some(to);
    }
    let lower = name.to_ascii_lowercase();
    let real = closest_with_distance(name, candidates);
    let alias = closest_with_distance(&lower, ALIASES.iter().map(|(k, _)| *k))
        .and_then(|(d, k)| ALIASES.iter().find(|(a, _)| *a == k).map(|(_, to)| (d, *to)));
    match (real, alias) {
        (Some((rd, r)), Some((ad, a))) => Some(if ad < rd { a } else { r }),
        (Some((_, r)), None) => Some(r),
        (None, Some((_, a))) => Some(a),
        (None, None) => None,
    }
}

/// Names people bring from other languages, and the Kiln builtin they mean.
const ALIASES: &[(&str, &str)] = &[
    ("length", "len"),
    ("size", "len"),
    ("strip", "trim"),
    ("lowercase", "lower"),
    ("uppercase", "upper"),
    ("to_lower", "lower"),
    ("to_upper", "upper"),
    ("tolower", "lower"),
    ("toupper", "upper"),
    ("startswith", "starts_with"),
    ("endswith", "ends_with"),
    ("substring", "substr"),
    ("slice", "substr"),
    ("average", "mean"),
    ("avg", "mean"),
    ("sorted", "sort"),
    ("reversed", "reverse"),
    ("to_string", "str"),
    ("tostring", "str"),
    ("string", "str"),
    ("parseint", "parse_int"),
    ("parsefloat", "parse_float"),
    ("where", "filter"),
    ("select", "map"),
    ("limit", "take"),
    ("head", "take"),
    ("unique", "distinct"),
    ("groupby", "group_by"),
    ("orderby", "sort_by"),
    ("order_by", "sort_by"),
    ("concat", "union"),
];

/// The builtin a name from another language stands for, written exactly (any case).
pub fn habit(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    ALIASES.iter().find(|(k, _)| *k == lower).map(|(_, to)| *to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(closest("lenght", ["len", "length", "lower"].into_iter()), Some("length"));
        assert_eq!(closest("stras", ["stars", "text"].into_iter()), Some("stars"));
        assert_eq!(closest("zzz", ["stars", "text"].into_iter()), None);
        assert_eq!(function("lenght", ["lower"].into_iter()), Some("len"));
        assert_eq!(function("startsWith", ["lower"].into_iter()), Some("starts_with"));
    }

    #[test]
    fn defined_names_beat_far_aliases() {
        let names = ["sort", "sort_by", "len", "lower", "group_by", "filter"];
        assert_eq!(function("sortby", names.into_iter()), Some("sort_by"));
        assert_eq!(function("sortBy", names.into_iter()), Some("sort_by"));
        assert_eq!(function("groupBy", names.into_iter()), Some("group_by"));
        assert_eq!(function("length", names.into_iter()), Some("len"));
        assert_eq!(function("lenght", names.into_iter()), Some("len"));
        assert_eq!(function("filtr", names.into_iter()), Some("filter"));
        assert_eq!(function("sorted", names.into_iter()), Some("sort"));
    }
}
