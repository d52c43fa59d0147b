//! The GP tuner: options, proposals (cold start, then the acquisition's maximum), and
//! the saved state.

use crate::encoding::Encoder;
use crate::model::{Gp, Hyper, Nu};
use archon_plugin_api::space::{ChoiceKind, Prior, Real};
use archon_plugin_api::{
    option_enum, plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options,
    ParameterId, PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{
    budget::sized_to_budget, neighbours::neighbours, trial_book::TrialBook, SeededRng,
};
use serde_json::Value;
use std::collections::HashSet;

option_enum! {
    /// The acquisition (NNI's `utility`): what a candidate is worth to try next.
    pub enum Utility {
        /// Expected improvement over the best result (plus `xi`).
        Ei = "ei",
        /// Upper confidence bound: mean + `kappa` · deviation.
        Ucb = "ucb",
        /// Probability of improving on the best result by more than `xi`.
        Poi = "poi",
    }
}

plugin_options! {
    /// The GP tuner's options (NNI's GPTuner `classArgs`; NNI's defaults except the
    /// candidate counts, sized for a proposal in well under a second).
    pub struct GpOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// The acquisition: "ei", "ucb" or "poi".
        pub utility: Utility = Utility::Ei,
        /// "ucb": how much the deviation counts (larger explores more).
        pub kappa: f64 = 5.0,
        /// "ei"/"poi": the improvement sought beyond the best (larger explores more).
        pub xi: f64 = 0.0,
        /// The Matérn kernel's smoothness: 0.5, 1.5, 2.5, or "inf" spelled as 1e9 or more.
        pub nu: f64 = 2.5,
        /// Added to the kernel's diagonal (numerical stability, known noise).
        pub alpha: f64 = 1e-6,
        /// Trials proposed at random before the model is used (at least 2; default: a
        /// third of `max_trials`, 3 to 10; 10 without a budget).
        pub cold_start_num: Option<usize> = None,
        /// Random candidates the acquisition is evaluated on per proposal (NNI: 100000).
        pub selection_num_warm_up: usize = 1000,
        /// Hill climbs per proposal, from the best candidates and the best trials (NNI: 250).
        pub selection_num_starting_points: usize = 10,
        /// The experiment's trial budget (the host sets it from `max_trials`).
        pub max_trials: Option<u64> = None,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
    }
}

/// Hill-climbing steps at most per start.
const CLIMB_STEPS: usize = 20;
/// Above this many points the kernel's settings are chosen again only every
/// `REFIT_EVERY` results (the grid costs 45 factorisations).
const REFIT_ALWAYS_BELOW: usize = 200;
const REFIT_EVERY: usize = 10;

/// Bayesian optimisation with a Gaussian process (options: [`GpOptions`]).
pub struct GpTuner {
    options: GpOptions,
    nu: Nu,
    /// Random trials before the model.
    cold_start: usize,
    rng: SeededRng,
    space: Option<(SearchSpace, Encoder)>,
    state: TrialBook,
    /// The kernel settings last chosen and at how many points (not saved: chosen again
    /// after a restore).
    hyper: Option<(Hyper, usize)>,
}

/// The standard normal density and distribution function.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn big_phi(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' erfc, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

impl GpTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .map(|(s, _)| s)
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    /// The metric as a value to maximise.
    fn gain(&self, metric: f64) -> f64 {
        if self.options.optimize_mode == OptimizeMode::Maximize {
            metric
        } else {
            -metric
        }
    }

    /// The GP of the results so far, running trials at their mean (a constant liar).
    fn model(&mut self, space: &SearchSpace, encoder: &Encoder) -> Option<Gp> {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (s, m) in &self.state.history {
            x.push(encoder.encode(space, s));
            y.push(self.gain(*m));
        }
        let lie = y.iter().sum::<f64>() / y.len() as f64;
        let mut running: Vec<_> = self.state.pending.iter().collect();
        running.sort_by_key(|(id, _)| **id);
        for (_, s) in running {
            x.push(encoder.encode(space, s));
            y.push(lie);
        }
        let n = y.len();
        let reuse = self
            .hyper
            .filter(|(_, at)| n >= REFIT_ALWAYS_BELOW && n < at + REFIT_EVERY)
            .map(|(h, _)| h);
        let gp = Gp::fit(x, &y, self.nu, self.options.alpha, encoder.choices(), reuse)?;
        if reuse.is_none() {
            self.hyper = Some((gp.hyper(), n));
        }
        Some(gp)
    }

    /// The acquisition at `point`, given the best result (as a gain).
    fn acquisition(&self, gp: &Gp, point: &[f64], best: f64) -> f64 {
        let (mean, sd) = gp.predict(point);
        let xi = self.options.xi;
        match self.options.utility {
            Utility::Ucb => mean + self.options.kappa * sd,
            Utility::Ei | Utility::Poi if sd <= 1e-12 => {
                if self.options.utility == Utility::Ei {
                    (mean - best - xi).max(0.0)
                } else {
                    f64::from(u8::from(mean - best - xi > 0.0))
                }
            }
            Utility::Ei => {
                let z = (mean - best - xi) / sd;
                (mean - best - xi) * big_phi(z) + sd * phi(z)
            }
            Utility::Poi => big_phi((mean - best - xi) / sd),
        }
    }

    /// `selections` with every active number moved by a normal step of `scale` times
    /// its prior's range (or deviation).
    fn jitter(
        &mut self,
        space: &SearchSpace,
        selections: &[Selection],
        scale: f64,
    ) -> Vec<Selection> {
        let mut out = selections.to_vec();
        for (k, choice) in space.choices().iter().enumerate() {
            if let (ChoiceKind::Numeric(numeric), Selection::Number(Real(v))) =
                (choice.kind(), &selections[k])
            {
                if !space.is_active(k, selections) {
                    continue;
                }
                let width = match numeric.prior() {
                    Prior::Uniform { low, high } => high - low,
                    Prior::Normal { sigma, .. } => sigma,
                };
                let draw = numeric.draw_of_value(*v) + scale * width * self.rng.normal();
                out[k] = Selection::Number(Real(numeric.value_of_draw(draw)));
            }
        }
        out
    }

    /// The unseen architecture of highest acquisition found by random candidates and
    /// hill climbs, if any.
    fn maximise(
        &mut self,
        space: &SearchSpace,
        encoder: &Encoder,
        gp: &Gp,
    ) -> Option<Vec<Selection>> {
        let best = self
            .state
            .history
            .iter()
            .map(|(_, m)| self.gain(*m))
            .fold(f64::NEG_INFINITY, f64::max);
        let has_numbers = space.choices().iter().any(|c| c.is_numeric());
        let mut scored: Vec<(f64, Vec<Selection>)> = Vec::new();
        let mut tried: HashSet<Vec<Selection>> = HashSet::new();
        for _ in 0..self.options.selection_num_warm_up {
            let rng = &mut self.rng;
            let candidate = space.sample(&mut |n| rng.below(n));
            if tried.insert(candidate.clone()) {
                let a = self.acquisition(gp, &encoder.encode(space, &candidate), best);
                scored.push((a, candidate));
            }
        }
        // Starts: the best random candidates and the best trials so far.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let starts = self.options.selection_num_starting_points;
        let mut begin: Vec<Vec<Selection>> =
            scored.iter().take(starts).map(|(_, s)| s.clone()).collect();
        let mut trials: Vec<&(Vec<Selection>, f64)> = self.state.history.iter().collect();
        trials.sort_by(|a, b| self.gain(b.1).total_cmp(&self.gain(a.1)));
        begin.extend(
            trials
                .iter()
                .take(starts.div_ceil(2))
                .map(|(s, _)| s.clone()),
        );
        for start in begin {
            let mut here = start.clone();
            let mut value = self.acquisition(gp, &encoder.encode(space, &here), best);
            for _ in 0..CLIMB_STEPS {
                let mut moves = neighbours(space, &here, &mut self.rng);
                if has_numbers {
                    for scale in [0.05, 0.01] {
                        for _ in 0..5 {
                            moves.push(self.jitter(space, &here, scale));
                        }
                    }
                }
                let mut step: Option<(f64, Vec<Selection>)> = None;
                for m in moves {
                    if !tried.insert(m.clone()) {
                        continue;
                    }
                    let a = self.acquisition(gp, &encoder.encode(space, &m), best);
                    scored.push((a, m.clone()));
                    if a > value && step.as_ref().is_none_or(|(b, _)| a > *b) {
                        step = Some((a, m));
                    }
                }
                match step {
                    Some((a, m)) => {
                        value = a;
                        here = m;
                    }
                    None => break,
                }
            }
        }
        scored
            .into_iter()
            .filter(|(a, s)| a.is_finite() && !self.state.seen.contains(s))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, s)| s)
    }
}

impl Tuner for GpTuner {
    /// Every type: numbers by their place in their range, choices one-hot.
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = GpOptions::from_options(options, "gp")?;
        let bad = |key: &str, why: String| {
            Err(PluginError::invalid_input(format!(
                "options: \"{key}\" {why}"
            )))
        };
        let nu = match options.nu {
            0.5 => Nu::Half,
            1.5 => Nu::ThreeHalves,
            2.5 => Nu::FiveHalves,
            v if v >= 1e9 => Nu::Infinite,
            v => {
                return bad(
                    "nu",
                    format!("must be 0.5, 1.5, 2.5 or infinite (1e9 or more: the squared exponential), the Matérn kernels with a closed form; found {v}"),
                )
            }
        };
        if !(options.kappa.is_finite() && options.kappa >= 0.0) {
            return bad(
                "kappa",
                format!("must be 0 or more, found {}", options.kappa),
            );
        }
        if !options.xi.is_finite() {
            return bad(
                "xi",
                format!("must be a finite number, found {}", options.xi),
            );
        }
        if !(options.alpha.is_finite() && options.alpha > 0.0) {
            return bad("alpha", format!("must be above 0, found {}", options.alpha));
        }
        let cold_start = options
            .cold_start_num
            .unwrap_or_else(|| sized_to_budget(options.max_trials, 1.0 / 3.0, 3, 10, 10));
        if cold_start < 2 {
            return bad(
                "cold_start_num",
                format!("(random trials before the model) must be at least 2, found {cold_start}"),
            );
        }
        if options.selection_num_warm_up == 0 {
            return bad(
                "selection_num_warm_up",
                "(random candidates per proposal) must be at least 1, found 0".into(),
            );
        }
        Ok(GpTuner {
            nu,
            cold_start,
            rng: SeededRng::from_seed(options.seed),
            options,
            space: None,
            state: TrialBook::default(),
            hyper: None,
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some((space.clone(), Encoder::new(space)));
        self.state = TrialBook::default();
        self.hyper = None;
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let (space, encoder) = self
            .space
            .clone()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))?;
        if self.state.exhausted(&space) {
            return Ok(None);
        }
        let mut child = None;
        if self.state.history.len() >= self.cold_start {
            if let Some(gp) = self.model(&space, &encoder) {
                child = self.maximise(&space, &encoder, &gp);
            }
        }
        self.state
            .propose_or_random(&space, id, child, &mut self.rng)
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        self.state.receive(id, parameters, metric);
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, _success: bool) -> Result<()> {
        self.state.end(id);
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        self.state.save(&self.rng)
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        (self.rng, self.state) = TrialBook::load("gp-tuner", self.space()?, state)?;
        self.hyper = None;
        Ok(())
    }
}
