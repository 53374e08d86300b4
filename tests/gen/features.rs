//! Feature families the generator can leave out, so CI runs the families on which both
//! engines agree today while a long run can switch every one of them on.
//!
//! `KILN_GEN_FEATURES` edits the CI set: `all` (everything on), `none`, then a
//! comma-separated list of `+name` / `-name` (e.g. `all,-float_sum` or `+left_join_opt`).

macro_rules! features {
    ($($name:ident: $ci:expr, $doc:literal;)*) => {
        /// One switch per feature family; `true` lets the generator produce it.
        #[derive(Clone, Debug)]
        pub struct Features { $(#[doc = $doc] pub $name: bool,)* }

        impl Features {
            /// The families CI runs: those that agree on both engines today.
            pub fn ci() -> Features {
                Features { $($name: $ci,)* }
            }

            fn set(&mut self, name: &str, on: bool) -> Result<(), String> {
                match name {
                    $(stringify!($name) => self.$name = on,)*
                    "all" | "none" => { $(self.$name = on;)* }
                    _ => return Err(format!("unknown feature family `{name}`; known: {}",
                        [$(stringify!($name)),*].join(", "))),
                }
                Ok(())
            }

            /// The names of the families that are off.
            pub fn off(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $(if !self.$name { v.push(stringify!($name)); })*
                v
            }
        }
    };
}

features! {
    int_sum_agg: true, "int `sum` / `mean` aggregates in `group_by` and `aggregate`";
    float_sum: true, "float `sum` / `mean` (aggregates and list functions)";
    left_join_opt: true, "`left_join` whose right element type is optional";
    nested_bool_rec: true, "records whose fields are all `bool` nested in records";
    two_keyed: true, "two keyed operators (`sort_by`, `distinct`, `group_by`, joins) in one stage";
    json_neg_zero: true, "`-0` and `-0.0` in JSON input";
    csv_extra_cells: true, "CSV input rows with more cells than the header";
    release_errors: true, "record errors together with `sort_by`/`group_by`/`aggregate`/`union`/joins";
    fan_out: true, "a stream read by several stages (or joins / unions): the order of one record's errors across branches";
    cmp_of_cmp: true, "`==` / `!=` whose operands are themselves comparisons";
    csv_sink_null: true, "CSV sinks of one column that may hold null";
    csv_source: true, "CSV sources";
    errors_sink: true, "`sink errors -> ...` and stages reading `errors`";
    params_override: true, "`--param` overrides on the command line";
    recursion: true, "recursive user fns";
    stdlib: true, "`use \"std/math\"` / `use \"std/text\"` and calls of their fns";
    vecs: true, "`vec[N]` values and their builtins";
    vec_bad_element: true, "JSONL `vec[N]` fields holding a non-number";
    vec_len: true, "`len` of a `vec[N]` expression (its conversion can fail)";
    list_stream_ops: true, "list forms of `sort_by` / `distinct`";
    framing: true, "input files with `\\r\\n` line ends, a byte order mark, no final newline";
    malformed: true, "malformed input lines (bad JSON, wrong types, missing fields)";
    multi_fault: true, "JSONL lines with several faults (a missing field, a wrong type, cut short)";
    error_order: true, "compare the order of error records across branches, and which error stops a run (else: as a set, and the exit code)";
    failfast_outputs: true, "compare sinks and stdout after a run stopped at a record";
    float_halfway: true, "JSON floats halfway between two doubles (9007199254740993.0)";
}

impl Features {
    /// The CI set edited by `spec` (see the module doc).
    pub fn parse(spec: &str) -> Result<Features, String> {
        let mut f = Features::ci();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => f.set("all", true)?,
                "none" => f.set("none", false)?,
                _ => match part.strip_prefix('-') {
                    Some(n) => f.set(n, false)?,
                    None => f.set(part.trim_start_matches('+'), true)?,
                },
            }
        }
        Ok(f)
    }
}
