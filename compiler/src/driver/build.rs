//! `kiln build PIPELINE.kiln -o OUT [--emit exe|obj|staticlib|clif|ir]` (LANGUAGE.md §5.1):
//! compiles the pipeline ([`crate::compile::compile`]), generates its object file
//! ([`crate::codegen::aot`]) and writes what was asked for. An executable is linked by the
//! system C compiler (`cc`, or `$CC`) from the object and the runtime's static library
//! (`libkiln_runtime.a`, built beside the `kiln` binary); a static library is that
//! library with the object added (by `ar`), plus a C header.

use crate::codegen::aot::{self, Entry};
use crate::diag::render::{self, Format};
use crate::driver::CheckRun;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    Exe,
    Obj,
    Staticlib,
    Clif,
    Ir,
}

/// Why a build did not produce its output.
pub enum BuildError {
    /// Diagnostics to render (compile errors, or code the translator cannot compile).
    Diagnostics(CheckRun),
    /// Anything else, as one message.
    Other(String),
}

impl From<String> for BuildError {
    fn from(s: String) -> BuildError {
        BuildError::Other(s)
    }
}

/// Builds `file` into `out`. Must run on a thread with a big stack.
pub fn build(file: &Path, out: &Path, emit: Emit) -> Result<(), BuildError> {
    use crate::compile::{Input, Options, Outcome, compile};
    let c = match compile(Input::File(file), Options::default())? {
        Outcome::Compiled(c) => c,
        Outcome::Failed(run) => return Err(BuildError::Diagnostics(run)),
    };
    let crate::compile::Compiled { check: mut run, optimized, sinks, .. } = *c;
    if sinks == 0 {
        return Err(BuildError::Other(format!(
            "{} declares no sink, so there is nothing to build; add one such as `sink STAGE -> stdout()`",
            file.display()
        )));
    }
    refuse_to_overwrite_an_input(file, out, &run, &optimized)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create the folder {}: {e}", parent.display()))?;
    }
    if emit == Emit::Ir {
        return write(out, crate::ir::print::text(&optimized).as_bytes()).map_err(Into::into);
    }
    if let Err(why) = crate::codegen::plan::supported(&optimized) {
        return Err(BuildError::Other(format!(
            "{}: cannot build this pipeline ahead of time: {why} (`kiln run` runs it on the interpreter)",
            file.display()
        )));
    }
    let agents = match crate::driver::agents::prepare(&optimized, &run.map) {
        Ok(a) => a,
        Err(d) => {
            run.diagnostics = vec![*d];
            return Err(BuildError::Diagnostics(run));
        }
    };
    let mut warnings = Vec::new();
    let _ = render::render(Format::Short, &run.map, &run.diagnostics, &mut warnings);
    let warnings = String::from_utf8_lossy(&warnings).into_owned();
    let called = crate::driver::agents::models_called(&optimized);
    let models =
        if called.is_empty() { None } else { Some(super::client::models_spec(file, &called)?) };
    let name = c_name(out, emit);
    let entry = match emit {
        Emit::Staticlib => Entry::Named(&name),
        _ => Entry::Main,
    };
    let shown = file.display().to_string();
    let complete = |spec: &mut kiln_runtime::program::Spec| {
        spec.pipeline = shown.clone();
        spec.report.warnings = warnings.clone();
        spec.models = models.clone();
    };
    let keep_clif = emit == Emit::Clif;
    let built = match aot::build(&optimized, &run.map, agents, entry, keep_clif, &complete) {
        Ok(Ok(b)) => b,
        Ok(Err(d)) | Err(d) => {
            run.diagnostics = vec![*d];
            return Err(BuildError::Diagnostics(run));
        }
    };
    match emit {
        Emit::Clif => {
            let mut text = String::new();
            for (f, ir) in built.clif.unwrap_or_default() {
                text.push_str(&format!("; {f}\n{ir}\n"));
            }
            write(out, text.as_bytes())?;
        }
        Emit::Obj => write(out, &built.object)?,
        Emit::Exe => link_exe(&built.object, out)?,
        Emit::Staticlib => {
            staticlib(&built.object, &name, out)?;
            let header = out.with_file_name(format!("{name}.h"));
            write(&header, header_text(&name, &built.spec).as_bytes())?;
        }
        Emit::Ir => {}
    }
    Ok(())
}

/// Refuses an output path that is one of the build's inputs: a file the pipeline was
/// compiled from (the pipeline, its modules, agents, prompts, `kiln.toml`) or a source's
/// data file named by a literal path.
fn refuse_to_overwrite_an_input(
    file: &Path,
    out: &Path,
    run: &CheckRun,
    p: &crate::ir::Pipeline,
) -> Result<(), String> {
    let Ok(target) = out.canonicalize() else { return Ok(()) };
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut inputs: Vec<PathBuf> =
        run.map.ids().map(|id| PathBuf::from(&run.map.get(id).name)).collect();
    inputs.push(file.to_path_buf());
    use crate::check::hir::{Global, TExprKind};
    // A literal path, or a param's literal default.
    let literal = |e: &crate::check::hir::TExpr| match &e.kind {
        TExprKind::Str(s) => Some(s.to_string()),
        TExprKind::Global(Global::Param(i)) => match p.params.get(*i)?.default.as_ref()?.kind {
            TExprKind::Str(ref s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    };
    for n in p.graph.node_indices() {
        if let crate::ir::NodeKind::Source { args, .. } = &p.graph[n].kind
            && let Some(s) = args.first().and_then(literal)
        {
            inputs.push(dir.join(s));
        }
    }
    match inputs.iter().find(|i| i.canonicalize().is_ok_and(|c| c == target)) {
        Some(i) => Err(format!(
            "refusing to write {}: it is {}, an input of this build; choose another output path",
            out.display(),
            i.display()
        )),
        None => Ok(()),
    }
}

/// The C name of a static library's entry point: `NAME` of `libNAME.a` (letters, digits
/// and `_`).
fn c_name(out: &Path, emit: Emit) -> String {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let stem =
        if emit == Emit::Staticlib { stem.strip_prefix("lib").unwrap_or(&stem) } else { &stem };
    let mut n: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert_str(0, "kiln_");
    }
    n
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The runtime's static library: the environment variable `KILN_RUNTIME_LIB`, else the
/// one built with this `kiln` (`compiler/build.rs`), else `libkiln_runtime.a` beside the
/// `kiln` binary or in `../lib/` from it (an installed `kiln`).
pub fn runtime_lib() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("KILN_RUNTIME_LIB").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("KILN_RUNTIME_LIB names {}, which is not a file", p.display()))
        };
    }
    if let Some(p) = option_env!("KILN_RUNTIME_LIB").map(PathBuf::from).filter(|p| p.is_file()) {
        return Ok(p);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the kiln binary: {e}"))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let candidates = [dir.join("libkiln_runtime.a"), dir.join("../lib/libkiln_runtime.a")];
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        format!(
            "cannot find the Kiln runtime library libkiln_runtime.a beside {} or in ../lib/ (`cargo build -p kiln_runtime` builds it); set KILN_RUNTIME_LIB to its path",
            exe.display()
        )
    })
}

/// A scratch folder, removed when dropped.
pub fn scratch() -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("kiln-build-")
        .tempdir()
        .map_err(|e| format!("cannot create a scratch folder: {e}"))
}

/// Links `inputs` (objects and static libraries) and the system libraries `libs` into the
/// executable `out` with the system C compiler (`cc`, or `$CC`).
pub fn cc_link(inputs: &[PathBuf], libs: &[&str], out: &Path) -> Result<(), String> {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let output = Command::new(&cc)
        .args(inputs)
        .args(libs.iter().map(|l| format!("-l{l}")))
        .arg("-o")
        .arg(out)
        .output()
        .map_err(|e| {
            format!(
                "cannot run the C compiler `{}` to link {}: {e} (install a C toolchain, e.g. the Debian package `gcc`, or set CC)",
                cc.to_string_lossy(),
                out.display()
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "linking {} failed:\n{}",
            out.display(),
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(())
}

/// Links `object` with the runtime into the executable `out`.
fn link_exe(object: &[u8], out: &Path) -> Result<(), String> {
    let lib = runtime_lib()?;
    let dir = scratch()?;
    let obj = dir.path().join("pipeline.o");
    write(&obj, object)?;
    cc_link(&[obj, lib], &["m", "pthread", "dl"], out)
}

/// `out`: the runtime's static library with `object` added (as `NAME.o`, defining
/// `NAME_main`), indexed (the members' symbols as the runtime's own index lists them).
fn staticlib(object: &[u8], name: &str, out: &Path) -> Result<(), String> {
    use kiln_runtime::archive::{Member, read_indexed, write as write_archive};
    let lib = runtime_lib()?;
    let bytes = std::fs::read(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    let members =
        read_indexed(&bytes).ok_or_else(|| format!("{} is not a static library", lib.display()))?;
    let obj_name = format!("{name}.o");
    let main = [format!("{name}_main"), format!("{name}_open")];
    let main_refs: Vec<&str> = main.iter().map(String::as_str).collect();
    let syms: Vec<Vec<&str>> =
        members.iter().map(|(_, _, s)| s.iter().map(String::as_str).collect()).collect();
    let mut all = vec![Member { name: &obj_name, bytes: object, symbols: &main_refs }];
    for ((n, b, _), s) in members.iter().zip(&syms) {
        all.push(Member { name: n, bytes: b, symbols: s });
    }
    write(out, &write_archive(&all))
}

/// The C header of a pipeline's static library.
fn header_text(name: &str, spec: &kiln_runtime::program::Spec) -> String {
    let upper = name.to_ascii_uppercase();
    let mut params = String::new();
    for p in &spec.params {
        let d =
            p.shown_default.as_deref().map_or("required".to_string(), |d| format!("default {d}"));
        params.push_str(&format!(" *   {}: {} ({})\n", p.name, p.shown_ty, d.replace("*/", "* /")));
    }
    if params.is_empty() {
        params.push_str(" *   (none)\n");
    }
    format!(
        "/* Generated by kiln {version} from {pipeline}.\n * Link with: cc main.c lib{name}.a -lm -lpthread\n *\n * Params:\n{params} */\n\
         #ifndef KILN_PIPELINE_{upper}_H\n#define KILN_PIPELINE_{upper}_H\n\n\
         #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n\
         #include <stddef.h>\n\n\
         /* Runs the pipeline as its executable would: argv[1..] are its flags\n \
         * (--param NAME=VALUE, --threads N, --quiet, --no-cache, --offline, --trace FILE,\n \
         * --help; KILN_PARAM_<NAME> in the environment). Returns the exit code: 0 success,\n \
         * 1 a failed run, 2 bad usage. argv[0] names the program in messages. */\n\
         int {name}_main(int argc, char **argv);\n\n\
         /* Drives the pipeline from memory: open a session with the same flags (NULL after\n \
         * --help or a usage error, said on stderr), name the sources you feed and the sinks\n \
         * whose encoded rows you want (before the first push), push bytes of fed sources in\n \
         * pieces of any size, then finish: the exit code, as {name}_main. The run starts at\n \
         * the first push, on a thread of its own; on_rows callbacks come from that thread,\n \
         * in output order, whole rows per call. One session of this library at a time. */\n\
         typedef struct kiln_session kiln_session;\n\
         typedef void (*kiln_rows_fn)(void *user, const char *sink, const unsigned char *rows, size_t len);\n\
         kiln_session *{name}_open(int argc, char **argv);\n\
         int kiln_session_feed(kiln_session *s, const char *source);\n\
         int kiln_session_on_rows(kiln_session *s, const char *sink, kiln_rows_fn f, void *user);\n\
         int kiln_session_push(kiln_session *s, const char *source, const unsigned char *bytes, size_t len);\n\
         int kiln_session_finish(kiln_session *s);\n\n\
         #ifdef __cplusplus\n}}\n#endif\n\n#endif\n",
        version = spec.kiln_version,
        pipeline = spec.pipeline.replace("*/", "* /"),
    )
}
