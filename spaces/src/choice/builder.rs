//! Building a network as a supernet or as a child, recording its choice points.

use super::role::role_of;
use crate::error::{Result, SpacesError};
use archon_plugin_api::{one_shot::CandidateRole, space::ChoiceKind, Selection};
use std::{cell::RefCell, collections::HashMap};

/// One choice point of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoicePoint {
    /// Unique within the network (its place, e.g. `cells.3.node2.edge0`).
    pub id: String,
    /// The decision it belongs to; points with one label share one decision (their
    /// group). This is the key in the NNI-format search space.
    pub label: String,
    /// What it chooses among.
    pub kind: ChoiceKind,
    /// For an input choice whose every input passes through a layer choice (a DARTS
    /// edge): that layer choice's label per candidate input (`None` where an input has
    /// no edge). Empty otherwise.
    pub edges: Vec<Option<String>>,
    /// What each candidate does (see [`role_of`]); inputs and values for input and
    /// value choices.
    pub roles: Vec<CandidateRole>,
    /// The group the space puts the point in (the cell type, the stage), if any.
    pub group: Option<String>,
    /// For a layer choice: where each candidate's weights live in the var store (the
    /// variable-name prefix, `cells.0.edge_1_0.nor_conv_3x3`). Empty otherwise.
    pub candidate_weights: Vec<String>,
}

impl ChoicePoint {
    /// The number of candidates.
    pub fn num_candidates(&self) -> usize {
        self.kind.num_candidates()
    }
}

/// Builds choice modules in supernet mode (all candidates) or child mode (only the
/// selected ones), and records every choice point it builds.
pub struct Builder<'a> {
    child: Option<&'a HashMap<String, Selection>>,
    points: RefCell<Vec<ChoicePoint>>,
    group: RefCell<Option<String>>,
}

impl<'a> Builder<'a> {
    /// A builder for a supernet.
    pub fn supernet() -> Self {
        Builder {
            child: None,
            points: RefCell::new(Vec::new()),
            group: RefCell::new(None),
        }
    }

    /// A builder for the child with these selections (by label).
    pub fn child(selections: &'a HashMap<String, Selection>) -> Self {
        Builder {
            child: Some(selections),
            points: RefCell::new(Vec::new()),
            group: RefCell::new(None),
        }
    }

    /// Whether this builds a child.
    pub fn is_child(&self) -> bool {
        self.child.is_some()
    }

    /// Records a choice point. Points sharing a label must choose among the same
    /// candidates. In child mode returns the selection for its label.
    pub fn register(&self, id: &str, label: &str, kind: ChoiceKind) -> Result<Option<Selection>> {
        let mut points = self.points.borrow_mut();
        if points.iter().any(|p| p.id == id) {
            return Err(SpacesError::Config(format!(
                "two choice points with the id {id:?}"
            )));
        }
        if let Some(other) = points.iter().find(|p| p.label == label) {
            if other.kind != kind {
                return Err(SpacesError::Config(format!(
                    "choice points {:?} and {id:?} share the label {label:?} but choose among different candidates",
                    other.id
                )));
            }
        }
        let roles = match &kind {
            ChoiceKind::Layer { candidates } => candidates.iter().map(|c| role_of(c)).collect(),
            ChoiceKind::Input { candidates, .. } => vec![CandidateRole::Input; candidates.len()],
            other => vec![CandidateRole::Value; other.num_candidates()],
        };
        points.push(ChoicePoint {
            id: id.into(),
            label: label.into(),
            kind,
            edges: Vec::new(),
            roles,
            group: self.group.borrow().clone(),
            candidate_weights: Vec::new(),
        });
        match self.child {
            None => Ok(None),
            Some(selections) => selections.get(label).cloned().map(Some).ok_or_else(|| {
                SpacesError::Config(format!("the architecture has no selection for {label:?}"))
            }),
        }
    }

    /// Records the layer choice (by label) on each input of the input choice `id`.
    pub fn set_edges(&self, id: &str, edges: Vec<Option<String>>) {
        if let Some(point) = self.points.borrow_mut().iter_mut().find(|p| p.id == id) {
            point.edges = edges;
        }
    }

    /// Puts the choice points registered from now on into `group` (the cell type, the
    /// stage; `None`: no group).
    pub fn set_group(&self, group: Option<&str>) {
        *self.group.borrow_mut() = group.map(str::to_string);
    }

    /// Declares the roles of the candidates of the choice point `id` (for operations
    /// the hub's table does not know).
    pub fn set_roles(&self, id: &str, roles: Vec<CandidateRole>) {
        if let Some(point) = self.points.borrow_mut().iter_mut().find(|p| p.id == id) {
            point.roles = roles;
        }
    }

    /// Declares where the candidates of the layer choice `id` keep their weights.
    pub fn set_candidate_weights(&self, id: &str, prefixes: Vec<String>) {
        if let Some(point) = self.points.borrow_mut().iter_mut().find(|p| p.id == id) {
            point.candidate_weights = prefixes;
        }
    }

    /// The choice points built so far, in build order.
    pub fn into_points(self) -> Vec<ChoicePoint> {
        self.points.into_inner()
    }
}
