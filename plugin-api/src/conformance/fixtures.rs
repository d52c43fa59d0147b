//! Search spaces every tuner must handle, as NNI-format JSON.

/// A named fixture space with its number of architectures.
#[derive(Debug, Clone, Copy)]
pub struct FixtureSpace {
    /// A short name for reports.
    pub name: &'static str,
    /// The space as JSON text.
    pub json: &'static str,
    /// How many architectures it has (`None`: too many to count in a `u128`).
    pub size: Option<u128>,
}

/// One layer choice among four operations.
pub const LAYER_CHOICE: FixtureSpace = FixtureSpace {
    name: "layer choice",
    json: r#"{"op": {"_type": "layer_choice", "_value": ["conv3x3", "conv5x5", "maxpool", "skip"]}}"#,
    size: Some(4),
};

/// Input choices with n_chosen 0, 1, k and any (null).
pub const INPUT_CHOICES: FixtureSpace = FixtureSpace {
    name: "input choices (n_chosen 0/1/k/any)",
    json: r#"{
        "none": {"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": 0}},
        "one":  {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c"], "n_chosen": 1}},
        "two":  {"_type": "input_choice", "_value": {"candidates": ["a", "b", "c", "d"], "n_chosen": 2}},
        "any":  {"_type": "input_choice", "_value": {"candidates": ["a", "b"], "n_chosen": null}}
    }"#,
    size: Some(3 * 6 * 4),
};

/// Plain value choices of several JSON types.
pub const PLAIN_CHOICES: FixtureSpace = FixtureSpace {
    name: "plain choices",
    json: r#"{
        "width": {"_type": "choice", "_value": [16, 32, 64]},
        "lr": {"_type": "choice", "_value": [0.1, 0.01]},
        "act": {"_type": "choice", "_value": ["relu", "gelu"]},
        "bn": {"_type": "choice", "_value": [true, false]}
    }"#,
    size: Some(24),
};

/// A small space mixing every kind (also used for exhaustion: 6 architectures), with
/// input candidates that are empty and repeated, as in NNI's own test assets.
pub const SMALL_MIXED: FixtureSpace = FixtureSpace {
    name: "small mixed",
    json: r#"{
        "op": {"_type": "layer_choice", "_value": ["conv", "pool", "skip"]},
        "in": {"_type": "input_choice", "_value": {"candidates": ["", ""], "n_chosen": 1}}
    }"#,
    size: Some(6),
};

/// A space with exactly one architecture.
pub const SINGLETON: FixtureSpace = FixtureSpace {
    name: "single architecture",
    json: r#"{"op": {"_type": "layer_choice", "_value": ["only"]}}"#,
    size: Some(1),
};

/// NNI's numeric types and a nested choice next to a layer choice and NNI's `["", ""]`
/// input candidates.
pub const NUMERIC: FixtureSpace = FixtureSpace {
    name: "numeric types",
    json: r#"{
        "op": {"_type": "layer_choice", "_value": ["conv", "pool"]},
        "in": {"_type": "input_choice", "_value": {"candidates": ["", ""], "n_chosen": 1}},
        "layers": {"_type": "randint", "_value": [1, 4]},
        "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
        "momentum": {"_type": "quniform", "_value": [0.5, 0.99, 0.01]},
        "dropout": {"_type": "uniform", "_value": [0, 0.5]},
        "width": {"_type": "qloguniform", "_value": [8, 256, 8]},
        "noise": {"_type": "normal", "_value": [0, 1]},
        "shift": {"_type": "qnormal", "_value": [0, 4, 0.5]},
        "scale": {"_type": "lognormal", "_value": [0, 1]},
        "steps": {"_type": "qlognormal", "_value": [2, 1, 1]},
        "block": {"_type": "choice", "_value": [
            {"_name": "none"},
            {"_name": "conv", "k": {"_type": "choice", "_value": [3, 5]},
                              "drop": {"_type": "uniform", "_value": [0, 0.5]}}]}
    }"#,
    size: None,
};

/// A space too large to count (8^60 architectures).
pub fn large_space() -> String {
    let ops = r#"["none","max_pool_3x3","avg_pool_3x3","skip_connect","sep_conv_3x3","sep_conv_5x5","dil_conv_3x3","dil_conv_5x5"]"#;
    let entries: Vec<String> = (0..60)
        .map(|i| format!(r#""edge{i}": {{"_type": "layer_choice", "_value": {ops}}}"#))
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// The fixed-size fixtures, in the order the kit runs them.
pub const FIXED: [FixtureSpace; 5] = [
    LAYER_CHOICE,
    INPUT_CHOICES,
    PLAIN_CHOICES,
    SMALL_MIXED,
    SINGLETON,
];
