//! Rank statistics for comparing rankings of architectures: Spearman's ρ (with
//! average ranks for ties), Kendall's τ-b, percentiles, mean and standard deviation.

/// Ranks from 1, ties sharing their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = average;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson's correlation; `None` when fewer than 2 pairs or a side is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "pearson: paired samples");
    let n = a.len();
    if n < 2 {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Spearman's rank correlation ρ.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

/// Kendall's τ-b (ties in either ranking counted as neither concordant nor
/// discordant, normalised for ties).
pub fn kendall(a: &[f64], b: &[f64]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "kendall: paired samples");
    let n = a.len();
    let (mut concordant, mut discordant, mut ties_a, mut ties_b) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let da = a[i].total_cmp(&a[j]) as i64;
            let db = b[i].total_cmp(&b[j]) as i64;
            match (da, db) {
                (0, 0) => {}
                (0, _) => ties_a += 1,
                (_, 0) => ties_b += 1,
                _ if da == db => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n0 = (concordant + discordant) as f64;
    let denominator = ((n0 + ties_a as f64) * (n0 + ties_b as f64)).sqrt();
    (denominator > 0.0).then(|| (concordant - discordant) as f64 / denominator)
}

/// The percentage of `population` strictly below `value`, counting ties as half.
pub fn percentile(value: f64, population: &[f64]) -> f64 {
    if population.is_empty() {
        return f64::NAN;
    }
    let below = population.iter().filter(|&&p| p < value).count() as f64;
    let equal = population.iter().filter(|&&p| p == value).count() as f64;
    100.0 * (below + equal / 2.0) / population.len() as f64
}

/// The arithmetic mean (NaN for none).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (0 for fewer than 2 values).
pub fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// The median (NaN for none).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// SplitMix64: a small seeded generator for reproducible draws of architectures.
pub struct Draw(pub u64);

impl Draw {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (0 for n = 0).
    pub fn below(&mut self, n: u128) -> u128 {
        let wide = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        wide % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_and_kendall_match_hand_computed_values() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(spearman(&a, &[10.0, 20.0, 30.0, 40.0, 50.0]), Some(1.0));
        assert_eq!(spearman(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(kendall(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        // One swapped pair of 10: τ = (9 − 1) / 10; ρ = 1 − 6·2/(5·24) = 0.9.
        let swapped = [2.0, 1.0, 3.0, 4.0, 5.0];
        assert!((kendall(&a, &swapped).unwrap() - 0.8).abs() < 1e-12);
        assert!((spearman(&a, &swapped).unwrap() - 0.9).abs() < 1e-12);
        // Ties: average ranks; τ-b (scipy.stats.kendalltau([1,2,2,3],[1,2,3,4]) = 0.9128709).
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let t = kendall(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((t - 0.912_870_9).abs() < 1e-6, "{t}");
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn percentile_counts_ties_as_half() {
        let population = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(5.0, &population), 100.0);
        assert_eq!(percentile(0.0, &population), 0.0);
        assert_eq!(percentile(3.0, &population), 62.5);
        assert_eq!(median(&population), 2.5);
        assert!((std_dev(&[1.0, 3.0]) - 2f64.sqrt()).abs() < 1e-12);
    }
}
