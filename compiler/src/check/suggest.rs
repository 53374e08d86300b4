//! "Did you mean ...?": the closest candidate by edit distance, if close enough.

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
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
        let d = if c.eq_ignore_ascii_case(name) {
            0
        } else {
            distance(name, c)
        };
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
    let key = closest(&lower, ALIASES.iter().map(|(k, _)| *k)).or_else(|| ALIASES.iter().map(|(k, _)| *k).find(|k| *k == lower))?;
    ALIASES.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("lenght", ["len", "length", "lower"].into_iter()),
            Some("length")
        );
        assert_eq!(
            closest("stras", ["stars", "text"].into_iter()),
            Some("stars")
        );
        assert_eq!(closest("zzz", ["stars", "text"].into_iter()), None);
        assert_eq!(alias("lenght"), Some("len"));
        assert_eq!(alias("startsWith"), Some("starts_with"));
    }
}
