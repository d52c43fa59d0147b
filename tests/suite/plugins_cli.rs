//! `archon plugins list|info|check` and `archon demo` on the real `random` plugin.

use crate::harness::{archon, library, run};
use std::fs;
use tempfile::TempDir;

#[test]
fn list_shows_random_as_compatible() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["plugins", "list"]));
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("random "))
        .unwrap_or_else(|| panic!("no random plugin in:\n{out}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols[1], "tuner", "{line}");
    assert_eq!(cols[3], "yes", "{line}");
    assert!(cols[4].ends_with("libarchon_random.so"), "{line}");
    // Test fixtures in the same folder are not named libarchon_* and are not listed.
    assert!(!out.contains("fixture"), "{out}");
}

#[test]
fn info_reports_build_versions() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["plugins", "info", "random"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("kinds:         tuner"), "{out}");
    assert!(
        out.contains("built against: archon-plugin-api 0.1.0, tch 0.26.0, libtorch 2.13.0"),
        "{out}"
    );
}

#[test]
fn check_random_passes_every_check() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["plugins", "check", "random"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn unknown_plugin_name_lists_what_exists() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(archon(home.path()).args(["plugins", "check", "nosuch"]));
    assert_eq!(code, 1);
    assert!(err.contains("no plugin named \"nosuch\""), "{err}");
    assert!(err.contains("found: random"), "{err}");
}

#[test]
fn two_plugins_with_one_name_are_refused_clearly() {
    let home = TempDir::new().unwrap();
    let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let random = library("archon-random");
    fs::copy(&random, a.path().join("librandom_a.so")).unwrap();
    fs::copy(&random, b.path().join("librandom_b.so")).unwrap();
    let (code, out, err) = run(archon(home.path())
        .arg("--plugin-dir")
        .arg(a.path())
        .arg("--plugin-dir")
        .arg(b.path())
        .args(["plugins", "list"]));
    assert_eq!(code, 0, "{err}");
    let first = a.path().join("librandom_a.so");
    let second = b.path().join("librandom_b.so");
    assert!(
        out.contains(&format!(
            "random  tuner  0.1.0    yes         {}",
            first.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}: a second plugin named \"random\" (the first is {})",
            second.display(),
            first.display()
        )),
        "{out}"
    );
    // The copy beside the binary is a third one, also refused.
    assert_eq!(
        out.matches("a second plugin named \"random\"").count(),
        2,
        "{out}"
    );
}

#[test]
fn demo_exhausts_the_toy_space_and_finds_its_optimum() {
    let home = TempDir::new().unwrap();
    let (code, out, err) =
        run(archon(home.path()).args(["demo", "--trials", "400", "--seed", "3"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("checkpoint: saved the tuner state"), "{out}");
    assert!(out.contains("the tuner has no more trials"), "{out}");
    assert!(
        out.contains("accuracy 0.9500 after 288 distinct architectures"),
        "{out}"
    );
}

#[test]
fn demo_is_reproducible_under_a_seed() {
    let home = TempDir::new().unwrap();
    let once = run(archon(home.path()).args(["demo", "--trials", "12", "--seed", "9"]));
    let twice = run(archon(home.path()).args(["demo", "--trials", "12", "--seed", "9"]));
    let other = run(archon(home.path()).args(["demo", "--trials", "12", "--seed", "10"]));
    assert_eq!(once.0, 0);
    assert_eq!(once.1, twice.1);
    assert_ne!(once.1, other.1);
}
