//! SPOS's evolutionary search over the trained supernet.

use super::smooth::smoothed;
use super::Spos;
use archon_plugin_api::{
    one_shot::{Report, Scored, SupernetContext, SUPERNET},
    serde_json::Value,
    space::{ChoiceKind, ChoicePoint},
    Architecture, PluginError, Result, Selection,
};
use archon_plugin_support::evolution::{crossover, mutate};
use std::collections::HashSet;

/// A valid selection of `choice` that contains candidate `best` (an input choice
/// takes its `n_chosen` first candidates with `best` among them).
pub(crate) fn selection_around(choice: &ChoicePoint, best: usize) -> Selection {
    match choice.kind() {
        ChoiceKind::Input { n_chosen, .. } => {
            let k = n_chosen.unwrap_or(1);
            let mut v: Vec<usize> = (0..choice.num_candidates())
                .filter(|&i| i != best)
                .take(k.saturating_sub(1))
                .collect();
            if k > 0 {
                v.push(best);
            }
            v.sort_unstable();
            Selection::Many(v)
        }
        _ => Selection::One(best),
    }
}

/// Runs the evolution and returns the best architecture found.
pub(crate) fn evolve(spos: &mut Spos, ctx: &mut SupernetContext<'_>) -> Result<Value> {
    let space = spos.space()?.clone();
    let cfg = spos.cfg;
    let mut seen: HashSet<Vec<Selection>> = HashSet::new();
    let mut scored: Vec<(Vec<Selection>, Value, f64)> = Vec::new();
    let mut evaluate = |spos: &mut Spos,
                        selections: Vec<Selection>,
                        ctx: &mut SupernetContext<'_>|
     -> Result<Option<(Vec<Selection>, Value, f64)>> {
        if !seen.insert(selections.clone()) {
            return Ok(None);
        }
        let arch = Architecture::new(&space, selections.clone())?.to_json(&space);
        if !spos.feasible(&arch) {
            return Ok(None);
        }
        let score = ctx.evaluate(SUPERNET, &arch, cfg.recalibrate, cfg.eval_batches)?;
        Ok(Some((selections, arch, score)))
    };
    let mut population = Vec::new();
    let mut tries = 0;
    while population.len() < cfg.population && tries < cfg.population * 20 {
        tries += 1;
        let (selections, _) = spos.sample()?;
        if let Some(member) = evaluate(spos, selections, ctx)? {
            population.push(member);
        }
    }
    if population.is_empty() {
        return Err(PluginError::invalid_state(
            "no architecture could be evaluated",
        ));
    }
    // Each member's objectives, all minimised: −accuracy, then the costs asked for.
    let point = |spos: &Spos, m: &(Vec<Selection>, Value, f64)| {
        let cost = spos.costs.as_ref().map(|c| c.estimate(&m.1));
        spos.objectives.point(m.2, cost.as_ref())
    };
    for generation in 0..cfg.generations.max(1) {
        population.sort_by(|a, b| b.2.total_cmp(&a.2));
        ctx.report(&Report::Population {
            generation,
            population: population
                .iter()
                .map(|(_, a, s)| Scored {
                    architecture: a.clone(),
                    score: *s,
                })
                .collect(),
        })?;
        scored.extend(population.iter().cloned());
        if generation + 1 >= cfg.generations {
            break;
        }
        let points: Vec<Vec<f64>> = population.iter().map(|m| point(spos, m)).collect();
        population = spos
            .objectives
            .parents(&points, cfg.select)
            .into_iter()
            .map(|i| population[i].clone())
            .collect();
        let parents: Vec<Vec<Selection>> = population.iter().map(|m| m.0.clone()).collect();
        let mut children = Vec::new();
        let mut attempts = 0;
        let want = cfg.crossover + cfg.mutation;
        while children.len() < want && attempts < want * 10 {
            attempts += 1;
            let child = if children.len() < cfg.crossover {
                let a = &parents[spos.rng.below(parents.len() as u128) as usize];
                let b = &parents[spos.rng.below(parents.len() as u128) as usize];
                crossover(a, b, &mut spos.rng)
            } else {
                let p = &parents[spos.rng.below(parents.len() as u128) as usize];
                mutate(&space, p, cfg.mutation_prob, &mut spos.rng)
            };
            if Architecture::new(&space, child.clone()).is_err() {
                continue;
            }
            if let Some(member) = evaluate(spos, child, ctx)? {
                children.push(member);
            }
        }
        population.extend(children);
    }
    if spos.smooth {
        // Each architecture once (survivors are re-listed every generation).
        let mut once = HashSet::new();
        scored.retain(|m| once.insert(m.0.clone()));
        let paths: Vec<&[Selection]> = scored.iter().map(|m| m.0.as_slice()).collect();
        let scores: Vec<f64> = scored.iter().map(|m| m.2).collect();
        let fitted = smoothed(&paths, &scores);
        for (m, f) in scored.iter_mut().zip(fitted) {
            m.2 = f;
        }
    }
    let points: Vec<Vec<f64>> = scored.iter().map(|m| point(spos, m)).collect();
    let pick = spos
        .objectives
        .pick(&points)
        .expect("the population is not empty");
    Ok(scored.swap_remove(pick).1)
}
