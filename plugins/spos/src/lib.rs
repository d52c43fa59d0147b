//! SPOS (Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
//! Sampling", ECCV 2020) as an archon one-shot plugin.
//!
//! The supernet trains one sampled path per batch (`Fixed` settings): by default
//! fairly (FairNAS's strict fairness — every decision cycles through random
//! permutations of its candidates, so all candidates get the same number of updates),
//! or uniformly; within the FLOPs/params limits when given — the options'
//! `flops_limit` / `params_limit` and the search's own limits, the tighter of each —
//! by rejection sampling on the host's cost table.
//! `export` then runs the evolutionary search: a random population (50), each member
//! scored by validation accuracy after recalibrating batch norm on training batches;
//! per generation the top `select` (10) parents produce `crossover` (25) and
//! `mutation` (25, each choice redrawn with `mutation_prob` 0.1) children, for
//! `generations` (20). With `objectives` naming costs too (e.g. `"accuracy,flops"`),
//! parents are chosen by Pareto rank and crowding distance instead, and the export is
//! the cheapest member of the final front within `tolerance` (0.01) of its best
//! accuracy. Every generation is reported with its scores. Each epoch reports
//! per-candidate "importance": the mean training accuracy of the paths that used it.
//!
//! Options: `population`, `select`, `crossover`, `mutation`, `mutation_prob`,
//! `generations`, `flops_limit`, `params_limit`, `recalibrate_batches` (20),
//! `eval_batches` (10; 0 = the whole validation split), `objectives` ("accuracy"),
//! `tolerance`, `sampling`, `smooth`, `seed`.

mod objectives;
mod search;
mod smooth;

use archon_plugin_api::{
    one_shot::{
        CandidateCost, CostTable, Limits, OneShotTrainer, Report, Split, SupernetContext, SUPERNET,
    },
    plugin_options,
    serde_json::Value,
    Architecture, OptionSet, Options, PluginError, Result, SearchSpace, Selection,
};
use archon_plugin_support::{
    load_state,
    one_shot::{accuracy, apply_architecture, cross_entropy, report_step, StepMeter},
    save_state, SeededRng,
};
use objectives::Objectives;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

plugin_options! {
    /// SPOS's options.
    pub struct SposOptions {
        /// Population size of the evolutionary search.
        pub population: usize = 50,
        /// Parents kept per generation.
        pub select: usize = 10,
        /// Children by crossover per generation.
        pub crossover: usize = 25,
        /// Children by mutation per generation.
        pub mutation: usize = 25,
        /// Per-choice probability that a mutation redraws it.
        pub mutation_prob: f64 = 0.1,
        /// Generations of the evolutionary search.
        pub generations: usize = 20,
        /// At most this many multiply-adds per example (none: no limit).
        pub flops_limit: Option<f64> = None,
        /// At most this many parameters (none: no limit).
        pub params_limit: Option<f64> = None,
        /// Training batches to recalibrate batch norm on per evaluation.
        pub recalibrate_batches: usize = 20,
        /// Validation batches per evaluation (0: the whole validation split).
        pub eval_batches: usize = 10,
        /// The seed of the path sampling and the evolution (the host passes `search.seed`).
        pub seed: Option<u64> = None,
        /// Path sampling: `fair` (every decision goes through a random permutation of
        /// its candidates, one path per step, so each candidate trains equally often:
        /// FairNAS's expectation fairness), `strict` (FairNAS's strict fairness: each
        /// step accumulates the gradients of as many paths as the largest decision has
        /// candidates — together one permutation of every decision — and then updates
        /// once), `uniform` (each step draws every decision independently) or
        /// `sandwich` (BigNAS's sandwich rule: each step accumulates the gradients of the
        /// largest path — per decision the candidate with the most parameters, then
        /// multiply-adds, by the host's cost table —, the smallest, and fair random
        /// paths, as many paths in all as `strict` but at least 3; then updates once) or
        /// `size-uniform` (each path draws a size q uniform in 0..1, then every decision
        /// takes its k-th cheapest cost level by the host's cost table — parameters,
        /// then multiply-adds — with k ~ Binomial(levels − 1, q), a candidate of that
        /// level at random: paths of every size train alike, where uniform and fair
        /// sampling train mostly mid-sized ones; as many paths per step as `strict`).
        pub sampling: Sampling = Sampling::Fair,
        /// What the evolution optimises, comma-separated: `accuracy` (the supernet's
        /// validation accuracy, always) and any of `params`, `flops`, `latency_ms` (the
        /// host's cost-table estimates, minimised). With a cost, parents are chosen by
        /// Pareto rank and crowding distance (NSGA-II) and the export is the cheapest
        /// architecture of the final front within `tolerance` of its best accuracy.
        pub objectives: String = "accuracy".to_string(),
        /// Accuracy the export may give up for a cheaper architecture when `objectives`
        /// has a cost (0.01: one point).
        pub tolerance: f64 = 0.01,
        /// Pick the export by an additive model of the scores instead of the scores
        /// themselves: a ridge regression on which candidate each decision took, fitted
        /// to every architecture the evolution scored (one-path scores are noisy; the
        /// model pools each candidate's evidence across the architectures that took it).
        pub smooth: bool = false,
    }
}

archon_plugin_api::option_enum! {
    /// How SPOS samples the path of each training step.
    pub enum Sampling {
        /// Each decision cycles through random permutations of its candidates.
        Fair = "fair",
        /// Each step trains one whole permutation of every decision, then updates.
        Strict = "strict",
        /// Each decision is drawn independently and uniformly.
        Uniform = "uniform",
        /// Each step trains the largest path, the smallest and fair random ones, then
        /// updates once (BigNAS's sandwich rule).
        Sandwich = "sandwich",
        /// Each path draws a size, then every decision a cost level around it, so that
        /// small, middle and large paths train alike (AttentiveNAS's uniform-size prior).
        SizeUniform = "size-uniform",
    }
}

/// Which end of the space [`Spos::extreme`] takes.
#[derive(Debug, Clone, Copy)]
enum Extreme {
    Largest,
    Smallest,
}

/// Decisions with more selections than this are sampled uniformly even when
/// sampling is fair (a permutation of every subset would be too long).
const FAIR_MAX: u128 = 1024;

/// The evolution's sizes and the constraints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvolutionConfig {
    /// Population size.
    pub population: usize,
    /// Parents kept per generation.
    pub select: usize,
    /// Children by crossover per generation.
    pub crossover: usize,
    /// Children by mutation per generation.
    pub mutation: usize,
    /// Per-choice mutation probability.
    pub mutation_prob: f64,
    /// Generations.
    pub generations: usize,
    /// Batches of training data to recalibrate batch norm on per evaluation.
    pub recalibrate: usize,
    /// Validation batches per evaluation (0: all).
    pub eval_batches: usize,
    /// The options' `flops_limit` / `params_limit`, tightened at `begin` by the
    /// search's own limits.
    pub limits: Limits,
}

/// The SPOS trainer.
pub struct Spos {
    cfg: EvolutionConfig,
    rng: SeededRng,
    space: Option<SearchSpace>,
    costs: Option<CostTable>,
    /// Per label, per candidate: (sum of training accuracy, uses).
    usage: BTreeMap<String, Vec<(f64, usize)>>,
    sampling: Sampling,
    /// Fair sampling: per decision, the rest of its current permutation (popped last
    /// first).
    queues: Vec<Vec<u128>>,
    /// What the evolution optimises.
    objectives: Objectives,
    /// Whether the export is picked by the additive model of the scores.
    smooth: bool,
}

/// What SPOS saves.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// Per label, per candidate: (sum of training accuracy, uses).
    usage: BTreeMap<String, Vec<(f64, usize)>>,
    /// The generator of paths.
    rng: SeededRng,
    /// Fair sampling's permutations in progress.
    #[serde(default)]
    queues: Vec<Vec<u128>>,
}

impl Spos {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("epoch before begin"))
    }

    /// Whether an architecture meets the limits (by the cost table's estimate).
    pub(crate) fn feasible(&self, arch: &Value) -> bool {
        let Some(costs) = &self.costs else {
            return true;
        };
        self.cfg.limits.admits_estimate(costs, arch)
    }

    /// The next fair path: each decision's next candidate from its permutation.
    fn fair_selections(&mut self) -> Result<Vec<Selection>> {
        let space = self.space()?.clone();
        self.queues.resize(space.choices().len(), Vec::new());
        let mut selections = Vec::with_capacity(space.choices().len());
        for (choice, queue) in space.choices().iter().zip(self.queues.iter_mut()) {
            let rng = &mut self.rng;
            match choice.num_selections().filter(|&n| n <= FAIR_MAX) {
                Some(n) => {
                    if queue.is_empty() {
                        // Fisher–Yates from the search's generator.
                        *queue = (0..n).collect();
                        for i in (1..queue.len()).rev() {
                            let j = rng.below(i as u128 + 1) as usize;
                            queue.swap(i, j);
                        }
                    }
                    let rank = queue.pop().expect("refilled above");
                    selections.push(choice.selection_at(rank));
                }
                None => selections.push(choice.sample(&mut |n| rng.below(n))),
            }
        }
        Ok(selections)
    }

    /// A sampled path within the limits: fair or uniform as configured (a fair path
    /// that breaks a limit gives way to uniform rejection sampling).
    pub(crate) fn sample(&mut self) -> Result<(Vec<Selection>, Value)> {
        let space = self.space()?.clone();
        if self.sampling != Sampling::Uniform {
            let selections = self.fair_selections()?;
            let arch = Architecture::new(&space, selections.clone())?.to_json(&space);
            if self.feasible(&arch) {
                return Ok((selections, arch));
            }
        }
        for _ in 0..1000 {
            let rng = &mut self.rng;
            let selections = space.sample(&mut |n| rng.below(n));
            let arch = Architecture::new(&space, selections.clone())?.to_json(&space);
            if self.feasible(&arch) {
                return Ok((selections, arch));
            }
        }
        Err(PluginError::invalid_input(format!(
            "no architecture out of 1000 sampled meets the limits ({}); raise them",
            self.cfg.limits.describe()
        )))
    }

    /// A path in which every decision the cost table prices takes `pick(its
    /// candidates' costs, the generator)` and every other decision a uniform draw. A
    /// path that breaks a limit gives way to [`Spos::sample`].
    fn priced_path(
        &mut self,
        sampling: &str,
        mut pick: impl FnMut(&[CandidateCost], &mut SeededRng) -> usize,
    ) -> Result<(Vec<Selection>, Value)> {
        let space = self.space()?.clone();
        let costs = self.costs.as_ref().ok_or_else(|| {
            PluginError::invalid_state(format!("{sampling} sampling without a cost table"))
        })?;
        let rng = &mut self.rng;
        let mut selections = Vec::with_capacity(space.choices().len());
        for choice in space.choices() {
            // The table prices layer and value choices only: one candidate each.
            let priced = costs
                .choices
                .get(choice.name())
                .filter(|c| !c.is_empty() && Some(c.len() as u128) == choice.num_selections());
            selections.push(match priced {
                Some(c) => Selection::One(pick(c, rng)),
                None => choice.sample(&mut |n| rng.below(n)),
            });
        }
        let arch = Architecture::new(&space, selections.clone())?.to_json(&space);
        if self.feasible(&arch) {
            Ok((selections, arch))
        } else {
            self.sample()
        }
    }

    /// The largest or smallest path by the cost table (parameters, then multiply-adds);
    /// a decision the table does not price is drawn at random.
    fn extreme(&mut self, which: Extreme) -> Result<(Vec<Selection>, Value)> {
        self.priced_path("sandwich", |c, _| {
            let key = |i: &usize| (c[*i].params, c[*i].flops);
            let candidates = 0..c.len();
            match which {
                Extreme::Largest => candidates.max_by_key(key),
                Extreme::Smallest => candidates.min_by_key(key),
            }
            .expect("a priced decision has candidates")
        })
    }

    /// A path of a random size ([`Sampling::SizeUniform`]): q ~ U(0, 1); each priced
    /// decision groups its candidates by cost (parameters, then multiply-adds), takes
    /// the k-th cheapest group with k ~ Binomial(groups − 1, q) and a candidate of it at
    /// random, so that a space of equal decisions gets every count of large candidates
    /// equally often. Decisions the table does not price are drawn uniformly.
    fn sized(&mut self) -> Result<(Vec<Selection>, Value)> {
        let unit = |rng: &mut SeededRng| rng.below(1 << 53) as f64 / (1u64 << 53) as f64;
        let q = unit(&mut self.rng);
        self.priced_path("size-uniform", |c, rng| {
            let mut levels: Vec<(i64, i64)> = c.iter().map(|c| (c.params, c.flops)).collect();
            levels.sort_unstable();
            levels.dedup();
            let k = (1..levels.len()).filter(|_| unit(rng) < q).count();
            let group: Vec<usize> = (0..c.len())
                .filter(|&i| (c[i].params, c[i].flops) == levels[k])
                .collect();
            group[rng.below(group.len() as u128) as usize]
        })
    }

    /// Paths whose gradients one training step accumulates.
    fn paths_per_step(&self) -> usize {
        match self.sampling {
            Sampling::Strict => self.widest(),
            Sampling::Sandwich => self.widest().max(3),
            Sampling::SizeUniform => self.widest(),
            Sampling::Fair | Sampling::Uniform => 1,
        }
    }

    /// The most candidates of any decision (paths per strictly fair step).
    fn widest(&self) -> usize {
        self.space.as_ref().map_or(1, |space| {
            space
                .choices()
                .iter()
                .filter_map(|c| c.num_selections().filter(|&n| n <= FAIR_MAX))
                .max()
                .unwrap_or(1) as usize
        })
    }

    /// Counts one training use of each selected candidate, with the path's accuracy.
    fn count_use(&mut self, selections: &[Selection], acc: f64) -> Result<()> {
        let names: Vec<String> = self
            .space()?
            .choices()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        for (name, sel) in names.iter().zip(selections) {
            let picked = sel.indices();
            if let Some(uses) = self.usage.get_mut(name) {
                for i in picked {
                    uses[i].0 += acc;
                    uses[i].1 += 1;
                }
            }
        }
        Ok(())
    }

    fn importance(&self) -> BTreeMap<String, Vec<f64>> {
        self.usage
            .iter()
            .map(|(label, uses)| {
                let means: Vec<f64> = uses
                    .iter()
                    .map(|(s, n)| if *n > 0 { s / *n as f64 } else { 0.0 })
                    .collect();
                let total: f64 = means.iter().sum();
                let n = means.len().max(1) as f64;
                let normalised = means
                    .iter()
                    .map(|m| if total > 0.0 { m / total } else { 1.0 / n })
                    .collect();
                (label.clone(), normalised)
            })
            .collect()
    }
}

impl OneShotTrainer for Spos {
    fn new(options: &Options) -> Result<Self> {
        let o = SposOptions::from_options(options, "spos")?;
        let cfg = EvolutionConfig {
            population: o.population,
            select: o.select,
            crossover: o.crossover,
            mutation: o.mutation,
            mutation_prob: o.mutation_prob,
            generations: o.generations,
            recalibrate: o.recalibrate_batches,
            eval_batches: o.eval_batches,
            limits: Limits {
                max_params: o.params_limit,
                max_flops: o.flops_limit,
                max_latency_ms: None,
            },
        };
        if cfg.population == 0 || cfg.select == 0 || cfg.select > cfg.population {
            return Err(PluginError::invalid_input(format!(
                "options population {} / select {}: need 1 ≤ select ≤ population",
                cfg.population, cfg.select
            )));
        }
        if !(0.0..=1.0).contains(&cfg.mutation_prob) {
            return Err(PluginError::invalid_input(format!(
                "option mutation_prob: {} must be between 0 and 1",
                cfg.mutation_prob
            )));
        }
        for (key, limit) in [
            ("flops_limit", o.flops_limit),
            ("params_limit", o.params_limit),
        ] {
            if limit.is_some_and(|l| l <= 0.0) {
                return Err(PluginError::invalid_input(format!(
                    "option {key} must be > 0"
                )));
            }
        }
        Ok(Spos {
            cfg,
            rng: SeededRng::from_seed(o.seed),
            space: None,
            costs: None,
            usage: BTreeMap::new(),
            sampling: o.sampling,
            queues: Vec::new(),
            objectives: Objectives::parse(&o.objectives, o.tolerance)?,
            smooth: o.smooth,
        })
    }

    fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        let info = ctx.info()?.clone();
        let space = SearchSpace::from_json(&info.search_space)?;
        self.usage = space
            .choices()
            .iter()
            .map(|c| (c.name().to_string(), vec![(0.0, 0); c.num_candidates()]))
            .collect();
        self.space = Some(space);
        self.cfg.limits = self.cfg.limits.tightest(&info.limits);
        if !self.cfg.limits.is_empty()
            || self.objectives.is_multi()
            || matches!(self.sampling, Sampling::Sandwich | Sampling::SizeUniform)
        {
            self.costs = Some(ctx.costs(SUPERNET)?);
        }
        Ok(())
    }

    fn epoch(&mut self, ctx: &mut SupernetContext<'_>, epoch: usize) -> Result<()> {
        let steps = ctx.info()?.steps_per_epoch;
        let mut meter = StepMeter::default();
        let paths = self.paths_per_step();
        for step in 0..steps {
            let batch = ctx.next_batch(Split::Train)?;
            ctx.zero_grad(SUPERNET)?;
            let (mut loss, mut acc) = (0.0, 0.0);
            for path in 0..paths {
                let (selections, arch) = match (self.sampling, path) {
                    (Sampling::Sandwich, 0) => self.extreme(Extreme::Largest)?,
                    (Sampling::Sandwich, 1) => self.extreme(Extreme::Smallest)?,
                    (Sampling::SizeUniform, _) => self.sized()?,
                    _ => self.sample()?,
                };
                apply_architecture(ctx, SUPERNET, &arch)?;
                let logits = ctx.forward(SUPERNET, &batch.inputs)?;
                let path_loss = cross_entropy(&logits, &batch.labels);
                path_loss.backward();
                let path_acc = accuracy(&logits, &batch.labels);
                self.count_use(&selections, path_acc)?;
                loss += path_loss.double_value(&[]) / paths as f64;
                acc += path_acc / paths as f64;
            }
            ctx.weight_step(SUPERNET)?;
            report_step(
                ctx,
                &mut meter,
                (epoch, step),
                &[("loss", loss), ("accuracy", acc)],
            )?;
        }
        let importance = self.importance();
        let space = self.space()?.clone();
        let strongest: Vec<Selection> = space
            .choices()
            .iter()
            .map(|c| {
                let w = &importance[c.name()];
                let best = (0..w.len())
                    .max_by(|&a, &b| w[a].total_cmp(&w[b]))
                    .unwrap_or(0);
                search::selection_around(c, best)
            })
            .collect();
        let architecture = Architecture::new(&space, strongest)
            .ok()
            .map(|a| a.to_json(&space));
        ctx.report(&Report::Epoch {
            epoch,
            metrics: meter.means(),
            arch_weights: importance,
            architecture,
        })
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&State {
            usage: self.usage.clone(),
            rng: self.rng.clone(),
            queues: self.queues.clone(),
        })
    }

    fn load_state(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let state: State = load_state("spos", state)?;
        self.begin(ctx)?;
        if state.usage.keys().ne(self.usage.keys()) {
            return Err(PluginError::invalid_input(
                "spos state: saved for another search space",
            ));
        }
        self.usage = state.usage;
        self.rng = state.rng;
        self.queues = state.queues;
        Ok(())
    }

    fn export(&mut self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        search::evolve(self, ctx)
    }
}

archon_plugin_api::export_plugin! {
    name: "spos",
    version: env!("CARGO_PKG_VERSION"),
    description: "SPOS: uniform single-path supernet training, then evolution under FLOPs/params limits",
    options: SposOptions,
    one_shot_trainer: Spos,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spos(sampling: &str) -> Spos {
        let options =
            Options::from_json_str(&format!(r#"{{"seed": 3, "sampling": "{sampling}"}}"#)).unwrap();
        let mut spos = Spos::new(&options).unwrap();
        spos.space = Some(
            SearchSpace::from_json_str(
                r#"{"a": {"_type": "layer_choice", "_value": ["x", "y", "z"]},
                    "b": {"_type": "layer_choice", "_value": ["p", "q", "r", "s", "t"]}}"#,
            )
            .unwrap(),
        );
        spos
    }

    fn counts(spos: &mut Spos, steps: usize) -> [Vec<usize>; 2] {
        let mut counts = [vec![0; 3], vec![0; 5]];
        for _ in 0..steps {
            let (selections, _) = spos.sample().unwrap();
            for (c, s) in counts.iter_mut().zip(&selections) {
                let Selection::One(i) = s else { panic!() };
                c[*i] += 1;
            }
        }
        counts
    }

    #[test]
    fn fair_sampling_trains_every_candidate_equally_often() {
        // 15 steps: 5 permutations of a's 3 candidates, 3 of b's 5.
        let [a, b] = counts(&mut spos("fair"), 15);
        assert_eq!((a, b), (vec![5; 3], vec![3; 5]));
        // Uniform draws are not balanced like that (seeded: this draw is not).
        let [a, b] = counts(&mut spos("uniform"), 15);
        assert!(a != vec![5; 3] || b != vec![3; 5]);
        // A fair path is still random: two orders differ across permutations.
        let mut fair = spos("fair");
        let first: Vec<_> = (0..3)
            .map(|_| fair.sample().unwrap().0[0].clone())
            .collect();
        let second: Vec<_> = (0..3)
            .map(|_| fair.sample().unwrap().0[0].clone())
            .collect();
        let third: Vec<_> = (0..3)
            .map(|_| fair.sample().unwrap().0[0].clone())
            .collect();
        assert!(
            first != second || second != third,
            "{first:?} {second:?} {third:?}"
        );
    }

    #[test]
    fn a_strictly_fair_step_trains_one_permutation_of_every_decision() {
        let mut strict = spos("strict");
        // b has the most candidates: 5 paths per step.
        assert_eq!(strict.widest(), 5);
        for _ in 0..3 {
            let [a, b] = counts(&mut strict, 5);
            assert_eq!(b, vec![1; 5], "one step: every candidate of b exactly once");
            // a's 3 candidates in 5 paths (its permutations run on across steps):
            // every one of them trained in every step.
            assert_eq!(a.iter().sum::<usize>(), 5);
            assert!(a.iter().all(|&n| n >= 1), "{a:?}");
        }
    }

    #[test]
    fn a_sandwich_step_trains_the_largest_and_the_smallest_path_first() {
        use archon_plugin_api::one_shot::CandidateCost;
        let mut sandwich = spos("sandwich");
        let cost = |params, flops| CandidateCost {
            params,
            flops,
            latency_ms: 0.0,
        };
        // a: y is the largest, z the smallest (no parameters, fewer multiply-adds
        // than x); b is not priced: drawn at random.
        let mut costs = CostTable::default();
        costs
            .choices
            .insert("a".into(), vec![cost(0, 10), cost(500, 9000), cost(0, 0)]);
        sandwich.costs = Some(costs);
        let (largest, arch) = sandwich.extreme(Extreme::Largest).unwrap();
        assert_eq!(largest[0], Selection::One(1), "{arch}");
        let (smallest, _) = sandwich.extreme(Extreme::Smallest).unwrap();
        assert_eq!(smallest[0], Selection::One(2));
        let bs: std::collections::BTreeSet<_> = (0..20)
            .map(|_| sandwich.extreme(Extreme::Largest).unwrap().0[1].clone())
            .collect();
        assert!(
            bs.len() > 1,
            "an unpriced decision is drawn at random: {bs:?}"
        );
        // As many paths per step as strict fairness, at least 3.
        assert_eq!(sandwich.paths_per_step(), 5);
    }

    #[test]
    fn size_uniform_sampling_trains_every_count_of_large_candidates_alike() {
        use archon_plugin_api::one_shot::CandidateCost;
        let cost = |params| CandidateCost {
            params,
            flops: 0,
            latency_ms: 0.0,
        };
        // Six equal decisions: "conv" (priced) or one of two free candidates.
        let mut spos = spos("size-uniform");
        let text: Vec<String> = (0..6)
            .map(|e| {
                format!(
                    r#""e{e}": {{"_type": "layer_choice", "_value": ["skip", "conv", "pool"]}}"#
                )
            })
            .collect();
        spos.space = Some(SearchSpace::from_json_str(&format!("{{{}}}", text.join(","))).unwrap());
        let mut costs = CostTable::default();
        for e in 0..6 {
            costs
                .choices
                .insert(format!("e{e}"), vec![cost(0), cost(100), cost(0)]);
        }
        spos.costs = Some(costs);
        let (mut by_count, mut free) = (vec![0usize; 7], [0usize; 2]);
        let paths = 7000;
        for _ in 0..paths {
            let (selections, _) = spos.sized().unwrap();
            let convs = selections
                .iter()
                .filter(|s| **s == Selection::One(1))
                .count();
            by_count[convs] += 1;
            for s in &selections {
                match s {
                    Selection::One(0) => free[0] += 1,
                    Selection::One(2) => free[1] += 1,
                    _ => {}
                }
            }
        }
        // Uniform over 0..=6 convolutions (1,000 each); uniform sampling would give
        // 6 convolutions once in 729 paths and 2 in a third of them.
        assert!(
            by_count.iter().all(|&n| (800..1200).contains(&n)),
            "{by_count:?}"
        );
        // Within the free level, both candidates alike.
        let ratio = free[0] as f64 / free[1] as f64;
        assert!((0.9..1.1).contains(&ratio), "{free:?}");
        // As many paths per step as strict fairness.
        assert_eq!(spos.paths_per_step(), 3);
    }

    #[test]
    fn a_bad_sampling_is_refused_by_name() {
        let options = Options::from_json_str(r#"{"sampling": "greedy"}"#).unwrap();
        let e = Spos::new(&options).err().unwrap().message().to_string();
        assert!(e.contains("sampling") && e.contains("fair"), "{e}");
    }
}
