//! Where a DARTS-style cell's parts go in a drawing, the way the DARTS paper draws one:
//! the two inputs on the left (c_{k-2} above c_{k-1}), the intermediate nodes spread
//! left to right in a zig-zag, the output c_{k} on the right (the concatenation of the
//! intermediate nodes), and one label per edge placed where it overlaps no other label
//! and no node. Both the web UI (through the API) and `archon report` draw from it, so
//! a cell looks the same in both.
//!
//! Labels are placed greedily, shortest edge first (a short edge has the least room):
//! each takes the first point along its edge, from the middle outwards, whose box is
//! clear. When an edge finds no clear point the whole drawing is spread out and placed
//! again, so labels never overlap for any cell size; the sizes are estimates of the
//! rendered text, with a margin (the browser test measures the real boxes).

use serde::Serialize;

/// Width of one character of a 10 px label, with room to spare (sans-serif digits and
/// underscores are about 5.6 px).
const CHAR_W: f64 = 6.4;
/// Height of a label's box.
const LABEL_H: f64 = 14.0;
/// Radius of a node's circle.
pub const NODE_R: f64 = 16.0;
/// Gap kept between any two boxes.
const GAP: f64 = 3.0;
/// Room above the drawing for its title.
const TITLE_H: f64 = 28.0;
const MARGIN: f64 = 12.0;

/// A node: its name as drawn and its centre.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Node {
    pub name: String,
    pub x: f64,
    pub y: f64,
    /// Half the width of its ellipse (wide enough for the name; the height is
    /// `2 * NODE_R`).
    pub rx: f64,
}

/// An edge from node `from` to node `to` (0, 1: the inputs; 2..: intermediate nodes),
/// its line, and the centre of its label.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlacedEdge {
    /// The caller's key for this edge (the choice label, e.g. `normal_n3_p1`).
    pub key: String,
    pub from: usize,
    pub to: usize,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    /// Centre of the label.
    pub lx: f64,
    pub ly: f64,
}

/// A whole cell's drawing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CellLayout {
    pub width: f64,
    pub height: f64,
    /// Inputs and intermediate nodes, indexed as edges index them.
    pub nodes: Vec<Node>,
    /// DARTS-style cells: the output node c_{k}, the concatenation of every
    /// intermediate node. None where the last node is the output (NAS-Bench-201).
    pub output: Option<Node>,
    pub edges: Vec<PlacedEdge>,
    /// Width and height every label was given room for.
    pub label_w: f64,
    pub label_h: f64,
}

/// One edge to place: key, from node, to node.
pub type EdgeSpec = (String, usize, usize);

/// The width a label of `chars` characters is given.
pub fn label_width(chars: usize) -> f64 {
    CHAR_W * chars as f64 + 6.0
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn centred(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect {
            x0: x - w / 2.0,
            y0: y - h / 2.0,
            x1: x + w / 2.0,
            y1: y + h / 2.0,
        }
    }
    /// Whether the segment from `a` to `b` passes through the box (sampled every
    /// couple of pixels: labels are far larger).
    fn crossed_by(&self, (a, b): ((f64, f64), (f64, f64))) -> bool {
        let steps = ((b.0 - a.0).hypot(b.1 - a.1) / 2.0).ceil().max(1.0) as usize;
        (0..=steps).any(|k| {
            let t = k as f64 / steps as f64;
            let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            x > self.x0 && x < self.x1 && y > self.y0 && y < self.y1
        })
    }

    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 + GAP && o.x0 < self.x1 + GAP && self.y0 < o.y1 + GAP && o.y0 < self.y1 + GAP
    }
}

/// The width a node's circle and name take.
fn node_width(name: &str) -> f64 {
    (2.0 * NODE_R).max(label_width(name.chars().count()))
}

/// The two shapes of cell archon's spaces have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// DARTS: inputs c_{k-2}, c_{k-1}, `intermediate` nodes, and an output c_{k} that
    /// concatenates them (no labelled edges into it).
    Darts { intermediate: usize },
    /// NAS-Bench-201: `nodes` nodes, the first the input, the last the output, an edge
    /// from every node to every later one.
    Chain { nodes: usize },
}

/// A node's centre and name.
type At = ((f64, f64), String);

/// Node centres and names at spread `s` (1: the tightest), and the separate output.
fn positions(shape: Shape, label_w: f64, s: f64) -> (Vec<At>, Option<At>) {
    let col = (label_w + 2.0 * NODE_R + 24.0) * s;
    let row = 64.0 * s;
    let zigzag = |j: usize| {
        if j.is_multiple_of(2) {
            0.5 * row
        } else {
            1.5 * row
        }
    };
    match shape {
        Shape::Darts { intermediate } => {
            let mut at = vec![
                ((0.0, 0.0), "c_{k-2}".to_string()),
                ((0.0, 2.0 * row), "c_{k-1}".to_string()),
            ];
            for j in 0..intermediate {
                at.push((((j + 1) as f64 * col, zigzag(j)), j.to_string()));
            }
            let out = (((intermediate + 1) as f64 * col, row), "c_{k}".to_string());
            (at, Some(out))
        }
        Shape::Chain { nodes } => {
            let at = (0..nodes)
                .map(|n| {
                    let y = if n == 0 || n + 1 == nodes {
                        row
                    } else {
                        zigzag(n - 1)
                    };
                    ((n as f64 * col, y), n.to_string())
                })
                .collect();
            (at, None)
        }
    }
}

/// Places the label of each edge on it, clear of nodes and other labels; None when
/// some edge has no clear point.
fn place(at: &[At], out: &Option<At>, edges: &[EdgeSpec], label_w: f64) -> Option<Vec<(f64, f64)>> {
    let mut taken: Vec<Rect> = at
        .iter()
        .chain(out)
        .map(|((x, y), name)| Rect::centred(*x, *y, node_width(name), 2.0 * NODE_R))
        .collect();
    let length = |e: &EdgeSpec| {
        let (a, b) = (at[e.1].0, at[e.2].0);
        (a.0 - b.0).hypot(a.1 - b.1)
    };
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by(|&a, &b| {
        length(&edges[a])
            .total_cmp(&length(&edges[b]))
            .then(a.cmp(&b))
    });
    let mut centres = vec![(0.0, 0.0); edges.len()];
    // From the middle outwards: 0.5, 0.46, 0.54, 0.42, … within [0.1, 0.9].
    let ts: Vec<f64> = std::iter::once(0.5)
        .chain((1..=10).flat_map(|k| {
            let d = 0.04 * k as f64;
            [0.5 - d, 0.5 + d]
        }))
        .collect();
    let segment = |e: &EdgeSpec| (at[e.1].0, at[e.2].0);
    for i in order {
        let (a, b) = segment(&edges[i]);
        let free = |crossing_ok: bool| {
            ts.iter().find_map(|&t| {
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                let r = Rect::centred(x, y, label_w, LABEL_H);
                let clear = !taken.iter().any(|o| o.overlaps(&r))
                    && (crossing_ok
                        || edges
                            .iter()
                            .enumerate()
                            .all(|(j, e)| j == i || !r.crossed_by(segment(e))));
                clear.then_some((x, y, r))
            })
        };
        // Best where no other edge runs through the label, else anywhere clear.
        let spot = free(false).or_else(|| free(true))?;
        taken.push(spot.2);
        centres[i] = (spot.0, spot.1);
    }
    Some(centres)
}

/// Lays out a DARTS cell with `intermediate` nodes and the given edges, each label
/// given room for `label_chars` characters.
pub fn layout(intermediate: usize, edges: &[EdgeSpec], label_chars: usize) -> CellLayout {
    layout_shape(Shape::Darts { intermediate }, edges, label_chars)
}

/// Lays out a cell of `shape` with the given edges (node indices as `positions` numbers
/// them), each label given room for `label_chars` characters.
pub fn layout_shape(shape: Shape, edges: &[EdgeSpec], label_chars: usize) -> CellLayout {
    let label_w = label_width(label_chars);
    let mut s = 1.0;
    let (at, out, centres) = loop {
        let (at, out) = positions(shape, label_w, s);
        match place(&at, &out, edges, label_w) {
            Some(c) => break (at, out, c),
            // Spreading out always frees room eventually; past 30x something is wrong
            // with the input, and overlapping labels beat no drawing.
            None if s < 30.0 => s *= 1.25,
            None => {
                let c = edges
                    .iter()
                    .map(|e| {
                        let (a, b) = (at[e.1].0, at[e.2].0);
                        ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
                    })
                    .collect();
                break (at, out, c);
            }
        }
    };
    // Shift everything so the drawing starts at the margin, below the title.
    let nodes = || at.iter().chain(&out);
    let labels = || centres.iter();
    let min_x = nodes()
        .map(|((x, _), name)| x - node_width(name) / 2.0)
        .chain(labels().map(|c| c.0 - label_w / 2.0))
        .fold(f64::MAX, f64::min);
    let max_x = nodes()
        .map(|((x, _), name)| x + node_width(name) / 2.0)
        .chain(labels().map(|c| c.0 + label_w / 2.0))
        .fold(f64::MIN, f64::max);
    let min_y = nodes()
        .map(|((_, y), _)| y - NODE_R)
        .chain(labels().map(|c| c.1 - LABEL_H / 2.0))
        .fold(f64::MAX, f64::min);
    let max_y = nodes()
        .map(|((_, y), _)| y + NODE_R)
        .chain(labels().map(|c| c.1 + LABEL_H / 2.0))
        .fold(f64::MIN, f64::max);
    let dx = MARGIN - min_x;
    let dy = MARGIN + TITLE_H - min_y;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let node = |((x, y), name): &At| Node {
        name: name.clone(),
        x: round(x + dx),
        y: round(y + dy),
        rx: node_width(name) / 2.0,
    };
    CellLayout {
        width: round(max_x + dx + MARGIN),
        height: round(max_y + dy + MARGIN),
        nodes: at.iter().map(node).collect(),
        output: out.as_ref().map(node),
        edges: edges
            .iter()
            .zip(&centres)
            .map(|((key, from, to), &(lx, ly))| PlacedEdge {
                key: key.clone(),
                from: *from,
                to: *to,
                x1: round(at[*from].0 .0 + dx),
                y1: round(at[*from].0 .1 + dy),
                x2: round(at[*to].0 .0 + dx),
                y2: round(at[*to].0 .1 + dy),
                lx: round(lx + dx),
                ly: round(ly + dy),
            })
            .collect(),
        label_w,
        label_h: LABEL_H,
    }
}

/// The cells of a search space in NNI's JSON, each laid out with every candidate edge
/// and labels with room for the longest candidate name plus a weight (" 0.00"): DARTS
/// cells (choices labelled `{kind}_n{node}_p{input}`, one layout per kind) and
/// NAS-Bench-201's cell (`edge_{to}_{from}`, kind `cell`).
pub fn space_layouts(space: &serde_json::Value) -> std::collections::BTreeMap<String, CellLayout> {
    type Cell = (Vec<EdgeSpec>, usize, bool);
    let mut kinds: std::collections::BTreeMap<String, Cell> = Default::default();
    for (label, entry) in space.as_object().into_iter().flatten() {
        let (kind, to, from, chain) = match (parse_edge_label(label), parse_chain_label(label)) {
            (Some((kind, to, from)), _) => (kind, to, from, false),
            (None, Some((to, from))) => ("cell".to_string(), to, from, true),
            _ => continue,
        };
        let longest = entry
            .get("_value")
            .and_then(|v| v.as_array().or_else(|| v.get("candidates")?.as_array()))
            .map(|list| {
                list.iter()
                    .map(|c| c.as_str().map_or_else(|| c.to_string().len(), str::len))
                    .max()
                    .unwrap_or(1)
            })
            .unwrap_or(1);
        let cell = kinds.entry(kind).or_default();
        cell.0.push((label.clone(), from, to));
        cell.1 = cell.1.max(longest + 5);
        cell.2 = chain;
    }
    kinds
        .into_iter()
        .map(|(kind, (edges, chars, chain))| {
            let last = edges.iter().map(|e| e.2).max().unwrap_or(2);
            let shape = if chain {
                Shape::Chain { nodes: last + 1 }
            } else {
                Shape::Darts {
                    intermediate: last - 1,
                }
            };
            (kind, layout_shape(shape, &edges, chars))
        })
        .collect()
}

/// `normal_n3_p1` → ("normal", 3, 1).
pub fn parse_edge_label(label: &str) -> Option<(String, usize, usize)> {
    let (rest, from) = label.rsplit_once("_p")?;
    let (kind, to) = rest.rsplit_once("_n")?;
    let (to, from) = (to.parse().ok()?, from.parse().ok()?);
    (!kind.is_empty() && from < to && to >= 2).then(|| (kind.to_string(), to, from))
}

/// NAS-Bench-201's `edge_3_1` → (3, 1).
pub fn parse_chain_label(label: &str) -> Option<(usize, usize)> {
    let (to, from) = label.strip_prefix("edge_")?.split_once('_')?;
    let (to, from): (usize, usize) = (to.parse().ok()?, from.parse().ok()?);
    (from < to).then_some((to, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_cell(intermediate: usize) -> Vec<EdgeSpec> {
        (2..intermediate + 2)
            .flat_map(|to| (0..to).map(move |from| (format!("normal_n{to}_p{from}"), from, to)))
            .collect()
    }

    fn boxes_overlap(l: &CellLayout) -> Vec<(String, String)> {
        let r = |e: &PlacedEdge| Rect::centred(e.lx, e.ly, l.label_w, l.label_h);
        let mut bad = Vec::new();
        for (i, a) in l.edges.iter().enumerate() {
            for b in &l.edges[i + 1..] {
                if r(a).overlaps(&r(b)) {
                    bad.push((a.key.clone(), b.key.clone()));
                }
            }
            for n in l.nodes.iter().chain(&l.output) {
                if r(a).overlaps(&Rect::centred(n.x, n.y, node_width(&n.name), 2.0 * NODE_R)) {
                    bad.push((a.key.clone(), n.name.clone()));
                }
            }
        }
        bad
    }

    #[test]
    fn no_label_overlaps_another_or_a_node_for_any_cell_size() {
        for intermediate in 1..=7 {
            for chars in [4, 17, 30] {
                let l = layout(intermediate, &full_cell(intermediate), chars);
                assert_eq!(l.edges.len(), full_cell(intermediate).len());
                assert!(
                    boxes_overlap(&l).is_empty(),
                    "{intermediate} nodes, {chars} chars: {:?}",
                    boxes_overlap(&l)
                );
            }
        }
    }

    #[test]
    fn inputs_left_output_right_labels_on_their_edges_and_inside_the_drawing() {
        let l = layout(4, &full_cell(4), 17);
        let xs: Vec<f64> = l.nodes.iter().map(|n| n.x).collect();
        assert_eq!(xs[0], xs[1], "both inputs in the first column");
        assert!(l.nodes[0].y < l.nodes[1].y, "c_{{k-2}} above c_{{k-1}}");
        assert!(xs.windows(2).skip(1).all(|w| w[0] < w[1]), "{xs:?}");
        assert!(l.output.as_ref().unwrap().x > xs[5]);
        assert_eq!(l.nodes[2].name, "0");
        for e in &l.edges {
            // The label's centre is on the segment between its nodes.
            let cross = (e.x2 - e.x1) * (e.ly - e.y1) - (e.y2 - e.y1) * (e.lx - e.x1);
            let len = (e.x2 - e.x1).hypot(e.y2 - e.y1);
            assert!(cross.abs() / len < 0.2, "{e:?}");
            assert!(
                e.lx - l.label_w / 2.0 >= 0.0 && e.lx + l.label_w / 2.0 <= l.width,
                "{e:?}"
            );
            assert!(
                e.ly - l.label_h / 2.0 >= 0.0 && e.ly + l.label_h / 2.0 <= l.height,
                "{e:?}"
            );
        }
    }

    #[test]
    fn a_search_space_gives_one_layout_per_cell_kind_sized_for_its_longest_candidate() {
        let space = serde_json::json!({
            "normal_n2_p0": {"_type": "layer_choice", "_value": ["sep_conv_3x3", "skip_connect"]},
            "normal_n2_p1": {"_type": "layer_choice", "_value": ["sep_conv_3x3", "skip_connect"]},
            "normal_n2_switch": {"_type": "input_choice", "_value": {"candidates": [0, 1], "n_chosen": 2}},
            "reduce_n2_p0": {"_type": "layer_choice", "_value": ["max_pool_3x3"]},
            "reduce_n2_p1": {"_type": "layer_choice", "_value": ["max_pool_3x3"]},
            "reduce_n3_p2": {"_type": "layer_choice", "_value": ["max_pool_3x3"]},
            "lr": {"_type": "choice", "_value": [0.1]},
        });
        let l = space_layouts(&space);
        assert_eq!(l.keys().collect::<Vec<_>>(), ["normal", "reduce"]);
        assert_eq!(l["normal"].edges.len(), 2);
        assert_eq!(l["normal"].nodes.len(), 3);
        assert_eq!(l["reduce"].nodes.len(), 4);
        assert_eq!(l["normal"].label_w, label_width("sep_conv_3x3".len() + 5));
        assert_eq!(
            parse_edge_label("normal_n3_p1"),
            Some(("normal".into(), 3, 1))
        );
        assert_eq!(parse_edge_label("normal_n3_switch"), None);
        assert_eq!(parse_edge_label("x_n1_p3"), None);
    }

    #[test]
    fn nas_bench_201s_cell_is_a_chain_from_input_to_output_with_clear_labels() {
        let ops = [
            "none",
            "skip_connect",
            "nor_conv_1x1",
            "nor_conv_3x3",
            "avg_pool_3x3",
        ];
        let mut space = serde_json::Map::new();
        for to in 1..4 {
            for from in 0..to {
                space.insert(
                    format!("edge_{to}_{from}"),
                    serde_json::json!({"_type": "layer_choice", "_value": ops}),
                );
            }
        }
        let l = &space_layouts(&serde_json::Value::Object(space))["cell"];
        assert!(l.output.is_none());
        let names: Vec<&str> = l.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["0", "1", "2", "3"]);
        assert!(l.nodes.windows(2).all(|w| w[0].x < w[1].x));
        assert_eq!(
            l.nodes[0].y, l.nodes[3].y,
            "input and output on the middle line"
        );
        assert_eq!(l.edges.len(), 6);
        assert!(boxes_overlap(l).is_empty(), "{:?}", boxes_overlap(l));
    }
}
