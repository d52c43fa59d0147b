use archon_plugin_api::tch::{self, Device, Kind, Tensor};
use archon_spaces::{hub::{self, SpaceConfig}, Child};
use std::time::Instant;

fn build(width: i64) -> Child {
    let cfg = SpaceConfig {
        input_channels: 1, image_size: 28, num_classes: 10,
        options: archon_plugin_api::Options::from_json_str(&format!(r#"{{"width": {width}, "cells_per_stage": 1, "ops": "skip_connect,nor_conv_3x3,avg_pool_3x3"}}"#)).unwrap(),
        ..SpaceConfig::default()
    };
    let arch = serde_json::json!({"edge_1_0":{"_idx":1},"edge_2_0":{"_idx":1},"edge_2_1":{"_idx":1},"edge_3_0":{"_idx":1},"edge_3_1":{"_idx":1},"edge_3_2":{"_idx":2}});
    Child::build(hub::space("nas-bench-201").unwrap(), &cfg, &arch, Device::Cpu).unwrap()
}

fn time_steps(c: &Child, batch: i64, reps: usize) -> f64 {
    let xs = Tensor::randn([batch, 1, 28, 28], (Kind::Float, Device::Cpu));
    let ys = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let t = Instant::now();
    for _ in 0..reps {
        let (l, _) = c.forward_train(&xs, 0.0).unwrap();
        l.cross_entropy_for_logits(&ys).backward();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let width: i64 = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(8);
    let batch: i64 = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(128);
    let threads = tch::get_num_threads();
    let c = build(width);
    time_steps(&c, batch, 2);
    println!("width {width}: intra-op {threads} threads, batch {batch}: {:.1} ms", 1e3 * time_steps(&c, batch, 20));
    tch::set_num_threads(1);
    println!("intra-op 1 thread: {:.1} ms", 1e3 * time_steps(&c, batch, 20));
    let times: Vec<f64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads).map(|_| sc.spawn(|| { let c = build(width); time_steps(&c, batch / threads as i64, 2); time_steps(&c, batch / threads as i64, 20) })).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!("{threads} replicas × 1 thread, batch {} each: {:?}", batch / threads as i64, times.iter().map(|t| format!("{:.1} ms", t*1e3)).collect::<Vec<_>>());
}
