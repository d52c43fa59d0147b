//! The experiment store: one SQLite database per experiment (WAL mode). Every report
//! is committed before it is acknowledged, so a killed manager loses nothing that was
//! reported, and `resume` finds the tuner state that matches the trials it knows.
//! Also what the store holds and who may write it: trial and experiment statuses, the
//! manager's lock, the trial metric protocol, and the runs folder the commands address.

pub mod lock;
pub mod protocol;
pub mod runs;
mod search_records;
pub mod status;

use anyhow::{Context, Result};
use protocol::MetricLine;
use rusqlite::{params, Connection, OptionalExtension};
pub use search_records::SearchEpoch;
pub use status::{ExperimentStatus, TrialStatus};
use std::{
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

/// The status shown for an experiment whose manager is gone while it was running.
pub const INTERRUPTED: &str = "INTERRUPTED";

/// One trial as stored.
#[derive(Debug, Clone)]
pub struct TrialRecord {
    /// Its id (the tuner's parameter id).
    pub id: u64,
    /// Its parameters (NNI format, JSON text).
    pub parameters: String,
    /// Its state.
    pub status: TrialStatus,
    /// How many times it was started.
    pub attempts: u32,
    /// Its final metric.
    pub final_metric: Option<f64>,
    /// Why it failed.
    pub reason: Option<String>,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// Whether the tuner has been told how it ended.
    pub reported: bool,
    /// Start and end (seconds since the epoch).
    pub started: Option<f64>,
    /// End time.
    pub ended: Option<f64>,
    /// What the tuner said of it (JSON object: `budget`, `promoted_from`, …), if anything.
    pub info: Option<String>,
}

impl TrialRecord {
    /// The tuner's info as JSON (an empty object when there is none).
    pub fn info_json(&self) -> serde_json::Value {
        self.info
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_else(|| serde_json::json!({}))
    }
    /// The trial's budget, if the tuner gave one.
    pub fn budget(&self) -> Option<f64> {
        self.info_json()["budget"].as_f64()
    }
}

/// An open experiment database.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
}

/// Seconds since the epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    parameters TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL, ended REAL, exit_code INTEGER, reason TEXT,
    final REAL,
    reported INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS metrics (
    trial INTEGER NOT NULL, seq INTEGER NOT NULL, attempt INTEGER NOT NULL,
    value REAL NOT NULL, raw TEXT NOT NULL, final INTEGER NOT NULL, time REAL NOT NULL,
    PRIMARY KEY (trial, seq)
);
CREATE TABLE IF NOT EXISTS search_steps (
    epoch INTEGER NOT NULL, step INTEGER NOT NULL, metrics TEXT NOT NULL, time REAL NOT NULL,
    PRIMARY KEY (epoch, step)
);
CREATE TABLE IF NOT EXISTS search_epochs (
    epoch INTEGER PRIMARY KEY, metrics TEXT NOT NULL, arch_weights TEXT NOT NULL,
    architecture TEXT, time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS search_populations (
    generation INTEGER PRIMARY KEY, population TEXT NOT NULL, time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trial_info (trial INTEGER PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tuner_state (seq INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, time REAL NOT NULL);
";

/// Keeps the last 20 tuner checkpoints (a PPO state with its weights is ~100 KB).
const PRUNE_TUNER_STATES: &str =
    "DELETE FROM tuner_state WHERE seq <= (SELECT MAX(seq) FROM tuner_state) - 20";

/// Records a tuner checkpoint inside `tx`, keeping the last 20.
fn insert_tuner_state(tx: &rusqlite::Transaction<'_>, state: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO tuner_state(state, time) VALUES (?1, ?2)",
        params![state, now()],
    )?;
    tx.execute(PRUNE_TUNER_STATES, [])?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store in the experiment folder `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("experiment.db");
        let conn =
            Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("initialising {}", path.display()))?;
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an existing store for reading only (the web UI): no schema is written,
    /// and every write fails.
    pub fn open_read_only(dir: &Path) -> Result<Self> {
        let path = dir.join("experiment.db");
        if !path.is_file() {
            anyhow::bail!(
                "{} is not an experiment folder (no experiment.db)",
                dir.display()
            );
        }
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening {} read-only", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    /// Every metadata key and value.
    pub fn all_meta(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM meta ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Opens the store of an existing experiment (never creates one).
    pub fn open_existing(dir: &Path) -> Result<Self> {
        if !dir.join("experiment.db").is_file() {
            anyhow::bail!(
                "{} is not an experiment folder (no experiment.db)",
                dir.display()
            );
        }
        Self::open(dir)
    }

    /// The metrics an attempt reported, in order.
    pub fn metrics_of_attempt(&self, id: u64, attempt: u32) -> Result<Vec<MetricLine>> {
        let mut stmt = self.conn.prepare(
            "SELECT value, raw, final FROM metrics WHERE trial = ?1 AND attempt = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![id as i64, attempt], |r| {
            Ok(MetricLine {
                value: r.get(0)?,
                raw: r.get(1)?,
                is_final: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The experiment folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", params![key, value])?;
        Ok(())
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The experiment's status (none: not recorded, or a name this version does not
    /// know).
    pub fn status(&self) -> Result<Option<ExperimentStatus>> {
        Ok(self
            .meta("status")?
            .as_deref()
            .and_then(ExperimentStatus::parse))
    }

    /// The status as `list`, `show` and the web UI print it: the stored one, except
    /// that an experiment stored as running whose manager is gone (killed, or the
    /// machine went down) is `INTERRUPTED`.
    pub fn status_text(&self) -> Result<String> {
        if self.is_interrupted()? {
            return Ok(INTERRUPTED.into());
        }
        Ok(self.meta("status")?.unwrap_or_default())
    }

    /// Whether the experiment is stored as running (or retraining) but no live manager
    /// holds it: `archon experiment resume` continues it.
    pub fn is_interrupted(&self) -> Result<bool> {
        Ok(matches!(
            self.status()?,
            Some(ExperimentStatus::Running | ExperimentStatus::Retraining)
        ) && !lock::is_held(self.dir()))
    }

    /// Records the experiment's status.
    pub fn set_status(&self, status: ExperimentStatus) -> Result<()> {
        self.set_meta("status", status.as_str())
    }

    /// Whether the experiment is a one-shot search (else a classic one).
    pub fn is_one_shot(&self) -> Result<bool> {
        Ok(self.meta("kind")?.as_deref() == Some("one-shot"))
    }

    /// Records that the experiment is a one-shot search.
    pub fn set_one_shot(&self) -> Result<()> {
        self.set_meta("kind", "one-shot")
    }

    /// The pid of the last manager that ran the experiment.
    pub fn manager_pid(&self) -> Result<Option<i32>> {
        Ok(self.meta("manager_pid")?.and_then(|p| p.parse().ok()))
    }

    /// Records this process as the experiment's manager.
    pub fn set_manager_pid(&self) -> Result<()> {
        self.set_meta("manager_pid", &std::process::id().to_string())
    }

    /// The config text the experiment was created from.
    pub fn config_text(&self) -> Result<String> {
        self.meta("config")?
            .context("the store has no config: is this an experiment folder?")
    }

    /// The folder of the config file (relative paths in the config are from there).
    pub fn config_dir(&self) -> Result<PathBuf> {
        Ok(PathBuf::from(
            self.meta("config_dir")?.unwrap_or_else(|| ".".into()),
        ))
    }

    /// Records a new trial (with the tuner's info on it, if any) and the tuner state
    /// right after generating it, atomically.
    pub fn add_trial(
        &mut self,
        id: u64,
        parameters: &str,
        info: Option<&str>,
        tuner_state: &str,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO trials(id, parameters, status) VALUES (?1, ?2, 'RUNNING')",
            params![id as i64, parameters],
        )?;
        if let Some(info) = info {
            tx.execute(
                "INSERT INTO trial_info(trial, info) VALUES (?1, ?2)",
                params![id as i64, info],
            )?;
        }
        insert_tuner_state(&tx, tuner_state)?;
        tx.commit()?;
        Ok(())
    }

    /// Marks a trial started (one more attempt).
    pub fn start_attempt(&self, id: u64) -> Result<u32> {
        self.conn.execute("UPDATE trials SET status = 'RUNNING', attempts = attempts + 1, started = ?2, ended = NULL, reason = NULL WHERE id = ?1", params![id as i64, now()])?;
        Ok(self.conn.query_row(
            "SELECT attempts FROM trials WHERE id = ?1",
            [id as i64],
            |r| r.get::<_, u32>(0),
        )?)
    }

    /// Records one reported metric (committed before the trial's output is read on).
    pub fn add_metric(
        &self,
        id: u64,
        attempt: u32,
        value: f64,
        raw: &str,
        is_final: bool,
    ) -> Result<()> {
        let seq: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM metrics WHERE trial = ?1",
            [id as i64],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "INSERT INTO metrics(trial, seq, attempt, value, raw, final, time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id as i64, seq, attempt, value, raw, is_final, now()],
        )?;
        Ok(())
    }

    /// Records how a trial ended.
    pub fn finish_trial(
        &self,
        id: u64,
        status: TrialStatus,
        final_metric: Option<f64>,
        exit_code: Option<i32>,
        reason: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE trials SET status = ?2, final = ?3, exit_code = ?4, reason = ?5, ended = ?6 WHERE id = ?1",
            params![id as i64, status.as_str(), final_metric, exit_code, reason, now()],
        )?;
        Ok(())
    }

    /// Records that the tuner was told a trial's end, with the tuner state after it.
    pub fn mark_reported(&mut self, id: u64, tuner_state: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE trials SET reported = 1 WHERE id = ?1", [id as i64])?;
        insert_tuner_state(&tx, tuner_state)?;
        tx.commit()?;
        Ok(())
    }

    /// The latest tuner state.
    pub fn tuner_state(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM tuner_state ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every trial, by id.
    pub fn trials(&self) -> Result<Vec<TrialRecord>> {
        let mut stmt = self.conn.prepare("SELECT id, parameters, status, attempts, final, reason, exit_code, reported, started, ended, info FROM trials LEFT JOIN trial_info ON trial_info.trial = trials.id ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(TrialRecord {
                id: r.get::<_, i64>(0)? as u64,
                parameters: r.get(1)?,
                status: TrialStatus::parse(&r.get::<_, String>(2)?),
                attempts: r.get(3)?,
                final_metric: r.get(4)?,
                reason: r.get(5)?,
                exit_code: r.get(6)?,
                reported: r.get(7)?,
                started: r.get(8)?,
                ended: r.get(9)?,
                info: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The metrics a trial reported, in order: (value, raw JSON, final).
    pub fn metrics(&self, id: u64) -> Result<Vec<(f64, String, bool)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT value, raw, final FROM metrics WHERE trial = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([id as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The raw JSON of trial `id`'s final metric (the last one marked final, else the
    /// last one), if it reported any.
    pub fn final_metric_raw(&self, id: u64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT raw FROM metrics WHERE trial = ?1 ORDER BY final DESC, seq DESC LIMIT 1",
                [id as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// What the tuner (or the pre-filter) said of trial `id` (`Null` when nothing).
    pub fn trial_info(&self, id: u64) -> Result<serde_json::Value> {
        let info: Option<String> = self
            .conn
            .query_row(
                "SELECT info FROM trial_info WHERE trial = ?1",
                [id as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(info
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .unwrap_or_default())
    }

    /// The folder for a trial's files (logs, parameters).
    pub fn trial_dir(&self, id: u64) -> PathBuf {
        self.dir.join("trials").join(id.to_string())
    }
}

#[cfg(test)]
mod tests;
