//! The skeleton the cell spaces share (DARTS and NNI's NDS family: NASNet, ENAS
//! micro, AmoebaNet, PNAS): a 3×3 stem of 3·width channels, `cells` stacked cells
//! with reduction cells (stride 2, channels doubled) at 1/3 and 2/3 of the depth,
//! each cell preprocessing its two inputs (the outputs of the two cells before it) to
//! its width, then global average pooling and a linear classifier.

use super::{check_options, int_option, SpaceConfig, SpaceFamily, SpaceOption};
use crate::{
    choice::LayerChoice,
    error::Result,
    nn::{
        channels_last, conv2d, global_avg_pool,
        ops::{drop_path, relu_conv_bn, stem, BatchNorm, FactorizedReduce, Relu},
        Block, BoxBlock, Conv2dConfig, Ctx, Linear, Sequential,
    },
};
use tch::{nn, Tensor};

/// The part of a cell after preprocessing: takes the two preprocessed inputs and
/// returns the concatenation of its `nodes` intermediate nodes.
pub(crate) trait CellBody: std::fmt::Debug + Send {
    fn forward(&self, inputs: [Tensor; 2], ctx: &Ctx) -> Result<Tensor>;
}

/// What a cell body is built for.
pub(crate) struct CellSpec {
    /// Position in the stack.
    pub index: i64,
    /// "normal" or "reduce": the label prefix (cells of one kind share decisions).
    pub kind: &'static str,
    /// Channels of each node.
    pub c: i64,
    /// Whether the cell halves the resolution (ops on its inputs use stride 2).
    pub reduction: bool,
    /// Intermediate nodes.
    pub nodes: i64,
    /// Learnable batch-norm parameters in the operations.
    pub affine: bool,
}

/// The options of a cell space, with the family's default number of nodes.
pub(crate) const fn cell_options(nodes_default: &'static str) -> [SpaceOption; 5] {
    [
        SpaceOption {
            name: "auxiliary",
            default: "false",
            help: "an auxiliary classifier after the second reduction cell (training only)",
            training_only: false,
        },
        SpaceOption {
            name: "width",
            default: "16",
            help: "channels of the first cell (C)",
            training_only: false,
        },
        SpaceOption {
            name: "cells",
            default: "8",
            help: "number of stacked cells",
            training_only: false,
        },
        SpaceOption {
            name: "nodes",
            default: nodes_default,
            help: "intermediate nodes per cell",
            training_only: false,
        },
        SpaceOption {
            name: "affine",
            default: "true",
            help: "learnable batch-norm scale and shift in the operations",
            training_only: true,
        },
    ]
}

/// PC-DARTS's partial channels, an option of the spaces whose edges can be partial.
pub(crate) const PARTIAL_CHANNELS: SpaceOption = SpaceOption {
    name: "partial_channels",
    default: "1",
    help: "PC-DARTS's search-time partial channels: only 1/K of each edge's channels go through its operations, the rest bypass them (1: all)",
    training_only: true,
};

/// Builds the network of a cell space; `body` builds each cell's body.
pub(crate) fn cell_network(
    family: &dyn SpaceFamily,
    p: &nn::Path,
    cfg: &SpaceConfig,
    nodes_default: i64,
    body: impl Fn(&nn::Path, &CellSpec) -> Result<Box<dyn CellBody>>,
) -> Result<BoxBlock> {
    let o = check_options(family, cfg)?;
    let name = family.name();
    let c = int_option(o, name, "width", 16, 2)?;
    let cells = int_option(o, name, "cells", 8, 1)?;
    let nodes = int_option(o, name, "nodes", nodes_default, 1)?;
    let affine = o.bool("affine")?.unwrap_or(true);
    let auxiliary = o.bool("auxiliary")?.unwrap_or(false);

    let stem_c = 3 * c;
    let stem = stem(p, cfg.input_channels, stem_c);
    let (mut c_pp, mut c_p, mut c_cur) = (stem_c, stem_c, c);
    let mut reduction_prev = false;
    let mut built = Vec::new();
    let mut aux = None;
    for index in 0..cells {
        let reduction = index == cells / 3 || index == 2 * cells / 3;
        if reduction {
            c_cur *= 2;
        }
        let cp = p / "cells" / index;
        let pre0: BoxBlock = if reduction_prev {
            Box::new(FactorizedReduce::new(&(&cp / "pre0"), c_pp, c_cur, affine))
        } else {
            Box::new(relu_conv_bn(&(&cp / "pre0"), c_pp, c_cur, 1, 1, 0, affine))
        };
        let pre1: BoxBlock = Box::new(relu_conv_bn(&(&cp / "pre1"), c_p, c_cur, 1, 1, 0, affine));
        let spec = CellSpec {
            index,
            kind: if reduction { "reduce" } else { "normal" },
            c: c_cur,
            reduction,
            nodes,
            affine,
        };
        built.push(Cell {
            pre0,
            pre1,
            body: body(&cp, &spec)?,
        });
        reduction_prev = reduction;
        (c_pp, c_p) = (c_p, nodes * c_cur);
        if auxiliary && index == 2 * cells / 3 {
            aux = Some((
                index as usize,
                AuxiliaryHead::new(&(p / "auxiliary"), c_p, cfg.num_classes),
            ));
        }
    }
    Ok(Box::new(CellNetwork {
        stem,
        cells: built,
        aux,
        classifier: Linear::new(&(p / "classifier"), c_p, cfg.num_classes),
    }))
}

#[derive(Debug)]
struct Cell {
    pre0: BoxBlock,
    pre1: BoxBlock,
    body: Box<dyn CellBody>,
}

/// DARTS's auxiliary head: ReLU → average pooling to 2×2 → 1×1 conv (128) → BN →
/// ReLU → 2×2 conv (768) → BN → ReLU → linear.
#[derive(Debug)]
struct AuxiliaryHead {
    features: Sequential,
    classifier: Linear,
}

impl AuxiliaryHead {
    fn new(p: &nn::Path, c: i64, classes: i64) -> Self {
        AuxiliaryHead {
            features: Sequential::new()
                .push(conv2d(&(p / "conv1"), c, 128, 1, Conv2dConfig::default()))
                .push(BatchNorm::new(&(p / "bn1"), 128, true))
                .push(Relu)
                .push(conv2d(&(p / "conv2"), 128, 768, 2, Conv2dConfig::default()))
                .push(BatchNorm::new(&(p / "bn2"), 768, true))
                .push(Relu),
            classifier: Linear::new(&(p / "classifier"), 768, classes),
        }
    }

    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let pooled = crate::nn::taps::relu(xs).adaptive_avg_pool2d([2, 2]);
        self.classifier
            .forward(&self.features.forward(&pooled, ctx)?.flatten(1, -1), ctx)
    }
}

/// Applies a cell edge. In a child trained with drop-path, the edge's output is
/// dropped unless the edge is the identity (as in DARTS retraining).
pub(crate) fn apply_edge(edge: &LayerChoice, stride: i64, x: &Tensor, ctx: &Ctx) -> Result<Tensor> {
    let y = edge.forward(x, ctx)?;
    let p = ctx.drop_path();
    Ok(match edge.child_candidate() {
        Some(name) if p > 0.0 && !(stride == 1 && name == "skip_connect") => drop_path(y, p),
        _ => y,
    })
}

#[derive(Debug)]
struct CellNetwork {
    stem: Sequential,
    cells: Vec<Cell>,
    /// The auxiliary head and the cell it follows.
    aux: Option<(usize, AuxiliaryHead)>,
    classifier: Linear,
}

impl Block for CellNetwork {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        // The stem's output too: from a one-channel input libtorch cannot tell the
        // memory orders apart and returns NCHW.
        let s = channels_last(&self.stem.forward(&channels_last(xs), ctx)?);
        let (mut s0, mut s1) = (s.shallow_clone(), s);
        for (i, cell) in self.cells.iter().enumerate() {
            let inputs = [cell.pre0.forward(&s0, ctx)?, cell.pre1.forward(&s1, ctx)?];
            let out = cell.body.forward(inputs, ctx)?;
            (s0, s1) = (s1, out);
            if let Some((after, head)) = &self.aux {
                if *after == i && ctx.train {
                    ctx.set_aux(head.forward(&s1, ctx)?);
                }
            }
        }
        let pooled = global_avg_pool(&s1).flatten(1, -1);
        self.classifier.forward(&pooled, ctx)
    }
}
