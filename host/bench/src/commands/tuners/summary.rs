//! Tuners across several problems: each one's gain over random search on each, in
//! standard errors of the difference of the means, and its rank there.

use super::Report;
use archon_core::reporter;
use serde::Serialize;

/// Every tuner on every problem.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The problems, in `--table` order.
    problems: Vec<String>,
    tuners: Vec<Row>,
}

/// One tuner across the problems.
#[derive(Debug, Serialize)]
struct Row {
    tuner: String,
    /// Per problem: (mean best − random's) / √(s.e.² + random's s.e.²); `None` without
    /// random search in the run.
    gains: Vec<Option<f64>>,
    /// Per problem: its place by mean best (1: the best).
    ranks: Vec<usize>,
    /// The mean of `gains`.
    mean_gain: Option<f64>,
}

/// (a − b) in standard errors of the difference: 0 when both are exact and equal.
fn standardised(a: (f64, f64), b: (f64, f64)) -> f64 {
    let se = (a.1 * a.1 + b.1 * b.1).sqrt();
    let d = a.0 - b.0;
    if se > 0.0 {
        d / se
    } else if d == 0.0 {
        0.0
    } else {
        d.signum() * f64::INFINITY
    }
}

impl Summary {
    /// The summary of one report per problem (the same tuners in each).
    pub fn of(reports: &[Report]) -> Summary {
        let names: Vec<String> = reports
            .first()
            .map(|r| r.tuners.iter().map(|t| t.tuner.clone()).collect())
            .unwrap_or_default();
        let tuners = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut gains = Vec::new();
                let mut ranks = Vec::new();
                for report in reports {
                    let me = &report.tuners[i];
                    let random = report.tuners.iter().find(|t| t.tuner == "random");
                    gains.push(random.map(|r| standardised((me.mean, me.sem), (r.mean, r.sem))));
                    ranks.push(1 + report.tuners.iter().filter(|t| t.mean > me.mean).count());
                }
                let known: Vec<f64> = gains.iter().flatten().copied().collect();
                Row {
                    tuner: name.clone(),
                    mean_gain: (known.len() == gains.len() && !known.is_empty())
                        .then(|| known.iter().sum::<f64>() / known.len() as f64),
                    gains,
                    ranks,
                }
            })
            .collect();
        Summary {
            problems: reports.iter().map(|r| r.table.clone()).collect(),
            tuners,
        }
    }

    /// The summary as a terminal table.
    pub fn print(&self, trials: usize, seeds: u64) {
        let w = super::name_width(self.tuners.iter().map(|t| t.tuner.as_str()));
        reporter::note(format!(
            "\nGain over random search in standard errors (rank by mean best), {trials} trials × {seeds} seeds:"
        ));
        let cell = |p: &String| p.rsplit('/').next().unwrap_or(p).to_string();
        let widths: Vec<usize> = self
            .problems
            .iter()
            .map(|p| cell(p).len().max(12))
            .collect();
        let mut head = format!("{:<w$}", "tuner");
        for (p, cw) in self.problems.iter().zip(&widths) {
            head.push_str(&format!("  {:>cw$}", cell(p)));
        }
        head.push_str("  mean gain");
        reporter::note(head);
        for row in &self.tuners {
            let mut line = format!("{:<w$}", row.tuner);
            for ((gain, rank), cw) in row.gains.iter().zip(&row.ranks).zip(&widths) {
                let g = match gain {
                    Some(_) if row.tuner == "random" => format!("- ({rank})"),
                    Some(g) => format!("{g:+.1} ({rank})"),
                    None => format!("? ({rank})"),
                };
                line.push_str(&format!("  {g:>cw$}"));
            }
            match row.mean_gain {
                Some(m) if row.tuner != "random" => line.push_str(&format!("  {m:+.1}")),
                _ => line.push_str("  -"),
            }
            reporter::note(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_are_in_standard_errors_of_the_difference() {
        assert!((standardised((1.0, 0.3), (0.0, 0.4)) - 2.0).abs() < 1e-12);
        assert_eq!(standardised((1.0, 0.0), (1.0, 0.0)), 0.0);
        assert_eq!(standardised((0.5, 0.0), (1.0, 0.0)), f64::NEG_INFINITY);
    }
}
