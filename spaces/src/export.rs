//! Taking a child network out of archon: TorchScript by tracing.
//!
//! [`to_torchscript`] runs the child once in evaluation mode under libtorch's tracer
//! and saves the recorded graph with the weights as constants, so that
//! `torch.jit.load` (Python) or `torch::jit::load` (C++) runs it without archon. What
//! tracing implies: the weights are frozen into the file (inference only, batch norm
//! uses its running statistics), and the input must keep the traced rank and
//! channel/size layout (the batch size may change). After saving, the file is loaded
//! back and must give the child's logits on the example batch.

use crate::{Child, Result, SpacesError};
use std::path::Path;
use tch::{CModule, Kind, Tensor};

/// The most a traced module's logits may differ from the child's.
pub const TOLERANCE: f64 = 1e-4;

/// Traces `child` (evaluation mode) on `example` (`[N, C, H, W]` float images) and
/// saves it to `path`; returns the largest absolute logit difference between the
/// reloaded file and the child on `example`. With `check`, also saves there the
/// example and the child's logits on it (a TorchScript archive: in Python,
/// `dict(torch.jit.load(check).named_parameters())` has `inputs` and `logits`), so
/// that any runtime can be checked against archon.
pub fn to_torchscript(
    child: &mut Child,
    example: &Tensor,
    path: &Path,
    check: Option<&Path>,
) -> Result<f64> {
    if example.kind() != Kind::Float || example.dim() != 4 {
        return Err(SpacesError::Config(format!(
            "TorchScript export traces image networks ([N, C, H, W] float input); this one takes {:?} {:?} (text spaces such as textnas are not exported: their masks depend on each text's length)",
            example.kind(),
            example.size()
        )));
    }
    // The tracer records weights that need no gradient as constants.
    child.var_store_mut().freeze();
    let result = trace_and_check(child, example, path, check);
    child.var_store_mut().unfreeze();
    result
}

fn trace_and_check(
    child: &Child,
    example: &Tensor,
    path: &Path,
    check: Option<&Path>,
) -> Result<f64> {
    let mut failure = None;
    let traced = tch::no_grad(|| {
        CModule::create_by_tracing(
            "ArchonChild",
            "forward",
            &[example.shallow_clone()],
            &mut |xs| match child.forward(&xs[0], false) {
                Ok(logits) => vec![logits],
                Err(e) => {
                    failure = Some(e);
                    vec![xs[0].shallow_clone()]
                }
            },
        )
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let module = traced?;
    module.save(path)?;
    let loaded = CModule::load_on_device(path, example.device())?;
    let (want, got) = tch::no_grad(|| -> Result<(Tensor, Tensor)> {
        Ok((
            child.forward(example, false)?,
            loaded.forward_ts(&[example])?,
        ))
    })?;
    if want.size() != got.size() {
        return Err(SpacesError::Config(format!(
            "the saved TorchScript module gives logits of shape {:?}, the child {:?}",
            got.size(),
            want.size()
        )));
    }
    let diff = (&want - got).abs().max().double_value(&[]);
    if let Some(check) = check {
        Tensor::save_multi(
            &[
                ("inputs", &example.to_device(tch::Device::Cpu)),
                ("logits", &want.to_device(tch::Device::Cpu)),
            ],
            check,
        )?;
    }
    if diff.is_nan() || diff > TOLERANCE {
        return Err(SpacesError::Config(format!(
            "the saved TorchScript module differs from the child by {diff:e} in its logits (tolerance {TOLERANCE:e}): the network does something tracing cannot record"
        )));
    }
    Ok(diff)
}
