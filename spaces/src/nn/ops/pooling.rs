//! Max and average pooling with "same" padding.

use crate::{
    error::Result,
    nn::{Block, Ctx},
};
use tch::Tensor;

/// k×k max or average pooling, "same" padding (average excludes padding, as in DARTS).
#[derive(Debug)]
pub struct Pool {
    max: bool,
    kernel: i64,
    stride: i64,
}

impl Pool {
    /// Max pooling.
    pub fn max(kernel: i64, stride: i64) -> Self {
        Pool {
            max: true,
            kernel,
            stride,
        }
    }
    /// Average pooling.
    pub fn avg(kernel: i64, stride: i64) -> Self {
        Pool {
            max: false,
            kernel,
            stride,
        }
    }
}

impl Block for Pool {
    fn forward(&self, xs: &Tensor, _: &Ctx) -> Result<Tensor> {
        let (k, s, p) = (self.kernel, self.stride, self.kernel / 2);
        Ok(if self.max {
            xs.max_pool2d([k, k], [s, s], [p, p], [1, 1], false)
        } else {
            xs.avg_pool2d([k, k], [s, s], [p, p], false, false, None)
        })
    }
}
