//! A one-shot search's records in the store: steps, epochs with architecture
//! weights, and generations of an evolutionary search.

use super::{now, Store};
use anyhow::Result;
use rusqlite::params;

/// One epoch of a one-shot search as stored (JSON texts).
#[derive(Debug, Clone)]
pub struct SearchEpoch {
    /// Epoch, from 0.
    pub epoch: usize,
    /// Metrics (a JSON object).
    pub metrics: String,
    /// Architecture weights per label (a JSON object).
    pub arch_weights: String,
    /// The architecture derived at the end of the epoch.
    pub architecture: Option<String>,
}

impl Store {
    /// The recorded generations of an evolutionary search: (generation, population JSON).
    pub fn search_populations(&self) -> Result<Vec<(usize, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT generation, population FROM search_populations ORDER BY generation")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as usize, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records one-shot search steps — (epoch, step, metrics JSON, time) — in one
    /// transaction (one disk sync for an epoch's steps, not one per step).
    pub fn add_search_steps(&self, steps: &[(usize, usize, String, f64)]) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        for (epoch, step, metrics, time) in steps {
            tx.execute(
                "INSERT OR REPLACE INTO search_steps(epoch, step, metrics, time) VALUES (?1, ?2, ?3, ?4)",
                params![*epoch as i64, *step as i64, metrics, time],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a one-shot search epoch: metrics, architecture weights and the derived
    /// architecture (JSON).
    pub fn add_search_epoch(
        &self,
        epoch: usize,
        metrics: &str,
        arch_weights: &str,
        architecture: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO search_epochs(epoch, metrics, arch_weights, architecture, time) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![epoch as i64, metrics, arch_weights, architecture, now()],
        )?;
        Ok(())
    }

    /// Records a generation of an evolutionary one-shot search (JSON list of
    /// `{architecture, score}`).
    pub fn add_search_population(&self, generation: usize, population: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO search_populations(generation, population, time) VALUES (?1, ?2, ?3)",
            params![generation as i64, population, now()],
        )?;
        Ok(())
    }

    /// The number of recorded generations.
    pub fn search_generation_count(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM search_populations", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// The recorded search epochs.
    pub fn search_epochs(&self) -> Result<Vec<SearchEpoch>> {
        let mut stmt = self.conn.prepare(
            "SELECT epoch, metrics, arch_weights, architecture FROM search_epochs ORDER BY epoch",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SearchEpoch {
                epoch: r.get::<_, i64>(0)? as usize,
                metrics: r.get(1)?,
                arch_weights: r.get(2)?,
                architecture: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The number of recorded search steps.
    pub fn search_step_count(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM search_steps", [], |r| r.get(0))?;
        Ok(n as usize)
    }
}
