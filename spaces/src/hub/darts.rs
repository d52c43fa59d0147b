//! The DARTS space (Liu et al. 2019): a stem, `cells` stacked cells (reduction cells at
//! 1/3 and 2/3 of the depth), global pooling and a classifier. Each cell has `nodes`
//! intermediate nodes; node j chooses 2 of its predecessors (`{type}_n{j}_switch`)
//! and an operation on each incoming edge (`{type}_n{j}_p{i}`) among the 8 DARTS ops.
//! All normal cells share one set of decisions, and all reduction cells another.

use super::{check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption};
use crate::{
    choice::{Builder, InputChoice, LayerChoice, Reduction},
    error::Result,
    nn::{
        ops::{darts_op, relu_conv_bn, BatchNorm, FactorizedReduce, DARTS_OPS},
        Block, BoxBlock, Conv2d, Ctx, Linear, Sequential,
    },
};
use tch::{nn, Tensor};

/// The DARTS space.
pub struct Darts;

inventory::submit!(SpaceEntry(&Darts));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "16",
        help: "channels of the first cell (C)",
    },
    SpaceOption {
        name: "cells",
        default: "8",
        help: "number of stacked cells",
    },
    SpaceOption {
        name: "nodes",
        default: "4",
        help: "intermediate nodes per cell",
    },
    SpaceOption {
        name: "affine",
        default: "true",
        help: "learnable batch-norm scale and shift in the operations",
    },
];

impl SpaceFamily for Darts {
    fn name(&self) -> &'static str {
        "darts"
    }
    fn description(&self) -> &'static str {
        "DARTS cell space: 8 ops per edge, 2 inputs per node, shared normal and reduction cells"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let c = int_option(o, "darts", "width", 16, 2)?;
        let cells = int_option(o, "darts", "cells", 8, 1)?;
        let nodes = int_option(o, "darts", "nodes", 4, 1)?;
        let affine = o.bool("affine")?.unwrap_or(true);
        Ok(Box::new(DartsNetwork::new(
            p, b, cfg, c, cells, nodes, affine,
        )?))
    }
}

/// One DARTS cell.
#[derive(Debug)]
struct DartsCell {
    pre0: BoxBlock,
    pre1: BoxBlock,
    /// Per node: its input choice and one edge per predecessor (`None` in a child
    /// for predecessors it does not use).
    nodes: Vec<(InputChoice, Vec<Option<LayerChoice>>)>,
}

#[allow(clippy::too_many_arguments)]
impl DartsCell {
    fn new(
        p: &nn::Path,
        b: &Builder,
        index: i64,
        kind: &str,
        nodes: i64,
        c_pp: i64,
        c_p: i64,
        c: i64,
        reduction_prev: bool,
        reduction: bool,
        affine: bool,
    ) -> Result<Self> {
        let pre0: BoxBlock = if reduction_prev {
            Box::new(FactorizedReduce::new(&(p / "pre0"), c_pp, c, affine))
        } else {
            Box::new(relu_conv_bn(&(p / "pre0"), c_pp, c, 1, 1, 0, affine))
        };
        let pre1: BoxBlock = Box::new(relu_conv_bn(&(p / "pre1"), c_p, c, 1, 1, 0, affine));
        let mut built = Vec::new();
        for j in 0..nodes {
            let node = j + 2;
            let preds: Vec<String> = (0..node).map(|i| format!("p{i}")).collect();
            let id = format!("cells.{index}.n{node}");
            let inputs = InputChoice::new(
                b,
                &format!("{id}.switch"),
                &format!("{kind}_n{node}_switch"),
                &preds,
                Some(2.min(node as usize)),
                Reduction::Sum,
            )?;
            let used = inputs.child_selection().map(<[usize]>::to_vec);
            let mut edges = Vec::new();
            for i in 0..node {
                if used.as_ref().is_some_and(|u| !u.contains(&(i as usize))) {
                    edges.push(None);
                    continue;
                }
                let stride = if reduction && i < 2 { 2 } else { 1 };
                let edge_path = p / format!("n{node}") / format!("p{i}");
                edges.push(Some(LayerChoice::new(
                    b,
                    &edge_path,
                    &format!("{id}.p{i}"),
                    &format!("{kind}_n{node}_p{i}"),
                    &DARTS_OPS,
                    |name, path| darts_op(name, path, c, stride, affine),
                )?));
            }
            built.push((inputs, edges));
        }
        Ok(DartsCell {
            pre0,
            pre1,
            nodes: built,
        })
    }

    fn forward(&self, s0: &Tensor, s1: &Tensor, ctx: &Ctx) -> Tensor {
        let mut states = vec![self.pre0.forward(s0, ctx), self.pre1.forward(s1, ctx)];
        for (inputs, edges) in &self.nodes {
            let (active, weights) = inputs.active(ctx);
            let outs: Vec<Tensor> = active
                .iter()
                .map(|&i| {
                    edges[i]
                        .as_ref()
                        .expect("a child builds the edges it uses")
                        .forward(&states[i], ctx)
                })
                .collect();
            let node = inputs
                .reduce(outs, weights.as_ref())
                .unwrap_or_else(|| states[1].zeros_like());
            states.push(node);
        }
        Tensor::cat(&states[2..], 1)
    }
}

/// The whole DARTS network.
#[derive(Debug)]
struct DartsNetwork {
    stem: Sequential,
    cells: Vec<DartsCell>,
    classifier: Linear,
}

impl DartsNetwork {
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: &nn::Path,
        b: &Builder,
        cfg: &SpaceConfig,
        c: i64,
        cells: i64,
        nodes: i64,
        affine: bool,
    ) -> Result<Self> {
        let stem_c = 3 * c;
        let stem = Sequential::new()
            .push(Conv2d::new(
                &(p / "stem" / "conv"),
                cfg.input_channels,
                stem_c,
                3,
                1,
                1,
                1,
                1,
                false,
            ))
            .push(BatchNorm::new(&(p / "stem" / "bn"), stem_c, true));
        let (mut c_pp, mut c_p, mut c_cur) = (stem_c, stem_c, c);
        let mut reduction_prev = false;
        let mut built = Vec::new();
        for i in 0..cells {
            let reduction = i == cells / 3 || i == 2 * cells / 3;
            if reduction {
                c_cur *= 2;
            }
            let kind = if reduction { "reduce" } else { "normal" };
            built.push(DartsCell::new(
                &(p / "cells" / i),
                b,
                i,
                kind,
                nodes,
                c_pp,
                c_p,
                c_cur,
                reduction_prev,
                reduction,
                affine,
            )?);
            reduction_prev = reduction;
            (c_pp, c_p) = (c_p, nodes * c_cur);
        }
        Ok(DartsNetwork {
            stem,
            cells: built,
            classifier: Linear::new(&(p / "classifier"), c_p, cfg.num_classes),
        })
    }
}

impl Block for DartsNetwork {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Tensor {
        let s = self.stem.forward(xs, ctx);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        for cell in &self.cells {
            let out = cell.forward(&s0, &s1, ctx);
            (s0, s1) = (s1, out);
        }
        let pooled = s1.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        self.classifier.forward(&pooled, ctx)
    }
}
