//! Several objectives: which metric fields an experiment optimises and which way, the
//! Pareto front of its trials, and the hypervolume that front dominates.

pub use super::objective::{Direction, Objective};
use serde::Serialize;
use serde_json::Value;

/// The objectives' values in a final metric (raw JSON, `value` its `default`), or the
/// first missing field.
pub fn values(objectives: &[Objective], raw: &str, value: f64) -> Result<Vec<f64>, String> {
    let json: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    objectives
        .iter()
        .map(|o| {
            if o.metric == "default" {
                return Ok(value);
            }
            json.get(&o.metric)
                .and_then(Value::as_f64)
                .ok_or_else(|| o.metric.clone())
        })
        .collect()
}

/// The values turned so that smaller is better in every objective.
pub fn as_minimization(objectives: &[Objective], v: &[f64]) -> Vec<f64> {
    objectives
        .iter()
        .zip(v)
        .map(|(o, x)| match o.direction {
            Direction::Maximize => -x,
            Direction::Minimize => *x,
        })
        .collect()
}

pub use archon_plugin_support::pareto::dominates;

/// The indices of the points (to be minimised) that no other point dominates; of
/// identical points, the first.
pub fn front(points: &[Vec<f64>]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| {
            !points
                .iter()
                .enumerate()
                .any(|(j, p)| dominates(p, &points[i]) || (j < i && p == &points[i]))
        })
        .collect()
}

/// The hypervolume (to be minimised) that `points` dominate up to `reference`: the
/// measure of the union of the boxes [p, reference]. Exact, by slicing the last
/// objective (fine for the fronts of a few hundred trials).
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .cloned()
        .collect();
    slice_volume(inside, reference)
}

fn slice_volume(mut points: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() {
        return 0.0;
    }
    if d == 1 {
        let best = points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
        return (reference[0] - best).max(0.0);
    }
    // Sweep the last objective upwards: between consecutive levels, the points at or
    // below a level form a (d−1)-dimensional slice.
    points.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
    let mut volume = 0.0;
    for k in 0..points.len() {
        let top = if k + 1 < points.len() {
            points[k + 1][d - 1]
        } else {
            reference[d - 1]
        };
        let height = top - points[k][d - 1];
        if height <= 0.0 {
            continue;
        }
        let slice: Vec<Vec<f64>> = points[..=k].iter().map(|p| p[..d - 1].to_vec()).collect();
        let slice: Vec<Vec<f64>> = front(&slice)
            .into_iter()
            .map(|i| slice[i].clone())
            .collect();
        volume += height * slice_volume(slice, &reference[..d - 1]);
    }
    volume
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_keeps_only_undominated_points() {
        let points = vec![
            vec![1.0, 5.0],
            vec![2.0, 2.0],
            vec![3.0, 3.0], // dominated by (2, 2)
            vec![5.0, 1.0],
            vec![2.0, 2.0], // a duplicate
        ];
        assert_eq!(front(&points), [0, 1, 3]);
    }

    #[test]
    fn hypervolume_of_known_fronts() {
        // Two boxes to (4, 4): [1,4]×[3,4] ∪ [3,4]×[1,4] = 3 + 3 − 1 = 5.
        let hv = hypervolume(&[vec![1.0, 3.0], vec![3.0, 1.0]], &[4.0, 4.0]);
        assert!((hv - 5.0).abs() < 1e-12, "{hv}");
        // A dominated point adds nothing; a point outside the reference box neither.
        let hv2 = hypervolume(
            &[
                vec![1.0, 3.0],
                vec![3.0, 1.0],
                vec![3.5, 3.5],
                vec![0.0, 9.0],
            ],
            &[4.0, 4.0],
        );
        assert!((hv2 - 5.0).abs() < 1e-12, "{hv2}");
        // Three dimensions: a unit cube's corner point and a second box.
        let hv3 = hypervolume(
            &[vec![0.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]],
            &[2.0, 2.0, 2.0],
        );
        // [0,2]²×[1,2] = 4, plus [1,2]²×[0,1] = 1.
        assert!((hv3 - 5.0).abs() < 1e-12, "{hv3}");
    }

    #[test]
    fn objectives_read_the_final_metric_and_turn_to_minimisation() {
        let objectives = vec![
            Objective {
                metric: "default".into(),
                direction: Direction::Maximize,
            },
            Objective {
                metric: "latency_ms".into(),
                direction: Direction::Minimize,
            },
        ];
        let v = values(&objectives, r#"{"default": 0.9, "latency_ms": 3.5}"#, 0.9).unwrap();
        assert_eq!(v, [0.9, 3.5]);
        assert_eq!(as_minimization(&objectives, &v), [-0.9, 3.5]);
        assert_eq!(values(&objectives, "0.9", 0.9).unwrap_err(), "latency_ms");
    }
}

/// The Pareto front of an experiment's succeeded trials.
#[derive(Debug, Clone, Serialize)]
pub struct Front {
    /// The objectives.
    pub objectives: Vec<Objective>,
    /// Front trials (id, objective values as reported), best first by the first objective.
    pub trials: Vec<(u64, Vec<f64>)>,
    /// Every succeeded trial with every objective reported: (id, values as reported).
    pub points: Vec<(u64, Vec<f64>)>,
    /// How many trials `points` holds.
    pub considered: usize,
    /// Trials that succeeded without some objective's field (id, the field).
    pub missing: Vec<(u64, String)>,
    /// The hypervolume of the front up to `reference`.
    pub hypervolume: f64,
    /// The reference point: each objective's worst value among the trials considered.
    pub reference: Vec<f64>,
}

/// The front of the succeeded trials of `store` under `objectives`.
pub fn experiment_front(
    store: &archon_store::Store,
    objectives: &[Objective],
) -> anyhow::Result<Front> {
    let mut points = Vec::new();
    let mut missing = Vec::new();
    for t in store.trials()? {
        let (archon_store::TrialStatus::Succeeded, Some(value)) = (t.status, t.final_metric) else {
            continue;
        };
        let raw = store.final_metric_raw(t.id)?.unwrap_or_default();
        match values(objectives, &raw, value) {
            Ok(v) => points.push((t.id, v)),
            Err(field) => missing.push((t.id, field)),
        }
    }
    let min: Vec<Vec<f64>> = points
        .iter()
        .map(|(_, v)| as_minimization(objectives, v))
        .collect();
    let reference: Vec<f64> = (0..objectives.len())
        .map(|k| min.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max))
        .collect();
    let on_front = front(&min);
    let hypervolume = hypervolume(
        &on_front.iter().map(|&i| min[i].clone()).collect::<Vec<_>>(),
        &reference,
    );
    let mut trials: Vec<(u64, Vec<f64>)> = on_front.iter().map(|&i| points[i].clone()).collect();
    trials.sort_by(|a, b| {
        let (x, y) = (
            as_minimization(objectives, &a.1),
            as_minimization(objectives, &b.1),
        );
        x[0].total_cmp(&y[0])
    });
    Ok(Front {
        objectives: objectives.to_vec(),
        considered: points.len(),
        points,
        trials,
        missing,
        hypervolume,
        reference: as_minimization(objectives, &reference),
    })
}
