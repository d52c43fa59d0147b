//! The PBT tuner: the population, its generations and their checkpoint folders.

use crate::perturb::Perturbation;
use archon_plugin_api::{
    plugin_options, Architecture, Metric, OptimizeMode, OptionSet, Options, ParameterId,
    PluginError, Result, SearchSpace, Selection, Tuner,
};
use archon_plugin_support::{check_architectures_fit, load_state, save_state, SeededRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

plugin_options! {
    /// The PBT tuner's options (NNI's PBTTuner `classArgs` and defaults).
    pub struct PbtOptions {
        /// Whether a larger or a smaller metric is better.
        pub optimize_mode: OptimizeMode = OptimizeMode::Maximize,
        /// Members of the population: trials per generation.
        pub population_size: u64 = 10,
        /// How far a number moves when perturbed: this share of its range (σ for
        /// normal types).
        pub factor: f64 = 0.2,
        /// The chance that a perturbed parameter is drawn afresh instead of moved.
        pub resample_probability: f64 = 0.25,
        /// The share of the population replaced each generation (the bottom) by
        /// copies of the top's.
        pub fraction: f64 = 0.2,
        /// Where checkpoints live, `<checkpoint_dir>/<member>/<generation>` (NNI's
        /// `all_checkpoint_dir`; relative to the config's folder; default: the
        /// experiment's `checkpoints` folder).
        pub checkpoint_dir: Option<String> = None,
        /// The generator's seed (drawn from the OS when absent, kept in the saved state).
        pub seed: Option<u64> = None,
        /// The config's folder (the host sets it).
        pub config_dir: Option<String> = None,
        /// The experiment's folder (the host sets it).
        pub experiment_dir: Option<String> = None,
    }
}

/// One member of the population in the current generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    /// Its hyper-parameters.
    selections: Vec<Selection>,
    /// The checkpoint it starts from.
    load: String,
    /// Where its step saves.
    save: String,
    /// Its result in this generation (the worst value when its trial failed).
    score: Option<f64>,
}

/// Everything that changes, saved and restored whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rng: SeededRng,
    generation: u64,
    members: Vec<Member>,
    /// The next member of this generation to hand out.
    next: usize,
    /// Trials of this generation without a result yet, by id, with their member (whose
    /// folders and generation are their `trial_info`: a generation ends only once all
    /// its trials have results).
    running: BTreeMap<ParameterId, usize>,
}

/// Population based training (options: [`PbtOptions`]).
pub struct PbtTuner {
    maximize: bool,
    population: usize,
    fraction: f64,
    perturbation: Perturbation,
    checkpoints: PathBuf,
    space: Option<SearchSpace>,
    state: State,
}

fn bad(key: &str, why: String) -> PluginError {
    PluginError::invalid_input(format!("options: \"{key}\" {why}"))
}

impl PbtTuner {
    fn space(&self) -> Result<&SearchSpace> {
        self.space
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state("no search space yet"))
    }

    /// `<checkpoint_dir>/<member>/<generation>`.
    fn folder(&self, member: usize, generation: u64) -> String {
        self.checkpoints
            .join(member.to_string())
            .join(generation.to_string())
            .display()
            .to_string()
    }

    /// The value a failed trial ranks with (finite, so that the state saves as JSON).
    fn worst(&self) -> f64 {
        if self.maximize {
            f64::MIN
        } else {
            f64::MAX
        }
    }

    /// Member `member` has a result; the next generation starts once all have.
    fn finish(&mut self, member: usize, score: f64) -> Result<()> {
        self.state.members[member].score = Some(score);
        if self.state.next == self.population && self.state.running.is_empty() {
            self.next_generation()?;
        }
        Ok(())
    }

    /// Exploit and explore: the bottom `fraction` continue from a random top member's
    /// checkpoint with its hyper-parameters perturbed; the rest from their own.
    fn next_generation(&mut self) -> Result<()> {
        let space = self.space()?.clone();
        let worst = self.worst();
        let mut ranked: Vec<usize> = (0..self.population).collect();
        let score = |m: usize| self.state.members[m].score.unwrap_or(worst);
        ranked.sort_by(|&a, &b| {
            let order = score(a).total_cmp(&score(b));
            if self.maximize {
                order.reverse()
            } else {
                order
            }
        });
        let cutoff =
            ((self.fraction * self.population as f64).ceil() as usize).min(self.population);
        // Exploit and explore (none at fraction 0, as NNI).
        let tops: Vec<usize> = ranked[..cutoff].to_vec();
        let bottoms: Vec<usize> = ranked[self.population - cutoff..].to_vec();
        let generation = self.state.generation + 1;
        let old = self.state.members.clone();
        for member in 0..self.population {
            let next = if bottoms.contains(&member) {
                let top = tops[self.state.rng.below(tops.len() as u128) as usize];
                Member {
                    selections: self.perturbation.apply(
                        &space,
                        &old[top].selections,
                        &mut self.state.rng,
                    ),
                    load: old[top].save.clone(),
                    save: self.folder(member, generation),
                    score: None,
                }
            } else {
                Member {
                    selections: old[member].selections.clone(),
                    load: old[member].save.clone(),
                    save: self.folder(member, generation),
                    score: None,
                }
            };
            self.state.members[member] = next;
        }
        self.state.generation = generation;
        self.state.next = 0;
        Ok(())
    }
}

impl Tuner for PbtTuner {
    /// Every type; nested choices keep their candidate (only their sub-parameters
    /// are perturbed).
    const SUPPORTED_TYPES: &'static [&'static str] = &archon_plugin_api::space::ALL_TYPES;

    fn new(options: &Options) -> Result<Self> {
        let options = PbtOptions::from_options(options, "pbt")?;
        if options.population_size == 0 || options.population_size > 100_000 {
            return Err(bad(
                "population_size",
                format!("must be 1 to 100000, found {}", options.population_size),
            ));
        }
        for (key, value, what) in [
            ("factor", options.factor, "a share of a parameter's range"),
            ("fraction", options.fraction, "a share of the population"),
            (
                "resample_probability",
                options.resample_probability,
                "a probability",
            ),
        ] {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(bad(key, format!("is {what}: 0 to 1, found {value}")));
            }
        }
        let base = |dir: &Option<String>| {
            dir.as_deref()
                .map_or_else(|| PathBuf::from("."), PathBuf::from)
        };
        let checkpoints = match &options.checkpoint_dir {
            Some(dir) if dir.trim().is_empty() => {
                return Err(bad("checkpoint_dir", "is empty: give a folder".into()))
            }
            Some(dir) => base(&options.config_dir).join(dir),
            None => base(&options.experiment_dir).join("checkpoints"),
        };
        Ok(PbtTuner {
            maximize: options.optimize_mode == OptimizeMode::Maximize,
            population: options.population_size as usize,
            fraction: options.fraction,
            perturbation: Perturbation {
                factor: options.factor,
                resample_probability: options.resample_probability,
            },
            checkpoints: std::path::absolute(&checkpoints).unwrap_or(checkpoints),
            space: None,
            state: State {
                rng: SeededRng::from_seed(options.seed),
                generation: 0,
                members: Vec::new(),
                next: 0,
                running: BTreeMap::new(),
            },
        })
    }

    fn update_search_space(&mut self, space: &SearchSpace) -> Result<()> {
        self.space = Some(space.clone());
        self.state.rng.restart();
        self.state.generation = 0;
        self.state.next = 0;
        self.state.running.clear();
        self.state.members = (0..self.population)
            .map(|member| {
                // The first step starts from nothing: its load folder is its own
                // (empty) save folder, as NNI's.
                let folder = self.folder(member, 0);
                Member {
                    selections: space.sample(&mut |n| self.state.rng.below(n)),
                    load: folder.clone(),
                    save: folder,
                    score: None,
                }
            })
            .collect();
        Ok(())
    }

    fn generate_parameters(&mut self, id: ParameterId) -> Result<Option<Architecture>> {
        let space = self.space()?.clone();
        if self.state.next == self.population {
            // The generation's trials are out: wait for their results.
            return Ok(None);
        }
        let member = self.state.next;
        self.state.next += 1;
        let architecture =
            Architecture::new(&space, self.state.members[member].selections.clone())?;
        self.state.running.insert(id, member);
        Ok(Some(architecture))
    }

    fn trial_info(&self, id: ParameterId) -> Result<Option<Value>> {
        Ok(self.state.running.get(&id).map(|&member| {
            let m = &self.state.members[member];
            json!({
                "checkpoint": {"load": m.load, "save": m.save},
                "pbt": {"member": member, "generation": self.state.generation},
            })
        }))
    }

    fn receive_trial_result(
        &mut self,
        id: ParameterId,
        _parameters: &Architecture,
        metric: &Metric,
    ) -> Result<()> {
        // Only this generation's own trials count (a foreign or late result is kept out).
        if let Some(member) = self.state.running.remove(&id) {
            self.finish(member, metric.default)?;
        }
        Ok(())
    }

    fn trial_end(&mut self, id: ParameterId, success: bool) -> Result<()> {
        // A success brings its result through receive_trial_result; a failure ranks last.
        if !success {
            if let Some(member) = self.state.running.remove(&id) {
                self.finish(member, self.worst())?;
            }
        }
        Ok(())
    }

    fn save_state(&self) -> Result<Value> {
        save_state(&self.state)
    }

    fn load_state(&mut self, state: &Value) -> Result<()> {
        let saved: State = load_state("pbt-tuner", state)?;
        if saved.members.len() != self.population {
            return Err(PluginError::invalid_input(format!(
                "saved state: a population of {} members, but population_size is {}",
                saved.members.len(),
                self.population
            )));
        }
        check_architectures_fit(self.space()?, saved.members.iter().map(|m| &m.selections))?;
        if saved.next > self.population || saved.running.values().any(|&m| m >= self.population) {
            return Err(PluginError::invalid_input(
                "saved state: members out of the population's range",
            ));
        }
        self.state = saved;
        Ok(())
    }
}
