//! Builds the freestanding kernel objects (see `agentk/` and `src/kernels/mod.rs`): the
//! kernels compiled once per x86-64 level with fat LTO, gathered into `libkiln_agentk.a`
//! (linked into this crate, and embedded for `kiln build --emit staticlib`).

#[path = "src/archive.rs"]
#[allow(dead_code)]
mod archive;

use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for p in [
        "agentk/src",
        "agentk/Cargo.toml",
        "agentk/Cargo.lock",
        "src/kernels",
        "src/agentdrv",
        "src/archive.rs",
    ] {
        println!("cargo:rerun-if-changed={}", dir.join(p).display());
    }
    let target = std::env::var("TARGET").unwrap();
    let levels: &[(&str, Option<&str>)] = if target.starts_with("x86_64") {
        &[("v1", Some("x86-64")), ("v3", Some("x86-64-v3")), ("v4", Some("x86-64-v4"))]
    } else {
        &[("v1", None)]
    };
    let mut objects = Vec::new();
    for (level, cpu) in levels {
        let cfgs = ["kiln_freestanding".to_string(), format!("kiln_level=\"{level}\"")];
        let lib = build_agentk(&dir, &out.join(format!("agentk-{level}")), *cpu, &cfgs);
        objects.push((level.to_string(), lto_object(&lib)));
    }
    // The agent executable driver: baseline code, no kernels.
    let cfgs = ["kiln_freestanding".to_string(), "kiln_driver".to_string()];
    let lib = build_agentk(&dir, &out.join("agentk-driver"), levels[0].1, &cfgs);
    std::fs::write(out.join("kiln_agent_driver.o"), lto_object(&lib)).unwrap();
    let names: Vec<String> = objects.iter().map(|(l, _)| format!("kiln_kernels_{l}.o")).collect();
    let symbols: Vec<Vec<String>> = objects.iter().map(|(_, b)| defined_globals(b)).collect();
    let sym_refs: Vec<Vec<&str>> =
        symbols.iter().map(|s| s.iter().map(String::as_str).collect()).collect();
    let members: Vec<archive::Member> = objects
        .iter()
        .zip(&names)
        .zip(&sym_refs)
        .map(|(((_, bytes), name), syms)| archive::Member { name, bytes, symbols: syms })
        .collect();
    std::fs::write(out.join("libkiln_agentk.a"), archive::write(&members)).unwrap();
    let mut rs = String::from("&[\n");
    for ((name, (_, bytes)), syms) in names.iter().zip(&objects).zip(&symbols) {
        let path = out.join(name);
        std::fs::write(&path, bytes).unwrap();
        rs.push_str(&format!(
            "    KernelObject {{ name: {name:?}, bytes: include_bytes!({:?}), symbols: &{syms:?} }},\n",
            path.display().to_string()
        ));
    }
    rs.push(']');
    std::fs::write(out.join("agentk_members.rs"), rs).unwrap();
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=kiln_agentk");
}

/// Builds `agentk` with `-C target-cpu=cpu` and `--cfg` each of `cfgs` into `tdir`;
/// returns the path of its static library.
fn build_agentk(dir: &Path, tdir: &Path, cpu: Option<&str>, cfgs: &[String]) -> PathBuf {
    let target = std::env::var("TARGET").unwrap();
    let host = std::env::var("HOST").unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut flags = Vec::new();
    if let Some(cpu) = cpu {
        flags.push(format!("-Ctarget-cpu={cpu}"));
    }
    for c in cfgs {
        flags.extend(["--cfg".to_string(), c.clone()]);
    }
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--release", "--offline", "--locked", "--manifest-path"])
        .arg(dir.join("agentk/Cargo.toml"))
        .arg("--target-dir")
        .arg(tdir);
    if target != host {
        cmd.args(["--target", &target]);
    }
    for var in [
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_LTO",
        "CARGO_PROFILE_RELEASE_PANIC",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    let status = cmd.status().expect("running cargo for the freestanding objects");
    assert!(status.success(), "building the freestanding objects ({cfgs:?}) failed");
    if target != host { tdir.join(&target) } else { tdir.to_path_buf() }
        .join("release/libkiln_agentk.a")
}

/// The one LTO'd object of a staticlib built with `lto = "fat"` (compiler_builtins members
/// are left out: a C toolchain's libgcc, or Rust's own, provides what little they would).
fn lto_object(lib: &Path) -> Vec<u8> {
    let bytes = std::fs::read(lib).unwrap_or_else(|e| panic!("{}: {e}", lib.display()));
    let members = archive::read(&bytes).expect("a staticlib is an ar archive");
    let (_, data) = members
        .into_iter()
        .find(|(n, _)| n.starts_with("kiln_agentk") && n.ends_with(".o"))
        .expect("the LTO object in the kernel staticlib");
    data.to_vec()
}

fn defined_globals(obj: &[u8]) -> Vec<String> {
    let file = object::File::parse(obj).expect("the kernel object parses");
    let mut v: Vec<String> = file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    v.sort();
    v
}
