//! Tensors through a loaded plugin and back: values, gradients to the host's leaf,
//! and 10,000 round trips with flat memory (no leak, no double free).

use archon::plugins::load;
use archon_plugin_api::{
    tch::{Device, Kind, Tensor},
    CellClient, ErrorKind,
};
use archon_tests::library;

fn probe(w: f64) -> CellClient {
    let plugin = load(&library("fixture-tensor-probe")).expect("the tensor probe loads");
    let new_cell = plugin
        .module()
        .new_cell()
        .expect("plugin-api 0.1 has new_cell");
    CellClient::from_box(
        new_cell(format!(r#"{{"w": {w}}}"#).as_str().into())
            .into_result()
            .unwrap(),
    )
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_device(Device::Cpu).to_kind(Kind::Float)).unwrap()
}

fn round_trip_with_gradients(device: Device) {
    let mut cell = probe(3.0);
    let specs = cell.parameters().unwrap();
    assert_eq!(
        specs,
        vec![archon_plugin_api::ParamSpec::new(
            "scale",
            &[1],
            archon_plugin_api::Init::Ones
        )]
    );
    let xs = [0.0f32, 0.5, 1.0, 2.0];
    let x = Tensor::from_slice(&xs)
        .to_device(device)
        .set_requires_grad(true);
    let scale = Tensor::from_slice(&[2.0f32])
        .to_device(device)
        .set_requires_grad(true);
    let y = cell.forward(&[&x], &[&scale]).unwrap();
    for (got, x) in values(&y).iter().zip(xs) {
        assert!(
            (got - (3.0 * x + 2.0 * x.sin())).abs() < 1e-5,
            "y = {got} at x = {x}"
        );
    }
    y.sum(Kind::Float).backward();
    for (grad, x) in values(&x.grad()).iter().zip(xs) {
        assert!(
            (grad - (3.0 + 2.0 * x.cos())).abs() < 1e-5,
            "dy/dx = {grad} at x = {x}"
        );
    }
    let dscale: f32 = xs.iter().map(|x| x.sin()).sum();
    assert!(
        (values(&scale.grad())[0] - dscale).abs() < 1e-5,
        "dy/dscale"
    );
}

#[test]
fn gradients_flow_from_the_plugin_back_to_the_host_leaf() {
    round_trip_with_gradients(Device::Cpu);
    if archon_plugin_api::tch::Cuda::is_available() {
        round_trip_with_gradients(Device::Cuda(0));
    }
}

#[test]
fn the_cell_describes_itself_and_rejects_bad_input() {
    let mut cell = probe(1.0);
    assert_eq!(cell.describe().unwrap()["inputs"], 1);
    let x = Tensor::ones([2], (Kind::Float, Device::Cpu));
    let e = cell.forward(&[&x, &x], &[&x]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.message()
            .contains("takes 1 input and 1 parameter, got 2 and 1"),
        "{e}"
    );
}

/// Resident memory of this process in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// The measurement itself; run alone in a child process by the test below, so that
/// other tests in this process do not move its memory.
#[test]
#[ignore = "run in its own process by ten_thousand_round_trips_keep_memory_flat"]
fn round_trip_memory_probe() {
    let mut cell = probe(2.0);
    // 64 KiB per tensor: leaking one per trip would grow memory by 640 MiB.
    let x = Tensor::rand([16384], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let scale = Tensor::ones([1], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let trip = |cell: &mut CellClient, i: usize| {
        let y = cell.forward(&[&x], &[&scale]).unwrap();
        if i.is_multiple_of(10) {
            y.sum(Kind::Float).backward();
        }
    };
    for i in 0..1000 {
        trip(&mut cell, i);
    }
    let before = rss_bytes();
    for i in 0..10_000 {
        trip(&mut cell, i);
    }
    println!("\nRSS-BEFORE {before} RSS-AFTER {}", rss_bytes());
}

#[test]
fn ten_thousand_round_trips_keep_memory_flat() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "tensor::round_trip_memory_probe",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let numbers: Vec<u64> = stdout
        .lines()
        .find_map(|l| l.split_once("RSS-BEFORE ").map(|(_, rest)| rest))
        .expect("the probe prints its measurement")
        .split(" RSS-AFTER ")
        .map(|n| n.trim().parse().unwrap())
        .collect();
    let grown = numbers[1].saturating_sub(numbers[0]);
    assert!(
        grown < 16 << 20,
        "memory grew by {} KiB over 10,000 round trips",
        grown >> 10
    );
}
