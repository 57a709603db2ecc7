//! Where the person is in the app: the tab, the map's drag mode, the gallery's case list and
//! the items picked in a view. Shared by the shell and the panels (no panel imports the shell).
/// What dragging on the t-SNE map does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DragMode {
    /// Drag pans, scroll zooms.
    Pan,
    /// Drag a rectangle; the points inside are selected.
    Box,
    /// Draw a free outline; the points inside are selected.
    Lasso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Losses,
    Embedding,
    Confusion,
    Gallery,
    Neighbours,
    Graph,
    Runs,
    Export,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::Losses,
        Tab::Embedding,
        Tab::Confusion,
        Tab::Gallery,
        Tab::Neighbours,
        Tab::Graph,
        Tab::Runs,
        Tab::Export,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Losses => "Losses",
            Tab::Embedding => "Embedding (t-SNE)",
            Tab::Confusion => "Confusion matrix",
            Tab::Gallery => "Gallery",
            Tab::Neighbours => "Neighbours",
            Tab::Graph => "Graphs",
            Tab::Runs => "Runs",
            Tab::Export => "Export",
        }
    }

    pub fn parse(s: &str) -> Option<Tab> {
        Self::ALL
            .into_iter()
            .find(|t| format!("{t:?}").eq_ignore_ascii_case(s))
    }
}

/// Which list of a cluster the gallery shows (the paper's Fig. 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Success,
    FalseNegative,
    FalsePositive,
}

/// Items picked in a view (t-SNE box or click, confusion cell) and shown in the gallery.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub title: String,
    pub items: Vec<usize>,
}
