//! The DARTS space (Liu et al. 2019) on the shared cell skeleton. Each cell has
//! `nodes` intermediate nodes; node j chooses 2 of its predecessors
//! (`{kind}_n{j}_switch`) and an operation on each incoming edge (`{kind}_n{j}_p{i}`)
//! among the 8 DARTS ops. All normal cells share one set of decisions, and all
//! reduction cells another.

use super::{
    cell_network::{apply_edge, cell_network, cell_options, CellBody, CellSpec, PARTIAL_CHANNELS},
    check_options, int_option, SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption,
};
use crate::{
    choice::{forward_partial, Builder, InputChoice, LayerChoice, PartialChannels, Reduction},
    error::Result,
    nn::{
        cat_nodes,
        ops::{cell_op, DARTS_OPS},
        BoxBlock, Ctx,
    },
};
use tch::{nn, Tensor};

/// The DARTS space.
pub struct Darts;

inventory::submit!(SpaceEntry(&Darts));

const OPTIONS: [SpaceOption; 6] = {
    let [a, b, c, d, e] = cell_options("4");
    [a, b, c, d, e, PARTIAL_CHANNELS]
};

impl SpaceFamily for Darts {
    fn cell_based(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "darts"
    }
    fn description(&self) -> &'static str {
        "DARTS cell space: 8 ops per edge, 2 inputs per node, shared normal and reduction cells"
    }
    fn options(&self) -> &'static [SpaceOption] {
        &OPTIONS
    }
    fn genotype(&self, architecture: &serde_json::Value) -> Option<String> {
        darts_genotype(architecture)
    }

    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let o = check_options(self, cfg)?;
        let partial = int_option(o, "darts", "partial_channels", 1, 1)?;
        cell_network(self, p, cfg, 4, |cp, spec| {
            Ok(Box::new(DartsCell::new(cp, b, spec, partial)?))
        })
    }
}

/// A DARTS cell body: per node, an input choice over its predecessors and one edge
/// (a layer choice) per predecessor.
#[derive(Debug)]
struct DartsCell {
    /// Per node: its input choice and one edge per predecessor (`None` in a child
    /// for predecessors it does not use).
    nodes: Vec<(InputChoice, Vec<Option<LayerChoice>>)>,
    /// Whether edges from the cell inputs have stride 2.
    reduction: bool,
    /// PC-DARTS's K: 1/K of each edge's channels go through it (1: all).
    partial: i64,
}

impl DartsCell {
    fn new(p: &nn::Path, b: &Builder, spec: &CellSpec, partial: i64) -> Result<Self> {
        let kind = spec.kind;
        b.set_group(Some(kind));
        let mut built = Vec::new();
        for j in 0..spec.nodes {
            let node = j + 2;
            let preds: Vec<String> = (0..node).map(|i| format!("p{i}")).collect();
            let id = format!("cells.{}.n{node}", spec.index);
            let inputs = InputChoice::new(
                b,
                &format!("{id}.switch"),
                &format!("{kind}_n{node}_switch"),
                &preds,
                Some(2),
                Reduction::Sum,
            )?;
            let used = inputs.child_selection().map(<[usize]>::to_vec);
            let mut edges = Vec::new();
            for i in 0..node {
                if used.as_ref().is_some_and(|u| !u.contains(&(i as usize))) {
                    edges.push(None);
                    continue;
                }
                let stride = if spec.reduction && i < 2 { 2 } else { 1 };
                let edge_path = p / format!("n{node}") / format!("p{i}");
                let (c, affine) = (PartialChannels::part(spec.c, partial), spec.affine);
                edges.push(Some(LayerChoice::new(
                    b,
                    &edge_path,
                    &format!("{id}.p{i}"),
                    &format!("{kind}_n{node}_p{i}"),
                    &DARTS_OPS,
                    |name, path| cell_op(name, path, c, stride, affine),
                )?));
            }
            b.set_edges(
                &format!("{id}.switch"),
                (0..node)
                    .map(|i| Some(format!("{kind}_n{node}_p{i}")))
                    .collect(),
            );
            built.push((inputs, edges));
        }
        Ok(DartsCell {
            nodes: built,
            reduction: spec.reduction,
            partial,
        })
    }
}

impl CellBody for DartsCell {
    fn forward(&self, inputs: [Tensor; 2], ctx: &Ctx) -> Result<Tensor> {
        let mut states: Vec<Tensor> = inputs.into();
        for (choice, edges) in &self.nodes {
            let (active, weights) = choice.active(ctx);
            let outs: Vec<Tensor> = active
                .iter()
                .map(|&i| {
                    let edge = edges[i].as_ref().expect("a child builds the edges it uses");
                    let stride = if self.reduction && i < 2 { 2 } else { 1 };
                    if self.partial > 1 {
                        forward_partial(edge, self.partial, stride, &states[i], ctx)
                    } else {
                        apply_edge(edge, stride, &states[i], ctx)
                    }
                })
                .collect::<Result<_>>()?;
            let node = choice
                .reduce(outs, weights.as_ref())
                .unwrap_or_else(|| states[1].zeros_like());
            states.push(node);
        }
        Ok(cat_nodes(&states[2..]))
    }
}

/// One cell kind of a DARTS architecture as `[('op', input), ...]` and its node count.
fn genotype_cell(arch: &serde_json::Value, kind: &str) -> Option<(String, usize)> {
    let idx = |label: &str| arch.get(label)?.get("_idx").cloned();
    let mut edges = Vec::new();
    let mut node = 2;
    while let Some(switch) = idx(&format!("{kind}_n{node}_switch")) {
        let mut inputs: Vec<usize> = switch
            .as_array()?
            .iter()
            .map(|v| v.as_u64().map(|v| v as usize))
            .collect::<Option<_>>()?;
        inputs.sort_unstable();
        for i in inputs {
            let op = idx(&format!("{kind}_n{node}_p{i}"))?.as_u64()? as usize;
            edges.push(format!("('{}', {i})", DARTS_OPS.get(op)?));
        }
        node += 1;
    }
    (node > 2).then(|| (format!("[{}]", edges.join(", ")), node))
}

/// A DARTS architecture (NNI format) as the paper's code prints a genotype:
/// `Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), ...)`.
fn darts_genotype(arch: &serde_json::Value) -> Option<String> {
    let (normal, n) = genotype_cell(arch, "normal")?;
    let (reduce, r) = genotype_cell(arch, "reduce")?;
    Some(format!(
        "Genotype(normal={normal}, normal_concat=range(2, {n}), reduce={reduce}, reduce_concat=range(2, {r}))"
    ))
}
