//! `my-hill-climb` — an example third-party archon tuner: hill climbing with random
//! restarts.
//!
//! It proposes a neighbour of the best architecture found so far (one choice changed),
//! or, with probability `restart` (0.1), or while nothing is known, a random one. It
//! never proposes an architecture twice and says "no more trials" once a finite space
//! is exhausted. Everything it needs comes from `archon-plugin-api`.

use archon_plugin_api::{
    plugin_options,
    serde_json::{json, Value},
    Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId, PluginError, Result,
    SearchSpace, Selection, Tuner,
};
use std::collections::HashSet;

plugin_options! {
    /// The options, declared once: `archon plugins info my-hill-climb` lists them with
    /// these defaults and docs, and an unknown key is an error naming it.
    pub struct HillClimbOptions {
        /// The generator's seed.
        pub seed: u64 = 1,
        /// Probability of a random proposal instead of a neighbour of the best.
        pub restart: f64 = 0.1,
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
    }
}

/// Hill climbing (options: [`HillClimbOptions`]).
pub struct HillClimb {
    rng: u64,
    restart: f64,
    mode: OptimizeMode,
    space: Option<SearchSpace>,
    best: Option<(Vec<Selection>, f64)>,
    seen: HashSet<Vec<Selection>>,
}

impl HillClimb {
    /// xorshift64*: a small, seedable generator whose whole state is one number.
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u128) -> u128 {
        (((self.next() as u128) << 64) | self.next() as u128) % n.max(1)
    }

    fn neighbour(&mut self, space: &SearchSpace, of: &[Selection]) -> Vec<Selection> {
        let mut child = of.to_vec();
        let i = self.below(space.choices().len() as u128) as usize;
        let choice = &space.choices()[i];
        for _ in 0..20 {
            let mut draw = |n| self.below(n);
            child[i] = choice.sample(&mut draw);
            if child[i] != of[i] {
                break;
            }
        }
        child
    }
}

impl Tuner for HillClimb {
    fn new(options: &Options) -> Result<Self> {
        let options = HillClimbOptions::from_options(options, "my-hill-climb")?;
        let restart = options.restart;
        if !(0.0..=1.0).contains(&restart) {
            return Err(PluginError::invalid_input(format!(
                "options: \"restart\" must be between 0 and 1, found {restart}"
            )));
        }
        Ok(HillClimb {
            rng: options.seed | 1,
            restart,
            mode: options.optimize_mode,
            space: None,
            best: None,
            seen: HashSet::new(),
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        self.best = None;
        self.seen.clear();
        Ok(())
    }

    fn generate_parameters(&mut self, _id: ParameterId) -> Result<Option<Architecture>> {
        let space = self
            .space
            .clone()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        let mut proposal = None;
        if let Some((best, _)) = self.best.clone() {
            if (self.next() % 1000) as f64 >= self.restart * 1000.0 {
                for _ in 0..50 {
                    let candidate = self.neighbour(&space, &best);
                    if !self.seen.contains(&candidate) {
                        proposal = Some(candidate);
                        break;
                    }
                }
            }
        }
        if proposal.is_none() {
            let seen = std::mem::take(&mut self.seen);
            proposal = space.sample_unseen(&seen, &mut |n| self.below(n));
            self.seen = seen;
        }
        let Some(selections) = proposal else {
            return Ok(None);
        };
        self.seen.insert(selections.clone());
        Architecture::new(&space, selections).map(Some)
    }

    fn receive_trial_result(
        &mut self,
        _: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        let better = match &self.best {
            None => true,
            Some((_, b)) => self.mode.better(metric.default, *b),
        };
        if better {
            self.best = Some((parameters.selections().to_vec(), metric.default));
        }
        Ok(())
    }

    fn trial_end(&mut self, _: ParameterId, _: bool) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        Ok(json!({"rng": self.rng.to_string(), "best": self.best, "seen": self.seen}))
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let bad = || {
            PluginError::invalid_input(
                "saved state: expected {\"rng\": \"…\", \"best\": …, \"seen\": […]}",
            )
        };
        let rng: u64 = state
            .get("rng")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let best: Option<(Vec<Selection>, f64)> =
            archon_plugin_api::serde_json::from_value(state.get("best").cloned().ok_or_else(bad)?)
                .map_err(|_| bad())?;
        let seen: HashSet<Vec<Selection>> =
            archon_plugin_api::serde_json::from_value(state.get("seen").cloned().ok_or_else(bad)?)
                .map_err(|_| bad())?;
        let space = self
            .space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("load_state needs the search space first"))?;
        if seen
            .iter()
            .chain(best.iter().map(|(s, _)| s))
            .any(|s| Architecture::new(space, s.clone()).is_err())
        {
            return Err(PluginError::invalid_input(
                "saved state: its architectures do not fit the current search space",
            ));
        }
        (self.rng, self.best, self.seen) = (rng, best, seen);
        Ok(())
    }
}

archon_plugin_api::export_plugin! {
    name: "my-hill-climb",
    version: env!("CARGO_PKG_VERSION"),
    description: "Example third-party plugin: hill climbing with random restarts",
    options: HillClimbOptions,
    tuner: HillClimb,
}
