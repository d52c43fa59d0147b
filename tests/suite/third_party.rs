//! The out-of-tree example plugin builds on its own and loads into the `archon` binary
//! built earlier, which is not rebuilt: swapping algorithms never rebuilds the host.

use archon_tests::{archon, archon_bin, run, target_dir, workspace_root};
use sha2::{Digest, Sha256};
use std::{fs, process::Command};
use tempfile::TempDir;

fn sha256(path: &std::path::Path) -> String {
    let bytes = fs::read(path).unwrap();
    format!("{:x}", Sha256::digest(bytes))
}

#[test]
fn an_out_of_tree_plugin_loads_into_an_unchanged_host() {
    let host = archon_bin();
    let host_hash = sha256(&host);
    let host_mtime = fs::metadata(&host).unwrap().modified().unwrap();

    let example = workspace_root().join("examples/third-party-plugin");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Share the workspace's target folder so that tch and friends are not recompiled.
    let target = target_dir().parent().unwrap().to_path_buf();
    let (code, out, err) = run(Command::new(cargo)
        .current_dir(&example)
        .args(["build", "--quiet"])
        .env("CARGO_TARGET_DIR", &target));
    assert_eq!(code, 0, "building the example plugin failed:\n{out}\n{err}");
    let lib = target_dir().join("libmy_hill_climb.so");
    assert!(lib.is_file(), "{} was not built", lib.display());

    // Install it the way a user would: into a plugin folder.
    let plugins = TempDir::new().unwrap();
    fs::copy(&lib, plugins.path().join("libmy_hill_climb.so")).unwrap();
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args(["plugins", "check", "my-hill-climb"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");

    // 300 trials exhaust the 288 toy architectures, so it must find the optimum.
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args(["demo", "--tuner", "my-hill-climb", "--trials", "300"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("accuracy 0.9500 after 288 distinct architectures"),
        "{out}"
    );

    assert_eq!(sha256(&host), host_hash, "the archon binary changed");
    assert_eq!(fs::metadata(&host).unwrap().modified().unwrap(), host_mtime);
}
