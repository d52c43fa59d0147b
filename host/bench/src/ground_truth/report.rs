//! What a ground-truth table says: the accuracy distribution, how stable its ranking
//! is between training seeds, whether parameter-free architectures win, and (against
//! a second table of a longer budget) whether its ranking is representative.

use super::table::{Entry, Table};
use archon_core::stats::{kendall, percentile, spearman};
use serde::Serialize;
use std::collections::HashMap;

/// A rank comparison over the architectures two rankings share.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    /// What is compared.
    pub what: String,
    /// Architectures in both.
    pub count: usize,
    /// Spearman's ρ.
    pub spearman: Option<f64>,
    /// Kendall's τ-b.
    pub kendall: Option<f64>,
}

impl Agreement {
    fn of(what: String, a: &[f64], b: &[f64]) -> Agreement {
        Agreement {
            what,
            count: a.len(),
            spearman: spearman(a, b),
            kendall: kendall(a, b),
        }
    }
}

/// The summary of a table.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Architectures.
    pub architectures: usize,
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Mean seconds per training.
    pub seconds_per_training: f64,
    /// Final test accuracy (mean over seeds): best, 75th percentile, median, 25th, worst.
    pub test_quantiles: [f64; 5],
    /// Seed against seed (test accuracy), for every pair of seeds.
    pub seed_agreement: Vec<Agreement>,
    /// Validation against test accuracy (means over seeds).
    pub valid_vs_test: Agreement,
    /// Parameters against test accuracy.
    pub params_vs_test: Agreement,
    /// Architectures made of parameter-free operations only.
    pub param_free: usize,
    /// The best parameter-free architecture's percentile (none if there is none).
    pub best_param_free_percentile: Option<f64>,
    /// The best architectures: key, mean test accuracy, params.
    pub top: Vec<(String, f64, u64)>,
    /// Against another table (a longer budget), if given.
    pub against: Option<Agreement>,
    /// Per epoch e (with two seeds a, b): how seed a after e epochs ranks the
    /// architectures against seed b's final validation accuracy, by its validation
    /// accuracy then and by its training speed estimate (minus the sum of its training
    /// losses so far): the signals a multi-fidelity tuner can promote by.
    pub fidelities: Vec<Fidelity>,
}

/// An epoch e with how validation accuracy and tse after e rank (see
/// [`Summary::fidelities`]).
pub type Fidelity = (usize, Agreement, Agreement);

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

/// Summarises `table`, comparing with `against` where given.
pub fn summarize(table: &Table, against: Option<&Table>) -> Summary {
    let entries = table.entries();
    let tests: Vec<f64> = entries.iter().map(Entry::test).collect();
    let mut sorted = tests.clone();
    sorted.sort_by(f64::total_cmp);
    let seeds = table.seeds();
    let mut seed_agreement = Vec::new();
    for (i, &a) in seeds.iter().enumerate() {
        for &b in &seeds[i + 1..] {
            let pairs: Vec<(f64, f64)> = entries
                .iter()
                .filter_map(|e| Some((e.by_seed.get(&a)?.1, e.by_seed.get(&b)?.1)))
                .collect();
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            seed_agreement.push(Agreement::of(format!("seed {a} vs seed {b}"), &x, &y));
        }
    }
    let valids: Vec<f64> = entries.iter().map(Entry::valid).collect();
    let params: Vec<f64> = entries.iter().map(|e| e.params as f64).collect();
    let free: Vec<f64> = entries
        .iter()
        .filter(|e| e.param_free)
        .map(Entry::test)
        .collect();
    let mut ranked: Vec<&Entry> = entries.iter().collect();
    ranked.sort_by(|a, b| b.test().total_cmp(&a.test()));
    let against = against.map(|other| {
        let theirs: HashMap<String, f64> = other
            .entries()
            .into_iter()
            .map(|e| (e.key.clone(), e.test()))
            .collect();
        let (x, y): (Vec<f64>, Vec<f64>) = entries
            .iter()
            .filter_map(|e| Some((e.test(), *theirs.get(&e.key)?)))
            .unzip();
        Agreement::of("this budget vs the other table's".into(), &x, &y)
    });
    Summary {
        fidelities: fidelities(table, &seeds),
        architectures: entries.len(),
        seeds,
        seconds_per_training: if table.rows.is_empty() {
            0.0
        } else {
            table.rows.iter().map(|r| r.seconds).sum::<f64>() / table.rows.len() as f64
        },
        test_quantiles: [1.0, 0.75, 0.5, 0.25, 0.0].map(|q| quantile(&sorted, q)),
        seed_agreement,
        valid_vs_test: Agreement::of("validation vs test".into(), &valids, &tests),
        params_vs_test: Agreement::of("parameters vs test".into(), &params, &tests),
        param_free: free.len(),
        best_param_free_percentile: free
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|best| percentile(best, &tests)),
        top: ranked
            .iter()
            .take(5)
            .map(|e| (e.key.clone(), e.test(), e.params))
            .collect(),
        against,
    }
}

/// See [`Summary::fidelities`]: the first two seeds' rows, epoch by epoch.
fn fidelities(table: &Table, seeds: &[u64]) -> Vec<Fidelity> {
    let [a, b, ..] = seeds else {
        return Vec::new();
    };
    let of_seed = |seed: u64| -> HashMap<&str, &super::table::Row> {
        table
            .rows
            .iter()
            .filter(|r| r.seed == seed)
            .map(|r| (r.key.as_str(), r))
            .collect()
    };
    let (first, second) = (of_seed(*a), of_seed(*b));
    let pairs: Vec<(&super::table::Row, f64)> = first
        .iter()
        .filter_map(|(key, r)| Some((*r, second.get(key)?.valid())))
        .collect();
    let epochs = pairs.iter().map(|(r, _)| r.epochs.len()).min().unwrap_or(0);
    let finals: Vec<f64> = pairs.iter().map(|(_, v)| *v).collect();
    (1..=epochs)
        .map(|e| {
            let valid: Vec<f64> = pairs.iter().map(|(r, _)| r.epochs[e - 1].valid).collect();
            let tse: Vec<f64> = pairs
                .iter()
                .map(|(r, _)| -r.epochs[..e].iter().map(|x| x.loss).sum::<f64>())
                .collect();
            (
                e,
                Agreement::of(format!("validation after {e}"), &valid, &finals),
                Agreement::of(format!("tse after {e}"), &tse, &finals),
            )
        })
        .collect()
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.3}"))
}

fn agreement_line(a: &Agreement) -> String {
    format!(
        "{}: Spearman ρ {}, Kendall τ {} over {} architectures",
        a.what,
        fmt(a.spearman),
        fmt(a.kendall),
        a.count
    )
}

/// The summary as text for the terminal.
pub fn render(table: &Table, s: &Summary) -> String {
    let h = &table.header;
    let b = &h.budget;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "space {} {}",
        h.space,
        serde_json::Value::Object(h.options.clone())
    ));
    line(format!(
        "budget: {}, {} training / {} validation / {} test examples, {} epochs, lr {}, batch {}, data seed {}, {}",
        b.dataset, b.train_subset, b.valid_subset, b.test_subset, b.epochs, b.lr, b.batch_size, b.data_seed,
        if b.augment { "crop+flip" } else { "no augmentation" }
    ));
    line(format!("made by: {}", h.command));
    line(format!(
        "{} architectures, seeds {:?}, {:.1} s per training",
        s.architectures, s.seeds, s.seconds_per_training
    ));
    let [best, q75, q50, q25, worst] = s.test_quantiles;
    line(format!(
        "test accuracy (mean over seeds): best {best:.4}, 75th pct {q75:.4}, median {q50:.4}, 25th pct {q25:.4}, worst {worst:.4}"
    ));
    for a in &s.seed_agreement {
        line(agreement_line(a));
    }
    line(agreement_line(&s.valid_vs_test));
    line(agreement_line(&s.params_vs_test));
    line(format!(
        "parameter-free architectures: {}; the best of them at percentile {}",
        s.param_free,
        s.best_param_free_percentile
            .map_or("n/a".into(), |p| format!("{p:.1}"))
    ));
    if let Some(a) = &s.against {
        line(agreement_line(a));
    }
    if let (Some((_, v, _)), [a, b, ..]) = (s.fidelities.first(), s.seeds.as_slice()) {
        line(format!(
            "low fidelities, seed {a} after e epochs vs seed {b}'s final validation accuracy (Spearman ρ over {}):",
            v.count
        ));
        let row = |name: &str, pick: &dyn Fn(&Fidelity) -> Option<f64>| {
            let cells: Vec<String> = s.fidelities.iter().map(|f| fmt(pick(f))).collect();
            format!("  {name:<22} {}", cells.join("  "))
        };
        let epochs: Vec<String> = s.fidelities.iter().map(|f| format!("{:>5}", f.0)).collect();
        line(format!("  {:<22} {}", "e", epochs.join("  ")));
        line(row("validation accuracy", &|f| f.1.spearman));
        line(row("tse (training losses)", &|f| f.2.spearman));
    }
    line("best architectures:".into());
    for (key, test, params) in &s.top {
        line(format!("  {test:.4}  {params:>8} params  {key}"));
    }
    out
}
