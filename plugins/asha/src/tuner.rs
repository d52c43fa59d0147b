//! ASHA's schedule: promotions first, else a new architecture at the bottom.

use archon_plugin_api::{plugin_options, Result};
use archon_plugin_support::{
    brackets::BracketOptions,
    scheduled::{Ctx, Schedule, Scheduled, Start},
};

plugin_options! {
    /// ASHA's options: the budget ladder and η, as Hyperband's.
    pub struct AshaOptions {
        #[flatten]
        pub schedule: BracketOptions = BracketOptions::default(),
    }
}

/// ASHA (options: [`AshaOptions`]).
pub type AshaTuner = Scheduled<Asha>;

/// ASHA's schedule (it keeps nothing beyond the trials).
pub struct Asha;

impl Asha {
    /// The next promotion: the best not-yet-promoted trial in the top 1/η of its rung,
    /// highest rung first.
    fn promotion(ctx: &Ctx<'_>) -> Option<u64> {
        let eta = ctx.options.eta;
        (0..ctx.ladder.len() - 1).rev().find_map(|rung| {
            let ranked = ctx.runs.ranked(0, rung);
            let top = (ranked.len() as f64 / eta).floor() as usize;
            ranked[..top]
                .iter()
                .copied()
                .find(|id| !ctx.runs.runs[id].promoted)
        })
    }
}

impl Schedule for Asha {
    const NAME: &'static str = "asha";
    type Options = AshaOptions;
    type State = ();

    fn shared(options: &AshaOptions) -> &BracketOptions {
        &options.schedule
    }

    fn new(_options: &AshaOptions) -> Result<Self> {
        Ok(Asha)
    }

    fn next(&mut self, _state: &mut (), ctx: Ctx<'_>) -> Option<Start> {
        if let Some(from) = Self::promotion(&ctx) {
            let parent = ctx.runs.runs.get_mut(&from)?;
            parent.promoted = true;
            return Some(Start {
                selections: parent.selections.clone(),
                rung: parent.rung + 1,
                promoted_from: Some(from),
                bracket: 0,
            });
        }
        // Nothing to promote: a new architecture, or none left (asked again after the
        // next result, which may allow a promotion).
        let selections = ctx.runs.fresh(ctx.space, ctx.rng)?;
        Some(Start {
            selections,
            rung: 0,
            promoted_from: None,
            bracket: 0,
        })
    }
}
