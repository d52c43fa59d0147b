//! Smoothing the evolution's scores: an additive model (ridge regression on which
//! candidate each decision took) fitted to every architecture the evolution scored.
//! One-path supernet scores are noisy, architecture by architecture; the model pools
//! each candidate's evidence across all the architectures that took it.

use archon_plugin_api::Selection;

/// Ridge penalty (in pseudo-observations) on each candidate's effect.
const RIDGE: f64 = 1.0;

/// The one-hot features of a path: for decision `d`, one column per candidate it took
/// (`Selection::indices`); numeric settings have none.
fn features(paths: &[&[Selection]]) -> (Vec<Vec<f64>>, usize) {
    let mut columns: Vec<(usize, usize)> = Vec::new();
    for path in paths {
        for (d, s) in path.iter().enumerate() {
            for i in s.indices() {
                if !columns.contains(&(d, i)) {
                    columns.push((d, i));
                }
            }
        }
    }
    let rows = paths
        .iter()
        .map(|path| {
            columns
                .iter()
                .map(|&(d, i)| {
                    let took = path.get(d).is_some_and(|s| s.indices().contains(&i));
                    if took {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    (rows, columns.len())
}

/// Solves `a x = b` for a symmetric positive definite `a` (Gaussian elimination with
/// partial pivoting; `a` is small: one row per candidate).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-12 {
            continue;
        }
        let pivot_row = a[col].clone();
        let pivot_b = b[col];
        for (row, (r, rb)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
            let f = r[col] / p;
            if row != col && f != 0.0 {
                for (x, y) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * y;
                }
                *rb -= f * pivot_b;
            }
        }
    }
    (0..n)
        .map(|i| {
            if a[i][i].abs() < 1e-12 {
                0.0
            } else {
                b[i] / a[i][i]
            }
        })
        .collect()
}

/// The additive model's value for each of `paths`, fitted to their `scores` (same
/// order): the mean score plus each taken candidate's effect, by ridge regression on
/// centred features and scores.
pub(crate) fn smoothed(paths: &[&[Selection]], scores: &[f64]) -> Vec<f64> {
    let n = paths.len();
    if n < 2 {
        return scores.to_vec();
    }
    let (rows, p) = features(paths);
    let mean_y = scores.iter().sum::<f64>() / n as f64;
    let means: Vec<f64> = (0..p)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(&means).map(|(x, m)| x - m).collect())
        .collect();
    let mut gram = vec![vec![0.0; p]; p];
    let mut rhs = vec![0.0; p];
    for (r, y) in centred.iter().zip(scores) {
        for i in 0..p {
            rhs[i] += r[i] * (y - mean_y);
            for j in 0..p {
                gram[i][j] += r[i] * r[j];
            }
        }
    }
    for (i, row) in gram.iter_mut().enumerate() {
        row[i] += RIDGE;
    }
    let effects = solve(gram, rhs);
    centred
        .iter()
        .map(|r| mean_y + r.iter().zip(&effects).map(|(x, e)| x * e).sum::<f64>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_outvotes_one_lucky_score() {
        // Two decisions of 3 candidates; the truth is additive: candidate 1 adds 0.05
        // on either decision. Every one of the 9 paths is scored once, with noise, and
        // one path without candidate 1 gets a lucky +0.12.
        let truth = |a: usize, b: usize| {
            0.7 + if a == 1 { 0.05 } else { 0.0 } + if b == 1 { 0.05 } else { 0.0 }
        };
        let noise = [
            0.004, -0.003, 0.002, -0.004, 0.001, 0.003, -0.002, 0.0, -0.001,
        ];
        let mut paths = Vec::new();
        let mut scores = Vec::new();
        for a in 0..3 {
            for b in 0..3 {
                paths.push(vec![Selection::One(a), Selection::One(b)]);
                let lucky = if (a, b) == (2, 0) { 0.12 } else { 0.0 };
                scores.push(truth(a, b) + noise[a * 3 + b] + lucky);
            }
        }
        let refs: Vec<&[Selection]> = paths.iter().map(|p| p.as_slice()).collect();
        let best = |v: &[f64]| (0..v.len()).max_by(|&x, &y| v[x].total_cmp(&v[y])).unwrap();
        assert_eq!(
            paths[best(&scores)],
            vec![Selection::One(2), Selection::One(0)]
        );
        let fitted = smoothed(&refs, &scores);
        assert_eq!(
            paths[best(&fitted)],
            vec![Selection::One(1), Selection::One(1)]
        );
        // The fitted values keep the scores' scale: their mean is the scores' mean.
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&fitted) - mean(&scores)).abs() < 1e-9);
    }

    #[test]
    fn one_path_is_its_own_score() {
        let path = [Selection::One(0)];
        assert_eq!(smoothed(&[&path], &[0.5]), vec![0.5]);
    }
}
