//! The web UI in a real browser (Debian's headless Chromium): recorded experiments of
//! both kinds are served by `archon view`, each page is loaded, its elements and
//! numbers are checked against the store, screenshots are saved under
//! `target/<profile>/web-ui-screenshots/`; then the API is fuzzed.

use archon_tests::{archon, run, target_dir, trial_config};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};
use tempfile::TempDir;

const CLASSIC: &str = r#"
name = "classic"
direction = "maximize"
max_trials = 6
concurrency = 2
seed = 5
[space]
builtin = "nas-bench-201"
[trial]
command = ["python3", "trial.py"]
timeout = "60s"
[tuner]
name = "random"
"#;

const ONE_SHOT: &str = r#"
name = "oneshot"
seed = 2
[space]
builtin = "darts"
options = { width = 4, cells = 3, nodes = 4 }
[data]
train_subset = 256
[search]
algorithm = "darts"
epochs = 3
batch_size = 32
steps_per_epoch = 2
device = "cpu"
"#;

/// Records one experiment of each kind in `runs`; returns (classic id, one-shot id).
fn record(home: &Path, runs: &Path) -> (String, String) {
    let classic_config = trial_config(home, CLASSIC);
    std::fs::write(home.join("oneshot.toml"), ONE_SHOT).unwrap();
    let id_of = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("experiment "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .to_string()
    };
    let (code, out, err) = run(archon(home)
        .args(["experiment", "run"])
        .arg(&classic_config)
        .arg("--runs-dir")
        .arg(runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let classic = id_of(&out);
    let (code, out, err) = run(archon(home)
        .arg("search")
        .arg(home.join("oneshot.toml"))
        .arg("--runs-dir")
        .arg(runs));
    assert_eq!(code, 0, "{out}\n{err}");
    (classic, id_of(&out))
}

/// `archon view` on `runs`, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Path, runs: &Path) -> Server {
    let mut child = archon(home)
        .args(["view", "--port", "0", "--runs-dir"])
        .arg(runs)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("archon view: ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, url }
}

fn get(url: &str, path: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    )
}

fn raw(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(request.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response to {request:?}: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|b| b.1.to_string())
        .unwrap_or_default();
    (status, body)
}

fn chromium(profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=8000",
            "--window-size=1280,1100",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page's DOM after its scripts ran, and a screenshot of it as `name`.png.
fn page(profile: &Path, url: &str, name: &str) -> String {
    let shots = target_dir().join("web-ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png: PathBuf = shots.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    chromium(profile, &[&format!("--screenshot={}", png.display())], url);
    assert!(
        png.metadata().map(|m| m.len() > 1000).unwrap_or(false),
        "no screenshot {}",
        png.display()
    );
    chromium(profile, &["--dump-dom"], url)
}

/// The rendered boxes `[x, y, width, height]` of the edge labels in `<svg id="{svg}">`,
/// one list per cell drawing (each cell has its own coordinates).
fn label_boxes(dom: &str, svg: &str) -> Vec<Vec<[f64; 4]>> {
    let start = dom
        .find(&format!(r#"id="{svg}""#))
        .unwrap_or_else(|| panic!("no svg {svg}:\n{dom}"));
    let body = &dom[start..start + dom[start..].find("</svg>").unwrap()];
    body.split(r#"class="cell""#)
        .skip(1)
        .map(|cell| {
            cell.split(r#"data-bbox=""#)
                .skip(1)
                .map(|rest| {
                    let v: Vec<f64> = rest[..rest.find('"').unwrap()]
                        .split(',')
                        .map(|x| x.parse().unwrap())
                        .collect();
                    [v[0], v[1], v[2], v[3]]
                })
                .collect()
        })
        .collect()
}

/// No two of one cell's label boxes overlap, and none is empty.
fn assert_apart(svg: &str, cell: &[[f64; 4]]) {
    for (i, a) in cell.iter().enumerate() {
        assert!(a[2] > 10.0 && a[3] > 5.0, "{svg}: an empty label box {a:?}");
        for b in &cell[i + 1..] {
            let apart = a[0] + a[2] <= b[0]
                || b[0] + b[2] <= a[0]
                || a[1] + a[3] <= b[1]
                || b[1] + b[3] <= a[1];
            assert!(apart, "{svg}: labels at {a:?} and {b:?} overlap");
        }
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_web_ui_shows_both_kinds_of_experiment_in_a_real_browser() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    let (classic, one_shot) = record(home.path(), &runs);
    let server = serve(home.path(), &runs);
    let profile = TempDir::new().unwrap();

    // The list: both experiments, with their kinds.
    let dom = page(profile.path(), &server.url, "experiments");
    assert_eq!(count(&dom, r#"class="experiment""#), 2, "{dom}");
    assert!(dom.contains(&classic) && dom.contains(&one_shot), "{dom}");

    // Classic: one row per trial, the best metric the store holds, the curves.
    let (_, api) = get(&server.url, &format!("/api/experiments/{classic}"));
    let best = serde_json::from_str::<Value>(&api).unwrap()["summary"]["best"]
        .as_f64()
        .unwrap();
    let dom = page(
        profile.path(),
        &format!("{}#/exp/{classic}", server.url),
        "classic",
    );
    assert_eq!(count(&dom, r#"class="trial""#), 6, "{dom}");
    assert!(
        dom.contains(&format!(r#"id="best-metric">{best:.4}<"#)),
        "best {best:.4} missing:\n{dom}"
    );
    assert!(
        dom.contains(r#"id="best-curve""#) && dom.contains("polyline"),
        "{dom}"
    );
    assert!(
        dom.contains(r#"id="choices""#) && dom.contains("edge_1_0"),
        "{dom}"
    );

    // One-shot: every edge of both cells drawn, coloured and labelled by its weights
    // at the last epoch; the derived cell; the curves.
    let (_, api) = get(&server.url, &format!("/api/experiments/{one_shot}"));
    let exp: Value = serde_json::from_str(&api).unwrap();
    let weights = &exp["epochs"][2]["arch_weights"]["normal_n2_p0"];
    let probs: Vec<f64> = weights
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let ops = [
        "none",
        "max_pool_3x3",
        "avg_pool_3x3",
        "skip_connect",
        "sep_conv_3x3",
        "sep_conv_5x5",
        "dil_conv_3x3",
        "dil_conv_5x5",
    ];
    let best = (1..8)
        .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
        .unwrap();
    let label = format!("{} {:.2}", ops[best], probs[best]);
    let dom = page(
        profile.path(),
        &format!("{}#/exp/{one_shot}", server.url),
        "one-shot",
    );
    // 4 nodes: 2 + 3 + 4 + 5 = 14 edges per cell, two cells; the derived cells keep 2
    // edges per node: 8 per cell.
    assert_eq!(count(&dom, r#"class="edge""#), 28 + 16, "{dom}");
    assert!(dom.contains(r#"id="epoch-label">3<"#), "{dom}");
    let normal_n2_p0 = dom
        .split(r#"data-label="normal_n2_p0""#)
        .filter_map(|rest| rest.split_once('>').map(|(_, text)| text))
        .find(|text| text.starts_with(&format!("{label}<")));
    assert!(
        normal_n2_p0.is_some(),
        "edge label {label:?} missing:\n{dom}"
    );
    // The derived cells: 2 chosen edges per node, 8 per cell.
    assert_eq!(count(&dom, r#"class="genotype-op""#), 16, "{dom}");
    // No edge label's box, as the browser rendered it, overlaps another's.
    for (svg, labels) in [("supernet", 28), ("genotype", 16)] {
        let boxes = label_boxes(&dom, svg);
        assert_eq!(
            boxes.iter().map(Vec::len).sum::<usize>(),
            labels,
            "{svg}: {boxes:?}"
        );
        for cell in &boxes {
            assert_apart(svg, cell);
        }
    }
    assert!(
        dom.contains(r#"id="curves""#) && dom.contains("polyline"),
        "{dom}"
    );

    // A NAS-Bench-201 search: its cell drawn as a chain from node 0 to node 3, six
    // labelled edges, and the derived cell with every edge's operation; no overlaps.
    std::fs::write(
        home.path().join("nb201.toml"),
        r#"
name = "nb201"
seed = 1
[space]
builtin = "nas-bench-201"
options = { width = 4, cells_per_stage = 1, ops = "skip_connect,nor_conv_3x3,avg_pool_3x3" }
[data]
train_subset = 256
[search]
algorithm = "gdas"
epochs = 2
batch_size = 32
steps_per_epoch = 2
device = "cpu"
"#,
    )
    .unwrap();
    let (code, out, err) = run(archon(home.path())
        .arg("search")
        .arg(home.path().join("nb201.toml"))
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let nb201 = out
        .lines()
        .find_map(|l| l.strip_prefix("experiment "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let dom = page(
        profile.path(),
        &format!("{}#/exp/{nb201}", server.url),
        "one-shot-nb201",
    );
    assert_eq!(count(&dom, r#"class="edge-weight""#), 6, "{dom}");
    assert_eq!(count(&dom, r#"class="genotype-op""#), 6, "{dom}");
    for svg in ["supernet", "genotype"] {
        let boxes = label_boxes(&dom, svg);
        assert_eq!(boxes.len(), 1, "{svg}: one cell");
        assert_eq!(boxes[0].len(), 6, "{svg}: {boxes:?}");
        assert_apart(svg, &boxes[0]);
    }

    // Static reports of both.
    for (id, files) in [
        (&classic, vec!["best_so_far.svg"]),
        (
            &one_shot,
            vec!["curves.svg", "op_importance.svg", "cell_normal.svg"],
        ),
    ] {
        let out = home.path().join(format!("report-{id}"));
        let (code, stdout, err) = run(archon(home.path())
            .args(["report", id, "--out"])
            .arg(&out)
            .arg("--runs-dir")
            .arg(&runs));
        assert_eq!(code, 0, "{stdout}\n{err}");
        for f in files {
            let text = std::fs::read_to_string(out.join(f)).unwrap();
            assert!(text.starts_with("<svg") && text.len() > 500, "{f}: {text}");
        }
    }
}

#[test]
fn the_server_survives_malformed_and_hostile_requests() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    std::fs::create_dir_all(runs.join("fake")).unwrap();
    std::fs::write(home.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let mut server = serve(home.path(), &runs);
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let pieces = [
        "api",
        "experiments",
        "trials",
        "fake",
        "..",
        "%2e%2e",
        "%2E%2E%2F",
        "secret.txt",
        "etc",
        "passwd",
        "%00",
        "%zz",
        "index.html",
        "app.js",
        "",
        "1",
        "-1",
        "99999999999999999999",
        "é",
        "%ff%fe",
        "x".repeat(300).leak(),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for i in 0..400 {
        let depth = 1 + next(6);
        let path: Vec<&str> = (0..depth).map(|_| pieces[next(pieces.len())]).collect();
        let mut target = format!("/{}", path.join("/"));
        if next(3) == 0 {
            target.push_str(&format!(
                "?{}={}&epoch={}",
                pieces[next(pieces.len())],
                pieces[next(pieces.len())],
                next(1000)
            ));
        }
        let method = ["GET", "GET", "GET", "HEAD", "POST", "DELETE", "BREW"][next(7)];
        let request = match i % 50 {
            0 => "\r\n\r\n".to_string(),
            1 => "GET\r\n\r\n".to_string(),
            2 => format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000)),
            _ => format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        };
        let (status, body) = raw(&addr, &request);
        assert!(
            [200, 400, 404, 405, 413].contains(&status),
            "{request:?} → {status}"
        );
        assert!(
            !body.contains("TOP-SECRET") && !body.contains("root:"),
            "{request:?} leaked a file"
        );
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );
    let (status, body) = get(&server.url, "/api/experiments");
    assert_eq!((status, body.as_str()), (200, "[]"));
    // DNS rebinding: a page of another site reaching the loopback UI through its own
    // name is refused, as is a request without a Host.
    for request in [
        "GET /api/experiments HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n",
        "GET /api/experiments HTTP/1.1\r\n\r\n",
    ] {
        let (status, body) = raw(&addr, request);
        assert_eq!(status, 403, "{request:?}: {body}");
        assert!(body.contains("Host"), "{body}");
    }
    let (status, _) = raw(
        &addr,
        "GET /api/experiments HTTP/1.1\r\nHost: localhost:1234\r\n\r\n",
    );
    assert_eq!(status, 200);
}

#[test]
fn a_two_objective_experiment_shows_its_pareto_front_in_a_real_browser() {
    let home = TempDir::new().unwrap();
    let runs = home.path().join("runs");
    // Six architectures answered from a table: accuracy up, latency up; (b, 3) is
    // dominated by (a, 5) and (c, 3) by (b, 5).
    std::fs::write(
        home.path().join("space.json"),
        r#"{"op": {"_type": "layer_choice", "_value": ["a", "b", "c"]}, "k": {"_type": "choice", "_value": [3, 5]}}"#,
    )
    .unwrap();
    std::fs::write(
        home.path().join("table.csv"),
        "op,k,acc,latency_ms\na,3,0.70,1.0\na,5,0.80,2.0\nb,3,0.75,2.5\nb,5,0.85,3.0\nc,3,0.84,3.5\nc,5,0.90,5.0\n",
    )
    .unwrap();
    let config = home.path().join("experiment.toml");
    std::fs::write(
        &config,
        r#"direction = "maximize"
max_trials = 6
objectives = [{ metric = "default", direction = "maximize" }, { metric = "latency_ms", direction = "minimize" }]
[space]
file = "space.json"
[trial]
table = "table.csv"
metric = "acc"
[tuner]
name = "grid"
"#,
    )
    .unwrap();
    let (code, out, err) = run(archon(home.path())
        .args(["experiment", "run"])
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs));
    assert_eq!(code, 0, "{out}\n{err}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("experiment "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let server = serve(home.path(), &runs);
    let (_, api) = get(&server.url, &format!("/api/experiments/{id}/trials"));
    let trials: Value = serde_json::from_str(&api).unwrap();
    let on_front = trials
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["on_front"] == true)
        .count();
    assert_eq!(on_front, 4, "{api}");
    let profile = TempDir::new().unwrap();
    let dom = page(
        profile.path(),
        &format!("{}#/exp/{id}", server.url),
        "pareto",
    );
    assert!(dom.contains("Pareto front"), "{dom}");
    assert_eq!(count(&dom, r#"class="pareto-front""#), 4, "{dom}");
    assert_eq!(count(&dom, r#"class="pareto-trial""#), 2, "{dom}");
}
