//! `archon report ID --out DIR`: the key plots of an experiment as SVG files, for
//! papers and READMEs — classic: the best-so-far curve; one-shot: loss/accuracy
//! curves, the op-importance heatmap over epochs, and the derived cell.

use anyhow::{bail, Context, Result};
use archon_store::{Store, TrialStatus};
use serde_json::Value;
use std::{collections::BTreeMap, fmt::Write as _, path::Path};

const W: f64 = 640.0;
const H: f64 = 360.0;
const PAD: f64 = 48.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The plotting area of a chart: the data's range (padded when flat) and its
/// mapping to the SVG canvas.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn new(points: &[(f64, f64)]) -> Frame {
        let range = |v: Vec<f64>, pad: f64| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
            if v.is_empty() {
                (0.0, 1.0)
            } else if hi > lo {
                (lo, hi)
            } else {
                (lo - pad, hi + pad)
            }
        };
        Frame {
            x: range(points.iter().map(|p| p.0).collect(), 1.0),
            y: range(points.iter().map(|p| p.1).collect(), 0.5),
        }
    }
    fn sx(&self, x: f64) -> f64 {
        PAD + (x - self.x.0) / (self.x.1 - self.x.0) * (W - 2.0 * PAD)
    }
    fn sy(&self, y: f64) -> f64 {
        H - PAD - (y - self.y.0) / (self.y.1 - self.y.0) * (H - 2.0 * PAD)
    }
    /// The SVG's opening: background, title, axes with their ranges and labels.
    fn open(&self, title: &str, x_label: &str, y_label: &str) -> String {
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#,
            W / 2.0,
            escape(title)
        );
        let _ = write!(
            svg,
            r##"<line x1="{PAD}" y1="{b}" x2="{r}" y2="{b}" stroke="#333"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{b}" stroke="#333"/><text x="{PAD}" y="{ly}">{x0}</text><text x="{r}" y="{ly}" text-anchor="end">{x1}</text><text x="{mx}" y="{ly}" text-anchor="middle">{xl}</text><text x="{tx}" y="{b}" text-anchor="end">{y0}</text><text x="{tx}" y="{t}" text-anchor="end">{y1}</text><text x="{tx}" y="{my}" text-anchor="end">{yl}</text>"##,
            b = H - PAD,
            r = W - PAD,
            ly = H - PAD + 16.0,
            mx = W / 2.0,
            my = H / 2.0,
            xl = escape(x_label),
            yl = escape(y_label),
            tx = PAD - 4.0,
            t = PAD + 4.0,
            x0 = tick(self.x.0),
            x1 = tick(self.x.1),
            y0 = tick(self.y.0),
            y1 = tick(self.y.1),
        );
        svg
    }
}

/// An axis value, with as many digits as its size needs.
fn tick(v: f64) -> String {
    if v.abs() >= 100.0 || (v.fract() == 0.0 && v.abs() < 1e15) {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// A line chart of `series` (name, points) with a title and axis labels.
pub fn line_chart(title: &str, x_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let points: Vec<(f64, f64)> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
    let frame = Frame::new(&points);
    let mut svg = frame.open(title, x_label, "");
    for (k, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", frame.sx(x), frame.sy(y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/><text x="{}" y="{}" fill="{color}">{}</text>"#,
            path.join(" "),
            W - PAD + 4.0 - 120.0,
            PAD + 14.0 * k as f64,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A scatter of every trial's two objectives (`points`), the Pareto front's members
/// (`front`, in the same units) ringed and joined as a staircase.
pub fn pareto_chart(
    title: &str,
    labels: (&str, &str),
    points: &[(f64, f64)],
    front: &[(f64, f64)],
) -> String {
    let frame = Frame::new(points);
    let mut svg = frame.open(title, labels.0, labels.1);
    for &(x, y) in points {
        let _ = write!(
            svg,
            r##"<circle class="trial" cx="{:.1}" cy="{:.1}" r="3" fill="#9ab"/>"##,
            frame.sx(x),
            frame.sy(y)
        );
    }
    let mut sorted = front.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let path: Vec<String> = sorted
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", frame.sx(x), frame.sy(y)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="{}"/>"##,
        path.join(" ")
    );
    for &(x, y) in &sorted {
        let _ = write!(
            svg,
            r##"<circle class="front" cx="{:.1}" cy="{:.1}" r="5" fill="none" stroke="#d62728" stroke-width="2"/>"##,
            frame.sx(x),
            frame.sy(y)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A heatmap: one row per label, one column per epoch, the strongest candidate's
/// probability as colour and its name as the cell's title.
pub fn heatmap(
    title: &str,
    epochs: &[BTreeMap<String, Vec<f64>>],
    names: &BTreeMap<String, Vec<String>>,
) -> String {
    let labels: Vec<&String> = epochs
        .last()
        .map(|e| e.keys().collect())
        .unwrap_or_default();
    let cell = 18.0;
    let left = 180.0;
    let width = left + cell * epochs.len().max(1) as f64 + 20.0;
    let height = 40.0 + cell * labels.len().max(1) as f64 + 30.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/><text x="8" y="18" font-size="14">{}</text>"#,
        escape(title)
    );
    for (r, label) in labels.iter().enumerate() {
        let y = 30.0 + cell * r as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 4.0,
            y + 13.0,
            escape(label)
        );
        for (c, epoch) in epochs.iter().enumerate() {
            let probs = epoch.get(*label).cloned().unwrap_or_default();
            let (best, p) =
                probs.iter().enumerate().fold(
                    (0, 0.0),
                    |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
                );
            let op = names
                .get(*label)
                .and_then(|n| n.get(best))
                .cloned()
                .unwrap_or_default();
            let shade = (255.0 * (1.0 - p.clamp(0.0, 1.0))) as u8;
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{y}" width="{}" height="{}" fill="rgb({shade},{shade},255)"><title>{} epoch {}: {} {:.3}</title></rect>"#,
                left + cell * c as f64,
                cell - 1.0,
                cell - 1.0,
                escape(label),
                c + 1,
                escape(&op),
                p
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{}">epochs 1–{} (darker: a stronger favourite)</text></svg>"#,
        height - 8.0,
        epochs.len()
    );
    svg
}

/// A chosen edge of a cell: from node, to node, operation.
pub type Edge = (usize, usize, String);

/// The cell a DARTS-style architecture derives, as a diagram laid out by
/// [`cell_layout`](super::cell_layout): inputs c_{k-2}, c_{k-1} on the left, the
/// intermediate nodes, the output c_{k} on the right, each chosen edge labelled with its
/// operation (no label over another).
pub fn cell_diagram(title: &str, edges: &[Edge], nodes: usize) -> String {
    let specs: Vec<_> = edges
        .iter()
        .enumerate()
        .map(|(i, (from, to, _))| (i.to_string(), *from, *to))
        .collect();
    let chars = edges.iter().map(|e| e.2.chars().count()).max().unwrap_or(1);
    let l = super::cell_layout::layout(nodes, &specs, chars);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="10"><rect width="100%" height="100%" fill="white"/><text x="8" y="18" font-size="14">{}</text>"#,
        l.width,
        l.height,
        escape(title)
    );
    if let Some(out) = &l.output {
        for n in &l.nodes[2..] {
            let _ = write!(
                svg,
                r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
                n.x, n.y, out.x, out.y
            );
        }
    }
    for e in &l.edges {
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"/>"##,
            e.x1, e.y1, e.x2, e.y2
        );
    }
    for (e, (_, _, op)) in l.edges.iter().zip(edges) {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central" class="edge-op" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
            e.lx,
            e.ly,
            escape(op)
        );
    }
    for n in l.nodes.iter().chain(&l.output) {
        let _ = write!(
            svg,
            r##"<ellipse cx="{}" cy="{}" rx="{}" ry="{}" fill="#e8f0fe" stroke="#1f77b4"/><text x="{}" y="{}" text-anchor="middle" dominant-baseline="central">{}</text>"##,
            n.x,
            n.y,
            n.rx,
            super::cell_layout::NODE_R,
            n.x,
            n.y,
            escape(&n.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The chosen edges `(from, to, op)` of cell kind `kind` in a DARTS-format architecture
/// and its number of intermediate nodes.
pub fn darts_edges(arch: &Value, kind: &str) -> Option<(Vec<Edge>, usize)> {
    let mut edges = Vec::new();
    let mut node = 2;
    while let Some(switch) = arch.get(format!("{kind}_n{node}_switch")) {
        for i in switch.get("_idx")?.as_array()? {
            let i = i.as_u64()? as usize;
            let op = arch
                .get(format!("{kind}_n{node}_p{i}"))?
                .get("_value")?
                .as_str()?;
            edges.push((i, node, op.to_string()));
        }
        node += 1;
    }
    (node > 2).then_some((edges, node - 2))
}

fn write(out: &Path, name: &str, svg: &str, written: &mut Vec<String>) -> Result<()> {
    let path = out.join(name);
    std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
    written.push(path.display().to_string());
    Ok(())
}

/// Writes the experiment in `dir`'s plots into `out`; returns the files written.
pub fn write_report(dir: &Path, out: &Path) -> Result<Vec<String>> {
    let store = Store::open_read_only(dir)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Vec::new();
    if store.is_one_shot()? {
        one_shot_plots(&store, out, &mut written)?;
    } else {
        classic_plots(&store, out, &mut written)?;
    }
    Ok(written)
}

/// A one-shot search's curves, op importance and derived cells.
fn one_shot_plots(store: &Store, out: &Path, written: &mut Vec<String>) -> Result<()> {
    let epochs = store.search_epochs()?;
    if epochs.is_empty() {
        bail!("the search has no finished epoch yet: nothing to plot");
    }
    let metrics: Vec<BTreeMap<String, f64>> = epochs
        .iter()
        .map(|e| serde_json::from_str(&e.metrics).unwrap_or_default())
        .collect();
    let mut series = Vec::new();
    for key in ["loss", "accuracy", "valid_loss", "valid_accuracy"] {
        let pts: Vec<(f64, f64)> = metrics
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.get(key).map(|v| ((i + 1) as f64, *v)))
            .collect();
        if !pts.is_empty() {
            series.push((key.to_string(), pts));
        }
    }
    write(
        out,
        "curves.svg",
        &line_chart("loss and accuracy per epoch", "epoch", &series),
        written,
    )?;
    let weights: Vec<BTreeMap<String, Vec<f64>>> = epochs
        .iter()
        .map(|e| serde_json::from_str(&e.arch_weights).unwrap_or_default())
        .collect();
    let space: Value = store
        .meta("search_space")?
        .map(|s| serde_json::from_str(&s).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    write(
        out,
        "op_importance.svg",
        &heatmap(
            "op importance over epochs",
            &weights,
            &candidate_names(&space),
        ),
        written,
    )?;
    if let Some(arch) = store
        .meta("architecture")?
        .and_then(|a| serde_json::from_str::<Value>(&a).ok())
    {
        for kind in ["normal", "reduce"] {
            if let Some((edges, nodes)) = darts_edges(&arch, kind) {
                write(
                    out,
                    &format!("cell_{kind}.svg"),
                    &cell_diagram(&format!("derived {kind} cell"), &edges, nodes),
                    written,
                )?;
            }
        }
    }
    Ok(())
}

/// Each choice's candidate names, from the search space JSON.
fn candidate_names(space: &Value) -> BTreeMap<String, Vec<String>> {
    space
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let list = v
                        .get("_value")
                        .and_then(|x| x.get("candidates").or(Some(x)))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .map(|c| {
                                    c.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| c.to_string())
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), list)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A classic experiment's best metric so far, trial by trial.
fn classic_plots(store: &Store, out: &Path, written: &mut Vec<String>) -> Result<()> {
    let cfg: toml::Table = store
        .meta("config")?
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    let maximize = cfg.get("direction").and_then(|d| d.as_str()) != Some("minimize");
    let mut best: Option<f64> = None;
    let mut pts = Vec::new();
    for t in store.trials()? {
        if let (TrialStatus::Succeeded, Some(v)) = (t.status, t.final_metric) {
            best = Some(best.map_or(v, |b| if maximize { b.max(v) } else { b.min(v) }));
        }
        if let Some(b) = best {
            pts.push((t.id as f64, b));
        }
    }
    if pts.is_empty() {
        bail!("no trial has succeeded yet: nothing to plot");
    }
    write(
        out,
        "best_so_far.svg",
        &line_chart("best metric so far", "trial", &[("best".into(), pts)]),
        written,
    )?;
    let parsed = archon_experiment::config::ExperimentConfig::parse(
        &store.config_text()?,
        Path::new("experiment.toml"),
    )?;
    if parsed.objectives.len() >= 2 {
        pareto_plot(store, &parsed.objectives, out, written)?;
    }
    Ok(())
}

/// `pareto.svg`: every succeeded trial by the first two objectives, the front ringed.
fn pareto_plot(
    store: &Store,
    objectives: &[archon_experiment::pareto::Objective],
    out: &Path,
    written: &mut Vec<String>,
) -> Result<()> {
    let front = archon_experiment::pareto::experiment_front(store, objectives)?;
    let points: Vec<(f64, f64)> = front.points.iter().map(|(_, v)| (v[0], v[1])).collect();
    let on_front: Vec<(f64, f64)> = front.trials.iter().map(|(_, v)| (v[0], v[1])).collect();
    let label = |o: &archon_experiment::pareto::Objective| {
        format!("{} ({})", o.metric, o.direction.as_str())
    };
    write(
        out,
        "pareto.svg",
        &pareto_chart(
            &format!(
                "Pareto front: {} of {} trials, hypervolume {:.4}",
                front.trials.len(),
                front.considered,
                front.hypervolume
            ),
            (&label(&objectives[0]), &label(&objectives[1])),
            &points,
            &on_front,
        ),
        written,
    )
}
