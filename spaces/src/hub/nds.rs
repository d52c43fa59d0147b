//! NNI's NDS family of cell spaces (Radosavovic et al. 2019, "On Network Design
//! Spaces for Visual Recognition"): NASNet, ENAS micro, AmoebaNet and PNAS, on the
//! shared cell skeleton. Each node of a cell has two slots; slot s of node n chooses
//! one predecessor (`{kind}_n{n}_i{s}`) and one operation (`{kind}_n{n}_op{s}`); the
//! node is the sum of its two slots. Cells concatenate all their nodes (NNI's
//! "all" merge).
//!
//! An operation's weights depend on which input it is applied to (in reduction cells
//! the two cell inputs need stride 2, the inner nodes do not), so a slot holds one
//! copy of its operation per possible input, all driven by one label; a child builds
//! only the copy for the input it chose.

use super::{
    cell_network::{apply_edge, cell_network, cell_options, CellBody, CellSpec},
    SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption,
};
use crate::{
    choice::{Builder, InputChoice, LayerChoice, Reduction},
    error::Result,
    nn::{
        cat_nodes,
        ops::{cell_op, AMOEBA_OPS, ENAS_OPS, NASNET_OPS, PNAS_OPS},
        BoxBlock, Ctx,
    },
};
use tch::{nn, Tensor};

/// One member of the NDS family.
pub struct Nds {
    name: &'static str,
    description: &'static str,
    ops: &'static [&'static str],
}

static NASNET: Nds = Nds {
    name: "nasnet",
    description: "NASNet cell space (NDS): 13 ops, 5 nodes of 2 (input, op) slots",
    ops: &NASNET_OPS,
};
static ENAS_MICRO: Nds = Nds {
    name: "enas-micro",
    description: "ENAS micro (cell) space (NDS): 5 ops, 5 nodes of 2 (input, op) slots",
    ops: &ENAS_OPS,
};
static AMOEBANET: Nds = Nds {
    name: "amoebanet",
    description: "AmoebaNet cell space (NDS): 8 ops, 5 nodes of 2 (input, op) slots",
    ops: &AMOEBA_OPS,
};
static PNAS: Nds = Nds {
    name: "pnas",
    description: "PNAS cell space (NDS): 8 ops, 5 nodes of 2 (input, op) slots",
    ops: &PNAS_OPS,
};

inventory::submit!(SpaceEntry(&NASNET));
inventory::submit!(SpaceEntry(&ENAS_MICRO));
inventory::submit!(SpaceEntry(&AMOEBANET));
inventory::submit!(SpaceEntry(&PNAS));

const OPTIONS: [SpaceOption; 5] = cell_options("5");

impl SpaceFamily for Nds {
    fn cell_based(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn options(&self) -> &'static [SpaceOption] {
        &OPTIONS
    }
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        cell_network(self, p, cfg, 5, |cp, spec| {
            Ok(Box::new(NdsCell::new(cp, b, spec, self.ops)?))
        })
    }
}

/// One slot: its input choice and its operation on each possible input.
#[derive(Debug)]
struct Slot {
    input: InputChoice,
    ops: Vec<Option<LayerChoice>>,
}

#[derive(Debug)]
struct NdsCell {
    nodes: Vec<[Slot; 2]>,
    /// Whether ops on the cell inputs have stride 2.
    reduction: bool,
}

impl NdsCell {
    fn new(p: &nn::Path, b: &Builder, spec: &CellSpec, ops: &[&str]) -> Result<Self> {
        let kind = spec.kind;
        b.set_group(Some(kind));
        let mut nodes = Vec::new();
        for j in 0..spec.nodes {
            let node = j + 2;
            let preds: Vec<String> = (0..node).map(|i| format!("p{i}")).collect();
            let slot = |s: usize| -> Result<Slot> {
                let id = format!("cells.{}.n{node}.s{s}", spec.index);
                let input = InputChoice::new(
                    b,
                    &format!("{id}.input"),
                    &format!("{kind}_n{node}_i{s}"),
                    &preds,
                    Some(1),
                    Reduction::Sum,
                )?;
                let used = input.child_selection().map(<[usize]>::to_vec);
                let mut per_input = Vec::new();
                for i in 0..node {
                    if used.as_ref().is_some_and(|u| !u.contains(&(i as usize))) {
                        per_input.push(None);
                        continue;
                    }
                    let stride = if spec.reduction && i < 2 { 2 } else { 1 };
                    let (c, affine) = (spec.c, spec.affine);
                    let path = p / format!("n{node}") / format!("s{s}") / format!("p{i}");
                    per_input.push(Some(LayerChoice::new(
                        b,
                        &path,
                        &format!("{id}.p{i}"),
                        &format!("{kind}_n{node}_op{s}"),
                        ops,
                        |name, path| cell_op(name, path, c, stride, affine),
                    )?));
                }
                Ok(Slot {
                    input,
                    ops: per_input,
                })
            };
            nodes.push([slot(0)?, slot(1)?]);
        }
        Ok(NdsCell {
            nodes,
            reduction: spec.reduction,
        })
    }
}

impl CellBody for NdsCell {
    fn forward(&self, inputs: [Tensor; 2], ctx: &Ctx) -> Result<Tensor> {
        let mut states: Vec<Tensor> = inputs.into();
        for slots in &self.nodes {
            let mut node: Option<Tensor> = None;
            for slot in slots {
                let (active, weights) = slot.input.active(ctx);
                let outs: Vec<Tensor> = active
                    .iter()
                    .map(|&i| {
                        let op = slot.ops[i]
                            .as_ref()
                            .expect("a child builds the ops it uses");
                        let stride = if self.reduction && i < 2 { 2 } else { 1 };
                        apply_edge(op, stride, &states[i], ctx)
                    })
                    .collect::<Result<_>>()?;
                if let Some(y) = slot.input.reduce(outs, weights.as_ref()) {
                    node = Some(match node {
                        Some(acc) => acc + y,
                        None => y,
                    });
                }
            }
            states.push(node.unwrap_or_else(|| states[1].zeros_like()));
        }
        Ok(cat_nodes(&states[2..]))
    }
}
