//! The part every differentiable trainer (DARTS, GDAS, P-DARTS, CDARTS, ProxylessNAS)
//! shares: α created at `begin` with the trainer's optimizer settings, the collapse
//! guard, the epoch report, α's share of the saved state, and the export.

use super::{finish_epoch, fit_within, ArchOptim, ArchParams, CollapseGuard, Derived, StepMeter};
use archon_plugin_api::{
    one_shot::{SupernetContext, SUPERNET},
    serde_json::Value,
    PluginError, Result, SearchSpace,
};
use std::collections::BTreeMap;

/// The saved state of a trainer that searches α and may be stopped by its collapse
/// guard (DARTS, PC-DARTS).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardedState {
    /// α ([`ArchSearch::state`]).
    pub params: Value,
    /// Whether the collapse guard stopped the search.
    pub stopped: bool,
}

/// α (once the search began), its optimizer settings and the collapse guard.
pub struct ArchSearch {
    optim: ArchOptim,
    guard: CollapseGuard,
    params: Option<ArchParams>,
}

impl ArchSearch {
    /// A search that creates α with `optim` at [`begin`](Self::begin) and derives
    /// architectures under `guard`.
    pub fn new(optim: ArchOptim, guard: CollapseGuard) -> Self {
        ArchSearch {
            optim,
            guard,
            params: None,
        }
    }

    /// The collapse guard.
    pub fn guard(&self) -> CollapseGuard {
        self.guard
    }

    /// Creates α for the decisions of the supernet `ctx` lends (a trainer's `begin`).
    pub fn begin(&mut self, ctx: &mut SupernetContext<'_>) -> Result<()> {
        self.params = Some(ArchParams::for_search(ctx, self.optim)?);
        Ok(())
    }

    /// α, or an error naming the `call` that came before `begin`.
    pub fn params(&self, call: &str) -> Result<&ArchParams> {
        self.params
            .as_ref()
            .ok_or_else(|| PluginError::invalid_state(format!("{call} before begin")))
    }

    /// [`params`](Self::params), mutably.
    pub fn params_mut(&mut self, call: &str) -> Result<&mut ArchParams> {
        self.params
            .as_mut()
            .ok_or_else(|| PluginError::invalid_state(format!("{call} before begin")))
    }

    /// Derives the architecture at the end of `epoch` and reports the epoch (the step
    /// means of `meter`, the collapse counts, `extra`, α, the architecture).
    pub fn finish_epoch(
        &self,
        ctx: &mut SupernetContext<'_>,
        epoch: usize,
        meter: &StepMeter,
        extra: BTreeMap<String, f64>,
    ) -> Result<Derived> {
        finish_epoch(ctx, epoch, meter, self.params("epoch")?, &self.guard, extra)
    }

    /// α's part of the trainer's saved state.
    pub fn state(&self) -> Result<Value> {
        Ok(self.params("save_state")?.state())
    }

    /// Restores α from [`state`](Self::state) on the supernet `ctx` lends (a trainer's
    /// `load_state`, instead of `begin`).
    pub fn load(&mut self, ctx: &mut SupernetContext<'_>, state: &Value) -> Result<()> {
        let mut params = ArchParams::for_search(ctx, self.optim)?;
        params.load(state)?;
        self.params = Some(params);
        Ok(())
    }

    /// The architecture derived from α under the guard, brought within the search's
    /// limits (if any) by the host's cost table, giving up the least α-probability.
    pub fn export(&self, ctx: &mut SupernetContext<'_>) -> Result<Value> {
        let params = self.params("export")?;
        let derived = params.derive(&self.guard)?.architecture;
        let limits = ctx.info()?.limits;
        if limits.is_empty() {
            return Ok(derived);
        }
        let costs = ctx.costs(SUPERNET)?;
        let space = SearchSpace::from_json(&params.search_space)?;
        let probabilities: Vec<Vec<f64>> = (0..params.choices.len())
            .map(|k| params.probabilities(k))
            .collect();
        fit_within(
            &space,
            &params.choices,
            &derived,
            (&costs, &limits),
            &|k, i| probabilities[k][i].max(1e-12).ln(),
            &|k, i| params.active(k).contains(&i),
        )
    }
}
