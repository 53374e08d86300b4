//! Builds the runtime's static library (`libkiln_runtime.a`) that `kiln build` links
//! executables and static libraries with, and tells the compiler where it is
//! (`KILN_RUNTIME_LIB`). Cargo builds a dependency only as an rlib, so the library is built
//! here by a nested `cargo build -p kiln_runtime` in a target folder of its own, with the
//! profile of this build (a release `kiln` links release executables).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = dir.join("..");
    for p in [
        "runtime/src",
        "runtime/agentk/src",
        "runtime/Cargo.toml",
        "runtime/build.rs",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let tdir = out.join("runtime");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = std::env::var("TARGET").unwrap();
    let host = std::env::var("HOST").unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--offline", "--locked", "--lib", "-p", "kiln_runtime", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&tdir);
    if release {
        cmd.arg("--release");
    }
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
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build the runtime's static library");
    assert!(status.success(), "building the runtime's static library failed");
    let lib = if target != host { tdir.join(&target) } else { tdir.clone() }
        .join(if release { "release" } else { "debug" })
        .join("libkiln_runtime.a");
    assert!(lib.is_file(), "no {} after building the runtime", lib.display());
    println!("cargo:rustc-env=KILN_RUNTIME_LIB={}", lib.display());
}
