//! The standard library modules written in Kiln (`stdlib/*.kiln`), embedded in the binary
//! so `use "std/text"` works wherever `kiln` is installed.

pub const MODULES: &[(&str, &str)] = &[
    ("std/math", include_str!("../../../stdlib/math.kiln")),
    ("std/text", include_str!("../../../stdlib/text.kiln")),
];

pub fn get(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".kiln").unwrap_or(name);
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
