//! The neighbours behind a case: for the focused image (clicked in the gallery, on the map, or
//! here), its neighbours on graph a and graph b — the edges stage 2 propagates along — with
//! their cluster, confidence, class, distance and whether they agree with it; and "nearest
//! images", the k closest over all learned features, searched on a helper thread. For a false
//! positive this shows which neighbours pulled it in. The panel owns its state; the shell gives
//! it a read-only view and applies the actions it returns.
use crate::data::Dataset;
use crate::ui::session::Session;
use crate::ui::tasks::{Done, Tasks};
use crate::ui::thumbs::Thumbs;
use std::sync::Arc;

/// What the panel reads.
pub struct NeighboursView<'a> {
    pub ds: &'a Dataset,
    pub session: &'a Session,
    pub focus: Option<usize>,
}

/// What the panel asks the shell to do.
pub enum NeighboursAction {
    Focus(usize),
    FindNearest(usize),
    /// A correction of the focused image (and the nearest images found for it).
    Correct(crate::ui::corrections::Edit),
    /// "More like it": the last move, when it moved the focused image.
    MoreLike(crate::ui::corrections::Move),
}

pub struct NeighboursPanel {
    pub nearest_k: usize,
    /// The last search: (item, [(neighbour, distance)], nearest first).
    pub nearest: Option<(usize, Vec<(usize, f32)>)>,
    searching: Option<usize>,
    pub error: Option<String>,
    /// The cluster "Move …" sends images to.
    pub target: usize,
    /// The image `target` was last suggested for (the cluster most of its neighbours are in).
    target_for: Option<usize>,
}

impl Default for NeighboursPanel {
    fn default() -> Self {
        Self {
            nearest_k: 12,
            nearest: None,
            searching: None,
            error: None,
            target: 0,
            target_for: None,
        }
    }
}

/// Euclidean distance between two items' features.
fn distance(features: &(Arc<[f32]>, usize), i: usize, j: usize) -> f32 {
    let (v, d) = (&features.0, features.1);
    v[i * d..(i + 1) * d]
        .iter()
        .zip(&v[j * d..(j + 1) * d])
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        .sqrt()
}

impl NeighboursPanel {
    /// The `k` nearest items to `item` over all features, on a helper thread.
    pub fn start_nearest(&mut self, tasks: &Tasks, features: (Arc<[f32]>, usize), item: usize) {
        self.searching = Some(item);
        self.error = None;
        let k = self.nearest_k;
        tasks.spawn(crate::ui::tasks::job::NEAREST, move |r| {
            let (values, dim) = features;
            let n = values.len() / dim.max(1);
            let x = tch::Tensor::from_slice(&values).view([n as i64, dim as i64]);
            let d = (&x - x.get(item as i64)).square().sum_dim_intlist(
                [1i64].as_slice(),
                false,
                tch::Kind::Float,
            );
            let take = (k + 1).min(n) as i64;
            let (dist, idx) = d.topk(take, 0, false, true);
            let dist = Vec::<f32>::try_from(dist.sqrt()).unwrap_or_default();
            let idx = Vec::<i64>::try_from(idx).unwrap_or_default();
            let found: Vec<(usize, f32)> = idx
                .into_iter()
                .zip(dist)
                .map(|(j, d)| (j as usize, d))
                .filter(|&(j, _)| j != item)
                .take(k)
                .collect();
            r.send(Done::Nearest { item, found });
        });
    }

    /// The search's helper panicked: stop waiting for it.
    pub fn on_failed(&mut self) {
        self.searching = None;
    }

    pub fn on_nearest(&mut self, item: usize, found: Vec<(usize, f32)>) {
        if self.searching == Some(item) {
            self.searching = None;
            self.nearest = Some((item, found));
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &NeighboursView,
        thumbs: &mut Thumbs,
    ) -> Option<NeighboursAction> {
        let Some(i) = view.focus.filter(|&i| i < view.ds.len()) else {
            super::nothing_yet(
                ui,
                "Click an image in the gallery or on the map: its graph neighbours appear here.",
            );
            return None;
        };
        let s = view.session;
        let mut action = None;
        let cluster = s.clusters.get(i).copied();
        let required = s.corrections.facts.required();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let tex = thumbs.get(ui.ctx(), view.ds, i);
                    ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(96.0, 96.0)));
                    ui.vertical(|ui| {
                        ui.label(egui::RichText::new(format!("item {i}: {}", view.ds.items[i])).strong());
                        ui.label(describe(view, &required, i));
                    });
                });
                if let Some(edit) = self.correct_bar(ui, view, i) {
                    action = Some(NeighboursAction::Correct(edit));
                }
                if let Some(m) = s.corrections.last_move.as_ref().filter(|m| m.images.contains(&i))
                    && ui
                        .button(format!("More like it ({})", m.from_text()))
                        .on_hover_text(super::ALIKE_TIP)
                        .clicked()
                {
                    action = Some(NeighboursAction::MoreLike(m.clone()));
                }
                match &s.neighbours {
                    None => {
                        ui.label("The k-NN graphs appear once stage 1 ends (runs saved before graph_a.npy existed have none).");
                    }
                    Some((a, b)) => {
                        for (name, g) in [("a", a), ("b", b)] {
                            let list: Vec<(usize, Option<f32>)> = g
                                .of(i)
                                .iter()
                                .map(|&j| {
                                    let j = j as usize;
                                    (j, s.features.as_ref().map(|f| distance(f, i, j)))
                                })
                                .collect();
                            let agree = list
                                .iter()
                                .filter(|(j, _)| s.clusters.get(*j).copied() == cluster)
                                .count();
                            ui.separator();
                            ui.label(egui::RichText::new(format!(
                                "Graph {name} (k = {}): {agree} of {} neighbours share its cluster",
                                g.k,
                                list.len()
                            ))
                            .strong());
                            if let Some(j) = row(ui, view, &required, thumbs, cluster, &list) {
                                action = Some(NeighboursAction::Focus(j));
                            }
                        }
                    }
                }
                ui.separator();
                ui.horizontal(|ui| {
                    let l = ui.label("nearest images, k");
                    ui.add(egui::DragValue::new(&mut self.nearest_k).range(1..=100))
                        .labelled_by(l.id);
                    let busy = self.searching.is_some();
                    let can = s.features.is_some() && !busy;
                    if ui
                        .add_enabled(can, egui::Button::new("Find nearest images"))
                        .on_hover_text("The k most similar images to this one over all learned features (Euclidean), not only its graph neighbours")
                        .clicked()
                    {
                        action = Some(NeighboursAction::FindNearest(i));
                    }
                    if busy {
                        ui.label("searching…");
                    }
                });
                if let Some((item, found)) = &self.nearest
                    && *item == i
                {
                    let list: Vec<(usize, Option<f32>)> =
                        found.iter().map(|&(j, d)| (j, Some(d))).collect();
                    if let Some(j) = row(ui, view, &required, thumbs, cluster, &list) {
                        action = Some(NeighboursAction::Focus(j));
                    }
                }
            });
        action
    }
}

impl NeighboursPanel {
    /// Corrections of the focused image `i` where its neighbours show the mistake: move it,
    /// say it is not in its cluster, or move or keep it together with the nearest images
    /// found for it.
    fn correct_bar(
        &mut self,
        ui: &mut egui::Ui,
        view: &NeighboursView,
        i: usize,
    ) -> Option<crate::ui::corrections::Edit> {
        use crate::ui::corrections::Edit;
        let s = view.session;
        let k = s.config.clusters;
        let cluster = s.clusters.get(i).copied()?;
        // A new image: offer the cluster most of its k_b neighbours are in, if not its own.
        let suggested = s.neighbours.as_ref().and_then(|(_, b)| {
            let others = if i < b.n { b.of(i) } else { &[] };
            let mut counts = vec![0usize; k];
            for &j in others {
                if let Some(n) = s
                    .clusters
                    .get(j as usize)
                    .and_then(|&c| counts.get_mut(c as usize))
                {
                    *n += 1;
                }
            }
            let best = (0..k)
                .filter(|&c| c as i64 != cluster)
                .max_by_key(|&c| (counts[c], std::cmp::Reverse(c)))?;
            (counts[best] > 0).then_some((best, counts[best], others.len()))
        });
        if self.target_for != Some(i) {
            self.target_for = Some(i);
            if let Some((c, _, _)) = suggested {
                self.target = c;
            }
        }
        self.target = self.target.min(k.saturating_sub(1));
        let nearest: Vec<usize> = match &self.nearest {
            Some((item, found)) if *item == i => found.iter().map(|&(j, _)| j).collect(),
            _ => vec![],
        };
        let mut edit = None;
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("Correct this image:");
            egui::ComboBox::from_id_salt("neighbours-move-target")
                .selected_text(super::cluster_title(s, self.target))
                .show_ui(ui, |ui| {
                    for c in 0..k {
                        ui.selectable_value(&mut self.target, c, super::cluster_title(s, c));
                    }
                })
                .response
                .labelled_by(l.id);
            if ui.button("Move it to this cluster").clicked() {
                edit = Some(Edit::MoveTo(vec![i], self.target));
            }
            if let Some((c, n, of)) = suggested {
                ui.weak(format!("{n} of its {of} neighbours are in cluster {c}"));
            }
            if !nearest.is_empty() {
                let mut with: Vec<usize> = vec![i];
                with.extend(&nearest);
                if ui
                    .button(format!("Move it and its {} nearest", nearest.len()))
                    .on_hover_text(
                        "The image and the nearest images found below, all to the chosen cluster",
                    )
                    .clicked()
                {
                    edit = Some(Edit::MoveTo(with.clone(), self.target));
                }
                if ui
                    .button(format!("Keep it with its {} nearest", nearest.len()))
                    .clicked()
                {
                    edit = Some(Edit::KeepTogether(with));
                }
            }
            if cluster >= 0 && ui.button(format!("Not in cluster {cluster}")).clicked() {
                edit = Some(Edit::NotIn(vec![i], cluster as usize));
            }
        });
        edit
    }
}

/// The cluster each corrected image must end in, computed once a frame for every row.
type Required = std::collections::BTreeMap<usize, usize>;

/// Cluster, confidence and class of item `i`, in one line.
fn describe(view: &NeighboursView, required: &Required, i: usize) -> String {
    let s = view.session;
    let mut t = match (s.clusters.get(i), s.confidence.get(i)) {
        (Some(c), Some(p)) => format!("cluster {c} · confidence {p:.2}"),
        _ => "no cluster yet".to_string(),
    };
    if let Some(l) = &view.ds.labels {
        t.push_str(&format!(" · class {}", view.ds.class_names[l[i] as usize]));
    }
    if let Some(c) = required.get(&i) {
        t.push_str(&format!(" · corrected: must be in {c}"));
    } else if s.corrections.facts.images.contains_key(&i) {
        t.push_str(" · corrected");
    }
    t
}

/// One row of neighbour thumbnails with their facts; returns a clicked neighbour.
fn row(
    ui: &mut egui::Ui,
    view: &NeighboursView,
    required: &Required,
    thumbs: &mut Thumbs,
    cluster: Option<i64>,
    list: &[(usize, Option<f32>)],
) -> Option<usize> {
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        for &(j, d) in list {
            ui.vertical(|ui| {
                ui.set_width(104.0);
                let tex = thumbs.get(ui.ctx(), view.ds, j);
                let agrees = view.session.clusters.get(j).copied() == cluster;
                let stroke = if agrees {
                    egui::Color32::from_rgb(40, 160, 60)
                } else {
                    egui::Color32::from_rgb(210, 50, 40)
                };
                let r = ui.add(
                    egui::Image::new(&tex)
                        .fit_to_exact_size(egui::vec2(64.0, 64.0))
                        .sense(egui::Sense::click()),
                );
                ui.painter().rect_stroke(
                    r.rect,
                    0.0,
                    egui::Stroke::new(2.0, stroke),
                    egui::StrokeKind::Outside,
                );
                if r.on_hover_text("click: show this image's neighbours")
                    .clicked()
                {
                    clicked = Some(j);
                }
                ui.label(egui::RichText::new(format!("item {j}")).small());
                ui.label(egui::RichText::new(describe(view, required, j)).small());
                let fact = match d {
                    Some(d) => {
                        format!("d = {d:.3} · {}", if agrees { "agrees" } else { "differs" })
                    }
                    None => (if agrees { "agrees" } else { "differs" }).to_string(),
                };
                ui.label(egui::RichText::new(fact).small().color(stroke));
            });
        }
    });
    clicked
}
