//! The PPO tuner: sampling, bookkeeping, the PPO update, and its saved state.

use crate::policy::Policy;
use archon_plugin_api::{
    plugin_options,
    tch::{nn, nn::OptimizerConfig, Kind, Tensor},
    Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId, PluginError, Result,
    SearchSpace, Selection, Tuner,
};
use archon_plugin_support::decisions::{allowed, selections, steps, Step};
use archon_plugin_support::{bad_state, SeededRng};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

plugin_options! {
    /// PPO's options (NNI's names and defaults).
    pub struct PpoOptions {
        /// Trials whose results make one policy update.
        pub trials_per_update: usize = 20,
        /// Passes over those trials per update.
        pub epochs_per_update: usize = 4,
        /// Minibatches per pass.
        pub minibatch_size: usize = 4,
        /// Weight of the entropy bonus.
        pub ent_coef: f64 = 0.0,
        /// Adam learning rate of the policy.
        pub lr: f64 = 3e-4,
        /// Weight of the value loss.
        pub vf_coef: f64 = 0.5,
        /// Gradient-norm clip.
        pub max_grad_norm: f64 = 0.5,
        /// Discount γ.
        pub gamma: f64 = 0.99,
        /// GAE's λ.
        pub lam: f64 = 0.95,
        /// PPO's clip range of the probability ratio.
        pub cliprange: f64 = 0.2,
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
    }
}

/// One sampled architecture's decisions.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trajectory {
    actions: Vec<usize>,
    logps: Vec<f64>,
    values: Vec<f64>,
    reward: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// Proposed, not yet ended (None: proposed at random after the policy repeated itself).
    pending: HashMap<u64, Option<Trajectory>>,
    /// Finished with a reward, waiting for the next update.
    completed: Vec<Trajectory>,
    seen: HashSet<Vec<Selection>>,
    updates: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    rng: SeededRng,
    weights: BTreeMap<String, Vec<f32>>,
    state: State,
}

/// NNI's PPO tuner (options: [`PpoOptions`]).
pub struct PpoTuner {
    hyper: PpoOptions,
    maximize: bool,
    rng: SeededRng,
    space: Option<(SearchSpace, Vec<Step>, usize)>,
    policy: Option<Policy>,
    optimizer: Option<nn::Optimizer>,
    state: State,
}

impl PpoTuner {
    fn ready(&mut self) -> Result<(SearchSpace, Vec<Step>, usize)> {
        self.space
            .clone()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    /// The clipped PPO update over the completed trajectories.
    fn update(&mut self, width: usize, steps: &[Step]) -> Result<()> {
        let h = self.hyper.clone();
        let batch: Vec<Trajectory> = self.state.completed.drain(..).collect();
        let (n, t) = (batch.len(), steps.len());
        if n == 0 || t == 0 {
            return Ok(());
        }
        // GAE with the reward at the last decision.
        let mut advantages = vec![0.0f64; n * t];
        let mut returns = vec![0.0f64; n * t];
        for (b, traj) in batch.iter().enumerate() {
            let mut last = 0.0;
            for s in (0..t).rev() {
                let next_value = if s + 1 < t { traj.values[s + 1] } else { 0.0 };
                let reward = if s + 1 == t {
                    traj.reward.unwrap_or(0.0)
                } else {
                    0.0
                };
                let delta = reward + h.gamma * next_value - traj.values[s];
                last = delta + h.gamma * h.lam * last;
                advantages[b * t + s] = last;
                returns[b * t + s] = last + traj.values[s];
            }
        }
        let mean = advantages.iter().sum::<f64>() / advantages.len() as f64;
        let std = (advantages.iter().map(|a| (a - mean).powi(2)).sum::<f64>()
            / advantages.len() as f64)
            .sqrt()
            + 1e-8;
        let advantages: Vec<f32> = advantages
            .iter()
            .map(|a| ((a - mean) / std) as f32)
            .collect();
        let returns: Vec<f32> = returns.iter().map(|&r| r as f32).collect();
        let actions: Vec<i64> = batch
            .iter()
            .flat_map(|tr| tr.actions.iter().map(|&a| a as i64))
            .collect();
        let old_logp: Vec<f32> = batch
            .iter()
            .flat_map(|tr| tr.logps.iter().map(|&l| l as f32))
            .collect();
        let masks: Vec<f32> = batch
            .iter()
            .flat_map(|tr| {
                (0..t).flat_map(|s| {
                    allowed(steps, &tr.actions, s, width)
                        .into_iter()
                        .map(|ok| ok as u8 as f32)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let to = |v: &[f32], shape: &[i64]| Tensor::from_slice(v).view(shape);
        let all_adv = to(&advantages, &[n as i64, t as i64]);
        let all_ret = to(&returns, &[n as i64, t as i64]);
        let all_old = to(&old_logp, &[n as i64, t as i64]);
        let all_act = Tensor::from_slice(&actions).view([n as i64, t as i64]);
        let all_mask = to(&masks, &[n as i64, t as i64, width.max(2) as i64]);
        let policy = self
            .policy
            .as_ref()
            .ok_or_else(|| PluginError::internal("no policy"))?;
        let optimizer = self
            .optimizer
            .as_mut()
            .ok_or_else(|| PluginError::internal("no optimizer"))?;
        let per_batch = n.div_ceil(h.minibatch_size.max(1)).max(1);
        let mut order: Vec<i64> = (0..n as i64).collect();
        for _ in 0..h.epochs_per_update {
            order.shuffle(self.rng.rng());
            for chunk in order.chunks(per_batch) {
                let idx = Tensor::from_slice(chunk);
                let (logp, entropy, values) = policy.evaluate(
                    &all_act.index_select(0, &idx),
                    &all_mask.index_select(0, &idx),
                );
                let adv = all_adv.index_select(0, &idx);
                let ratio = (logp - all_old.index_select(0, &idx)).exp();
                let clipped = ratio.clamp(1.0 - h.cliprange, 1.0 + h.cliprange);
                let pg = -(&ratio * &adv).minimum(&(clipped * &adv)).mean(Kind::Float);
                let vf = (values - all_ret.index_select(0, &idx))
                    .square()
                    .mean(Kind::Float)
                    * 0.5;
                let loss = pg - entropy.mean(Kind::Float) * h.ent_coef + vf * h.vf_coef;
                optimizer.zero_grad();
                loss.f_backward()
                    .map_err(|e| PluginError::internal(format!("PPO update: {e}")))?;
                optimizer.clip_grad_norm(h.max_grad_norm);
                optimizer.step();
            }
        }
        self.state.updates += 1;
        Ok(())
    }

    fn build_policy(&mut self, width: usize) -> Result<()> {
        let policy = Policy::new(width, &mut self.rng);
        let optimizer = nn::Adam::default()
            .build(&policy.vs, self.hyper.lr)
            .map_err(|e| PluginError::internal(format!("creating the optimizer: {e}")))?;
        self.policy = Some(policy);
        self.optimizer = Some(optimizer);
        Ok(())
    }
}

impl Tuner for PpoTuner {
    fn new(options: &Options) -> Result<Self> {
        let mut hyper = PpoOptions::from_options(options, "ppo")?;
        for count in [
            &mut hyper.trials_per_update,
            &mut hyper.epochs_per_update,
            &mut hyper.minibatch_size,
        ] {
            *count = (*count).max(1);
        }
        for (k, v) in [
            ("ent_coef", hyper.ent_coef),
            ("lr", hyper.lr),
            ("vf_coef", hyper.vf_coef),
            ("max_grad_norm", hyper.max_grad_norm),
            ("gamma", hyper.gamma),
            ("lam", hyper.lam),
            ("cliprange", hyper.cliprange),
        ] {
            if v < 0.0 {
                return Err(PluginError::invalid_input(format!(
                    "options: \"{k}\" must not be negative, found {v}"
                )));
            }
        }
        let maximize = hyper.optimize_mode == OptimizeMode::Maximize;
        let seed = hyper.seed;
        Ok(PpoTuner {
            hyper,
            maximize,
            rng: SeededRng::from_seed(seed),
            space: None,
            policy: None,
            optimizer: None,
            state: State::default(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        let steps = steps(space);
        let width = steps.iter().map(|s| s.options()).max().unwrap_or(2).max(2);
        self.rng.restart();
        self.build_policy(width)?;
        self.space = Some((space.clone(), steps, width));
        self.state = State::default();
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let (space, steps, width) = self.ready()?;
        if space
            .size()
            .is_some_and(|n| self.state.seen.len() as u128 >= n)
        {
            return Ok(None);
        }
        let policy = self
            .policy
            .as_ref()
            .ok_or_else(|| PluginError::internal("no policy"))?;
        let mut found = None;
        for _ in 0..20 {
            let sample = policy.sample(steps.len(), self.rng.rng(), &|acts, t| {
                allowed(&steps, acts, t, width)
            });
            let sel = selections(&space, &steps, &sample.actions);
            if !self.state.seen.contains(&sel) {
                found = Some((
                    sel,
                    Some(Trajectory {
                        actions: sample.actions,
                        logps: sample.logps,
                        values: sample.values,
                        reward: None,
                    }),
                ));
                break;
            }
        }
        if found.is_none() {
            let rng = &mut self.rng;
            found = space
                .sample_unseen(&self.state.seen, &mut |n| rng.below(n))
                .map(|s| (s, None));
        }
        let Some((sel, trajectory)) = found else {
            return Ok(None);
        };
        self.state.seen.insert(sel.clone());
        self.state.pending.insert(id, trajectory);
        Architecture::new(&space, sel).map(Some)
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        _parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        let (_, steps, width) = self.ready()?;
        if let Some(Some(mut trajectory)) = self.state.pending.remove(&id) {
            trajectory.reward = Some(if self.maximize {
                metric.default
            } else {
                -metric.default
            });
            self.state.completed.push(trajectory);
        }
        if self.state.completed.len() >= self.hyper.trials_per_update {
            self.update(width, &steps)?;
        }
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.pending.remove(&id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        let saved = Saved {
            rng: self.rng.clone(),
            weights: self
                .policy
                .as_ref()
                .map(|p| p.weights())
                .unwrap_or_default(),
            state: self.state.clone(),
        };
        serde_json::to_value(saved).map_err(|e| PluginError::internal(format!("saving state: {e}")))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: Saved =
            serde_json::from_value(state.clone()).map_err(|e| bad_state("ppo-tuner", e))?;
        let (space, steps, _) = self.ready()?;
        if saved
            .state
            .seen
            .iter()
            .any(|s| Architecture::new(&space, s.clone()).is_err())
            || saved
                .state
                .completed
                .iter()
                .chain(saved.state.pending.values().flatten())
                .any(|t| t.actions.len() != steps.len())
        {
            return Err(PluginError::invalid_input(
                "saved state: it does not fit the current search space",
            ));
        }
        let policy = self
            .policy
            .as_mut()
            .ok_or_else(|| PluginError::internal("no policy"))?;
        if !policy.set_weights(&saved.weights) {
            return Err(PluginError::invalid_input(
                "saved state: the policy weights do not fit the current search space",
            ));
        }
        self.rng = saved.rng;
        self.state = saved.state;
        Ok(())
    }
}
