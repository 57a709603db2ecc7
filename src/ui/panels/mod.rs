//! One file per panel. Each panel is a struct that owns its own state, draws from the shell's
//! read-only `View` and pushes `Action`s that the shell applies (the shape of egui's demo app
//! and the rerun viewer).
pub mod confusion;
pub mod dataset;
pub mod embedding;
pub mod export;
pub mod gallery;
pub mod graph;
pub mod losses;
pub mod neighbours;
pub mod params;
pub mod runs;
pub mod suggest_k;
pub mod training;

#[cfg(test)]
mod tests;

/// Every panel of the app, each with its own state.
#[derive(Default)]
pub struct Panels {
    pub training: training::TrainingBar,
    pub dataset: dataset::DatasetPanel,
    /// Owns "Suggest K" too.
    pub params: params::ParamsPanel,
    pub losses: losses::LossesPanel,
    pub embedding: embedding::EmbeddingPanel,
    pub confusion: confusion::ConfusionPanel,
    pub gallery: gallery::GalleryPanel,
    pub neighbours: neighbours::NeighboursPanel,
    pub graph: graph::GraphPanel,
    pub runs: runs::RunsPanel,
    pub export: export::ExportPanel,
}

/// What a view shows about image `i` on hover: its name, cluster and confidence, its class
/// when known, and what a click does.
pub fn describe_item(
    ui: &mut egui::Ui,
    view: &crate::ui::view::View,
    ds: &crate::data::Dataset,
    i: usize,
    click: &str,
) {
    let cluster = view.session.clusters.get(i).copied().unwrap_or(-1);
    let conf = view.session.confidence.get(i).copied().unwrap_or(0.0);
    ui.label(&ds.items[i]);
    ui.label(format!("cluster {cluster} · confidence {conf:.3}"));
    if let Some(l) = &ds.labels {
        ui.label(format!("true class: {}", ds.class_names[l[i] as usize]));
    }
    let corrections = &view.session.corrections;
    if let Some(c) = corrections.facts.required().get(&i) {
        ui.label(format!("corrected: must be in cluster {c}"));
    } else if let Some(to) = corrections
        .preview
        .as_ref()
        .and_then(|p| p.clusters.get(i).copied())
        .filter(|&to| to != cluster)
    {
        ui.label(format!("the preview moves it to cluster {to}"));
    }
    ui.label(egui::RichText::new(click).small().weak());
}

/// What "More like these" does, on each of its buttons.
pub const ALIKE_TIP: &str = "The other images of the clusters these came from, most like them \
     and their new cluster (and least like their own) first: check the list, pick the right \
     ones and move them too. Nothing moves by itself.";

/// Shown by result views before a run has produced anything.
/// A cluster as pickers list it: its number, and its name where the person gave one.
pub fn cluster_title(session: &crate::ui::session::Session, c: usize) -> String {
    match session.corrections.facts.names.get(&c) {
        Some(n) => format!("{c} · {n}"),
        None => format!("cluster {c}"),
    }
}

/// Every image below `LOW_CONFIDENCE`, least sure first, as a selection for the gallery
/// (`None` when there is none).
pub fn uncertain_selection(confidence: &[f32]) -> Option<crate::ui::Selection> {
    let low = crate::metrics::label_free::LOW_CONFIDENCE;
    let mut items: Vec<usize> = (0..confidence.len())
        .filter(|&i| confidence[i] < low)
        .collect();
    items.sort_by(|&a, &b| confidence[a].total_cmp(&confidence[b]).then(a.cmp(&b)));
    (!items.is_empty()).then(|| crate::ui::Selection {
        title: format!("the {} uncertain images, least sure first", items.len()),
        items,
    })
}

pub fn nothing_yet(ui: &mut egui::Ui, what: &str) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.label(egui::RichText::new(what).size(16.0).weak());
    });
}

/// Which clustering is on screen when the run answered among candidates: the chosen one and
/// why, and a switch to any other (gallery, map, confusion and export follow it).
pub fn answer_bar(
    ui: &mut egui::Ui,
    view: &crate::ui::view::View,
    out: &mut Vec<crate::ui::action::Action>,
) {
    use crate::ui::action::Action;
    let (Some(answer), Some(c)) = (&view.session.answer, &view.session.candidates) else {
        if view.training() {
            // What is shown mid-run can be much worse than the answer (an unrefined head
            // with two classes in one cluster): say so where the clusters are shown.
            ui.weak(
                "Live: the head being trained, as it is now. The final answer (chosen among \
                 the heads and K-means, then refined) comes when the run ends.",
            );
        }
        return;
    };
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("answer");
        let shown = view.session.shown.unwrap_or(0);
        let name = |i: usize| {
            let n = &c.names[i];
            let refined = answer
                .candidates
                .iter()
                .find(|j| j.name == *n)
                .and_then(|j| j.refined.as_deref())
                .is_some_and(|m| !m.is_empty());
            let n = if refined {
                format!("{n}, refined")
            } else {
                n.clone()
            };
            if c.names[i] == answer.chosen {
                format!("{n} (chosen)")
            } else {
                n
            }
        };
        egui::ComboBox::from_id_salt("answer-candidate")
            .selected_text(name(shown))
            .show_ui(ui, |ui| {
                for i in 0..c.names.len() {
                    if ui.selectable_label(i == shown, name(i)).clicked() && i != shown {
                        out.push(Action::ShowCandidate(i));
                    }
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text(
                "Every clustering the run made; the run answered with the one its label-free \
                 rule chose. Pick another to see it in the gallery, map, confusion matrix and export.",
            );
        ui.label(egui::RichText::new(&answer.why).weak());
    });
}
