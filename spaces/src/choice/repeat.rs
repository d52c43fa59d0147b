//! `Repeat`: a stack of blocks whose depth is a choice.

use super::{Builder, Setting};
use crate::{
    error::{Result, SpacesError},
    nn::{Block, BoxBlock, Ctx},
};
use archon_plugin_api::{space::ChoiceKind, Selection};
use tch::{nn, Tensor};

/// Blocks `0..depth` applied in order, `depth` chosen among `depths`. Block `i` lives
/// under `p / i` in the supernet and in a child. A weighted setting mixes the outputs
/// at each candidate depth.
#[derive(Debug)]
pub struct Repeat {
    label: String,
    depths: Vec<usize>,
    blocks: Vec<BoxBlock>,
    child_depth: Option<usize>,
}

impl Repeat {
    /// Builds the choice `id` (decision `label`) over `depths` (ascending, ≥ 1);
    /// `make(i, path)` builds block `i`.
    pub fn new(
        b: &Builder,
        p: &nn::Path,
        id: &str,
        label: &str,
        depths: &[usize],
        make: impl Fn(usize, &nn::Path) -> Result<BoxBlock>,
    ) -> Result<Self> {
        if depths.is_empty() || depths.windows(2).any(|w| w[0] >= w[1]) || depths[0] == 0 {
            return Err(SpacesError::Config(format!(
                "repeat {label:?}: depths {depths:?} must be ascending and ≥ 1"
            )));
        }
        let kind = ChoiceKind::Value {
            values: depths.iter().map(|&d| serde_json::json!(d)).collect(),
        };
        let (built, child_depth) = match b.register(id, label, kind)? {
            None => (depths[depths.len() - 1], None),
            Some(Selection::One(i)) if i < depths.len() => (depths[i], Some(depths[i])),
            Some(other) => {
                return Err(SpacesError::Config(format!(
                    "repeat {label:?}: selection {other:?} is not one of {depths:?}"
                )))
            }
        };
        let blocks = (0..built)
            .map(|i| make(i, &(p / i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Repeat {
            label: label.into(),
            depths: depths.to_vec(),
            blocks,
            child_depth,
        })
    }
}

impl Block for Repeat {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let run = |depth: usize| -> Result<Tensor> {
            let mut out = xs.shallow_clone();
            for block in &self.blocks[..depth] {
                out = block.forward(&out, ctx)?;
            }
            Ok(out)
        };
        if let Some(depth) = self.child_depth {
            return run(depth);
        }
        match ctx.settings().expect(&self.label) {
            Setting::Fixed(i) => run(self.depths[i[0]]),
            Setting::Weighted { indices, weights } => {
                // One pass to the deepest active depth, mixing the intermediate outputs.
                let wanted: Vec<usize> = indices.iter().map(|&i| self.depths[i]).collect();
                let deepest = wanted.iter().copied().max().unwrap_or(0);
                let mut out = xs.shallow_clone();
                let mut mix: Option<Tensor> = None;
                for (d, block) in self.blocks[..deepest].iter().enumerate() {
                    out = block.forward(&out, ctx)?;
                    for (k, &w) in wanted.iter().enumerate() {
                        if w == d + 1 {
                            let y = &out * weights.get(k as i64);
                            mix = Some(match mix {
                                Some(acc) => acc + y,
                                None => y,
                            });
                        }
                    }
                }
                Ok(mix.expect("weighted settings have at least one depth"))
            }
        }
    }
}
