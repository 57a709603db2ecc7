//! The person's corrections of the run on screen, as a model beside `View`: the facts
//! (`correct::Corrections`), undo and redo, and the last preview. Panels read
//! it through the session and change it only through `Action`s the shell applies.
pub use crate::correct::alike::Move;
use crate::correct::{Basis, Corrections, Preview};
use std::sync::Arc;

/// One thing a person says about the clusters.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// "Move to cluster …".
    MoveTo(Vec<usize>, usize),
    /// "Not in this cluster".
    NotIn(Vec<usize>, usize),
    /// "Keep these together".
    KeepTogether(Vec<usize>),
    /// "Merge with …": every image of the first cluster into the second.
    Merge { from: usize, into: usize },
    /// "Split in two": the kept half stays in `cluster`, the moved half goes to `into` (the
    /// halves come from 2-means on the members' features, computed off the UI thread).
    Split {
        cluster: usize,
        into: usize,
        kept: Vec<usize>,
        moved: Vec<usize>,
    },
    /// A cluster's name ("" removes it).
    Rename(usize, String),
    /// Forget what was said about this image (a line of the list removed).
    Remove(usize),
}

#[derive(Debug, Clone, Default)]
pub struct CorrectionsModel {
    pub facts: Corrections,
    undo: Vec<Corrections>,
    redo: Vec<Corrections>,
    /// The preview of the current facts, when one was computed for them.
    pub preview: Option<Preview>,
    pub preview_busy: bool,
    /// The run's half of a preview (`correct::Basis`), with what it was computed from: it
    /// serves every later preview of the same assignments, features and graph.
    pub basis: Option<(BasisKey, Arc<Basis>)>,
    /// The last move, until it is undone.
    pub last_move: Option<Move>,
}

/// What a preview's basis was computed from: the session's assignments (`generation`), its
/// features (`features_id`) and the k_b graph's allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasisKey {
    pub generation: u64,
    pub features_id: u64,
    pub graph: usize,
}

impl CorrectionsModel {
    pub fn new(facts: Corrections) -> Self {
        Self {
            facts,
            ..Default::default()
        }
    }

    /// Applies `edit` (images named by `items`, the run's `clusters` for a merge); it can be
    /// undone. The preview no longer describes the facts, so it goes.
    pub fn apply(&mut self, edit: &Edit, items: &[String], clusters: &[i64]) {
        self.undo.push(self.facts.clone());
        self.redo.clear();
        if let Edit::MoveTo(images, to) = edit {
            self.last_move = Move::of(images, *to, &self.facts.assigned(images, clusters));
        }
        let f = &mut self.facts;
        match edit {
            Edit::MoveTo(images, c) => f.move_to(images, *c, items),
            Edit::NotIn(images, c) => f.not_in(images, *c, items),
            Edit::KeepTogether(images) => f.keep_together(images, items),
            Edit::Merge { from, into } => f.merge(*from, *into, clusters, items),
            Edit::Split {
                cluster,
                into,
                kept,
                moved,
            } => f.split(*cluster, *into, (kept, moved), items),
            Edit::Rename(c, name) => f.rename(*c, name),
            Edit::Remove(i) => f.remove(*i),
        }
        f.tidy();
        self.preview = None;
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) -> bool {
        match self.undo.pop() {
            Some(prev) => {
                self.redo.push(std::mem::replace(&mut self.facts, prev));
                self.preview = None;
                self.last_move = None;
                true
            }
            None => false,
        }
    }

    pub fn redo(&mut self) -> bool {
        match self.redo.pop() {
            Some(next) => {
                self.undo.push(std::mem::replace(&mut self.facts, next));
                self.preview = None;
                self.last_move = None;
                true
            }
            None => false,
        }
    }

    /// One line per corrected image, for the list.
    pub fn lines(&self, items: &[String]) -> Vec<(usize, String)> {
        self.facts
            .images
            .values()
            .map(|f| {
                let name = items.get(f.index).map_or("?", |s| s.as_str());
                let mut parts = vec![];
                if let Some(c) = f.cluster {
                    // ASCII: egui's bundled font has no arrow.
                    parts.push(format!("moved to cluster {c}"));
                }
                if !f.not_in.is_empty() {
                    let c: Vec<String> = f.not_in.iter().map(|c| c.to_string()).collect();
                    parts.push(format!("not in {}", c.join(", ")));
                }
                if let Some(g) = f.group {
                    parts.push(format!("kept with group {g}"));
                }
                (f.index, format!("{name}: {}", parts.join("; ")))
            })
            .collect()
    }
}
