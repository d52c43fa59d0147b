//! The training recipe as a user writes it ([`RecipeSpec`]): a preset (`classic` or
//! `final`) and any part of it overridden, from `archon train` flags or a config's
//! `[retrain]` table; resolved and validated into the library's [`Recipe`] before any
//! data is loaded.

use anyhow::{bail, Result};
use archon_spaces::train::{OptimizerKind, Recipe};
use serde::{Deserialize, Serialize};

/// A recipe preset and the parts that differ from it (none set: the preset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct RecipeSpec {
    /// The recipe preset: classic (SGD, cosine per epoch, nothing else: the
    /// ground-truth tables' recipe) or final (Nesterov, per-step cosine with one
    /// warm-up epoch, label smoothing 0.1, random erasing 0.25, weight decay 5e-4,
    /// standardised inputs). Default: classic.
    #[arg(long)]
    #[serde(rename = "preset")]
    pub recipe: Option<String>,
    /// The optimizer: sgd, nesterov or adamw.
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Weight decay (decoupled for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Epochs of linear learning-rate warm-up (may be fractional).
    #[arg(long)]
    pub warmup_epochs: Option<f64>,
    /// Move the cosine schedule every step (true) or once per epoch (false).
    #[arg(long)]
    pub per_step_schedule: Option<bool>,
    /// Label smoothing, in [0, 1).
    #[arg(long)]
    pub label_smoothing: Option<f64>,
    /// Probability of random erasing per training image, in [0, 1).
    #[arg(long)]
    pub erasing: Option<f64>,
    /// Decay of the weights' moving average that is evaluated and kept, in [0, 1)
    /// (0: off).
    #[arg(long)]
    pub ema_decay: Option<f64>,
    /// Standardise inputs by the training split's per-channel mean and deviation,
    /// inside the network (exports then take raw pixels).
    #[arg(long)]
    pub standardize: Option<bool>,
}

impl RecipeSpec {
    /// Reads a config's `recipe` value at `key` (e.g. `retrain.recipe`): a preset's
    /// name, or a table with `preset` and any of the other keys.
    pub fn from_toml(value: &toml::Value, key: &str) -> Result<Self> {
        match value {
            toml::Value::String(name) => Ok(RecipeSpec {
                recipe: Some(name.clone()),
                ..RecipeSpec::default()
            }),
            toml::Value::Table(table) => table
                .clone()
                .try_into()
                .map_err(|e| anyhow::anyhow!("{key}: {}", e.to_string().trim())),
            other => bail!(
                "{key}: expected a preset's name ({}) or a table such as {{ preset = \"final\", erasing = 0.0 }}, found a {}",
                Recipe::PRESETS,
                other.type_str()
            ),
        }
    }

    /// The recipe this asks for; an unknown name or a value out of range is an error
    /// naming `prefix` + the key (`prefix` is e.g. `retrain.` for a config, `--` for
    /// flags).
    pub fn resolve(&self, prefix: &str) -> Result<Recipe> {
        let key = |k: &str| match (prefix, k) {
            ("--", _) => super::train::flag(k),
            (_, "recipe") => format!("{prefix}preset"),
            _ => format!("{prefix}{k}"),
        };
        let mut recipe = match &self.recipe {
            None => Recipe::classic(),
            Some(name) => match Recipe::preset(name) {
                Some(r) => r,
                None => bail!(
                    "{}: unknown recipe {name:?}; the presets are {}",
                    key("recipe"),
                    Recipe::PRESETS
                ),
            },
        };
        if let Some(name) = &self.optimizer {
            recipe.optimizer = match OptimizerKind::parse(name) {
                Some(o) => o,
                None => bail!(
                    "{}: unknown optimizer {name:?}; choose one of {}",
                    key("optimizer"),
                    OptimizerKind::NAMES
                ),
            };
        }
        let set = |target: &mut f64, value: Option<f64>| {
            if let Some(v) = value {
                *target = v;
            }
        };
        set(&mut recipe.weight_decay, self.weight_decay);
        set(&mut recipe.warmup_epochs, self.warmup_epochs);
        set(&mut recipe.label_smoothing, self.label_smoothing);
        set(&mut recipe.erasing, self.erasing);
        set(&mut recipe.ema_decay, self.ema_decay);
        if let Some(b) = self.per_step_schedule {
            recipe.per_step_schedule = b;
        }
        if let Some(b) = self.standardize {
            recipe.standardize = b;
        }
        if let Some((k, problem)) = recipe.invalid() {
            bail!("{}: {problem}", key(k));
        }
        Ok(recipe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_to_the_preset_and_errors_name_the_key() {
        let spec = RecipeSpec {
            recipe: Some("final".into()),
            erasing: Some(0.0),
            ..RecipeSpec::default()
        };
        let r = spec.resolve("retrain.").unwrap();
        assert_eq!(r.erasing, 0.0);
        assert_eq!(r.optimizer, OptimizerKind::Nesterov);
        assert_eq!(
            RecipeSpec::default().resolve("--").unwrap(),
            Recipe::classic()
        );
        let bad = RecipeSpec {
            label_smoothing: Some(-0.1),
            ..RecipeSpec::default()
        };
        let e = bad.resolve("--").unwrap_err().to_string();
        assert!(e.starts_with("--label-smoothing: -0.1"), "{e}");
        let bad = RecipeSpec {
            optimizer: Some("adam".into()),
            ..RecipeSpec::default()
        };
        let e = bad.resolve("retrain.recipe.").unwrap_err().to_string();
        assert!(
            e.contains("retrain.recipe.optimizer") && e.contains("adamw"),
            "{e}"
        );
        let bad = RecipeSpec {
            recipe: Some("fast".into()),
            ..RecipeSpec::default()
        };
        let e = bad.resolve("retrain.recipe.").unwrap_err().to_string();
        assert!(
            e.contains("retrain.recipe.preset") && e.contains("classic, final"),
            "{e}"
        );
    }

    #[test]
    fn a_config_names_a_preset_or_a_table() {
        let table: toml::Table = toml::from_str(
            "a = \"final\"\nb = { preset = \"final\", erasing = 0.5 }\nc = { erase = 1 }\nd = 3",
        )
        .unwrap();
        let a = RecipeSpec::from_toml(&table["a"], "retrain.recipe").unwrap();
        assert_eq!(
            a.resolve("retrain.recipe.").unwrap(),
            Recipe::final_training()
        );
        let b = RecipeSpec::from_toml(&table["b"], "retrain.recipe").unwrap();
        assert_eq!(b.resolve("retrain.recipe.").unwrap().erasing, 0.5);
        let c = RecipeSpec::from_toml(&table["c"], "retrain.recipe")
            .unwrap_err()
            .to_string();
        assert!(
            c.starts_with("retrain.recipe: unknown field `erase`"),
            "{c}"
        );
        let d = RecipeSpec::from_toml(&table["d"], "retrain.recipe")
            .unwrap_err()
            .to_string();
        assert!(d.contains("found a integer"), "{d}");
    }
}
