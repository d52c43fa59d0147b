//! The out-of-tree example plugin builds on its own and loads into the `archon` binary
//! built earlier, which is not rebuilt: swapping algorithms never rebuilds the host.
//! It also builds against archon-plugin-api as `cargo package` packs it for crates.io,
//! so a third party depending on the published version gets a crate that works.

use archon_tests::{archon, archon_bin, run, target_dir, workspace_root};
use sha2::{Digest, Sha256};
use std::{fs, process::Command};
use tempfile::TempDir;

fn sha256(path: &std::path::Path) -> String {
    let bytes = fs::read(path).unwrap();
    format!("{:x}", Sha256::digest(bytes))
}

/// Installs the built example `lib` the way a user would — into a plugin folder of
/// its own — and checks that it passes `archon plugins check` whole. Returns the
/// plugin folder and the data home to run more commands with.
fn install_and_check(lib: &std::path::Path) -> (TempDir, TempDir) {
    let plugins = TempDir::new().unwrap();
    fs::copy(lib, plugins.path().join("libmy_hill_climb.so")).unwrap();
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args(["plugins", "check", "my-hill-climb"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("10 passed, 0 failed"), "{out}");
    (plugins, home)
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

    let (plugins, home) = install_and_check(&lib);

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

/// Packs archon-plugin-api as `cargo publish` would and unpacks it under `dir`;
/// returns the unpacked crate's folder.
fn packaged_plugin_api(dir: &std::path::Path) -> std::path::PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = target_dir().parent().unwrap().to_path_buf();
    let (code, out, err) = run(Command::new(&cargo)
        .current_dir(workspace_root())
        .args([
            "package",
            "-p",
            "archon-plugin-api",
            "--no-verify",
            "--allow-dirty",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &target));
    assert_eq!(code, 0, "cargo package failed:\n{out}\n{err}");
    let version = archon_plugin_api::PLUGIN_API_VERSION;
    let crate_file = target.join(format!("package/archon-plugin-api-{version}.crate"));
    assert!(
        crate_file.is_file(),
        "{} was not packed",
        crate_file.display()
    );
    let (code, out, err) = run(Command::new("tar")
        .arg("xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(dir));
    assert_eq!(code, 0, "unpacking failed:\n{out}\n{err}");
    let unpacked = dir.join(format!("archon-plugin-api-{version}"));
    for file in ["Cargo.toml", "build.rs", "README.md", "src/lib.rs"] {
        assert!(unpacked.join(file).is_file(), "the package has no {file}");
    }
    // Published manifests name every dependency by version only.
    let manifest = fs::read_to_string(unpacked.join("Cargo.toml")).unwrap();
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section.contains("dependencies") {
            assert!(
                !line.starts_with("path") && !line.contains("{ path"),
                "path dependency in {section}: {line}\n{manifest}"
            );
        }
    }
    unpacked
}

#[test]
fn the_example_plugin_builds_against_the_packaged_plugin_api() {
    let example = workspace_root().join("examples/third-party-plugin");
    // Below the checkout, so that its .cargo/config.toml (LIBTORCH, the linker) applies,
    // and a crate of its own name, so that it does not race the other test's library.
    let target = target_dir().parent().unwrap().to_path_buf();
    fs::create_dir_all(&target).unwrap();
    let work = tempfile::Builder::new()
        .prefix("packaged-example-")
        .tempdir_in(&target)
        .unwrap();
    let unpacked = packaged_plugin_api(work.path());
    let copy = work.path().join("my-hill-climb");
    fs::create_dir_all(copy.join("src")).unwrap();
    fs::copy(example.join("src/lib.rs"), copy.join("src/lib.rs")).unwrap();
    let manifest = fs::read_to_string(example.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("archon-plugin-api = \"0.4\""),
        "the example must depend on archon-plugin-api by version:\n{manifest}"
    );
    let manifest = manifest
        .replace(
            "name = \"my-hill-climb\"",
            "name = \"my-hill-climb-packaged\"",
        )
        .replace(
            "{ path = \"../../plugin-api\" }",
            &format!("{{ path = {:?} }}", unpacked.display().to_string()),
        );
    fs::write(copy.join("Cargo.toml"), manifest).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (code, out, err) = run(Command::new(cargo)
        .current_dir(&copy)
        .args(["build", "--quiet"])
        .env("CARGO_TARGET_DIR", &target));
    assert_eq!(
        code, 0,
        "building against the packaged crate failed:\n{out}\n{err}"
    );
    let lib = target_dir().join("libmy_hill_climb_packaged.so");
    assert!(lib.is_file(), "{} was not built", lib.display());

    let (plugins, home) = install_and_check(&lib);
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args(["plugins", "info", "my-hill-climb"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("restart"),
        "the example's options are listed:\n{out}"
    );
}
