//! Per-cluster image grids, as in the paper's Fig. 4: for the class a cluster is matched to,
//! its successes, the false negatives (that class's images placed elsewhere) and the false
//! positives (other classes' images in it), most confident first. Without labels, each
//! cluster's images by confidence. A selection from another view is shown first.
use crate::ui::action::Action;
use crate::ui::corrections::{Edit, Move};
use crate::ui::nav::CaseKind;
use crate::ui::palette;
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;
use grid::{PREVIEW, grid};
use std::collections::BTreeSet;

mod grid;

const CONFIDENCE_TIP: &str = "An image's confidence is the share of its nearest neighbours \
     (the run's k_b graph) in its cluster, its own vote weighted by how much nearer its \
     cluster's centre is than the next (in stage 1, before the graphs exist, the head's top \
     probability).";

/// Owns which cluster and which list of it are shown, and the images picked for a correction.
pub struct GalleryPanel {
    /// `None` until a cluster is picked: the gallery then opens on the largest one.
    pub cluster: Option<usize>,
    pub kind: CaseKind,
    /// Images picked with Ctrl- or Shift-click, for "Move to cluster …" and the rest.
    pub picked: BTreeSet<usize>,
    /// The image Ctrl- or Shift-clicked last: a Shift-click picks every image from it to the
    /// one clicked, as file managers do.
    anchor: Option<usize>,
    /// The cluster "Move to" and "Merge with" send to.
    target: usize,
    name: String,
    /// The cluster `name` was filled from.
    name_of: Option<usize>,
    /// Show each list least sure first (the doubtful images a person would check).
    pub least_sure_first: bool,
}

impl Default for GalleryPanel {
    fn default() -> Self {
        Self {
            cluster: None,
            kind: CaseKind::Success,
            picked: BTreeSet::new(),
            anchor: None,
            target: 0,
            name: String::new(),
            name_of: None,
            least_sure_first: false,
        }
    }
}

impl GalleryPanel {
    /// Another view picked a cluster (a confusion cell, a point on the map).
    pub fn show_cluster(&mut self, cluster: usize) {
        self.cluster = Some(cluster);
    }

    /// Where "Move to cluster" and "Merge" send (the cluster a "More like these" list is for).
    pub fn set_target(&mut self, cluster: usize) {
        self.target = cluster;
    }

    /// A new run: open on its largest cluster again.
    pub fn reset(&mut self) {
        self.cluster = None;
        self.picked.clear();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        thumbs: &mut Thumbs,
        out: &mut Vec<Action>,
    ) {
        let (Some(ds), Some(an)) = (view.run_dataset, view.session.analysis.as_ref()) else {
            super::nothing_yet(
                ui,
                "Cluster galleries appear with the first assignments (after stage-1 epoch 1).",
            );
            return;
        };
        super::answer_bar(ui, view, out);
        self.corrections_bar(ui, view, out);
        if let Some(sel) = view.selection {
            let mut clear = false;
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(format!("Selection: {}", sel.title)).strong());
                clear = ui.button("clear selection").clicked();
            });
            if clear {
                out.push(Action::ClearSelection);
            } else {
                let picks = (&mut self.picked, &mut self.anchor);
                grid(ui, view, thumbs, &sel.items, None, picks, out);
                return;
            }
        }
        let k = an.members.len();
        let largest = (0..k).max_by_key(|&c| (an.members[c].len(), std::cmp::Reverse(c)));
        let mut chosen = self.cluster.filter(|&c| c < k).or(largest).unwrap_or(0);
        let labelled = an.eval.is_some();
        let empty = an.members.iter().filter(|m| m.is_empty()).count();
        egui::Panel::left("gallery-clusters")
            .resizable(false)
            .exact_size(190.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.label(if labelled {
                        "cluster · matched class · size · share right"
                    } else {
                        "cluster · size · mean confidence"
                    })
                    .on_hover_text(CONFIDENCE_TIP);
                    for c in 0..k {
                        let size = an.members[c].len();
                        let text = match an.cases.get(c) {
                            Some(cases) => {
                                let class = cases
                                    .class
                                    .and_then(|cl| ds.class_names.get(cl).cloned())
                                    .unwrap_or_else(|| "unmatched".into());
                                let pct = 100.0 * cases.successes.len() as f64 / size.max(1) as f64;
                                format!("{c} · {class} · {size} · {pct:.0}%")
                            }
                            None => format!(
                                "cluster {c} · {size} · {:.2}",
                                an.cluster_confidence.get(c).copied().unwrap_or(0.0)
                            ),
                        };
                        let text = match view.session.corrections.facts.names.get(&c) {
                            Some(n) => format!("{text} · \"{n}\""),
                            None => text,
                        };
                        let mut text = egui::RichText::new(text).color(palette::colour(c));
                        if size == 0 {
                            text = egui::RichText::new(format!("{c} · empty")).weak().italics();
                        }
                        if ui.selectable_label(chosen == c, text).clicked() {
                            chosen = c;
                        }
                    }
                });
            });
        if self.cluster.is_some() || chosen != largest.unwrap_or(0) {
            self.cluster = Some(chosen);
        }
        let c = chosen;
        if empty > 0 && view.training() {
            // A head part-way through training often leaves a cluster empty that later
            // iterations (or the final answer's merge-split refinement) fill: no advice yet.
            ui.weak(format!(
                "{empty} of the {k} clusters are empty at this point of training."
            ));
        } else if empty > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{empty} of the {k} clusters are empty: K may be larger than this data \
                     supports. Try a smaller K, or \"Suggest K\" under Hyperparameters."
                ),
            );
        }
        let items: Vec<usize> = if labelled {
            let cases = &an.cases[c];
            ui.horizontal(|ui| {
                for (kind, name, n, tip) in [
                    (
                        CaseKind::Success,
                        "Success",
                        cases.successes.len(),
                        "Images of the matched class in this cluster",
                    ),
                    (
                        CaseKind::FalseNegative,
                        "False negatives",
                        cases.false_negatives.len(),
                        "Images of the matched class that went to other clusters",
                    ),
                    (
                        CaseKind::FalsePositive,
                        "False positives",
                        cases.false_positives.len(),
                        "Images of other classes in this cluster",
                    ),
                ] {
                    ui.selectable_value(&mut self.kind, kind, format!("{name} ({n})"))
                        .on_hover_text(tip);
                }
            });
            let class = cases.class.and_then(|cl| ds.class_names.get(cl).cloned());
            self.order_line(
                ui,
                view,
                match class {
                    Some(cl) => format!("Cluster {c} is matched to class \"{cl}\"."),
                    None => format!("Cluster {c} has no class of its own (K exceeds the classes)."),
                },
                out,
            );
            match self.kind {
                CaseKind::Success => cases.successes.clone(),
                CaseKind::FalseNegative => cases.false_negatives.clone(),
                CaseKind::FalsePositive => cases.false_positives.clone(),
            }
        } else {
            self.order_line(
                ui,
                view,
                format!("Cluster {c}: {} images.", an.members[c].len()),
                out,
            );
            an.members[c].clone()
        };
        let items = if self.least_sure_first {
            items.into_iter().rev().collect()
        } else {
            items
        };
        self.cluster_bar(ui, view, c, k, out);
        let picks = (&mut self.picked, &mut self.anchor);
        grid(ui, view, thumbs, &items, Some(c), picks, out);
    }

    /// What the list shows, its order, and every uncertain image of the run at once.
    fn order_line(&mut self, ui: &mut egui::Ui, view: &View, what: String, out: &mut Vec<Action>) {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{what} {} first.",
                if self.least_sure_first {
                    "Least sure"
                } else {
                    "Most confident"
                }
            ));
            ui.checkbox(&mut self.least_sure_first, "least sure first")
                .on_hover_text(CONFIDENCE_TIP);
            let low = crate::metrics::label_free::LOW_CONFIDENCE;
            let conf = &view.session.confidence;
            let n = view.session.analysis.as_ref().map_or(0, |a| a.uncertain);
            if ui
                .add_enabled(
                    n > 0,
                    egui::Button::new(format!("All {n} uncertain images")),
                )
                .on_hover_text(format!(
                    "Every image of the run with confidence below {low}, least sure first: \
                     where the clustering is in doubt. {CONFIDENCE_TIP}"
                ))
                .clicked()
                && let Some(sel) = super::uncertain_selection(conf)
            {
                out.push(Action::Select(sel, None));
            }
        });
    }

    /// The corrections so far (undo, redo, preview, retrain, the list) and what can be done
    /// with the picked images.
    fn corrections_bar(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        let Some(ds) = view.run_dataset else { return };
        let model = &view.session.corrections;
        let k = view.session.config.clusters;
        let finished = !view.training() && view.session.run_dir.is_some();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Corrections: {} images",
                model.facts.images.len()
            ));
            if ui
                .add_enabled(model.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                out.push(Action::Undo);
            }
            if ui
                .add_enabled(model.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                out.push(Action::Redo);
            }
            let some = !model.facts.images.is_empty();
            if ui
                .add_enabled(some && !model.preview_busy, egui::Button::new("Preview"))
                .on_hover_text("Which other images the corrections would move (spread over the k-NN graph and across the boundaries they move in the features)")
                .clicked()
            {
                out.push(Action::PreviewCorrections);
            }
            if ui
                .add_enabled(some && finished, egui::Button::new("Retrain with corrections"))
                .on_hover_text("Stage 2 again from this run's checkpoint with the corrections: a new run")
                .clicked()
            {
                out.push(Action::RetrainWithCorrections);
            }
            if let Some(m) = &model.last_move {
                let text = format!("More like the {} just moved ({})", m.images.len(), m.from_text());
                if ui.button(text).on_hover_text(super::ALIKE_TIP).clicked() {
                    out.push(Action::MoreLikeThese(m.clone()));
                }
            }
            if let Some(p) = &model.preview {
                ui.colored_label(
                    PREVIEW,
                    format!("preview: {} other images would move (outlined)", p.moved.len()),
                );
                if !p.moved.is_empty()
                    && ui
                        .button("show them")
                        .on_hover_text(
                            "List the images the preview would move, to check them: a wrong \
                             one can be picked and kept where it is (\"Move to cluster\" its \
                             own) before retraining",
                        )
                        .clicked()
                {
                    out.push(Action::Select(
                        crate::ui::Selection {
                            title: format!(
                                "the {} images the corrections would move (hover: where to)",
                                p.moved.len()
                            ),
                            items: p.moved.clone(),
                        },
                        None,
                    ));
                }
            }
        });
        if self.picked.is_empty() {
            // The row is always there, so the grid does not jump when the first image is picked.
            ui.horizontal(|ui| {
                ui.set_min_height(ui.spacing().interact_size.y);
                ui.weak(
                    "Pick images to correct: Ctrl-click, Shift-click for a range, or drag a \
                     band over them.",
                );
            });
        } else {
            self.target = self.target.min(k.saturating_sub(1));
            let picked: Vec<usize> = self.picked.iter().copied().collect();
            ui.horizontal_wrapped(|ui| {
                let l = ui.label(format!("{} picked:", picked.len()));
                egui::ComboBox::from_id_salt("move-target")
                    .selected_text(format!("cluster {}", self.target))
                    .show_ui(ui, |ui| {
                        for c in 0..k {
                            ui.selectable_value(
                                &mut self.target,
                                c,
                                super::cluster_title(view.session, c),
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
                if ui.button("Move to cluster").clicked() {
                    out.push(Action::Correct(Edit::MoveTo(picked.clone(), self.target)));
                    self.picked.clear();
                }
                if let Some(c) = self.cluster
                    && ui.button(format!("Not in cluster {c}")).clicked()
                {
                    out.push(Action::Correct(Edit::NotIn(picked.clone(), c)));
                    self.picked.clear();
                }
                if picked.len() > 1 && ui.button("Keep these together").clicked() {
                    out.push(Action::Correct(Edit::KeepTogether(picked.clone())));
                    self.picked.clear();
                }
                let now = model.facts.assigned(&picked, &view.session.clusters);
                let m = Move::of(&picked, self.target, &now);
                if ui
                    .add_enabled(
                        m.is_some(),
                        egui::Button::new(format!("More like these for cluster {}", self.target)),
                    )
                    .on_hover_text(super::ALIKE_TIP)
                    .on_disabled_hover_text(format!(
                        "The picked images are all in cluster {} already",
                        self.target
                    ))
                    .clicked()
                    && let Some(m) = m
                {
                    out.push(Action::MoreLikeThese(m));
                }
                if ui.button("clear picks").clicked() {
                    self.picked.clear();
                }
            });
        }
        let lines = model.lines(&ds.items);
        if !lines.is_empty() {
            egui::CollapsingHeader::new(format!("List of corrections ({})", lines.len()))
                .id_salt("corrections-list")
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(120.0)
                        .show(ui, |ui| {
                            for (i, line) in lines {
                                ui.horizontal(|ui| {
                                    if ui.small_button("remove").clicked() {
                                        out.push(Action::Correct(Edit::Remove(i)));
                                    }
                                    ui.label(line);
                                });
                            }
                        });
                });
        }
    }

    /// The shown cluster's name and "Merge with …".
    fn cluster_bar(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        c: usize,
        k: usize,
        out: &mut Vec<Action>,
    ) {
        let names = &view.session.corrections.facts.names;
        ui.horizontal_wrapped(|ui| {
            let l = ui.label(format!("Name of cluster {c}:"));
            if self.name_of != Some(c) {
                self.name = names.get(&c).cloned().unwrap_or_default();
                self.name_of = Some(c);
            }
            ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(140.0))
                .labelled_by(l.id);
            if ui.button("Rename").clicked() {
                out.push(Action::Correct(Edit::Rename(c, self.name.clone())));
            }
            self.target = self.target.min(k.saturating_sub(1));
            if self.target != c
                && ui
                    .button(format!("Merge into cluster {}", self.target))
                    .clicked()
            {
                out.push(Action::Correct(Edit::Merge {
                    from: c,
                    into: self.target,
                }));
            }
            if self.target != c
                && ui
                    .button(format!("Split in two (half to cluster {})", self.target))
                    .on_hover_text(
                        "2-means on this cluster's images' features: the larger half stays, \
                         the smaller half moves to the chosen cluster",
                    )
                    .clicked()
            {
                out.push(Action::SplitCluster {
                    cluster: c,
                    into: self.target,
                });
            }
        });
    }
}
