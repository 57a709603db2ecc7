//! Per-cluster image grids, as in the paper's Fig. 4: for the class a cluster is matched to,
//! its successes, the false negatives (that class's images placed elsewhere) and the false
//! positives (other classes' images in it), most confident first. Without labels, each
//! cluster's images by confidence. A selection from another view is shown first.
use crate::ui::action::Action;
use crate::ui::app::{CaseKind, Tab};
use crate::ui::palette;
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;

/// Owns which cluster and which list of it are shown.
pub struct GalleryPanel {
    /// `None` until a cluster is picked: the gallery then opens on the largest one.
    pub cluster: Option<usize>,
    pub kind: CaseKind,
}

impl Default for GalleryPanel {
    fn default() -> Self {
        Self {
            cluster: None,
            kind: CaseKind::Success,
        }
    }
}

impl GalleryPanel {
    /// Another view picked a cluster (a confusion cell, a point on the map).
    pub fn show_cluster(&mut self, cluster: usize) {
        self.cluster = Some(cluster);
    }

    /// A new run: open on its largest cluster again.
    pub fn reset(&mut self) {
        self.cluster = None;
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
        if let Some(sel) = view.selection {
            let mut clear = false;
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(format!("Selection: {}", sel.title)).strong());
                clear = ui.button("clear selection").clicked();
            });
            if clear {
                out.push(Action::ClearSelection);
            } else {
                grid(ui, view, thumbs, &sel.items, None, out);
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
                        "cluster · size"
                    });
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
                            None => format!("cluster {c} · {size}"),
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
        if empty > 0 {
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
            ui.label(match class {
                Some(cl) => {
                    format!("Cluster {c} is matched to class \"{cl}\". Most confident first.")
                }
                None => format!("Cluster {c} has no class of its own (K exceeds the classes)."),
            });
            match self.kind {
                CaseKind::Success => cases.successes.clone(),
                CaseKind::FalseNegative => cases.false_negatives.clone(),
                CaseKind::FalsePositive => cases.false_positives.clone(),
            }
        } else {
            ui.label(format!(
                "Cluster {c}: {} images, most confident first.",
                an.members[c].len()
            ));
            an.members[c].clone()
        };
        grid(ui, view, thumbs, &items, Some(c), out);
    }
}

/// A virtualised thumbnail grid: only the rows on screen are laid out and uploaded.
fn grid(
    ui: &mut egui::Ui,
    view: &View,
    thumbs: &mut Thumbs,
    items: &[usize],
    cluster: Option<usize>,
    out: &mut Vec<Action>,
) {
    let Some(ds) = view.run_dataset else {
        return;
    };
    if items.is_empty() {
        ui.label(egui::RichText::new("(none)").weak());
        return;
    }
    ui.horizontal(|ui| {
        let l = ui.label("thumbnail size");
        let mut edited = view.settings.clone();
        ui.add(egui::Slider::new(&mut edited.thumb_size, 24.0..=128.0))
            .labelled_by(l.id);
        view.settings_changed(edited, out);
    });
    let side = view.settings.thumb_size;
    let gap = 4.0;
    let per_row = (((ui.available_width() - 16.0) / (side + gap)).floor() as usize).max(1);
    let rows = items.len().div_ceil(per_row);
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, side + gap, rows, |ui, range| {
            for row in range {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing = egui::vec2(gap, gap);
                    for &i in items.iter().skip(row * per_row).take(per_row) {
                        let tex = thumbs.get(ui.ctx(), ds, i);
                        let mut img =
                            egui::Image::new(&tex).fit_to_exact_size(egui::vec2(side, side));
                        if view.focus == Some(i) {
                            img = img.bg_fill(egui::Color32::YELLOW);
                        }
                        let r = ui.add(img.sense(egui::Sense::click()));
                        r.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::Role::Image,
                                true,
                                format!("image {}", ds.items[i]),
                            )
                        });
                        let pred = view.session.clusters.get(i).copied().unwrap_or(-1);
                        if cluster.is_some_and(|c| c as i64 != pred) {
                            // A false negative: mark the cluster it went to.
                            ui.painter().rect_stroke(
                                r.rect,
                                0.0,
                                egui::Stroke::new(2.0, palette::colour(pred.max(0) as usize)),
                                egui::StrokeKind::Inside,
                            );
                        }
                        let r = r.on_hover_ui(|ui| {
                            super::describe_item(
                                ui,
                                view,
                                ds,
                                i,
                                "click: its neighbours on the graphs",
                            );
                        });
                        if r.clicked() {
                            out.push(Action::Focus(i));
                            out.push(Action::ShowTab(Tab::Neighbours));
                        }
                    }
                });
            }
        });
}
