//! ReLU, sharing one computation among the candidates of a mixture.

use crate::{
    error::Result,
    nn::{scaled, Block, Ctx, MixInput},
};
use tch::Tensor;

/// ReLU.
#[derive(Debug)]
pub struct Relu;

impl Block for Relu {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Result<Tensor> {
        Ok(crate::nn::taps::relu(xs))
    }

    /// The input's shared ReLU.
    fn forward_mixed(&self, input: &MixInput, scale: Option<&Tensor>, _: &Ctx) -> Result<Tensor> {
        Ok(scaled(input.relu().shallow_clone(), scale))
    }
}
