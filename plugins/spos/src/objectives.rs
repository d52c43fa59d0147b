//! What SPOS's evolution optimises: validation accuracy alone (the paper's search), or
//! accuracy and estimated costs together (`objectives = "accuracy,flops"`), where parents
//! are chosen by Pareto rank and crowding distance (NSGA-II's survival) and the export is
//! the cheapest architecture of the final front within `tolerance` of its best accuracy.

use archon_plugin_api::{one_shot::CandidateCost, PluginError, Result};
use archon_plugin_support::pareto::{fronts, survivors};

/// A cost the host's cost table estimates, to be minimised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cost {
    Params,
    Flops,
    Latency,
}

impl Cost {
    fn of(self, c: &CandidateCost) -> f64 {
        match self {
            Cost::Params => c.params as f64,
            Cost::Flops => c.flops as f64,
            Cost::Latency => c.latency_ms,
        }
    }
}

/// Accuracy (maximised) and the costs (minimised), in the order given.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Objectives {
    costs: Vec<Cost>,
    tolerance: f64,
}

impl Objectives {
    /// Reads option `objectives` (comma-separated: `accuracy` and any of `params`,
    /// `flops`, `latency_ms`) and option `tolerance`.
    pub(crate) fn parse(text: &str, tolerance: f64) -> Result<Objectives> {
        let mut costs = Vec::new();
        let mut accuracy = false;
        for name in text.split(',').map(str::trim) {
            let cost = match name {
                "accuracy" if !accuracy => {
                    accuracy = true;
                    continue;
                }
                "params" => Cost::Params,
                "flops" => Cost::Flops,
                "latency_ms" => Cost::Latency,
                other => {
                    return Err(PluginError::invalid_input(format!(
                        "option objectives: {other:?} is not an objective (or appears twice); \
                         use accuracy and any of params, flops, latency_ms, e.g. \"accuracy,flops\""
                    )))
                }
            };
            if costs.contains(&cost) {
                return Err(PluginError::invalid_input(format!(
                    "option objectives: {name:?} appears twice"
                )));
            }
            costs.push(cost);
        }
        if !accuracy {
            return Err(PluginError::invalid_input(format!(
                "option objectives: {text:?} lacks accuracy; SPOS always maximises the \
                 supernet's validation accuracy (e.g. \"accuracy,flops\")"
            )));
        }
        if !(0.0..1.0).contains(&tolerance) {
            return Err(PluginError::invalid_input(format!(
                "option tolerance: {tolerance} must be in [0, 1) (accuracy given up for a \
                 cheaper export, e.g. 0.01)"
            )));
        }
        Ok(Objectives { costs, tolerance })
    }

    /// Whether any cost is an objective (then SPOS needs the cost table).
    pub(crate) fn is_multi(&self) -> bool {
        !self.costs.is_empty()
    }

    /// An architecture's objectives, all to be minimised: −accuracy, then the costs.
    pub(crate) fn point(&self, accuracy: f64, cost: Option<&CandidateCost>) -> Vec<f64> {
        std::iter::once(-accuracy)
            .chain(
                self.costs
                    .iter()
                    .map(|c| cost.map_or(0.0, |cost| c.of(cost))),
            )
            .collect()
    }

    /// The `select` parents among `points`: the most accurate, or with several
    /// objectives the best by Pareto rank, then crowding distance.
    pub(crate) fn parents(&self, points: &[Vec<f64>], select: usize) -> Vec<usize> {
        if self.is_multi() {
            return survivors(points, select).into_iter().map(|s| s.0).collect();
        }
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| points[a][0].total_cmp(&points[b][0]).then(a.cmp(&b)));
        order.truncate(select);
        order
    }

    /// The one to export: the most accurate, or with several objectives the cheapest
    /// (by the first cost, then the next) member of the first front whose accuracy is
    /// within `tolerance` of the front's best.
    pub(crate) fn pick(&self, points: &[Vec<f64>]) -> Option<usize> {
        let most_accurate =
            (0..points.len()).min_by(|&a, &b| points[a][0].total_cmp(&points[b][0]));
        if !self.is_multi() {
            return most_accurate;
        }
        let best = -points[most_accurate?][0];
        let front = fronts(points).into_iter().next()?;
        front
            .into_iter()
            .filter(|&i| -points[i][0] >= best - self.tolerance)
            .min_by(|&a, &b| {
                points[a][1..]
                    .iter()
                    .zip(&points[b][1..])
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(points[a][0].total_cmp(&points[b][0]))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(flops: i64) -> CandidateCost {
        CandidateCost {
            params: 0,
            flops,
            latency_ms: 0.0,
        }
    }

    /// (accuracy, flops): a ladder of trade-offs plus dominated ones.
    fn members() -> Vec<(f64, i64)> {
        vec![
            (0.90, 900),
            (0.89, 880),
            (0.895, 300), // cheap and nearly the best: the one to export
            (0.70, 100),  // the cheapest: on the front, low accuracy
            (0.88, 950),  // dominated by the first
            (0.60, 500),  // dominated
        ]
    }

    fn points(o: &Objectives) -> Vec<Vec<f64>> {
        members()
            .iter()
            .map(|&(a, f)| o.point(a, Some(&cost(f))))
            .collect()
    }

    #[test]
    fn accuracy_alone_keeps_the_most_accurate_and_exports_the_best() {
        let o = Objectives::parse("accuracy", 0.01).unwrap();
        assert!(!o.is_multi());
        let p = points(&o);
        assert_eq!(o.parents(&p, 3), vec![0, 2, 1]);
        assert_eq!(o.pick(&p), Some(0));
    }

    #[test]
    fn with_flops_the_parents_are_the_front_and_the_export_the_cheapest_near_the_best() {
        let o = Objectives::parse("accuracy, flops", 0.01).unwrap();
        assert!(o.is_multi());
        let p = points(&o);
        let mut parents = o.parents(&p, 3);
        parents.sort();
        // The front is {0, 2, 3} ((0.89, 880) is dominated by (0.895, 300)); the
        // accuracy-only choice {0, 2, 1} would drop the cheapest network.
        assert_eq!(parents, vec![0, 2, 3]);
        assert_eq!(o.pick(&p), Some(2));
        // No tolerance: the most accurate again.
        let strict = Objectives::parse("accuracy,flops", 0.0).unwrap();
        assert_eq!(strict.pick(&points(&strict)), Some(0));
    }

    #[test]
    fn bad_objectives_are_refused_by_name() {
        for (text, needle) in [
            ("accuracy,size", "\"size\""),
            ("flops", "lacks accuracy"),
            ("accuracy,flops,flops", "twice"),
            ("accuracy,accuracy", "twice"),
        ] {
            let e = Objectives::parse(text, 0.01).unwrap_err().to_string();
            assert!(
                e.contains("option objectives") && e.contains(needle),
                "{text}: {e}"
            );
        }
        let e = Objectives::parse("accuracy", 1.5).unwrap_err().to_string();
        assert!(e.contains("option tolerance"), "{e}");
    }
}
