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
/// (at least 1), or when they differ only in case. Ties go to the first candidate in sorted
/// order, so suggestions are stable.
pub fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name || c.starts_with('\u{0}') {
            continue;
        }
        let d = if c.eq_ignore_ascii_case(name) { 0 } else { distance(name, c) };
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
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

/// The builtin a name from another language (or a misspelling of one) stands for.
pub fn alias(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let key = closest(&lower, ALIASES.iter().map(|(k, _)| *k))
        .or_else(|| ALIASES.iter().map(|(k, _)| *k).find(|k| *k == lower))?;
    ALIASES.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
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
        assert_eq!(alias("lenght"), Some("len"));
        assert_eq!(alias("startsWith"), Some("starts_with"));
    }
}
