//! `archon plugins list|info|check` and `archon demo` on the real `random` plugin.

use archon::plugins::load;
use archon_plugin_api::{serde_json, PluginKind, PLUGIN_API_VERSION};
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
        out.contains(&format!(
            "built against: archon-plugin-api {PLUGIN_API_VERSION}, tch 0.26.0, libtorch 2.13.0"
        )),
        "{out}"
    );
}

const ALL_PLUGINS: [&str; 21] = [
    "random",
    "pbt",
    "anneal",
    "gp",
    "local_search",
    "grid",
    "evolution",
    "ppo",
    "tpe",
    "asha",
    "hyperband",
    "bohb",
    "nsga2",
    "darts",
    "pdarts",
    "cdarts",
    "gdas",
    "enas",
    "textnas",
    "spos",
    "proxyless",
];

/// The constructor of `plugin`'s kind, called with `options`.
fn construct(plugin: &str, options: &str) -> Result<(), String> {
    let loaded = load(&library(&format!("archon-{plugin}"))).unwrap();
    let module = loaded.module();
    let result = if loaded.kinds.contains(&PluginKind::Tuner) {
        (module.new_tuner())(options.into()).into_result().map(drop)
    } else {
        (module.new_one_shot_trainer().unwrap())(options.into())
            .into_result()
            .map(drop)
    };
    result.map_err(|e| e.message().to_string())
}

#[test]
fn info_lists_every_option_with_its_default_and_doc_for_every_plugin() {
    let home = TempDir::new().unwrap();
    for plugin in ALL_PLUGINS {
        let (code, out, err) = run(archon(home.path()).args(["plugins", "info", plugin]));
        assert_eq!(code, 0, "{plugin}: {err}");
        let docs = load(&library(&format!("archon-{plugin}")))
            .unwrap()
            .options
            .unwrap_or_else(|| panic!("{plugin} does not describe its options"));
        assert!(docs.iter().any(|d| d.key == "seed"), "{plugin}: no seed");
        let table = out
            .split_once("\noptions:\n")
            .unwrap_or_else(|| panic!("{plugin}: no options table in\n{out}"))
            .1;
        for d in &docs {
            assert!(
                !d.doc.is_empty() && !d.type_name.is_empty(),
                "{plugin}: {d:?}"
            );
            let line = table
                .lines()
                .find(|l| l.split_whitespace().next() == Some(d.key.as_str()))
                .unwrap_or_else(|| panic!("{plugin}: option {} not listed in\n{out}", d.key));
            let default = match &d.default {
                serde_json::Value::Null => "-".to_string(),
                v => v.to_string(),
            };
            for part in [&d.type_name, &default, &d.doc] {
                assert!(
                    line.contains(part.as_str()),
                    "{plugin}: {part:?} not in {line:?}"
                );
            }
        }
        // The listed defaults are the plugin's own: passing every one of them is accepted.
        let defaults: serde_json::Map<String, serde_json::Value> = docs
            .iter()
            .filter(|d| !d.default.is_null())
            .map(|d| (d.key.clone(), d.default.clone()))
            .collect();
        let defaults = serde_json::Value::Object(defaults).to_string();
        construct(plugin, &defaults).unwrap_or_else(|e| panic!("{plugin} {defaults}: {e}"));
        // An unknown key is rejected, naming the key and the plugin.
        let err = construct(plugin, r#"{"no_such_option": 1}"#).unwrap_err();
        assert!(
            err.contains(&format!("{plugin} has no option \"no_such_option\"")),
            "{plugin}: {err}"
        );
    }
}

#[test]
fn info_shows_each_plugin_s_own_defaults() {
    let home = TempDir::new().unwrap();
    for (plugin, key, default) in [
        ("ppo", "trials_per_update", "20"),
        ("tpe", "n_ei_candidates", "24"),
        ("tpe", "gamma", "0.25"),
        ("asha", "eta", "3.0"),
        ("hyperband", "max_budget", "27.0"),
        ("bohb", "top_n_percent", "15.0"),
        ("bohb", "min_budget", "1.0"),
        ("nsga2", "population_size", "20"),
        ("evolution", "mutation_prob", "0.05"),
        ("gp", "kappa", "5.0"),
        ("gp", "utility", "\"ei\""),
        ("darts", "arch_lr", "0.0003"),
        ("pdarts", "arch_lr", "0.0006"),
        ("pdarts", "max_skip", "2"),
        ("proxyless", "arch_beta1", "0.0"),
        ("proxyless", "latency_loss", "\"additive\""),
        ("textnas", "temperature", "5.0"),
        ("spos", "population", "50"),
    ] {
        let (code, out, err) = run(archon(home.path()).args(["plugins", "info", plugin]));
        assert_eq!(code, 0, "{err}");
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{plugin}: no {key} in\n{out}"));
        let cols: Vec<&str> = line.split("  ").filter(|c| !c.is_empty()).collect();
        assert!(
            cols.iter().any(|c| c.trim() == default),
            "{plugin} {key}: {line:?}"
        );
    }
}

#[test]
fn check_random_passes_every_check() {
    let home = TempDir::new().unwrap();
    let (code, out, err) = run(archon(home.path()).args(["plugins", "check", "random"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("10 passed, 0 failed"), "{out}");
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
        err.contains("found: anneal, asha, bohb, cdarts, darts, enas, evolution, gdas, gp, grid, hyperband, local_search, nsga2, pbt, pcdarts, pdarts, ppo, proxyless, python, random, spos, textnas, tpe"),
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
