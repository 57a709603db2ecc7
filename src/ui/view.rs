//! The read-only view every panel draws from: the session on screen, the data, the settings
//! and the shell's navigation (focus, selection). Built by the shell once per frame; panels
//! never write it — they return `Action`s.
use super::Selection;
use super::action::Action;
use super::session::Session;
use super::settings::Settings;
use crate::data::{Dataset, Registry};
use std::sync::Arc;

pub struct View<'a> {
    pub settings: &'a Settings,
    pub registry: &'a Result<Registry, String>,
    /// libtorch sees a GPU.
    pub cuda: bool,
    /// The dataset picked in the Dataset panel (the next run trains on it).
    pub dataset: Option<&'a Arc<Dataset>>,
    /// The dataset of the run on screen.
    pub run_dataset: Option<&'a Arc<Dataset>>,
    pub session: &'a Session,
    /// (what, done, total) while a dataset or run loads.
    pub loading: Option<&'a (String, usize, usize)>,
    pub data_error: Option<&'a str>,
    pub selection: Option<&'a Selection>,
    /// The image clicked last (gallery, map, neighbours).
    pub focus: Option<usize>,
    pub notice: Option<&'a str>,
    /// What the default preset chose for the loaded data, and why.
    pub default_choices: &'a [String],
    /// Why Train is blocked, if it is.
    pub train_blocker: Option<String>,
}

impl View<'_> {
    pub fn training(&self) -> bool {
        self.session.status.active()
    }

    /// The run on screen's dataset has labels.
    pub fn labelled(&self) -> bool {
        self.run_dataset.is_some_and(|d| d.labels.is_some())
    }

    /// Pushes `edited` as the new settings when a panel's widgets changed its copy.
    pub fn settings_changed(&self, edited: Settings, out: &mut Vec<Action>) {
        if edited != *self.settings {
            out.push(Action::Settings(Box::new(edited)));
        }
    }
}
