//! Every space: supernet ≡ child under one architecture, weighted gradients, hand
//! counts of params and FLOPs, and NNI-format search spaces.

use super::*;
use crate::{choice::Setting, Child, Supernet};
use archon_plugin_api::{
    one_shot::CandidateRole, space::ChoiceKind, Architecture, Options, TunerClient,
};
use tch::{Device, Kind, Tensor};

fn cfg(options: &str) -> SpaceConfig {
    SpaceConfig {
        options: Options::from_json_str(options).unwrap(),
        vocab_size: 50,
        ..SpaceConfig::default()
    }
}

/// A batch of `n` inputs for a space: token ids (with padding) for text, else images.
fn input_for(name: &str, n: i64) -> Tensor {
    if name == "textnas" {
        let tokens = Tensor::randint_low(1, 50, [n, 12], (Kind::Int64, Device::Cpu));
        // The last 4 positions of the first example are padding.
        let _ = tokens.get(0).narrow(0, 8, 4).fill_(0);
        tokens
    } else {
        Tensor::randn([n, 1, 28, 28], (Kind::Float, Device::Cpu))
    }
}

/// Small configurations of every space, fast enough for CPU tests.
fn small_spaces() -> Vec<(&'static str, SpaceConfig)> {
    let cells = r#"{"width": 4, "cells": 3, "nodes": 2}"#;
    vec![
        ("darts", cfg(cells)),
        (
            "nas-bench-201",
            cfg(r#"{"width": 4, "cells_per_stage": 1}"#),
        ),
        ("nasnet", cfg(cells)),
        ("enas-micro", cfg(cells)),
        ("amoebanet", cfg(cells)),
        ("pnas", cfg(cells)),
        ("enas-macro", cfg(r#"{"width": 4, "layers": 6}"#)),
        ("textnas", cfg(r#"{"width": 8, "layers": 7}"#)),
        ("proxylessnas", cfg(r#"{"width": 4, "max_depth": 2}"#)),
        ("shufflenet", cfg(r#"{"width": 2, "blocks_per_stage": 1}"#)),
        ("resnet", cfg(r#"{"width": 2, "blocks": 1}"#)),
    ]
}

#[test]
fn the_hub_lists_every_space() {
    let names: Vec<&str> = spaces().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "amoebanet",
            "custom-cell",
            "darts",
            "enas-macro",
            "enas-micro",
            "nas-bench-201",
            "nasnet",
            "pnas",
            "proxylessnas",
            "resnet",
            "shufflenet",
            "textnas"
        ]
    );
    let e = space("dartz").err().unwrap().to_string();
    assert!(
        e.starts_with("no search space named \"dartz\" (known: amoebanet, custom-cell, darts,"),
        "{e}"
    );
}

#[test]
fn supernet_with_fixed_settings_equals_the_child() {
    tch::manual_seed(0);
    for (name, cfg) in small_spaces() {
        let family = space(name).unwrap();
        let mut supernet = Supernet::build(family, &cfg, Device::Cpu).unwrap();
        let space = supernet.search_space().clone();
        let size = space.size().unwrap();
        let xs = input_for(name, 3);
        for k in 0..4u128 {
            let arch = space.architecture_at((k * 7919 + 13) % size).unwrap();
            let json = arch.to_json(&space);
            supernet.set_architecture(&arch).unwrap();
            let mut child = Child::build(family, &cfg, &json, Device::Cpu).unwrap();
            child.load_from_supernet(&supernet).unwrap();
            let a = supernet.forward(&xs, false).unwrap();
            let b = child.forward(&xs, false).unwrap();
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(
                diff < 1e-5,
                "{name}: supernet and child differ by {diff} for {json}"
            );
            let supernet_params = supernet
                .var_store()
                .trainable_variables()
                .iter()
                .map(|t| t.numel() as u64)
                .sum::<u64>();
            // A space without choices (the ResNet reference) is its own only child.
            if size > 1 {
                assert!(child.params() < supernet_params, "{name}");
            } else {
                assert_eq!(child.params(), supernet_params, "{name}");
            }
        }
    }
}

#[test]
fn weighted_settings_pass_gradients_to_the_weights() {
    for (name, cfg) in small_spaces() {
        assert_weighted_gradients(name, &cfg);
    }
}

/// Every layer and value choice of `name`'s supernet a softmax mixture: a backward
/// pass reaches every mixture's α.
fn assert_weighted_gradients(name: &str, cfg: &SpaceConfig) {
    let family = space(name).unwrap();
    let mut supernet = Supernet::build(family, cfg, Device::Cpu).unwrap();
    let mut alphas = Vec::new();
    let points: Vec<_> = supernet.choices().to_vec();
    let mut done = std::collections::HashSet::new();
    for p in &points {
        if !done.insert(p.label.clone()) {
            continue;
        }
        let n = p.num_candidates();
        let setting = match &p.kind {
            ChoiceKind::Layer { .. } | ChoiceKind::Value { .. } => {
                let alpha =
                    Tensor::randn([n as i64], (Kind::Float, Device::Cpu)).set_requires_grad(true);
                let s = Setting::Weighted {
                    indices: (0..n).collect(),
                    weights: alpha.softmax(0, Kind::Float),
                };
                alphas.push((p.label.clone(), alpha));
                s
            }
            _ => Setting::Fixed((0..n).collect()),
        };
        supernet.set(&p.label, setting).unwrap();
    }
    let xs = input_for(name, 2);
    let logits = supernet.forward(&xs, true).unwrap();
    assert_eq!(logits.size(), [2, 10], "{name}");
    logits
        .cross_entropy_for_logits(&Tensor::from_slice(&[1i64, 3]))
        .backward();
    for (label, alpha) in alphas {
        let g = alpha.grad().abs().sum(Kind::Float).double_value(&[]);
        assert!(
            g > 0.0,
            "{name}: no gradient reached the weights of {label}"
        );
    }
}

#[test]
fn partial_channel_supernets_mix_a_fraction_of_the_channels() {
    for (name, options, k) in [
        ("darts", r#"{"width": 8, "cells": 3, "nodes": 2}"#, 4),
        ("nas-bench-201", r#"{"width": 4, "cells_per_stage": 1}"#, 2),
    ] {
        let full = cfg(options);
        let mut partial = cfg(options);
        partial.options = Options::from_json_str(
            &options.replace('}', &format!(r#", "partial_channels": {k}}}"#)),
        )
        .unwrap();
        assert_weighted_gradients(name, &partial);
        let weights = |c: &SpaceConfig| {
            let s = Supernet::build(space(name).unwrap(), c, Device::Cpu).unwrap();
            let candidates: i64 = s
                .var_store()
                .variables()
                .iter()
                .filter(|(n, _)| s.is_candidate_weight(n))
                .map(|(_, t)| t.numel() as i64)
                .sum();
            (candidates, s.search_space().clone())
        };
        let ((all, space_full), (fraction, space_partial)) = (weights(&full), weights(&partial));
        // Convolutions scale with the square of the channels: well under 1/K.
        assert!(
            fraction * k < all,
            "{name}: {fraction} candidate weights with K = {k}, {all} without"
        );
        // The same decisions: an architecture found with partial channels is one of
        // the space's.
        assert_eq!(space_full.to_json(), space_partial.to_json(), "{name}");
    }
}

#[test]
fn params_and_flops_match_hand_counts() {
    // NAS-Bench-201, width 2, one cell per stage, on 1×8×8; edge_1_0 = nor_conv_1x1,
    // every other edge skip_connect. Counted by hand in the comments.
    let nb = cfg(r#"{"width": 2, "cells_per_stage": 1}"#);
    let mut arch = serde_json::Map::new();
    for (to, from) in [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)] {
        let (op, idx) = if (to, from) == (1, 0) {
            ("nor_conv_1x1", 2)
        } else {
            ("skip_connect", 1)
        };
        arch.insert(
            format!("edge_{to}_{from}"),
            serde_json::json!({"_value": op, "_idx": idx}),
        );
    }
    let child = Child::build(
        space("nas-bench-201").unwrap(),
        &nb,
        &serde_json::Value::Object(arch),
        Device::Cpu,
    )
    .unwrap();
    // stem 9C+2C=22, cells 8+24+80, reductions 240+928, last BN 16, classifier 90.
    assert_eq!(child.params(), 1408);
    // stem 1152, cells 256·3, reductions (1152+2304+128)·2, classifier 80.
    assert_eq!(child.flops([1, 8, 8]), 9168);

    // DARTS, width 2, one (reduction) cell of one node, on 1×8×8; the node takes
    // skip_connect (a factorized reduce) from p0 and max_pool_3x3 from p1.
    let darts = cfg(r#"{"width": 2, "cells": 1, "nodes": 1}"#);
    let arch = serde_json::json!({
        "reduce_n2_switch": {"_idx": [0, 1]},
        "reduce_n2_p0": {"_idx": 3},
        "reduce_n2_p1": {"_idx": 1}
    });
    let child = Child::build(space("darts").unwrap(), &darts, &arch, Device::Cpu).unwrap();
    // stem 54+12, pre0 24+8, pre1 24+8, factorized reduce 8+8+8, classifier 40+10.
    assert_eq!(child.params(), 204);
    // stem 3456, pre0 1536, pre1 1536, factorized reduce 128+128, classifier 40.
    assert_eq!(child.flops([1, 8, 8]), 6824);

    // ResNet-20 on one input channel: stem 144+32; stage 1: 3 × (2·2304 + 2·32);
    // stage 2: 4608+9216+128 + shortcut 512+64, then 2 × (2·9216 + 128); stage 3:
    // 18432+36864+256 + shortcut 2048+128, then 2 × (2·36864 + 256); classifier 650.
    let resnet = Child::build(
        space("resnet").unwrap(),
        &cfg("{}"),
        &serde_json::json!({}),
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(resnet.params(), 144 + 32 + 14_016 + 51_648 + 205_696 + 650);
}

#[test]
fn nds_params_and_flops_match_hand_counts() {
    // ENAS micro, width 2, one (reduction) cell of one node, on 1×8×8: slot 0 takes
    // skip_connect (a factorized reduce) of p0, slot 1 avg_pool_3x3 of p1.
    let enas = cfg(r#"{"width": 2, "cells": 1, "nodes": 1}"#);
    let arch = serde_json::json!({
        "reduce_n2_i0": {"_idx": [0]}, "reduce_n2_op0": {"_idx": 0},
        "reduce_n2_i1": {"_idx": [1]}, "reduce_n2_op1": {"_idx": 3}
    });
    let child = Child::build(space("enas-micro").unwrap(), &enas, &arch, Device::Cpu).unwrap();
    // stem 54+12, pre0 24+8, pre1 24+8, factorized reduce 8+8+8, classifier 40+10.
    assert_eq!(child.params(), 204);
    // stem 3456, pre0 1536, pre1 1536, factorized reduce 128+128, classifier 40.
    assert_eq!(child.flops([1, 8, 8]), 6824);
}

#[test]
fn enas_macro_params_and_flops_match_hand_counts() {
    // Width 2, 3 layers (reductions after layers 0 and 1), on 1×8×8: pools only, no
    // skip into layer 1, the stem skipped into layer 2.
    let macro_cfg = cfg(r#"{"width": 2, "layers": 3}"#);
    let arch = serde_json::json!({
        "layer_0": {"_idx": 5}, "layer_1": {"_idx": 4}, "skip_1": {"_idx": []},
        "layer_2": {"_idx": 5}, "skip_2": {"_idx": [0]}
    });
    let child = Child::build(space("enas-macro").unwrap(), &macro_cfg, &arch, Device::Cpu).unwrap();
    // stem 18+4, three 1×1 pre-convs 4 each, two factorized reduces 8 each, classifier 30.
    assert_eq!(child.params(), 80);
    // stem 1152, pre-convs 256+64+16, reduces 2·64 then 3·16, classifier 20.
    assert_eq!(child.flops([1, 8, 8]), 1684);
}

#[test]
fn textnas_params_and_flops_match_hand_counts() {
    // Width 4, one layer of conv_1, a vocabulary of 5 words, 2 classes, 6 tokens.
    let text = SpaceConfig {
        num_classes: 2,
        vocab_size: 5,
        ..cfg(r#"{"width": 4, "layers": 1}"#)
    };
    let child = Child::build(
        space("textnas").unwrap(),
        &text,
        &serde_json::json!({"op_0": {"_idx": 0}}),
        Device::Cpu,
    )
    .unwrap();
    // embedding 5·4, 1-wide conv 4·4, classifier 4·2+2 (batch norms are not affine).
    assert_eq!(child.params(), 46);
    // conv: 6 positions × 4 channels × 4 inputs; classifier 4·2.
    assert_eq!(
        child.flops_for(&Tensor::ones([1, 6], (Kind::Int64, Device::Cpu))),
        104
    );
}

#[test]
fn proxylessnas_params_and_flops_match_hand_counts() {
    // Width 2 (stages of 3, 5, 10, 12 channels), one block per stage, kernel 3 and
    // expansion 3 everywhere, on 1×8×8.
    let chain = cfg(r#"{"width": 2, "max_depth": 1}"#);
    let mut arch = serde_json::Map::new();
    for i in 0..4 {
        for key in [
            format!("s{i}_depth"),
            format!("s{i}_b0_k"),
            format!("s{i}_b0_e"),
        ] {
            arch.insert(key, serde_json::json!({"_idx": 0}));
        }
    }
    let child = Child::build(
        space("proxylessnas").unwrap(),
        &chain,
        &serde_json::Value::Object(arch),
        Device::Cpu,
    )
    .unwrap();
    // stem 22; blocks 114, 199, 440, 1074 (expand, depthwise, project + their BNs);
    // head 192+32; classifier 170.
    assert_eq!(child.params(), 2243);
    // stem 1152; blocks 1920, 936, 585, 930; head 192; classifier 160.
    assert_eq!(child.flops([1, 8, 8]), 5875);
}

#[test]
fn shufflenet_params_and_flops_match_hand_counts() {
    // Width 2: stages of 8, 16, 32 (two blocks) and 64 channels, all choice_3, on
    // 1×8×8 (only the first block halves the resolution: 8 → 4).
    let spos = SpaceConfig {
        image_size: 8,
        ..cfg(r#"{"width": 2, "blocks_per_stage": 1}"#)
    };
    let arch: serde_json::Map<String, serde_json::Value> = (0..5)
        .map(|i| (format!("block{i}"), serde_json::json!({"_idx": 0})))
        .collect();
    let child = Child::build(
        space("shufflenet").unwrap(),
        &spos,
        &serde_json::Value::Object(arch),
        Device::Cpu,
    )
    .unwrap();
    // stem 22; blocks 126, 416, 1216, 752, 3968; head 8192+256; classifier 1290.
    assert_eq!(child.params(), 16238);
    // stem 1152; blocks 1824, 5376, 16896, 10496, 58368; head 131072; classifier 1280.
    assert_eq!(child.flops([1, 8, 8]), 226464);
}

#[test]
fn an_auxiliary_head_adds_training_logits_only() {
    let family = space("darts").unwrap();
    let arch = Child::space_of(family, &cfg(r#"{"width": 4, "cells": 3, "nodes": 2}"#))
        .unwrap()
        .architecture_at(12345)
        .unwrap();
    let json = arch.to_json(
        &Child::space_of(family, &cfg(r#"{"width": 4, "cells": 3, "nodes": 2}"#)).unwrap(),
    );
    let plain = Child::build(
        family,
        &cfg(r#"{"width": 4, "cells": 3, "nodes": 2}"#),
        &json,
        Device::Cpu,
    )
    .unwrap();
    let with_aux = Child::build(
        family,
        &cfg(r#"{"width": 4, "cells": 3, "nodes": 2, "auxiliary": true}"#),
        &json,
        Device::Cpu,
    )
    .unwrap();
    assert!(with_aux.params() > plain.params());
    let xs = input_for("darts", 4);
    let (logits, aux) = with_aux.forward_train(&xs, 0.3).unwrap();
    assert_eq!(logits.size(), [4, 10]);
    assert_eq!(
        aux.expect("training produces auxiliary logits").size(),
        [4, 10]
    );
    assert!(plain.forward_train(&xs, 0.0).unwrap().1.is_none());
    // Evaluation ignores the head and drop-path: it is deterministic.
    let a = with_aux.forward(&xs, false).unwrap();
    let b = with_aux.forward(&xs, false).unwrap();
    assert!(a.equal(&b));
}

#[test]
fn drop_path_zeroes_whole_examples_and_keeps_the_mean() {
    tch::manual_seed(1);
    let xs = Tensor::ones([4000, 2, 3, 3], (Kind::Float, Device::Cpu));
    let out = crate::nn::ops::drop_path(xs, 0.25);
    let per_example = out.sum_dim_intlist([1, 2, 3].as_slice(), false, Kind::Float);
    let dropped = per_example.eq(0.0).sum(Kind::Int64).int64_value(&[]);
    assert!((800..1200).contains(&dropped), "{dropped} of 4000 dropped");
    let mean = out.mean(Kind::Float).double_value(&[]);
    assert!((mean - 1.0).abs() < 0.05, "mean {mean}");
}

#[test]
fn search_spaces_are_nni_format_and_feed_the_random_tuner() {
    let family = space("darts").unwrap();
    let cfg = SpaceConfig::default();
    let space = Child::space_of(family, &cfg).unwrap();
    // 4 nodes: 4 switches and 2+3+4+5 edges, for normal and reduction cells.
    assert_eq!(space.choices().len(), 36);
    assert_eq!(
        space.choice("normal_n5_switch").unwrap().1.num_candidates(),
        5
    );
    // The JSON round-trips through the validator and drives the random tuner.
    let text = space.to_json().to_string();
    let mut tuner =
        TunerClient::in_process::<archon_random::RandomTuner>(r#"{"seed": 1}"#).unwrap();
    tuner.update_search_space(&text).unwrap();
    let params = tuner.generate_parameters(0).unwrap().unwrap();
    Architecture::from_json(&space, &params).unwrap();
    let small = super::tests::cfg(r#"{"width": 4, "cells": 3}"#);
    let child = Child::build(family, &small, &params, Device::Cpu).unwrap();
    let out = child
        .forward(
            &Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu)),
            true,
        )
        .unwrap();
    assert_eq!(out.size(), [2, 10]);
}

#[test]
fn nas_bench_201_has_15625_architectures_and_arch_strings() {
    let family = space("nas-bench-201").unwrap();
    let space = Child::space_of(family, &SpaceConfig::default()).unwrap();
    assert_eq!(space.size(), Some(15625));
    let text =
        "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|";
    let ops = nb201_ops(&SpaceConfig::default()).unwrap();
    let params = nb201_parse_arch_string(text, &ops).unwrap();
    let arch = Architecture::from_json(&space, &params).unwrap();
    assert_eq!(nb201_arch_string(&space, &arch).unwrap(), text);
    let e = nb201_parse_arch_string("|nor_conv_3x3~0|+|conv~0|none~1|+|a~0|b~1|c~2|", &ops)
        .unwrap_err()
        .to_string();
    assert!(e.contains("op \"conv\" is not in this space"), "{e}");
}

#[test]
fn nas_bench_201_ops_option_makes_a_reduced_complete_space() {
    let family = space("nas-bench-201").unwrap();
    let reduced = cfg(r#"{"ops": "avg_pool_3x3, skip_connect,nor_conv_3x3"}"#);
    // The benchmark's order, whatever order the option lists them in.
    let ops = nb201_ops(&reduced).unwrap();
    assert_eq!(ops, ["skip_connect", "nor_conv_3x3", "avg_pool_3x3"]);
    let space = Child::space_of(family, &reduced).unwrap();
    assert_eq!(space.size(), Some(729));
    let text = "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|";
    let params = nb201_parse_arch_string(text, &ops).unwrap();
    assert_eq!(params["edge_1_0"]["_idx"], 1);
    let arch = Architecture::from_json(&space, &params).unwrap();
    assert_eq!(nb201_arch_string(&space, &arch).unwrap(), text);
    let list = cfg(r#"{"ops": ["none", "nor_conv_1x1", "nor_conv_3x3", "skip_connect"]}"#);
    assert_eq!(Child::space_of(family, &list).unwrap().size(), Some(4096));
    let e = nb201_parse_arch_string("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", &ops)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "\"none\" is not in this space (its ops: skip_connect, nor_conv_3x3, avg_pool_3x3)"
        ),
        "{e}"
    );
    for (options, why) in [
        (
            r#"{"ops": "skip_connect,conv_5x5"}"#,
            "unknown operation \"conv_5x5\"",
        ),
        (
            r#"{"ops": "skip_connect"}"#,
            "at least 2 distinct operations, found 1",
        ),
        (
            r#"{"ops": 3}"#,
            "must be a list of operation names, found 3",
        ),
    ] {
        let e = Child::space_of(family, &cfg(options))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("option \"ops\"") && e.contains(why),
            "{options}: {e}"
        );
    }
}

#[test]
fn bad_options_and_settings_are_explained() {
    let e = Supernet::build(
        space("darts").unwrap(),
        &cfg(r#"{"widht": 8}"#),
        Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains(
            "space darts has no option \"widht\" (known: auxiliary, width, cells, nodes, affine, partial_channels)"
        ),
        "{e}"
    );
    let e = Supernet::build(
        space("darts").unwrap(),
        &cfg(r#"{"cells": 0}"#),
        Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("\"cells\" must be at least 1"), "{e}");
    let mut s = Supernet::build(
        space("nas-bench-201").unwrap(),
        &cfg(r#"{"width": 2, "cells_per_stage": 1}"#),
        Device::Cpu,
    )
    .unwrap();
    let e = s
        .set("edge_1_0", Setting::Fixed(vec![7]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("candidate 7 out of range (it has 5)"), "{e}");
    let e = s
        .set("edge_9_9", Setting::Fixed(vec![0]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no choice labelled \"edge_9_9\""), "{e}");
    let e = s
        .set(
            "edge_1_0",
            Setting::Weighted {
                indices: vec![0, 1],
                weights: Tensor::ones([3], (Kind::Float, Device::Cpu)),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("weights of shape [3] for 2 candidates"), "{e}");
    s.set("edge_1_0", Setting::Fixed(vec![1])).unwrap();
    let e = s
        .forward(
            &Tensor::zeros([1, 1, 28, 28], (Kind::Float, Device::Cpu)),
            false,
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("choices without a setting: edge_2_0, edge_2_1"),
        "{e}"
    );
}

/// A one-cell, two-node DARTS supernet of width 4.
fn tiny_darts() -> Supernet {
    Supernet::build(
        space("darts").unwrap(),
        &cfg(r#"{"width": 4, "cells": 1, "nodes": 2}"#),
        Device::Cpu,
    )
    .unwrap()
}

#[test]
fn candidate_dropout_applies_to_that_candidate_in_training_only() {
    tch::manual_seed(0);
    let mut supernet = tiny_darts();
    let labels: Vec<(String, bool)> = supernet
        .choices()
        .iter()
        .map(|p| (p.label.clone(), matches!(p.kind, ChoiceKind::Input { .. })))
        .collect();
    for (label, is_input) in &labels {
        // Every edge a skip-connect (index 3 of the DARTS ops).
        let setting = if *is_input {
            Setting::Fixed(vec![0, 1])
        } else {
            Setting::Fixed(vec![3])
        };
        supernet.set(label, setting).unwrap();
    }
    let xs = input_for("darts", 4);
    let same = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]) < 1e-6;
    let train = |s: &Supernet| s.forward(&xs, true).unwrap();
    assert!(same(&train(&supernet), &train(&supernet)));
    supernet.set_dropout(CandidateRole::Identity, 0.5);
    assert!(!same(&train(&supernet), &train(&supernet)));
    let eval = |s: &Supernet| s.forward(&xs, false).unwrap();
    assert!(same(&eval(&supernet), &eval(&supernet)));
    // Another role leaves the skip-connects alone.
    supernet.set_dropout(CandidateRole::Parametric, 0.5);
    assert!(same(&train(&supernet), &train(&supernet)));
}

#[test]
fn batch_norm_recalibration_averages_the_batch_statistics() {
    tch::manual_seed(1);
    let mut supernet = tiny_darts();
    let arch = supernet.search_space().architecture_at(5).unwrap();
    supernet.set_architecture(&arch).unwrap();
    let a = input_for("darts", 8);
    let b = input_for("darts", 8) * 3.0 + 1.0;
    let stats = |s: &Supernet| -> Vec<Tensor> {
        let mut v: Vec<(String, Tensor)> = s
            .var_store()
            .variables()
            .into_iter()
            .filter(|(n, _)| n.contains("running_"))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v.into_iter().map(|(_, t)| t.copy()).collect()
    };
    let mut run = |batches: Vec<&Tensor>| {
        let mut it = batches.into_iter();
        let n = supernet
            .recalibrate_batch_norm(&mut || it.next().map(|t| t.shallow_clone()))
            .unwrap();
        (n, stats(&supernet))
    };
    let (_, sa) = run(vec![&a]);
    let (_, sb) = run(vec![&b]);
    let (n, sab) = run(vec![&a, &b]);
    assert_eq!(n, 2);
    assert!(!sa.is_empty());
    for ((x, y), z) in sa.iter().zip(&sb).zip(&sab) {
        let expected = (x + y) / 2.0;
        let diff = (z - expected).abs().max().double_value(&[]);
        assert!(
            diff < 1e-4,
            "recalibrated statistics are not the average: {diff}"
        );
    }
}

#[test]
fn every_candidate_of_every_hub_space_declares_its_role_and_cells_their_group() {
    for family in spaces() {
        if family.name() == "custom-cell" {
            continue;
        }
        let options = match family.name() {
            "darts" | "nasnet" | "enas-micro" | "amoebanet" | "pnas" => {
                r#"{"width": 4, "cells": 3, "nodes": 2}"#
            }
            "nas-bench-201" => r#"{"width": 4, "cells_per_stage": 1}"#,
            _ => "{}",
        };
        let supernet = Supernet::build(family, &cfg(options), Device::Cpu).unwrap();
        for point in supernet.choices() {
            assert_eq!(point.roles.len(), point.num_candidates(), "{}", point.label);
            if let ChoiceKind::Layer { candidates } = &point.kind {
                for (name, role) in candidates.iter().zip(&point.roles) {
                    assert_ne!(
                        *role,
                        CandidateRole::Other,
                        "{}: {} has no role",
                        family.name(),
                        name
                    );
                }
            }
            if family.cell_based() {
                let group = point.group.as_deref().unwrap_or("none");
                assert!(
                    point.label.starts_with(group) || group == "cell",
                    "{}: {} in group {group}",
                    family.name(),
                    point.label
                );
            }
        }
    }
    let darts = Supernet::build(
        space("darts").unwrap(),
        &cfg(r#"{"width": 4, "cells": 3, "nodes": 2}"#),
        Device::Cpu,
    )
    .unwrap();
    let edge = darts
        .choices()
        .iter()
        .find(|p| p.label == "reduce_n2_p0")
        .unwrap();
    assert_eq!(edge.group.as_deref(), Some("reduce"));
    assert_eq!(edge.roles[0], CandidateRole::Zero);
    assert!(edge.roles.contains(&CandidateRole::Identity));
    assert!(edge.roles.contains(&CandidateRole::Pooling));
}

#[test]
fn shared_weights_get_their_own_optimizer_group_in_every_space() {
    use tch::nn::OptimizerConfig;
    for (name, cfg) in small_spaces() {
        let mut supernet = Supernet::build(space(name).unwrap(), &cfg, Device::Cpu).unwrap();
        let names: Vec<String> = supernet.var_store().variables().into_keys().collect();
        let candidates = names
            .iter()
            .filter(|n| supernet.is_candidate_weight(n))
            .count();
        let layer_choices = supernet
            .choices()
            .iter()
            .any(|p| matches!(p.kind, ChoiceKind::Layer { .. }));
        // Spaces whose choices slice one shared weight (ProxylessNAS's kernel sizes and
        // expansions) have no candidate weights of their own: every weight is shared.
        assert_eq!(
            candidates > 0,
            layer_choices,
            "{name}: {candidates} candidate weights among {names:?}"
        );
        assert!(candidates < names.len(), "{name}: no shared weights");
        let trainable = supernet.var_store().trainable_variables().len();
        let moved = supernet.group_shared_weights(1);
        assert!(moved > 0, "{name}: no shared weight moved");
        assert_eq!(
            moved == trainable,
            !layer_choices,
            "{name}: {moved} of {trainable} moved"
        );
        if name != "nas-bench-201" {
            continue;
        }
        assert!(supernet.is_candidate_weight("cells.0.edge_1_0.nor_conv_3x3.conv.weight"));
        assert!(!supernet.is_candidate_weight("stem.conv.weight"));
        assert!(!supernet.is_candidate_weight("cells.1.conv_a.conv.weight"));
        // Not a prefix match on a longer name.
        assert!(!supernet.is_candidate_weight("cells.0.edge_1_0.nor_conv_3x3x.weight"));
        // Stem conv + bn (3), two residual blocks (2 × 7), last bn (2), classifier (2).
        assert_eq!(moved, 21);
        // An optimizer with the shared group frozen moves the candidates only.
        let mut opt = tch::nn::Sgd::default()
            .build(supernet.var_store(), 0.1)
            .unwrap();
        opt.set_lr_group(1, 0.0);
        let vars = supernet.var_store().variables();
        let stem = vars["stem.conv.weight"].copy();
        let conv = vars["cells.0.edge_1_0.nor_conv_3x3.conv.weight"].copy();
        for label in [
            "edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2",
        ] {
            // nor_conv_3x3 among the five default operations.
            supernet.set(label, Setting::Fixed(vec![3])).unwrap();
        }
        let loss = supernet
            .forward(&input_for(name, 4), true)
            .unwrap()
            .square()
            .mean(Kind::Float);
        opt.backward_step(&loss);
        assert!(
            vars["stem.conv.weight"].equal(&stem),
            "the shared stem moved"
        );
        assert!(
            !vars["cells.0.edge_1_0.nor_conv_3x3.conv.weight"].equal(&conv),
            "the candidate did not move"
        );
    }
}
