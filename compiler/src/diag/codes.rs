//! The registry of diagnostic codes. A code, once published, keeps its meaning forever:
//! retired codes stay in the table marked `retired` and are never handed out again.
//! Each code's long explanation (with a wrong and a fixed example) lives in
//! `diag/explain/<CODE>.md` and is printed by `kiln explain CODE`.

use super::Severity;

/// A stable diagnostic code such as `E0201`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(&'static CodeInfo);

#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// One line: what the code is about.
    pub title: &'static str,
    /// The long explanation (Markdown), with `## Wrong` and `## Fixed` examples (for a
    /// retired code: what it meant and what replaced it).
    pub explanation: &'static str,
    /// A retired code is never reported again and never handed out to anything else.
    pub retired: bool,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0.code
    }
    pub fn severity(self) -> Severity {
        self.0.severity
    }
    pub fn title(self) -> &'static str {
        self.0.title
    }
    pub fn explanation(self) -> &'static str {
        self.0.explanation
    }
    pub fn is_retired(self) -> bool {
        self.0.retired
    }
    /// Looks a code up by name, case-insensitively (`e0201` works too); retired codes are
    /// found too (`kiln explain` says what they meant).
    pub fn lookup(name: &str) -> Option<Code> {
        ALL.iter().chain(RETIRED).copied().find(|c| c.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.code)
    }
}

macro_rules! registry {
    (
        $($name:ident $sev:ident $title:literal;)*
        @retired
        $($rname:ident $rsev:ident $rtitle:literal;)*
    ) => {
        $(
            #[allow(non_upper_case_globals)]
            pub const $name: Code = Code(&CodeInfo {
                code: stringify!($name),
                severity: Severity::$sev,
                title: $title,
                explanation: include_str!(concat!("explain/", stringify!($name), ".md")),
                retired: false,
            });
        )*
        /// Every code in use, in registry order.
        pub const ALL: &[Code] = &[$($name),*];
        /// Codes no longer reported, kept so they are never reused. No constant names
        /// them, so no diagnostic can be built with one.
        pub const RETIRED: &[Code] = &[$(Code(&CodeInfo {
            code: stringify!($rname),
            severity: Severity::$rsev,
            title: $rtitle,
            explanation: include_str!(concat!("explain/", stringify!($rname), ".md")),
            retired: true,
        })),*];
    };
}

registry! {
    // Syntax (E00xx)
    E0001 Error "syntax error";
    E0002 Error "unclosed delimiter";
    E0003 Error "invalid escape in a string";
    E0004 Error "invalid number literal";
    E0005 Error "unterminated string";
    E0006 Error "comparisons do not chain";
    // Names (E01xx)
    E0100 Error "unknown name";
    E0101 Error "name defined twice";
    E0102 Error "unknown type";
    E0103 Error "unknown field";
    E0104 Error "names from `use` clash";
    E0105 Error "module not found";
    E0106 Error "unknown function";
    E0107 Error "recursive type alias";
    E0108 Error "duplicate field";
    E0109 Error "recursive function or constant";
    // Types (E02xx)
    E0200 Error "mismatched types";
    E0201 Error "wrong number of arguments";
    E0202 Error "bad named argument";
    E0203 Error "not a function";
    E0204 Error "optional value used where a value is required";
    E0205 Error "cannot infer the type of a lambda parameter";
    E0206 Error "operator cannot be applied to these types";
    E0207 Error "vector sizes differ";
    E0208 Error "value cannot be indexed";
    E0209 Error "field access on a value that is not a record";
    E0210 Error "condition is not a boolean";
    E0211 Error "branches have different types";
    E0212 Error "integer literal out of range";
    E0213 Error "not a compile-time constant";
    E0214 Error "unsupported parameter type";
    E0215 Error "expected a stream";
    E0216 Error "aggregate used outside `group_by` or `aggregate`";
    E0217 Error "vector size must be a positive compile-time integer";
    E0218 Error "lambda expected";
    E0219 Error "stream used where a value is expected";
    E0220 Error "null needs an optional type";
    E0221 Error "constant evaluation failed";
    E0222 Error "count argument out of range";
    // Pipeline structure (E03xx)
    E0300 Error "stages form a cycle";
    E0301 Error "CSV needs a flat record";
    E0302 Error "`lines` sink needs a stream of strings";
    E0303 Error "two sinks write the same path";
    E0304 Error "invalid source element type";
    E0305 Error "unknown sink target";
    E0306 Error "unknown source";
    E0307 Error "a parameter without a default is missing";
    E0310 Error "a sink writes the file a source reads";
    E0311 Error "two sources read standard input";
    // Agents (E04xx)
    E0400 Error "invalid YAML in an agent file";
    E0401 Error "agent field has the wrong type";
    E0402 Error "required agent field is missing";
    E0403 Error "unsupported network type";
    E0404 Error "unknown activation function";
    E0405 Error "invalid layer size";
    E0406 Error "weight count does not match the network shape";
    E0407 Error "invalid base64 in a binary section";
    E0408 Error "training data does not form whole rows";
    E0409 Error "malformed or duplicate binary section";
    E0410 Error "invalid learning rate";
    E0411 Error "invalid resource limit";
    E0412 Error "agent has no trained weights";
    E0413 Error "non-finite value in a binary section";
    // Prompts (E05xx)
    E0500 Error "invalid prompt front matter";
    E0501 Error "template tag is never closed";
    E0502 Error "template blocks do not match";
    E0503 Error "invalid template tag";
    E0504 Error "optional value inserted into a template";
    E0505 Error "template loop over a value that is not a list";
    E0506 Error "`loop` used outside a template loop";
    E0507 Error "unknown or invalid template filter";
    // Run-time errors (E06xx): reported by `kiln run` while a pipeline runs
    E0600 Error "integer overflow";
    E0601 Error "integer division by zero";
    E0602 Error "index out of range";
    E0603 Error "value cannot be converted";
    E0604 Error "text is not a number";
    E0605 Error "empty list has no minimum, maximum or mean";
    E0606 Error "invalid argument";
    E0607 Error "input record cannot be read";
    E0608 Error "input or output cannot be opened";
    E0609 Error "invalid parameter value";
    E0610 Error "not supported by this build yet";
    E0611 Error "internal compiler or interpreter error";
    E0612 Error "an agent's resource limits or requirements are not met";
    E0613 Error "calls nested too deeply";
    E0614 Error "a language-model call failed";
    // kiln.toml, the model configuration (E07xx)
    E0700 Error "kiln.toml is not valid TOML";
    E0701 Error "unknown key in kiln.toml";
    E0702 Error "invalid value in kiln.toml";
    E0703 Error "API key written in kiln.toml";
    E0704 Error "unknown model";
    E0705 Error "model fallback cycle";
    E0706 Error "no kiln.toml found";
    // Warnings (W0xxx)
    W0001 Warning "stage feeds no sink";
    W0002 Warning "unused parameter";
    W0003 Warning "unused constant";
    W0004 Warning "unused function";
    W0005 Warning "unused variable";
    W0006 Warning "shadowed name";
    W0500 Warning "unknown prompt front matter key";
    W0501 Warning "unused prompt parameter";
    // Agent warnings (W04xx)
    W0400 Warning "unknown key in an agent file";
    W0401 Warning "unknown binary section in an agent file";

    // Retired: listed forever, never reported, never reused.
    @retired
    E0308 Error "agent has no trained weights (retired: now E0412)";
}
