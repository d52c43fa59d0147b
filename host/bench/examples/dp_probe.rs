use archon_plugin_api::{space::ChoiceKind, tch::{self, Device, Kind, Tensor}};
use archon_spaces::{choice::Setting, hub::{self, SpaceConfig}, Supernet};
use std::time::Instant;

fn build(cfg: &SpaceConfig) -> Supernet {
    let family = hub::space("darts").unwrap();
    let mut supernet = Supernet::build(family, cfg, Device::Cpu).unwrap();
    for p in supernet.choices().to_vec() {
        let n = p.num_candidates();
        let setting = match p.kind {
            ChoiceKind::Input { .. } => Setting::Fixed((0..n).collect()),
            _ => Setting::Weighted {
                indices: (0..n).collect(),
                weights: Tensor::full([n as i64], 1.0 / n as f64, (Kind::Float, Device::Cpu)),
            },
        };
        supernet.set(&p.label, setting).unwrap();
    }
    supernet
}

fn time_steps(s: &Supernet, batch: i64, reps: usize) -> f64 {
    let xs = Tensor::randn([batch, 3, 28, 28], (Kind::Float, Device::Cpu));
    let mut best = f64::INFINITY;
    for _ in 0..=reps {
        let t = Instant::now();
        s.forward(&xs, true).unwrap().sum(Kind::Float).backward();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let cfg = SpaceConfig {
        input_channels: 3,
        image_size: 28,
        num_classes: 10,
        options: archon_plugin_api::Options::from_json_str(r#"{"width": 8, "cells": 5, "nodes": 4}"#).unwrap(),
        ..SpaceConfig::default()
    };
    let batch: i64 = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(64);
    let threads = tch::get_num_threads();
    let s = build(&cfg);
    println!("intra-op {threads} threads, batch {batch}: {:.0} ms", 1e3 * time_steps(&s, batch, 3));
    tch::set_num_threads(1);
    println!("intra-op 1 thread, batch {batch}: {:.0} ms", 1e3 * time_steps(&s, batch, 3));
    let t = Instant::now();
    let times: Vec<f64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads).map(|_| sc.spawn(|| {
            let s = build(&cfg);
            time_steps(&s, batch / threads as i64, 3)
        })).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!("{threads} replicas × 1 thread, batch {} each: {:?} ms (whole {:.0} ms)", batch / threads as i64, times.iter().map(|t| (t*1e3) as i64).collect::<Vec<_>>(), t.elapsed().as_secs_f64()*1e3);
}
