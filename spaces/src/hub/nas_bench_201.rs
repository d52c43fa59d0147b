//! NAS-Bench-201 (Dong & Yang 2020): a cell of 4 nodes and 6 edges, each edge one of
//! 5 operations (15,625 architectures), stacked in 3 stages of `cells_per_stage` cells
//! with residual reduction blocks between stages. Every cell shares the one genotype,
//! written in the benchmark's arch-string format
//! `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.

use super::{
    cell_network::PARTIAL_CHANNELS, check_options, int_option, SpaceConfig, SpaceEntry,
    SpaceFamily, SpaceOption,
};
use crate::{
    choice::{Builder, LayerChoice, PartialChannels},
    error::{Result, SpacesError},
    nn::{
        conv2d,
        ops::{nb201_op, relu_conv_bn, stem, BatchNorm, Relu, NB201_OPS},
        Block, BoxBlock, Conv2d, Conv2dConfig, Ctx, Linear, Sequential,
    },
};
use archon_plugin_api::{Architecture, SearchSpace, Selection};
use tch::{nn, Tensor};

/// The NAS-Bench-201 space.
pub struct NasBench201;

inventory::submit!(SpaceEntry(&NasBench201));

const OPTIONS: &[SpaceOption] = &[
    SpaceOption {
        name: "width",
        default: "16",
        help: "channels of the first stage",
        training_only: false,
    },
    SpaceOption {
        name: "cells_per_stage",
        default: "5",
        help: "cells in each of the 3 stages",
        training_only: false,
    },
    SpaceOption {
        name: "affine",
        default: "true",
        help: "learnable batch-norm scale and shift in the operations",
        training_only: true,
    },
    PARTIAL_CHANNELS,
    SpaceOption {
        name: "ops",
        default: "none,skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3",
        help: "the operations every edge chooses from (a subset, comma-separated or a list): 3 ops give 729 architectures, 4 give 4,096",
        training_only: false,
    },
];

/// The operations of a configuration (option `ops`): a subset of [`NB201_OPS`], in
/// the benchmark's order, at least 2 of them.
pub fn ops(cfg: &SpaceConfig) -> Result<Vec<&'static str>> {
    let bad = |why: String| {
        SpacesError::Config(format!(
            "space nas-bench-201: option \"ops\" {why} (known: {}); e.g. \"skip_connect,nor_conv_3x3,avg_pool_3x3\"",
            NB201_OPS.join(", ")
        ))
    };
    let names: Vec<String> = match cfg.options.value("ops") {
        None => return Ok(NB201_OPS.to_vec()),
        Some(serde_json::Value::String(s)) => s.split(',').map(|o| o.trim().to_string()).collect(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("has {v}, not an operation name")))
            })
            .collect::<Result<_>>()?,
        Some(other) => {
            return Err(bad(format!(
                "must be a list of operation names, found {other}"
            )))
        }
    };
    if let Some(unknown) = names.iter().find(|n| !NB201_OPS.contains(&n.as_str())) {
        return Err(bad(format!("names an unknown operation {unknown:?}")));
    }
    let chosen: Vec<&'static str> = NB201_OPS
        .iter()
        .copied()
        .filter(|o| names.iter().any(|n| n == o))
        .collect();
    if chosen.len() < 2 {
        return Err(bad(format!(
            "needs at least 2 distinct operations, found {}",
            chosen.len()
        )));
    }
    Ok(chosen)
}

/// The edges (to, from) in arch-string order.
const EDGES: [(usize, usize); 6] = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

fn edge_label(to: usize, from: usize) -> String {
    format!("edge_{to}_{from}")
}

impl SpaceFamily for NasBench201 {
    fn cell_based(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "nas-bench-201"
    }
    fn description(&self) -> &'static str {
        "NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops, 15,625 architectures"
    }
    fn options(&self) -> &'static [SpaceOption] {
        OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let c = int_option(o, "nas-bench-201", "width", 16, 1)?;
        let n = int_option(o, "nas-bench-201", "cells_per_stage", 5, 1)?;
        let affine = o.bool("affine")?.unwrap_or(true);
        let partial = int_option(o, "nas-bench-201", "partial_channels", 1, 1)?;
        let ops = ops(cfg)?;
        let mut layers: Vec<Nb201Layer> = Vec::new();
        let mut c_prev = c;
        let mut index = 0;
        for stage in 0..3 {
            let c_stage = c << stage;
            if stage > 0 {
                layers.push(Nb201Layer::Reduce(ResidualReduce::new(
                    &(p / "cells" / index),
                    c_prev,
                    c_stage,
                )));
                index += 1;
            }
            for _ in 0..n {
                layers.push(Nb201Layer::Cell(Nb201Cell::new(
                    &(p / "cells" / index),
                    b,
                    index,
                    c_stage,
                    (affine, partial),
                    &ops,
                )?));
                index += 1;
            }
            c_prev = c_stage;
        }
        let stem = stem(p, cfg.input_channels, c);
        let last = Sequential::new()
            .push(BatchNorm::new(&(p / "lastact" / "bn"), c_prev, true))
            .push(Relu);
        Ok(Box::new(Nb201Network {
            stem,
            layers,
            last,
            classifier: Linear::new(&(p / "classifier"), c_prev, cfg.num_classes),
        }))
    }
}

/// A NAS-Bench-201 cell: node j = Σ_{i<j} op_{j,i}(node i); the output is node 3.
#[derive(Debug)]
struct Nb201Cell {
    edges: Vec<BoxBlock>,
}

impl Nb201Cell {
    fn new(
        p: &nn::Path,
        b: &Builder,
        index: i64,
        c: i64,
        (affine, partial): (bool, i64),
        ops: &[&str],
    ) -> Result<Self> {
        b.set_group(Some("cell"));
        let c_op = PartialChannels::part(c, partial);
        let edges = EDGES
            .iter()
            .map(|&(to, from)| {
                let label = edge_label(to, from);
                let choice = LayerChoice::new(
                    b,
                    &(p / label.as_str()),
                    &format!("cells.{index}.{label}"),
                    &label,
                    ops,
                    |name, path| nb201_op(name, path, c_op, affine),
                )?;
                Ok(if partial > 1 {
                    Box::new(PartialChannels::new(choice, partial)) as BoxBlock
                } else {
                    Box::new(choice)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Nb201Cell { edges })
    }
}

impl Block for Nb201Cell {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let mut nodes = vec![xs.shallow_clone()];
        let mut edge = 0;
        for to in 1..4 {
            let mut sum: Option<Tensor> = None;
            for state in &nodes[..to] {
                let y = self.edges[edge].forward(state, ctx)?;
                edge += 1;
                sum = Some(match sum {
                    Some(acc) => acc + y,
                    None => y,
                });
            }
            nodes.push(sum.expect("every node has an incoming edge"));
        }
        Ok(nodes.pop().expect("4 nodes"))
    }
}

/// The residual reduction block between stages: two ReLU-conv-BN (the first with
/// stride 2) plus an average-pooled, 1×1-convolved shortcut.
#[derive(Debug)]
struct ResidualReduce {
    conv_a: Sequential,
    conv_b: Sequential,
    shortcut: Conv2d,
}

impl ResidualReduce {
    fn new(p: &nn::Path, c_in: i64, c_out: i64) -> Self {
        ResidualReduce {
            conv_a: relu_conv_bn(&(p / "conv_a"), c_in, c_out, 3, 2, 1, true),
            conv_b: relu_conv_bn(&(p / "conv_b"), c_out, c_out, 3, 1, 1, true),
            shortcut: conv2d(&(p / "shortcut"), c_in, c_out, 1, Conv2dConfig::default()),
        }
    }
}

impl Block for ResidualReduce {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let residual = self.shortcut.forward(
            &xs.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None),
            ctx,
        )?;
        Ok(self.conv_b.forward(&self.conv_a.forward(xs, ctx)?, ctx)? + residual)
    }
}

#[derive(Debug)]
enum Nb201Layer {
    Cell(Nb201Cell),
    Reduce(ResidualReduce),
}

#[derive(Debug)]
struct Nb201Network {
    stem: Sequential,
    layers: Vec<Nb201Layer>,
    last: Sequential,
    classifier: Linear,
}

impl Block for Nb201Network {
    fn forward(&self, xs: &Tensor, ctx: &Ctx) -> Result<Tensor> {
        let mut out = self.stem.forward(xs, ctx)?;
        for layer in &self.layers {
            out = match layer {
                Nb201Layer::Cell(c) => c.forward(&out, ctx)?,
                Nb201Layer::Reduce(r) => r.forward(&out, ctx)?,
            };
        }
        let out = self
            .last
            .forward(&out, ctx)?
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1);
        self.classifier.forward(&out, ctx)
    }
}

/// An architecture of the NAS-Bench-201 space in the benchmark's arch-string format.
pub fn arch_string(space: &SearchSpace, arch: &Architecture) -> Result<String> {
    let op = |to: usize, from: usize| -> Result<String> {
        let label = edge_label(to, from);
        let (i, choice) = space
            .choice(&label)
            .ok_or_else(|| SpacesError::Config(format!("not a NAS-Bench-201 space: no {label}")))?;
        match &arch.selections()[i] {
            Selection::One(k) => Ok(format!(
                "{}~{from}",
                choice.candidate_value(*k).as_str().unwrap_or("?")
            )),
            _ => Err(SpacesError::Config(format!(
                "{label} is not a layer choice"
            ))),
        }
    };
    let mut parts = Vec::new();
    for to in 1..4 {
        let ops = (0..to)
            .map(|from| op(to, from))
            .collect::<Result<Vec<_>>>()?;
        parts.push(format!("|{}|", ops.join("|")));
    }
    Ok(parts.join("+"))
}

/// Parses a NAS-Bench-201 arch string into NNI-format parameters of the space with
/// operations `ops` (see [`ops`]; indices count within `ops`).
pub fn parse_arch_string(text: &str, ops: &[&str]) -> Result<serde_json::Value> {
    let bad = |why: String| {
        SpacesError::Config(format!("arch string {text:?}: {why}; expected e.g. |nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"))
    };
    let nodes: Vec<&str> = text.trim().split('+').collect();
    if nodes.len() != 3 {
        return Err(bad(format!("{} nodes instead of 3", nodes.len())));
    }
    let mut map = serde_json::Map::new();
    for (j, node) in nodes.iter().enumerate() {
        let to = j + 1;
        let edges: Vec<&str> = node.trim_matches('|').split('|').collect();
        if edges.len() != to {
            return Err(bad(format!(
                "node {to} has {} edges instead of {to}",
                edges.len()
            )));
        }
        for (from, op) in edges.iter().enumerate() {
            let (name, src) = op
                .split_once('~')
                .ok_or_else(|| bad(format!("{op:?} is not op~input")))?;
            if src != from.to_string() {
                return Err(bad(format!(
                    "edge {op:?} of node {to} should come from input {from}"
                )));
            }
            let idx = ops.iter().position(|o| *o == name).ok_or_else(|| {
                bad(format!(
                    "op {name:?} is not in this space (its ops: {})",
                    ops.join(", ")
                ))
            })?;
            map.insert(
                edge_label(to, from),
                serde_json::json!({"_value": name, "_idx": idx}),
            );
        }
    }
    Ok(serde_json::Value::Object(map))
}
