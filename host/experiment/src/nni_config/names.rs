//! NNI's built-in tuner, advisor and assessor names, and what archon runs for each.

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

/// The archon tuner for NNI's `name` (a tuner's or an advisor's, case as NNI accepts
/// it), with `classArgs` turned into its options (`optimize_mode` is taken out before:
/// it is the experiment's direction). Names archon does not provide are refused with the
/// closest tuner it does.
pub fn tuner(
    key: &str,
    name: &str,
    class_args: &Map<String, Value>,
) -> Result<(String, Map<String, Value>)> {
    let lower = name.to_ascii_lowercase();
    let (plugin, allowed): (&str, &[&str]) = match lower.as_str() {
        "random" | "randomtuner" => ("random", &["seed"]),
        "gridsearch" | "gridsearchtuner" => ("grid", &[]),
        // Each parameter set of the space's one choice once, in order; the trial gets
        // the set itself (the converted config sets `trial.batch`).
        name if is_batch_tuner(name) => ("grid", &[]),
        "tpe" => (
            "tpe",
            &[
                "seed",
                "tpe_args",
                "parallel_optimize",
                "constant_liar_type",
            ],
        ),
        "evolution" => ("evolution", &["population_size"]),
        "pbttuner" | "pbt" => (
            "pbt",
            &[
                "all_checkpoint_dir",
                "population_size",
                "factor",
                "factors",
                "resample_probability",
                "fraction",
            ],
        ),
        "anneal" => ("anneal", &["seed"]),
        "gptuner" => (
            "gp",
            &[
                "utility",
                "kappa",
                "xi",
                "nu",
                "alpha",
                "cold_start_num",
                "selection_num_warm_up",
                "selection_num_starting_points",
            ],
        ),
        "ppotuner" => (
            "ppo",
            &[
                "trials_per_update",
                "epochs_per_update",
                "minibatch_size",
                "ent_coef",
                "lr",
                "vf_coef",
                "max_grad_norm",
                "gamma",
                "lam",
                "cliprange",
            ],
        ),
        "hyperband" => ("hyperband", &["R", "eta", "exec_mode"]),
        "bohb" => (
            "bohb",
            &[
                "min_budget",
                "max_budget",
                "eta",
                "min_points_in_model",
                "top_n_percent",
                "num_samples",
                "random_fraction",
                "config_space",
            ],
        ),
        _ => bail!("{key}.name: {name:?} {}", unsupported(&lower)),
    };
    let mut options = Map::new();
    for (k, v) in class_args {
        if !allowed.contains(&k.as_str()) {
            bail!(
                "{key}.classArgs.{k}: not an argument of NNI's {name} that archon's `{plugin}` \
                 takes (it takes: {})",
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            );
        }
        match (plugin, k.as_str()) {
            // TPE's arguments live in `tpe_args` (NNI ≥ 2.7) or at the top (older).
            ("tpe", "tpe_args") => {
                let Value::Object(args) = v else {
                    bail!("{key}.classArgs.tpe_args: expected a mapping, found {v}");
                };
                for (k, v) in args {
                    options.insert(k.clone(), v.clone());
                }
            }
            ("tpe", "parallel_optimize") => {} // archon's TPE always handles running trials
            ("tpe", "constant_liar_type") => {
                options.insert("constant_liar".into(), v.clone());
            }
            ("hyperband", "R") => {
                options.insert("max_budget".into(), v.clone());
            }
            ("hyperband", "exec_mode") if v.as_str() != Some("parallelism") => bail!(
                "{key}.classArgs.exec_mode: {v}: archon runs Hyperband's brackets as NNI's \
                 \"parallelism\" mode (a free slot starts the next bracket), not one at a time"
            ),
            ("hyperband", "exec_mode") => {}
            ("pbt", "all_checkpoint_dir") => {
                options.insert("checkpoint_dir".into(), v.clone());
            }
            // NNI's argument checker spells it `factors`, its constructor `factor`.
            ("pbt", "factors") => {
                options.insert("factor".into(), v.clone());
            }
            ("bohb", "config_space") => bail!(
                "{key}.classArgs.config_space: a ConfigSpace file is not read; give the space as \
                 searchSpaceFile (NNI JSON)"
            ),
            _ => {
                options.insert(k.clone(), v.clone());
            }
        }
    }
    Ok((plugin.to_string(), options))
}

/// Whether NNI's tuner `name` is BatchTuner (its trials receive a parameter set whole).
pub fn is_batch_tuner(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "batchtuner" | "batch")
}

/// Why NNI's tuner `lower` (lower case) is not run, with the closest archon tuner.
fn unsupported(lower: &str) -> String {
    let closest = match lower {
        "metistuner" | "smac" | "dngotuner" => {
            "GPTuner (archon's `gp`: Bayesian optimisation with a surrogate model, like it)"
        }
        "networkmorphism" => "a one-shot search (`archon search`)",
        _ => {
            return "is not a built-in NNI tuner archon knows (archon runs: TPE, Random, \
                    Anneal, GPTuner, GridSearch, BatchTuner, Evolution, PBTTuner, PPOTuner, Hyperband, BOHB)"
                .into()
        }
    };
    format!("is not provided by archon; the closest is {closest}")
}

/// The archon assessor for NNI's assessor `name` with its `classArgs` (without
/// `optimize_mode`): the `[assessor]` section's keys (NNI's defaults filled in where
/// they differ from archon's).
pub fn assessor(
    key: &str,
    name: &str,
    class_args: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    let (archon, allowed): (&str, &[&str]) = match name.to_ascii_lowercase().as_str() {
        "medianstop" => ("medianstop", &["start_step"]),
        "curvefitting" => {
            // NNI's Curvefitting judges from step 6 unless told.
            out.insert("start_step".into(), 6.into());
            (
                "curvefitting",
                &["start_step", "epoch_num", "threshold", "gap"],
            )
        }
        _ => bail!(
            "{key}.name: {name:?} is not a built-in NNI assessor archon knows (archon runs: \
             Medianstop, Curvefitting)"
        ),
    };
    out.insert("name".into(), archon.into());
    for (k, v) in class_args {
        let arg = format!("{key}.classArgs.{k}");
        match k.as_str() {
            _ if !allowed.contains(&k.as_str()) => bail!(
                "{arg}: not an argument of NNI's {name} (it takes {})",
                allowed.join(", ")
            ),
            "threshold" => {
                let t = v.as_f64().filter(|t| *t > 0.0 && *t <= 1.0);
                let t = t.with_context(|| format!("{arg}: {v} is not a number in (0, 1]"))?;
                out.insert(k.clone(), t.into());
            }
            _ => {
                out.insert(k.clone(), super::positive(&arg, v)?.into());
            }
        }
    }
    if archon == "curvefitting" && !out.contains_key("epoch_num") {
        bail!("{key}.classArgs.epoch_num: missing (Curvefitting predicts the value at this epoch)");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn builtin_names_map_with_their_arguments() {
        let (p, o) = tuner(
            "tuner.name",
            "TPE",
            &args(json!({"seed": 3, "tpe_args": {"n_startup_jobs": 5}})),
        )
        .unwrap();
        assert_eq!(
            (p.as_str(), o),
            ("tpe", args(json!({"seed": 3, "n_startup_jobs": 5})))
        );
        let (p, o) = tuner(
            "advisor.name",
            "Hyperband",
            &args(json!({"R": 27, "eta": 3})),
        )
        .unwrap();
        assert_eq!(
            (p.as_str(), o),
            ("hyperband", args(json!({"max_budget": 27, "eta": 3})))
        );
        assert_eq!(tuner("tuner", "GridSearch", &Map::new()).unwrap().0, "grid");
        let (p, o) = tuner(
            "tuner",
            "GPTuner",
            &args(json!({"utility": "ucb", "kappa": 2.0, "selection_num_warm_up": 500})),
        )
        .unwrap();
        assert_eq!(
            (p.as_str(), o),
            (
                "gp",
                args(json!({"utility": "ucb", "kappa": 2.0, "selection_num_warm_up": 500}))
            )
        );
        assert_eq!(
            assessor(
                "assessor.name",
                "Medianstop",
                &args(json!({"start_step": 4}))
            )
            .unwrap(),
            args(json!({"name": "medianstop", "start_step": 4}))
        );
        assert_eq!(
            assessor(
                "assessor.name",
                "Curvefitting",
                &args(json!({"epoch_num": 20, "threshold": 0.9}))
            )
            .unwrap(),
            args(
                json!({"name": "curvefitting", "start_step": 6, "epoch_num": 20, "threshold": 0.9})
            )
        );
    }

    #[test]
    fn names_archon_lacks_are_refused_with_the_closest() {
        let e = tuner("tuner", "SMAC", &Map::new()).unwrap_err().to_string();
        assert!(
            e.contains("tuner.name: \"SMAC\" is not provided by archon; the closest is GPTuner"),
            "{e}"
        );
        let e = tuner("tuner", "Nonesuch", &Map::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a built-in NNI tuner"), "{e}");
        let e = assessor("assessor", "Curvefitting", &Map::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("classArgs.epoch_num: missing"), "{e}");
        let e = assessor(
            "assessor",
            "Curvefitting",
            &args(json!({"epoch_num": 20, "threshold": 1.5})),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("classArgs.threshold: 1.5 is not a number in (0, 1]"),
            "{e}"
        );
        let e = assessor("assessor", "Medianstop", &args(json!({"gap": 2})))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("classArgs.gap: not an argument of NNI's Medianstop"),
            "{e}"
        );
        let e = tuner("tuner", "Evolution", &args(json!({"sample_size": 3})))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("classArgs.sample_size: not an argument of NNI's Evolution"),
            "{e}"
        );
    }
}
