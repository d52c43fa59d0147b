//! An attempt's output file, read as it grows.

use super::EXIT_MARKER;
use crate::service::{Event, TrialSpec};
use archon_store::protocol::parse_line;
use std::{
    io::{Read, Seek, SeekFrom, Write},
    path::PathBuf,
};
use tokio::sync::mpsc;

/// Reads an attempt's output file as it grows.
pub(super) struct Output {
    pub(super) path: PathBuf,
    pub(super) offset: u64,
    pub(super) partial: String,
    /// Metric lines still to skip (already stored by an earlier manager).
    pub(super) skip: usize,
    pub(super) exit_code: Option<i32>,
    pub(super) bad_metric: Option<String>,
}

impl Output {
    /// New complete lines: metrics go to `events`, everything else (but the exit line)
    /// to the trial's `stdout.log`.
    pub(super) fn read(&mut self, spec: &TrialSpec, events: &mpsc::UnboundedSender<Event>) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        self.offset += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(spec.log_dir.join("stdout.log"))
            .ok();
        while let Some(pos) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=pos).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(code) = line.strip_prefix(EXIT_MARKER) {
                self.exit_code = code.trim().parse().ok();
                continue;
            }
            match parse_line(line) {
                Some(_) if self.skip > 0 => {
                    self.skip -= 1;
                    continue;
                }
                Some(Ok(metric)) => {
                    let _ = events.send(Event::Metric {
                        id: spec.id,
                        attempt: spec.attempt,
                        metric,
                    });
                }
                Some(Err(why)) => {
                    self.bad_metric.get_or_insert(why);
                }
                None => {}
            }
            if let Some(log) = log.as_mut() {
                let _ = writeln!(log, "{line}");
            }
        }
    }
}
