//! Starting trials: the next one to run (queued, or new from the tuner), a GPU for
//! it, and how its attempt runs.

use super::{Manager, Running};
use crate::{limits, service::TrialSpec};
use anyhow::{Context, Result};
use std::time::Duration;
use tokio::sync::watch;

/// Parameters up to this size (bytes) are also given in `ARCHON_PARAMETERS`.
pub const PARAMETERS_IN_ENV_MAX: usize = 64 * 1024;

/// A trial the pre-filter or the tuner proposes.
struct Proposal {
    id: u64,
    /// NNI-format JSON text.
    parameters: String,
    /// The trial's info (JSON text), if any.
    info: Option<String>,
    /// Whether the tuner proposed it (it must then hear how it ended).
    from_tuner: bool,
}

impl Manager {
    /// Starts trials while there is room and work.
    pub(super) fn launch_ready(&mut self) -> Result<()> {
        while !self.stopping && self.running.len() < self.cfg.concurrency_limit() {
            let Some((id, parameters)) = self.next_work()? else {
                break;
            };
            self.launch(id, parameters)?;
        }
        Ok(())
    }

    /// The next trial to start: a queued one, else the pre-filter's next pick, else a new
    /// one from the tuner (none when the budget is spent or the tuner has nothing more).
    fn next_work(&mut self) -> Result<Option<(u64, String)>> {
        if let Some(item) = self.queue.pop_front() {
            return Ok(Some(item));
        }
        let time_up = self
            .cfg
            .max_duration()
            .is_some_and(|d| self.started.elapsed() >= d);
        if time_up || self.generated >= self.cfg.max_trials {
            return Ok(None);
        }
        let mut rejected = 0;
        let (id, p, info) = loop {
            let Some(Proposal {
                id,
                parameters: p,
                info,
                from_tuner,
            }) = self.propose()?
            else {
                return Ok(None);
            };
            let fits = match &self.pricer {
                Some(pricer) => pricer.admits(&p)?,
                None => true,
            };
            if fits {
                break (id, p, info);
            }
            // Over the limits: never run; the tuner hears it ended without success.
            tracing::debug!(id, parameters = %p, "over the limits");
            self.summary.over_limits += 1;
            if from_tuner {
                self.tuner.trial_end(id, false)?;
                self.next_id += 1;
            }
            rejected += 1;
            if rejected >= limits::MAX_REJECTED_IN_A_ROW {
                return Err(limits::too_many_rejected(&self.cfg.limits));
            }
        };
        self.store
            .add_trial(id, &p, info.as_deref(), &self.tuner.save_state()?)?;
        self.generated += 1;
        self.next_id += 1;
        Ok(Some((id, p)))
    }

    /// The next proposal: the pre-filter's next pick, else the tuner's (none when it
    /// has nothing more).
    fn propose(&mut self) -> Result<Option<Proposal>> {
        let id = self.next_id;
        // The pre-filter's picks first, before the tuner proposes anything.
        if let Some((rank, pick)) = self.prefilter.pop_front() {
            let proxy = self
                .cfg
                .tuner
                .prefilter
                .as_ref()
                .map_or("", |p| p.proxy.as_str());
            let info = pick.info(proxy, rank).to_string();
            return Ok(Some(Proposal {
                id,
                parameters: pick.parameters.to_string(),
                info: Some(info),
                from_tuner: false,
            }));
        }
        if self.exhausted {
            return Ok(None);
        }
        let Some(p) = self.tuner.generate_parameters(id)? else {
            self.exhausted = true;
            return Ok(None);
        };
        let info = self.tuner.trial_info(id)?.map(|v| v.to_string());
        Ok(Some(Proposal {
            id,
            parameters: p.to_string(),
            info,
            from_tuner: true,
        }))
    }

    /// Starts one attempt of trial `id`.
    fn launch(&mut self, id: u64, parameters: String) -> Result<()> {
        let _span = tracing::info_span!("trial", id).entered();
        let attempt = self.store.start_attempt(id)?;
        tracing::debug!(attempt, "launching");
        let gpus = &self.cfg.training_service.gpus;
        let gpu = (!gpus.is_empty()).then(|| {
            self.gpu_turn += 1;
            gpus[(self.gpu_turn - 1) % gpus.len()]
        });
        let trial_dir = self.store.trial_dir(id);
        std::fs::create_dir_all(&trial_dir)?;
        std::fs::write(trial_dir.join("parameters.json"), &parameters)?;
        let spec = self.trial_spec(id, attempt, &parameters, gpu)?;
        let (stop, stop_rx) = watch::channel(false);
        self.running.insert(
            id,
            Running {
                parameters,
                attempt,
                final_metric: None,
                stop,
                early_stop: None,
            },
        );
        self.summary.started += 1;
        self.service.launch(spec, self.events_tx.clone(), stop_rx);
        Ok(())
    }

    /// Where a trial command runs: `trial.directory`, else the config file's folder.
    fn code_dir(&self) -> std::path::PathBuf {
        match &self.cfg.trial.directory {
            Some(dir) => crate::config::resolve_relative(&self.config_dir, dir),
            None => self.config_dir.clone(),
        }
    }

    /// How to run attempt `attempt` of trial `id` (with `ARCHON_BUDGET` when the tuner
    /// gave it a budget, `ARCHON_RESUME_FROM` when it promotes another trial).
    pub(super) fn trial_spec(
        &self,
        id: u64,
        attempt: u32,
        parameters: &str,
        gpu: Option<u32>,
    ) -> Result<TrialSpec> {
        let trial_dir = self.store.trial_dir(id);
        let mut env = vec![
            (
                "ARCHON_PARAMETERS_FILE".to_string(),
                trial_dir.join("parameters.json").display().to_string(),
            ),
            (
                "ARCHON_EXPERIMENT_ID".to_string(),
                self.experiment_id.clone(),
            ),
            ("ARCHON_TRIAL_ID".to_string(), id.to_string()),
            (
                "ARCHON_EXPERIMENT_DIR".to_string(),
                self.dir.display().to_string(),
            ),
        ];
        // One environment string may hold at most 128 KiB on Linux: larger parameters
        // travel in the file alone.
        if parameters.len() <= PARAMETERS_IN_ENV_MAX {
            env.push(("ARCHON_PARAMETERS".to_string(), parameters.to_string()));
        }
        if let Some(gpu) = gpu {
            env.push(("CUDA_VISIBLE_DEVICES".into(), gpu.to_string()));
        }
        if let Some(nni) = &self.nni {
            env.extend(nni.env(
                &self.experiment_id,
                id,
                &trial_dir,
                &self.code_dir(),
                std::env::var_os("PYTHONPATH"),
            ));
            if self.cfg.trial.batch {
                env.push(("ARCHON_NNI_BATCH".into(), "1".into()));
            }
        }
        // Threads per trial, unless the user chose them (OMP_NUM_THREADS is inherited).
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        if let (None, Some(threads)) = (
            std::env::var_os("OMP_NUM_THREADS"),
            self.cfg.trial_threads(cores),
        ) {
            for name in ["OMP_NUM_THREADS", "MKL_NUM_THREADS"] {
                env.push((name.into(), threads.to_string()));
            }
        }
        let info = self.store.trial_info(id)?;
        if let Some(budget) = info["budget"].as_f64() {
            env.push(("ARCHON_BUDGET".into(), budget.to_string()));
        }
        // A promotion: the same architecture at a higher budget. A trial that saved a
        // checkpoint in its folder may continue from the promoted trial's.
        if let Some(from) = info["promoted_from"].as_u64() {
            env.push((
                "ARCHON_RESUME_FROM".into(),
                self.store.trial_dir(from).display().to_string(),
            ));
        }
        // A step of population based training: the checkpoint to start from and the
        // folder to save to (the `nni` module hands them over as NNI's PBT does).
        if let (Some(load), Some(save)) = (
            info["checkpoint"]["load"].as_str(),
            info["checkpoint"]["save"].as_str(),
        ) {
            std::fs::create_dir_all(save)
                .with_context(|| format!("creating the checkpoint folder {save}"))?;
            env.push(("ARCHON_LOAD_CHECKPOINT_DIR".into(), load.to_string()));
            env.push(("ARCHON_SAVE_CHECKPOINT_DIR".into(), save.to_string()));
        }
        Ok(TrialSpec {
            id,
            attempt,
            parameters: parameters.to_string(),
            command: match &self.cfg.trial.command {
                Some(c) => c.clone(),
                None => vec![self.trial_exe.display().to_string(), "trial".into()],
            },
            env,
            cwd: self.code_dir(),
            log_dir: trial_dir,
            timeout: self.cfg.trial_timeout(),
            grace: Duration::from_secs(self.cfg.training_service.grace_seconds),
        })
    }
}
