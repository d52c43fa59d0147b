//! Bringing an architecture within the search's limits ([`Limits`]) by the host's cost
//! table: while the estimate breaks a limit, one decision gives up its candidate for a
//! cheaper one — the move that costs the least preference per unit of excess removed —
//! until every limit holds. The differentiable trainers prefer by log α-probability;
//! any trainer can pass its own preference.

use archon_plugin_api::{
    one_shot::{CandidateRole, ChoiceInfo, CostTable, Limits},
    serde_json::Value,
    Architecture, PluginError, Result, SearchSpace, Selection,
};

/// How much a trainer prefers candidate `i` of decision `k` (higher: more), e.g. a
/// log-probability. Decisions are numbered as in `choices`.
pub type Preference<'a> = &'a dyn Fn(usize, usize) -> f64;

/// `architecture` (NNI format, of `space`) moved within `limits` by `costs`' estimate,
/// changing as little preference as it can; refused, naming the limits, when even the
/// cheapest candidates break them. Input choices and decisions the cost table does not
/// price stay as they are; zero operations are never taken, nor inactive candidates
/// (`allowed(k, i)` false).
pub fn fit_within(
    space: &SearchSpace,
    choices: &[ChoiceInfo],
    architecture: &Value,
    (costs, limits): (&CostTable, &Limits),
    preference: Preference<'_>,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Result<Value> {
    let mut arch = Architecture::from_json(space, architecture)?;
    let decision = |name: &str| choices.iter().position(|c| c.label == name);
    // Each move is at most one per decision and candidate, so this bounds the loop.
    let max_moves = choices.iter().map(ChoiceInfo::len).sum::<usize>() + 1;
    for _ in 0..max_moves {
        let json = arch.to_json(space);
        let estimate = costs.estimate(&json);
        let overshoot = limits.overshoot(&estimate);
        if overshoot <= 0.0 {
            return Ok(json);
        }
        // (preference lost per overshoot removed, space position, candidate)
        let mut best: Option<(f64, usize, usize)> = None;
        for (pos, choice) in space.choices().iter().enumerate() {
            let (Some(k), Some(table)) =
                (decision(choice.name()), costs.choices.get(choice.name()))
            else {
                continue;
            };
            let Selection::One(current) = arch.selections()[pos] else {
                continue;
            };
            for i in 0..choice.num_candidates().min(table.len()) {
                if i == current
                    || !allowed(k, i)
                    || choices[k].role(i) == CandidateRole::Zero
                    || table.get(current).is_none()
                {
                    continue;
                }
                let mut moved = estimate.clone();
                moved.params += table[i].params - table[current].params;
                moved.flops += table[i].flops - table[current].flops;
                moved.latency_ms += table[i].latency_ms - table[current].latency_ms;
                let removed = overshoot - limits.overshoot(&moved);
                if removed <= 0.0 {
                    continue;
                }
                let lost = (preference(k, current) - preference(k, i)).max(0.0);
                let rate = lost / removed;
                if best.is_none_or(|b| rate < b.0) {
                    best = Some((rate, pos, i));
                }
            }
        }
        let Some((_, pos, i)) = best else {
            break;
        };
        let mut selections = arch.selections().to_vec();
        selections[pos] = Selection::One(i);
        arch = Architecture::new(space, selections)?;
    }
    let estimate = costs.estimate(&arch.to_json(space));
    Err(PluginError::invalid_input(format!(
        "no architecture within the limits ({}) was found: the closest estimated breaks {}; raise the limits",
        limits.describe(),
        limits
            .excesses(&estimate)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use archon_plugin_api::{
        one_shot::{CandidateCost, DecisionKind},
        serde_json::json,
    };

    fn cost(params: i64) -> CandidateCost {
        CandidateCost {
            params,
            flops: 0,
            latency_ms: 0.0,
        }
    }

    /// Three decisions over (skip, small conv, large conv) costing 0 / 10 / 30
    /// parameters, on a reference of 100.
    fn setup() -> (SearchSpace, Vec<ChoiceInfo>, CostTable) {
        let ops = ["skip", "conv_small", "conv_large"];
        let mut space = archon_plugin_api::serde_json::Map::new();
        let mut choices = Vec::new();
        let mut table = CostTable {
            reference: cost(100),
            choices: Default::default(),
        };
        for label in ["a", "b", "c"] {
            space.insert(
                label.into(),
                json!({"_type": "layer_choice", "_value": ops}),
            );
            choices.push(ChoiceInfo {
                label: label.into(),
                kind: DecisionKind::Layer,
                candidates: ops.iter().map(|s| s.to_string()).collect(),
                roles: vec![
                    CandidateRole::Identity,
                    CandidateRole::Parametric,
                    CandidateRole::Parametric,
                ],
                group: None,
                n_chosen: None,
                edges: Vec::new(),
            });
            table
                .choices
                .insert(label.into(), vec![cost(0), cost(10), cost(30)]);
        }
        (
            SearchSpace::from_json(&Value::Object(space)).unwrap(),
            choices,
            table,
        )
    }

    fn pick(space: &SearchSpace, idx: [usize; 3]) -> Value {
        Architecture::new(space, idx.iter().map(|&i| Selection::One(i)).collect())
            .unwrap()
            .to_json(space)
    }

    fn indices(arch: &Value) -> Vec<u64> {
        ["a", "b", "c"]
            .iter()
            .map(|l| arch[l]["_idx"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn the_least_preferred_large_candidate_gives_way_first() {
        let (space, choices, table) = setup();
        // Every decision prefers the large conv; decision b least firmly.
        let pref = |k: usize, i: usize| -> f64 {
            let firm = [3.0, 1.0, 2.0][k];
            [0.0, firm / 2.0, firm][i]
        };
        let limits = Limits {
            max_params: Some(175.0),
            ..Limits::default()
        };
        let fitted = fit_within(
            &space,
            &choices,
            &pick(&space, [2, 2, 2]),
            (&table, &limits),
            &pref,
            &|_, _| true,
        )
        .unwrap();
        // 190 → 170 by b's step down to the small conv: the cheapest loss of preference.
        assert_eq!(indices(&fitted), [2, 1, 2]);
        assert!(limits.admits(&table.estimate(&fitted)));
        // An architecture within the limits comes back unchanged.
        let inside = pick(&space, [1, 0, 2]);
        let same = fit_within(
            &space,
            &choices,
            &inside,
            (&table, &limits),
            &pref,
            &|_, _| true,
        );
        assert_eq!(same.unwrap(), inside);
    }

    #[test]
    fn limits_that_nothing_fits_are_refused_by_name() {
        let (space, choices, table) = setup();
        let limits = Limits {
            max_params: Some(50.0),
            ..Limits::default()
        };
        let err = fit_within(
            &space,
            &choices,
            &pick(&space, [2, 2, 2]),
            (&table, &limits),
            &|_, _| 0.0,
            &|_, _| true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("max_params 50"), "{err}");
        assert!(err.contains("parameters 100 > max_params 50"), "{err}");
    }
}
