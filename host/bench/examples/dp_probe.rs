use archon_plugin_api::{
    one_shot::Grads,
    space::ChoiceKind,
    tch::{Device, Kind, Tensor},
};
use archon_spaces::{
    choice::Setting,
    hub::{self, SpaceConfig},
    Supernet,
};
use std::time::Instant;

fn main() {
    let cfg = SpaceConfig {
        input_channels: 3,
        image_size: 28,
        num_classes: 10,
        options: archon_plugin_api::Options::from_json_str(
            r#"{"width": 8, "cells": 5, "nodes": 4}"#,
        )
        .unwrap(),
        ..SpaceConfig::default()
    };
    let replicas: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2);
    let steps: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(10);
    let family = hub::space("darts").unwrap();
    let mut s = Supernet::build(family, &cfg, Device::Cpu).unwrap();
    s.set_replicas(family, &cfg, replicas).unwrap();
    for p in s.choices().to_vec() {
        let n = p.num_candidates();
        let setting = match p.kind {
            ChoiceKind::Input { .. } => Setting::Fixed((0..n).collect()),
            _ => Setting::Weighted {
                indices: (0..n).collect(),
                weights: Tensor::full([n as i64], 1.0 / n as f64, (Kind::Float, Device::Cpu)),
            },
        };
        s.set(&p.label, setting).unwrap();
    }
    let xs = Tensor::randn([64, 3, 28, 28], (Kind::Float, Device::Cpu));
    let ys = Tensor::randint(10, [64], (Kind::Int64, Device::Cpu));
    s.forward_backward(&xs, &ys, Grads::WEIGHTS).unwrap();
    let t = Instant::now();
    for _ in 0..steps {
        s.forward_backward(&xs, &ys, Grads::WEIGHTS).unwrap();
    }
    println!(
        "{replicas} replicas: {:.0} ms/step",
        t.elapsed().as_secs_f64() / steps as f64 * 1e3
    );
}
