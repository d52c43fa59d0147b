//! A synthetic search problem where structure matters, for showing that a tuner
//! learns: `positions` layer choices of 6 operations, and a reward that counts the
//! positions holding a target operation (`sep3` at even positions, `conv3` at odd
//! ones). Random search averages `positions / 6`.

use crate::tuner::TunerClient;
use serde_json::Value;

/// The operations of each position.
pub const OPS: [&str; 6] = ["conv3", "conv5", "pool", "skip", "sep3", "sep5"];

/// The search space (NNI JSON text) with `positions` layer choices `layer0…`.
pub fn structured_space(positions: usize) -> String {
    let ops = serde_json::to_string(&OPS).unwrap_or_default();
    let entries: Vec<String> = (0..positions)
        .map(|i| format!(r#""layer{i}": {{"_type": "layer_choice", "_value": {ops}}}"#))
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// The reward of parameters of [`structured_space`]: how many positions hold their
/// target operation.
pub fn structured_reward(params: &Value) -> f64 {
    let Some(map) = params.as_object() else {
        return 0.0;
    };
    (0..map.len())
        .filter(|i| params[format!("layer{i}")]["_value"] == ["sep3", "conv3"][i % 2])
        .count() as f64
}

/// Runs `tuner` for `trials` trials on [`structured_space`]`(positions)` and returns
/// the mean reward of the last `last` of them.
pub fn late_mean_reward(
    tuner: &mut TunerClient,
    positions: usize,
    trials: u64,
    last: usize,
) -> crate::Result<f64> {
    tuner.update_search_space(&structured_space(positions))?;
    let mut rewards = Vec::new();
    for id in 0..trials {
        let Some(params) = tuner.generate_parameters(id)? else {
            break;
        };
        let reward = structured_reward(&params);
        tuner.receive_trial_result(id, &params.to_string(), &reward.to_string())?;
        tuner.trial_end(id, true)?;
        rewards.push(reward);
    }
    let tail = &rewards[rewards.len().saturating_sub(last)..];
    Ok(tail.iter().sum::<f64>() / tail.len().max(1) as f64)
}
