//! The operations against their plain forward passes.

use super::*;
use crate::choice::Settings;
use crate::nn::{channels_last, AuxSlot, Block, Ctx, MixInput};
use tch::{nn, Device, Kind, Tensor};

/// A candidate run through `forward_mixed` (shared ReLU, scale folded into the BN)
/// equals `forward` times the scale, in training and evaluation, with and without
/// BN parameters, on NCHW and channels-last inputs.
#[test]
fn forward_mixed_matches_forward() {
    tch::manual_seed(0);
    let settings = Settings::default();
    let aux = AuxSlot::default();
    for affine in [true, false] {
        for train in [true, false] {
            let vs = nn::VarStore::new(Device::Cpu);
            let op = sep_conv(&vs.root(), 4, 4, 3, 1, 1, 1, affine);
            let ctx = Ctx::new(train, &settings, &aux);
            let x = Tensor::randn([2, 4, 6, 6], (Kind::Float, Device::Cpu));
            let scale = Tensor::from(0.3f32);
            let input = channels_last(&x);
            let mixed = op
                .forward_mixed(&MixInput::new(&input), Some(&scale), &ctx)
                .unwrap();
            let plain = op.forward(&x, &ctx).unwrap() * &scale;
            assert!(mixed.allclose(&plain, 1e-5, 1e-5, false));
        }
    }
}
