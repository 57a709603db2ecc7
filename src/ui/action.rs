//! What a panel asks the shell to do. Panels push these while they draw; the shell applies
//! them in one place (`app/apply.rs`) once the frame's panels have run.
use super::panels::export::ExportKind;
use super::settings::Settings;
use super::tasks::Pick;
use super::{Selection, Tab};
use crate::config::Preset;
use crate::rundir::DataRecord;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Train,
    Pause,
    Resume,
    Cancel,
    DismissNotice,
    LoadData(DataRecord),
    OpenRun(PathBuf),
    /// Open a file dialog (on a helper thread) for this purpose.
    Pick(Pick),
    /// The settings as a panel's widgets left them.
    Settings(Box<Settings>),
    /// The preset's values, fitted to the loaded data.
    ApplyPreset(Preset),
    SuggestK,
    ShowTab(Tab),
    Focus(usize),
    /// List these images in the gallery, with this cluster chosen there.
    Select(Selection, Option<usize>),
    ClearSelection,
    /// Search the images nearest to this one over the learned features.
    FindNearest(usize),
    Ablate,
    Export(ExportKind),
    /// Show this candidate of the run's final answer (index into the session's candidates).
    ShowCandidate(usize),
    /// A correction of the run on screen (saved in its folder's corrections.json).
    Correct(crate::ui::corrections::Edit),
    Undo,
    Redo,
    /// "Split in two": 2-means on the cluster's members on a helper thread, the smaller half
    /// then moved to `into` (a `Correct(Edit::Split)` once the halves are known).
    SplitCluster {
        cluster: usize,
        into: usize,
    },
    /// Which other images the corrections would move (label spreading and a linear classifier
    /// on the features, on a helper thread).
    PreviewCorrections,
    /// "More like these": the images of the move's `from` clusters ranked by how much more
    /// they look like its images and cluster `to` than like their own cluster (on a helper
    /// thread), then listed in the gallery for the person to pick from.
    MoreLikeThese(crate::ui::corrections::Move),
    /// Stage 2 again from the run's checkpoint, with the corrections: a new run.
    RetrainWithCorrections,
}
