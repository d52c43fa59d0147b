//! The parameter-free operations that pass or drop their input: the identity
//! (`skip_connect`) and the zero op (`none`).

use crate::{
    error::Result,
    nn::{Block, Ctx},
};
use tch::Tensor;

/// The identity (`skip_connect` at stride 1).
#[derive(Debug)]
pub struct Identity;

impl Block for Identity {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Result<Tensor> {
        Ok(xs.shallow_clone())
    }
}

/// The `none` operation: zeros of the output's shape, no computation.
#[derive(Debug)]
pub struct Zero {
    stride: i64,
}

impl Zero {
    /// A zero op of the given stride.
    pub fn new(stride: i64) -> Self {
        Zero { stride }
    }
}

impl Block for Zero {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Result<Tensor> {
        Ok(if self.stride == 1 {
            xs.zeros_like()
        } else {
            xs.slice(2, 0, None, self.stride)
                .slice(3, 0, None, self.stride)
                .zeros_like()
        })
    }
}
