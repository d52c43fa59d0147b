//! The operations of the published spaces by name: the lists each space searches and
//! the constructors that build an operation from its name.

use super::{
    conv_1xk_kx1, dil_conv, relu_conv_bn, sep_conv, FactorizedReduce, Identity, Pool, Zero,
};
use crate::error::{Result, SpacesError};
use crate::nn::BoxBlock;
use tch::nn;

/// The 8 operations of the DARTS space.
pub const DARTS_OPS: [&str; 8] = [
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
];

/// NASNet's 13 operations (as in NNI's NDS spaces).
pub const NASNET_OPS: [&str; 13] = [
    "skip_connect",
    "conv_3x1_1x3",
    "conv_7x1_1x7",
    "dil_conv_3x3",
    "avg_pool_3x3",
    "max_pool_3x3",
    "max_pool_5x5",
    "max_pool_7x7",
    "conv_1x1",
    "conv_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
];

/// ENAS micro's 5 operations.
pub const ENAS_OPS: [&str; 5] = [
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "avg_pool_3x3",
    "max_pool_3x3",
];

/// AmoebaNet's 8 operations.
pub const AMOEBA_OPS: [&str; 8] = [
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "avg_pool_3x3",
    "max_pool_3x3",
    "dil_sep_conv_3x3",
    "conv_7x1_1x7",
];

/// PNAS's 8 operations.
pub const PNAS_OPS: [&str; 8] = [
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "conv_7x1_1x7",
    "skip_connect",
    "avg_pool_3x3",
    "max_pool_3x3",
    "dil_conv_3x3",
];

/// Every cell operation by name, on `c` channels (DARTS and the NDS family).
pub fn cell_op(name: &str, p: &nn::Path, c: i64, stride: i64, affine: bool) -> Result<BoxBlock> {
    Ok(match name {
        "none" => Box::new(Zero::new(stride)),
        "max_pool_3x3" => Box::new(Pool::max(3, stride)),
        "max_pool_5x5" => Box::new(Pool::max(5, stride)),
        "max_pool_7x7" => Box::new(Pool::max(7, stride)),
        "avg_pool_3x3" => Box::new(Pool::avg(3, stride)),
        "skip_connect" if stride == 1 => Box::new(Identity),
        "skip_connect" => Box::new(FactorizedReduce::new(p, c, c, affine)),
        "conv_1x1" => Box::new(relu_conv_bn(p, c, c, 1, stride, 0, affine)),
        "conv_3x3" => Box::new(relu_conv_bn(p, c, c, 3, stride, 1, affine)),
        "conv_3x1_1x3" => Box::new(conv_1xk_kx1(p, c, 3, stride, affine)),
        "conv_7x1_1x7" => Box::new(conv_1xk_kx1(p, c, 7, stride, affine)),
        "sep_conv_3x3" => Box::new(sep_conv(p, c, c, 3, stride, 1, 1, affine)),
        "sep_conv_5x5" => Box::new(sep_conv(p, c, c, 5, stride, 2, 1, affine)),
        "sep_conv_7x7" => Box::new(sep_conv(p, c, c, 7, stride, 3, 1, affine)),
        "dil_sep_conv_3x3" => Box::new(sep_conv(p, c, c, 3, stride, 2, 2, affine)),
        "dil_conv_3x3" => Box::new(dil_conv(p, c, c, 3, stride, 2, 2, affine)),
        "dil_conv_5x5" => Box::new(dil_conv(p, c, c, 5, stride, 4, 2, affine)),
        other => {
            return Err(unknown_op(
                other,
                &[&DARTS_OPS[..], &NASNET_OPS[..], &["dil_sep_conv_3x3"]].concat(),
            ))
        }
    })
}

/// The 5 operations of NAS-Bench-201.
pub const NB201_OPS: [&str; 5] = [
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
];

/// A NAS-Bench-201 operation on `c` channels (stride 1 inside cells).
pub fn nb201_op(name: &str, p: &nn::Path, c: i64, affine: bool) -> Result<BoxBlock> {
    Ok(match name {
        "none" => Box::new(Zero::new(1)),
        "skip_connect" => Box::new(Identity),
        "nor_conv_1x1" => Box::new(relu_conv_bn(p, c, c, 1, 1, 0, affine)),
        "nor_conv_3x3" => Box::new(relu_conv_bn(p, c, c, 3, 1, 1, affine)),
        "avg_pool_3x3" => Box::new(Pool::avg(3, 1)),
        other => return Err(unknown_op(other, &NB201_OPS)),
    })
}

fn unknown_op(name: &str, known: &[&str]) -> SpacesError {
    SpacesError::Config(format!(
        "unknown operation {name:?} (known: {})",
        known.join(", ")
    ))
}
