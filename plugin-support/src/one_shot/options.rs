//! Option groups the one-shot trainers share, declared once with their keys, defaults
//! and docs, and flattened into each trainer's own options (`#[flatten]` in
//! [`plugin_options!`]). A trainer whose defaults differ (P-DARTS's `arch_lr`,
//! ProxylessNAS's Adam) overrides them in its declaration, so its schema shows its own.

use super::{ArchOptim, CollapseGuard, ControllerConfig};
use archon_plugin_api::{plugin_options, PluginError, Result};

plugin_options! {
    /// The architecture optimizer: Adam on α (DARTS's defaults).
    pub struct ArchOptions {
        /// Adam learning rate of the architecture parameters α.
        pub arch_lr: f64 = ArchOptim::DARTS.lr,
        /// Adam's β1 for α.
        pub arch_beta1: f64 = ArchOptim::DARTS.beta1,
        /// Adam's β2 for α.
        pub arch_beta2: f64 = ArchOptim::DARTS.beta2,
        /// L2 weight decay on α.
        pub arch_weight_decay: f64 = ArchOptim::DARTS.weight_decay,
    }
}

impl ArchOptions {
    /// The optimizer settings, checked: every value finite and ≥ 0, betas below 1.
    pub fn optim(&self) -> Result<ArchOptim> {
        let o = ArchOptim {
            lr: self.arch_lr,
            beta1: self.arch_beta1,
            beta2: self.arch_beta2,
            weight_decay: self.arch_weight_decay,
        };
        for (key, v, max) in [
            ("arch_lr", o.lr, f64::INFINITY),
            ("arch_beta1", o.beta1, 1.0),
            ("arch_beta2", o.beta2, 1.0),
            ("arch_weight_decay", o.weight_decay, f64::INFINITY),
        ] {
            if !(v >= 0.0 && v < max && v.is_finite()) {
                return Err(PluginError::invalid_input(format!(
                    "option {key}: {v} is out of range"
                )));
            }
        }
        Ok(o)
    }
}

plugin_options! {
    /// The collapse guard (beyond NNI): skip-connects per cell type.
    pub struct GuardOptions {
        /// At most this many skip-connects per cell type in the derived architecture,
        /// the weakest giving way to their edge's next best operation (none: no cap).
        pub max_skip: Option<usize> = None,
        /// Flag collapse and stop searching once a cell type derives this many
        /// skip-connects, as DARTS+ does (none: never).
        pub stop_at_skip: Option<usize> = None,
        /// At most this many parameter-free operations (skip, pooling, zero, … by role)
        /// per cell type in the derived architecture, the weakest giving way to their
        /// edge's best parametric operation (none: no cap).
        pub max_param_free: Option<usize> = None,
    }
}

impl GuardOptions {
    /// The guard, checked (`stop_at_skip` ≥ 1).
    pub fn guard(&self) -> Result<CollapseGuard> {
        if self.stop_at_skip == Some(0) {
            return Err(PluginError::invalid_input(
                "option stop_at_skip: 0 would stop before searching; use at least 1",
            ));
        }
        Ok(CollapseGuard {
            max_skip: self.max_skip,
            stop_at_skip: self.stop_at_skip,
            max_param_free: self.max_param_free,
        })
    }
}

plugin_options! {
    /// What every ENAS-based trainer (ENAS, TextNAS) takes besides the squashing of
    /// the controller's logits, with NNI's ENAS defaults.
    pub struct EnasOptions {
        /// Controller samples per epoch, each rewarded with its accuracy on one
        /// validation batch.
        pub ctrl_steps: usize = 50,
        /// Export the best of this many sampled architectures by validation accuracy
        /// (0: the controller's most likely architecture).
        pub export_samples: usize = 0,
        /// Batch norm recalibrated on this many training batches before each of those
        /// estimates (0: the running statistics of the mixed training as they are).
        pub export_recalibrate: usize = 0,
        /// The seed of the trainer's generator (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        /// Hidden units of the controller's LSTM.
        pub lstm_size: u64 = ControllerConfig::ENAS.hidden as u64,
        /// Target probability of a skip connection (the KL penalty pulls towards it).
        pub skip_target: f64 = ControllerConfig::ENAS.skip_target,
        /// Weight of the skip-connection KL penalty.
        pub skip_weight: f64 = ControllerConfig::ENAS.skip_weight,
        /// Weight of the entropy bonus added to the reward.
        pub entropy_weight: f64 = ControllerConfig::ENAS.entropy_weight,
        /// Decay of the reward's moving-average baseline.
        pub baseline_decay: f64 = ControllerConfig::ENAS.baseline_decay,
        /// Adam learning rate of the controller.
        pub ctrl_lr: f64 = ControllerConfig::ENAS.lr,
        /// Samples whose gradients make one controller update.
        pub ctrl_steps_aggregate: usize = ControllerConfig::ENAS.aggregate,
    }
}

impl EnasOptions {
    /// The controller's configuration with the logits squashed by `tanh_constant`
    /// (`c · tanh(logits)`; `None` or ≤ 0: not squashed) after dividing them by
    /// `temperature`; checked.
    pub fn controller(
        &self,
        tanh_constant: Option<f64>,
        temperature: Option<f64>,
    ) -> Result<ControllerConfig> {
        let c = ControllerConfig {
            hidden: i64::try_from(self.lstm_size).unwrap_or(i64::MAX),
            tanh_constant: tanh_constant.filter(|&v| v > 0.0),
            temperature,
            skip_target: self.skip_target,
            skip_weight: self.skip_weight,
            entropy_weight: self.entropy_weight,
            baseline_decay: self.baseline_decay,
            lr: self.ctrl_lr,
            aggregate: self.ctrl_steps_aggregate,
        };
        let bad = |key: &str, v: f64| {
            Err(PluginError::invalid_input(format!(
                "option {key}: {v} is out of range"
            )))
        };
        if !(1..=4096).contains(&c.hidden) {
            return bad("lstm_size", c.hidden as f64);
        }
        if !(c.skip_target > 0.0 && c.skip_target < 1.0) {
            return bad("skip_target", c.skip_target);
        }
        if !(0.0..=1.0).contains(&c.baseline_decay) {
            return bad("baseline_decay", c.baseline_decay);
        }
        if !(c.lr > 0.0 && c.lr.is_finite()) {
            return bad("ctrl_lr", c.lr);
        }
        if let Some(t) = c.temperature.filter(|&t| t <= 0.0) {
            return bad("temperature", t);
        }
        if c.aggregate == 0 {
            return bad("ctrl_steps_aggregate", 0.0);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use archon_plugin_api::{OptionSet, Options};

    #[test]
    fn groups_check_their_values_naming_the_option() {
        let read = |text: &str| {
            let o = Options::from_json_str(text).unwrap();
            (
                ArchOptions::from_options(&o, "t").unwrap(),
                GuardOptions::default(),
            )
        };
        let (arch, _) = read(r#"{"arch_beta1": 1.5}"#);
        assert!(arch.optim().unwrap_err().message().contains("arch_beta1"));
        assert_eq!(ArchOptions::default().optim().unwrap(), ArchOptim::DARTS);
        let guard = GuardOptions {
            stop_at_skip: Some(0),
            ..GuardOptions::default()
        };
        assert!(guard
            .guard()
            .unwrap_err()
            .message()
            .contains("stop_at_skip"));
        let enas = EnasOptions {
            skip_target: 2.0,
            ..EnasOptions::default()
        };
        assert!(enas
            .controller(Some(1.5), None)
            .unwrap_err()
            .message()
            .contains("skip_target"));
        assert_eq!(
            EnasOptions::default()
                .controller(ControllerConfig::ENAS.tanh_constant, None)
                .unwrap(),
            ControllerConfig::ENAS
        );
    }
}
