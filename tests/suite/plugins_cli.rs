//! `archon plugins list|info|check` and `archon demo` on the real `random` plugin.

use archon_tests::{archon, library, run};
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
fn check_darts_runs_the_trainer_checks() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["plugins", "check", "darts"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("changes the architecture weights"), "{out}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");
    assert!(out.contains("decides by role, not by name"), "{out}");
}

#[test]
fn unknown_plugin_name_lists_what_exists() {
    let home = TempDir::new().unwrap();
    let (code, _, err) = run(archon(home.path()).args(["plugins", "check", "nosuch"]));
    assert_eq!(code, 1);
    assert!(err.contains("no plugin named \"nosuch\""), "{err}");
    assert!(
        err.contains("found: cdarts, darts, enas, evolution, gdas, grid, pdarts, ppo, proxyless, random, spos, textnas"),
        "{err}"
    );
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
    let accepted: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("random ") && l.contains(" yes "))
        .collect();
    assert_eq!(accepted.len(), 1, "{out}");
    assert!(accepted[0].ends_with(&first.display().to_string()), "{out}");
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

#[test]
fn search_order_is_flags_then_env_then_binary_folder_then_data_folder() {
    let home = TempDir::new().unwrap();
    let (flag, env) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let data = home.path().join("archon/plugins");
    fs::create_dir_all(&data).unwrap();
    let random = library("archon-random");
    for dir in [flag.path(), env.path(), data.as_path()] {
        fs::copy(&random, dir.join("librandom_copy.so")).unwrap();
    }
    let list = |with_flag: bool, with_env: bool| {
        let mut cmd = archon(home.path());
        if with_flag {
            cmd.arg("--plugin-dir").arg(flag.path());
        }
        if with_env {
            cmd.env("ARCHON_PLUGIN_PATH", env.path());
        }
        let (code, out, err) = run(cmd.args(["plugins", "list"]));
        assert_eq!(code, 0, "{err}");
        // The one copy that is accepted is the first in the search order.
        let accepted: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("random "))
            .map(|l| l.split_whitespace().last().unwrap())
            .collect();
        assert_eq!(accepted.len(), 1, "{out}");
        assert_eq!(
            out.matches("a second plugin named \"random\"").count(),
            1 + with_flag as usize + with_env as usize,
            "{out}"
        );
        accepted[0].to_string()
    };
    assert!(list(true, true).starts_with(&flag.path().display().to_string()));
    assert!(list(false, true).starts_with(&env.path().display().to_string()));
    assert_eq!(list(false, false), random.display().to_string());
    // The data folder's copy is found too (refused as a duplicate, naming its path).
    let (_, out, _) = run(archon(home.path()).args(["plugins", "list"]));
    assert!(
        out.contains(&format!(
            "{}: a second plugin named",
            data.join("librandom_copy.so").display()
        )),
        "{out}"
    );
}
