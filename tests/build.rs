//! `kiln build` of pipelines (LANGUAGE.md §5.1): every pipeline under tests/diff/ and
//! examples/ is built as an executable and run at 1 and 2 threads; everything it writes
//! (output files, standard output, standard error, exit code) must equal what `kiln run`
//! writes. Also: params by flag and by environment, failures, `--help`, what the executable
//! contains (no compiler, interpreter or Cranelift), forced SIMD levels, reproducible
//! builds, the static library driven from C, and `--emit obj|clif|ir`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{copy_dir, files};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Files written or changed, by path (as text, so a failure prints readably).
    outputs: BTreeMap<String, String>,
}

fn kiln() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs `cmd` in `dir` (a fresh copy of a pipeline's folder) and collects what it wrote.
fn outcome(dir: &Path, mut cmd: Command) -> Outcome {
    let before = {
        let mut m = BTreeMap::new();
        files(dir, dir, &mut m);
        m
    };
    let o = cmd.current_dir(dir).env("NO_COLOR", "1").output().unwrap();
    let mut outputs = BTreeMap::new();
    files(dir, dir, &mut outputs);
    outputs.retain(|k, v| before.get(k) != Some(v));
    Outcome {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        outputs: outputs
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect(),
    }
}

/// `kiln run FILE ARGS` in a fresh copy of `folder`, with `env`.
fn run(folder: &Path, file: &str, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(folder, tmp.path());
    let mut cmd = kiln();
    cmd.args(["run", "--engine", "jit", file]).args(args).envs(env.iter().copied());
    outcome(tmp.path(), cmd)
}

/// A pipeline built in a copy of its folder (as a user builds it: from the pipeline's
/// folder), with the executable outside it.
struct Built {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    exe: PathBuf,
}

/// Builds `file` of `folder`; `Err` is `kiln build`'s stderr.
fn build(folder: &Path, file: &str) -> Result<Built, String> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("src");
    copy_dir(folder, &copy);
    let exe = dir.path().join("bin/pipeline");
    let o = kiln().args(["build", file, "-o"]).arg(&exe).current_dir(&copy).output().unwrap();
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(Built { _dir: dir, folder: copy, exe })
}

impl Built {
    /// Runs the executable with `args` and `env` in a fresh copy of the pipeline's folder.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&self.folder, tmp.path());
        let mut cmd = Command::new(&self.exe);
        cmd.args(args).envs(env.iter().copied());
        outcome(tmp.path(), cmd)
    }
}

/// `kiln build reviews.kiln --emit staticlib -o lib` in `dir`.
fn emit_staticlib(dir: &Path, lib: &Path) {
    let o = kiln()
        .args(["build", "reviews.kiln", "--emit", "staticlib", "-o"])
        .arg(lib)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn pipelines() -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    for dir in [root().join("tests/diff")]
        .into_iter()
        .chain(std::fs::read_dir(root().join("examples")).unwrap().map(|e| e.unwrap().path()))
    {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<String> = rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".kiln"))
            .collect();
        names.sort();
        v.extend(names.into_iter().map(|n| (dir.clone(), n)));
    }
    v
}

#[test]
fn every_pipeline_built_behaves_as_kiln_run() {
    let mut built = 0;
    let mut skipped = Vec::new();
    for (dir, file) in pipelines() {
        let jit = run(&dir, &file, &["--threads", "1"], &[]);
        if jit.code == Some(1) && jit.stderr.contains("cannot use the JIT") {
            skipped.push(format!("{}/{file}", dir.display()));
            continue;
        }
        let b = match build(&dir, &file) {
            Ok(b) => b,
            // A pipeline that does not check does not build either, with the same words.
            Err(e) => {
                assert_eq!(e, jit.stderr, "{}/{file}: kiln build failed", dir.display());
                assert!(e.contains("error["), "{}/{file}: {e}", dir.display());
                continue;
            }
        };
        for threads in ["1", "2"] {
            let want = run(&dir, &file, &["--threads", threads], &[]);
            let got = b.run(&["--threads", threads], &[]);
            assert_eq!(got, want, "{}/{file}: {threads} threads", dir.display());
        }
        built += 1;
    }
    eprintln!("built {built} pipelines; not compiled yet: {skipped:?}");
    let diff_files = std::fs::read_dir(root().join("tests/diff"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "kiln"))
        .count();
    assert!(built >= diff_files, "only {built} pipelines built");
}

#[test]
fn params_by_flag_by_environment_and_bad_ones_behave_as_kiln_run() {
    let dir = root().join("examples/reviews");
    let b = build(&dir, "reviews.kiln").unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["--param", "out_dir=elsewhere"], vec![]),
        (vec![], vec![("KILN_PARAM_OUT_DIR", "env_out")]),
        (vec!["--param", "out_dir=flag"], vec![("KILN_PARAM_OUT_DIR", "env_out")]),
        (vec!["--param", "input=missing.jsonl"], vec![]),
        (vec!["--param", "nope=1"], vec![]),
        (vec!["--quiet"], vec![]),
    ];
    for (args, env) in cases {
        let want = run(&dir, "reviews.kiln", &args, &env);
        let got = b.run(&args, &env);
        assert_eq!(got, want, "reviews with {args:?} {env:?}");
    }
    // A typed param with a bad value, and an optional float param.
    let dir = root().join("tests/diff");
    let b = build(&dir, "optionals.kiln").unwrap();
    for args in
        [&["--param", "limit=abc"][..], &["--param", "limit=2.5"], &["--param", "limit=null"]]
    {
        let want = run(&dir, "optionals.kiln", args, &[]);
        assert_eq!(b.run(args, &[]), want, "optionals with {args:?}");
    }
}

#[test]
fn help_lists_the_params_with_types_and_defaults() {
    let b = build(&root().join("examples/reviews"), "reviews.kiln").unwrap();
    let o = b.run(&["--help"], &[]);
    assert_eq!(o.code, Some(0));
    assert!(o.stdout.contains("input: str (default: \"data/reviews.jsonl\")"), "{}", o.stdout);
    assert!(o.stdout.contains("out_dir: str (default: \"out\")"), "{}", o.stdout);
    let o = b.run(&["--bogus"], &[]);
    assert_eq!(o.code, Some(2), "{o:?}");
}

/// Symbols of `exe` (`nm`), when `nm` is installed.
fn symbols(exe: &Path) -> Option<String> {
    let o = Command::new("nm").arg(exe).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn the_executable_holds_no_compiler_interpreter_or_cranelift() {
    let b = build(&root().join("examples/reviews"), "reviews.kiln").unwrap();
    let Some(syms) = symbols(&b.exe) else {
        eprintln!("nm is not installed; skipped");
        return;
    };
    assert!(syms.contains("kiln_program_main"), "not a Kiln program?");
    for bad in ["cranelift", "4kiln6interp", "4kiln5check", "4kiln6syntax", "4pest"] {
        let hits: Vec<&str> = syms.lines().filter(|l| l.contains(bad)).take(3).collect();
        assert!(hits.is_empty(), "the executable contains `{bad}`: {hits:?}");
    }
    // The compiler crate (`kiln`, mangled `4kiln`) is absent; the runtime is `kiln_runtime`.
    let compiler: Vec<&str> =
        syms.lines().filter(|l| l.contains("_ZN4kiln") || l.contains("4kiln3")).take(3).collect();
    assert!(compiler.is_empty(), "compiler symbols in the executable: {compiler:?}");
}

/// Each SIMD level the kernels can be forced to (`KILN_KERNEL_LEVEL`, capped at what the
/// machine has) gives the executable the output `kiln run` gives at that level.
#[test]
fn every_simd_level_gives_the_same_output() {
    let (dir, file) = (root().join("tests/diff"), "agents.kiln");
    let b = build(&dir, file).unwrap();
    for level in ["v1", "v3", "v4"] {
        let env = [("KILN_KERNEL_LEVEL", level)];
        let want = run(&dir, file, &[], &env);
        let got = b.run(&[], &env);
        assert_eq!(got, want, "KILN_KERNEL_LEVEL={level}");
    }
}

#[test]
fn builds_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("examples/reviews");
    for emit in ["obj", "exe"] {
        let mut outs = Vec::new();
        for i in 0..2 {
            let out = dir.path().join(format!("{emit}{i}"));
            let o = kiln()
                .args(["build", "reviews.kiln", "--emit", emit, "-o"])
                .arg(&out)
                .current_dir(&src)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            outs.push(std::fs::read(&out).unwrap());
        }
        assert!(outs[0] == outs[1], "two builds of `--emit {emit}` differ");
    }
}

#[test]
fn emit_clif_ir_and_obj_write_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("examples/reviews");
    let emit = |what: &str, name: &str| {
        let out = dir.path().join("nested/folder").join(name);
        let o = kiln()
            .args(["build", "reviews.kiln", "--emit", what, "-o"])
            .arg(&out)
            .current_dir(&src)
            .output()
            .unwrap();
        assert!(o.status.success(), "{what}: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(&out).unwrap()
    };
    let clif = String::from_utf8(emit("clif", "reviews.clif")).unwrap();
    assert!(clif.contains("function") && clif.contains("stage"), "{clif}");
    let ir = String::from_utf8(emit("ir", "reviews.ir")).unwrap();
    assert!(ir.contains("source reviews"), "{ir}");
    let obj = emit("obj", "reviews.o");
    assert_eq!(&obj[..4], b"\x7fELF");
}

#[test]
fn the_static_library_runs_the_pipeline_from_c() {
    let src = root().join("examples/reviews");
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("src");
    copy_dir(&src, &work);
    let lib = tmp.path().join("lib/libreviews.a");
    emit_staticlib(&work, &lib);
    let header = std::fs::read_to_string(tmp.path().join("lib/reviews.h")).unwrap();
    assert!(header.contains("int reviews_main(int argc, char **argv);"), "{header}");
    let main_c = tmp.path().join("main.c");
    std::fs::write(
        &main_c,
        "#include \"reviews.h\"\nint main(int argc, char **argv) { return reviews_main(argc, argv); }\n",
    )
    .unwrap();
    let exe = tmp.path().join("host");
    let o = Command::new("cc")
        .arg(&main_c)
        .arg("-I")
        .arg(tmp.path().join("lib"))
        .arg(&lib)
        .args(["-lm", "-lpthread", "-o"])
        .arg(&exe)
        .output()
        .unwrap();
    assert!(o.status.success(), "cc: {}", String::from_utf8_lossy(&o.stderr));
    let want = run(&src, "reviews.kiln", &["--param", "out_dir=c_out"], &[]);
    let fresh = tempfile::tempdir().unwrap();
    copy_dir(&work, fresh.path());
    let mut cmd = Command::new(&exe);
    cmd.args(["--param", "out_dir=c_out"]);
    assert_eq!(outcome(fresh.path(), cmd), want);
}

#[test]
fn a_pipeline_that_fails_to_check_does_not_build() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.kiln"), "stage s = nope\nsink s -> stdout()\n").unwrap();
    let o = kiln().args(["build", "bad.kiln", "-o", "x"]).current_dir(tmp.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error[E"), "{err}");
    assert!(!tmp.path().join("x").exists());
}

/// The static library driven from memory (examples/embed/host.c): the source pushed in
/// pieces of 1, 7 and 4096 bytes, one stage's sink rows received through a callback; they
/// equal what `kiln run` writes to that sink's file, and the other sinks write their files
/// as `kiln run` does.
#[test]
fn the_static_library_is_fed_from_memory_and_calls_back_with_rows() {
    let src = root().join("examples/reviews");
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("lib/libreviews.a");
    emit_staticlib(&src, &lib);
    let host = tmp.path().join("host");
    let o = Command::new("cc")
        .arg(root().join("examples/embed/host.c"))
        .arg("-I")
        .arg(tmp.path().join("lib"))
        .arg(&lib)
        .args(["-lm", "-lpthread", "-o"])
        .arg(&host)
        .output()
        .unwrap();
    assert!(o.status.success(), "cc: {}", String::from_utf8_lossy(&o.stderr));
    let want = run(&src, "reviews.kiln", &["--param", "out_dir=o"], &[]);
    let input = src.join("data/reviews.jsonl");
    for piece in ["1", "7", "4096"] {
        let fresh = tempfile::tempdir().unwrap();
        copy_dir(&src, fresh.path());
        let mut cmd = Command::new(&host);
        cmd.arg(&input).args(["good", piece, "rows.jsonl", "--param", "out_dir=o"]);
        let mut got = outcome(fresh.path(), cmd);
        let rows = got.outputs.remove("rows.jsonl").unwrap_or_default();
        let mut want = want.clone();
        let good = want.outputs.remove("o/good.jsonl").unwrap();
        assert_eq!(rows, good, "pieces of {piece} bytes: the callback's rows");
        // The sink given to the callback writes no file; everything else is as `kiln run`.
        assert_eq!(got, want, "pieces of {piece} bytes");
    }
}

/// The Python host of examples/embed (ctypes, through a shared object made from the static
/// library) gets the same rows as `kiln run` writes (skipped without `python3`).
#[test]
fn python_drives_the_library_through_ctypes() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 is not installed; skipped");
        return;
    }
    let src = root().join("examples/reviews");
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("libreviews.a");
    emit_staticlib(&src, &lib);
    let so = tmp.path().join("libreviews.so");
    let o = Command::new("cc")
        .args(["-shared", "-o"])
        .arg(&so)
        .arg("-Wl,--whole-archive")
        .arg(&lib)
        .args(["-Wl,--no-whole-archive", "-lm", "-lpthread"])
        .output()
        .unwrap();
    assert!(o.status.success(), "cc -shared: {}", String::from_utf8_lossy(&o.stderr));
    let out = tmp.path().join("out");
    let o = Command::new("python3")
        .arg(root().join("examples/embed/host.py"))
        .arg(&so)
        .arg(src.join("data/reviews.jsonl"))
        .arg("--param")
        .arg(format!("out_dir={}", out.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let want = run(&src, "reviews.kiln", &["--param", "out_dir=o"], &[]);
    let good = &want.outputs["o/good.jsonl"];
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The pipeline's stdout() sink shares standard output with the host's printout.
    let rows: String =
        stdout.lines().filter(|l| l.contains("\"preview\"")).map(|l| format!("{l}\n")).collect();
    assert_eq!(&rows, good);
}

/// `-o` onto the pipeline itself or onto a source's data file is refused, and the file is
/// left as it was.
#[test]
fn an_output_path_that_is_an_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/reviews"), tmp.path());
    for victim in ["reviews.kiln", "data/reviews.jsonl"] {
        let before = std::fs::read(tmp.path().join(victim)).unwrap();
        let o = kiln()
            .args(["build", "reviews.kiln", "-o", victim])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{victim}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("refusing to write"), "{victim}: {err}");
        assert_eq!(std::fs::read(tmp.path().join(victim)).unwrap(), before, "{victim} changed");
    }
}
