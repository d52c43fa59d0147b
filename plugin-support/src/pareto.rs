//! Pareto ranking (Deb et al. 2002, NSGA-II): dominance, fast non-dominated sorting,
//! crowding distance and NSGA-II's survival, all over objectives to be minimised.
//! Shared by the `nsga2` tuner, SPOS's multi-objective evolution and the host's fronts.

/// Whether `a` dominates `b`: no worse in any objective, better in one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// The fronts of `points`: indices of the non-dominated ones, then of those dominated
/// only by the first front, and so on.
pub fn fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominating: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if dominates(&points[i], &points[j]) {
                dominating[i].push(j);
            } else if dominates(&points[j], &points[i]) {
                dominated_by[i] += 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominating[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        out.push(current);
        current = next;
    }
    out
}

/// The crowding distance of each member of `front` (same order): the sum over
/// objectives of the normalised gap between its neighbours; the extremes get infinity.
pub fn crowding(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let mut distance = vec![0.0; front.len()];
    let Some(first) = front.first() else {
        return distance;
    };
    // Each objective's values over the front, in the front's order.
    let columns: Vec<Vec<f64>> = (0..points[*first].len())
        .map(|k| front.iter().map(|&i| points[i][k]).collect())
        .collect();
    for column in &columns {
        let mut order: Vec<usize> = (0..front.len()).collect();
        order.sort_by(|&a, &b| column[a].total_cmp(&column[b]));
        let (first, last) = (order[0], *order.last().unwrap_or(&0));
        let (lo, hi) = (column[first], column[last]);
        distance[first] = f64::INFINITY;
        distance[last] = f64::INFINITY;
        if hi > lo {
            for w in order.windows(3) {
                distance[w[1]] += (column[w[2]] - column[w[0]]) / (hi - lo);
            }
        }
    }
    distance
}

/// NSGA-II's survival: the best `size` points as (index, rank, crowding), filling by
/// fronts and cutting the last by crowding distance.
pub fn survivors(points: &[Vec<f64>], size: usize) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::with_capacity(size.min(points.len()));
    for (rank, front) in fronts(points).into_iter().enumerate() {
        let crowd = crowding(points, &front);
        let mut members: Vec<(usize, usize, f64)> = front
            .iter()
            .zip(&crowd)
            .map(|(&i, &c)| (i, rank, c))
            .collect();
        if out.len() + members.len() > size {
            members.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
            members.truncate(size - out.len());
        }
        out.extend(members);
        if out.len() >= size {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fronts_peel_off_in_order() {
        let p = vec![
            vec![1.0, 4.0],
            vec![2.0, 2.0],
            vec![4.0, 1.0],
            vec![3.0, 3.0],
            vec![4.0, 4.0],
        ];
        assert_eq!(fronts(&p), vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn crowding_favours_the_extremes_and_the_lonely() {
        let p = vec![
            vec![0.0, 4.0],
            vec![1.0, 3.0],
            vec![1.1, 2.9],
            vec![4.0, 0.0],
        ];
        let d = crowding(&p, &[0, 1, 2, 3]);
        assert!(d[0].is_infinite() && d[3].is_infinite());
        assert!(
            d[2] > d[1],
            "{d:?}: the point next to the far end is lonelier"
        );
    }

    #[test]
    fn survival_cuts_the_last_front_by_crowding() {
        let p = vec![
            vec![0.0, 4.0],
            vec![1.0, 3.0],
            vec![1.1, 2.9],
            vec![4.0, 0.0],
            vec![5.0, 5.0],
        ];
        let s = survivors(&p, 3);
        let kept: Vec<usize> = s.iter().map(|x| x.0).collect();
        assert_eq!(kept.len(), 3);
        assert!(
            kept.contains(&0) && kept.contains(&3) && kept.contains(&2),
            "{kept:?}"
        );
    }
}
