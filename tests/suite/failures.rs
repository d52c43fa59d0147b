//! The failure fixtures: each is refused with a one-line error naming the file, the
//! problem and the fix; the host exits non-zero without crashing and keeps working.

use archon_plugin_api::PLUGIN_API_VERSION;
use archon_tests::{archon, library, run};
use std::{fs, path::Path};
use tempfile::TempDir;

/// `plugins check PATH` and `plugins info PATH` both fail with `expected` in the error.
fn refused(path: &Path, expected: &str) {
    let home = TempDir::new().unwrap();
    for verb in ["check", "info"] {
        let (code, out, err) = run(archon(home.path()).args(["plugins", verb]).arg(path));
        assert_eq!(code, 1, "plugins {verb} {}: {out}\n{err}", path.display());
        let line = err.lines().next().unwrap_or_default();
        assert!(line.starts_with("error: "), "{err}");
        assert!(
            line.contains(&path.display().to_string()),
            "error does not name the file: {line}"
        );
        assert!(line.contains(expected), "expected {expected:?} in: {line}");
    }
}

#[test]
fn a_file_that_is_not_a_library() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("libnotes.so");
    fs::write(&path, "just some text, not ELF\n").unwrap();
    refused(
        &path,
        "not a shared library (no executable-format header); give the path of a plugin library",
    );
}

#[test]
fn a_library_that_is_not_an_archon_plugin() {
    let libc10 = Path::new(env!("LIBTORCH")).join("lib/libc10.so");
    refused(&libc10, "not an archon plugin: it exports no archon root module; build plugins with `archon_plugin_api::export_plugin!`");
}

#[test]
fn a_plugin_built_against_an_incompatible_plugin_api() {
    refused(
        &library("fixture-old-api"),
        &format!(
            "built against archon-plugin-api 0.0.3, but this archon has {PLUGIN_API_VERSION}; rebuild the plugin against archon-plugin-api \"^{PLUGIN_API_VERSION}\""
        ),
    );
}

#[test]
fn a_plugin_with_a_mismatched_abi_layout() {
    refused(
        &library("fixture-layout-mismatch"),
        "its ABI layout does not match this archon's",
    );
}

#[test]
fn a_plugin_built_against_another_tensor_layer() {
    refused(
        &library("fixture-tensor-mismatch"),
        "plugin \"tensor-mismatch\" was built against tch 0.25.0, but this archon uses tch 0.26.0",
    );
}

#[test]
fn a_plugin_that_panics_everywhere_fails_its_checks_without_aborting() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path())
        .args(["plugins", "check"])
        .arg(library("fixture-panicking")));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("PANIC: the plugin panicked in Tuner::new: fixture panic in new"),
        "{out}"
    );
    assert!(out.contains("1 passed, 9 failed"), "{out}");
}

#[test]
fn a_plugin_folder_full_of_bad_libraries_still_lists_the_good_one() {
    let home = TempDir::new().unwrap();
    let dir = TempDir::new().unwrap();
    for name in [
        "fixture-old-api",
        "fixture-layout-mismatch",
        "fixture-tensor-mismatch",
        "fixture-panicking",
    ] {
        let lib = library(name);
        fs::copy(&lib, dir.path().join(lib.file_name().unwrap())).unwrap();
    }
    fs::write(dir.path().join("libjunk.so"), [0u8; 64]).unwrap();
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(dir.path())
        .args(["plugins", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("random ") && l.contains(" yes ")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("panicking ") && l.contains(" yes ")),
        "{out}"
    );
    for reason in [
        "libjunk.so: not a shared library",
        "libfixture_old_api.so: built against archon-plugin-api 0.0.3",
        "libfixture_layout_mismatch.so: its ABI layout does not match",
        "libfixture_tensor_mismatch.so: plugin \"tensor-mismatch\" was built against tch 0.25.0",
    ] {
        assert!(out.contains(reason), "missing {reason:?} in:\n{out}");
    }
    // And the host still runs a plugin after meeting all of them.
    let (code, out, _) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(dir.path())
        .args(["demo", "--trials", "3"]));
    assert_eq!(code, 0, "{out}");
}
