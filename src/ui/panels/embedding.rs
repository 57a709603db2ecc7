//! The t-SNE map of the learned features, coloured by cluster or by ground truth. Hovering a
//! point shows its image, cluster, label and confidence; a click selects it; in box or lasso
//! mode a drag picks every point inside the box or outline, and the gallery lists them. Where
//! few enough points are in view (a small folder, or zoomed in), each is drawn as its image.
use crate::embedding::Embedding;
use crate::ui::action::Action;
use crate::ui::nav::{DragMode, Selection, Tab};
use crate::ui::palette;
use crate::ui::session::Session;
use crate::ui::settings::Settings;
use crate::ui::tasks::{Done, Tasks};
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoints, Points, Polygon};
use std::sync::Arc;

/// Points are drawn as their images while at most this many are in view: a folder of a couple
/// of hundred photos shows them all, a larger map shows them once zoomed in. Software GL draws
/// 250 framed images at a p99 of 15 ms a frame (docs/BENCHMARKS.md), within the 16 ms target.
pub const IMAGES_IN_VIEW: usize = 250;
/// Side of an image on the map, in points.
const IMAGE_SIDE: f32 = 36.0;
/// New thumbnails made per frame, so that showing hundreds at once never stalls a frame.
const UPLOADS_PER_FRAME: usize = 64;

/// Owns the map (and its computation's progress) and the drag in progress on it.
pub struct EmbeddingPanel {
    /// Shared, so the panel takes it each frame without copying 10,000 points.
    pub map: Option<Arc<Embedding>>,
    /// The `features_id` whose map is being computed or shown.
    pub mapped: Option<u64>,
    pub running: bool,
    /// (iterations done, iterations in all) of the map being computed.
    pub progress: Option<(usize, usize)>,
    pub error: Option<String>,
    /// What a drag on the map does.
    pub drag_mode: DragMode,
    /// The drag in progress, in plot coordinates (box: its first corner).
    pub drag_path: Vec<[f64; 2]>,
    /// Whether points are drawn as their images where few enough are in view.
    pub images: bool,
    /// How many points were drawn as images in the last frame (0: squares).
    pub images_drawn: usize,
}

impl Default for EmbeddingPanel {
    fn default() -> Self {
        Self {
            map: None,
            mapped: None,
            running: false,
            progress: None,
            error: None,
            drag_mode: DragMode::Pan,
            drag_path: vec![],
            images: true,
            images_drawn: 0,
        }
    }
}

impl EmbeddingPanel {
    /// A new run or a reopened one: its features get a map of their own.
    pub fn reset(&mut self) {
        self.map = None;
        self.mapped = None;
        self.error = None;
    }

    /// Starts t-SNE on a helper thread once a run has features nobody has mapped yet.
    pub fn maybe_start(&mut self, tasks: &Tasks, session: &Session, settings: &Settings) {
        let Some((features, dim)) = &session.features else {
            return;
        };
        let features_id = session.features_id;
        if self.mapped == Some(features_id) {
            return;
        }
        self.mapped = Some(features_id);
        self.running = true;
        self.progress = None;
        self.error = None;
        let (features, dim) = (features.clone(), *dim);
        let (max, iters, seed) = (
            settings.tsne_max_points,
            settings.tsne_iterations,
            session.config.seed,
        );
        tasks.spawn(crate::ui::tasks::job::TSNE, move |r| {
            let progress = r.tsne_progress(features_id);
            let result =
                crate::embedding::tsne_with_progress(&features, dim, max, iters, seed, &progress)
                    .map_err(|e| format!("{e:#}"));
            r.send(Done::Tsne {
                features_id,
                result,
            });
        });
    }

    pub fn on_progress(&mut self, features_id: u64, done: usize, total: usize) {
        if Some(features_id) == self.mapped {
            self.progress = Some((done, total));
        }
    }

    /// The map's helper panicked: no retry for these features (it would fail again).
    pub fn on_failed(&mut self, e: String) {
        self.running = false;
        self.progress = None;
        self.error = Some(e);
    }

    pub fn on_done(&mut self, features_id: u64, result: Result<Embedding, String>) {
        if Some(features_id) == self.mapped {
            self.running = false;
            self.progress = None;
            match result {
                Ok(e) => self.map = Some(Arc::new(e)),
                Err(e) => self.error = Some(e),
            }
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        thumbs: &mut Thumbs,
        out: &mut Vec<Action>,
    ) {
        let Some(ds) = view.run_dataset else {
            super::nothing_yet(
                ui,
                "A t-SNE map of the learned features appears when stage 1 of a run ends.",
            );
            return;
        };
        if view.session.features.is_none() {
            super::nothing_yet(
                ui,
                "A t-SNE map of the learned features appears when stage 1 ends; stage 2 then \
             recolours it as the clusters change.",
            );
            return;
        }
        if let Some(e) = &self.error {
            ui.colored_label(egui::Color32::from_rgb(190, 30, 30), e);
            return;
        }
        let Some(emb) = self.map.clone() else {
            // A bar moved by the helper's reports (4 a second), not a spinner: a spinner repaints
            // every frame, and on software GL that takes CPU from the t-SNE and the training.
            let points = view
                .session
                .clusters
                .len()
                .min(view.settings.tsne_max_points);
            ui.label(format!(
                "Computing the t-SNE map of {points} points on a helper thread (about 15 s for \
             10,000 points on a small CPU, longer while training)…"
            ));
            if let Some((done, total)) = self.progress {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .desired_width(320.0)
                        .text(format!("iteration {done} of {total}")),
                );
            }
            return;
        };
        let labelled = ds.labels.is_some();
        ui.horizontal(|ui| {
            ui.label("colour by");
            let mut edited = view.settings.clone();
            let now = colour_mode(view.settings, labelled);
            if ui
                .selectable_label(now == Colour::Cluster, "cluster")
                .clicked()
            {
                (edited.colour_by_truth, edited.colour_by_confidence) = (false, false);
            }
            ui.add_enabled_ui(labelled, |ui| {
                if ui
                    .selectable_label(now == Colour::Truth, "ground truth")
                    .on_disabled_hover_text("this dataset has no labels")
                    .clicked()
                {
                    (edited.colour_by_truth, edited.colour_by_confidence) = (true, false);
                }
            });
            if ui
                .selectable_label(now == Colour::Confidence, "confidence")
                .on_hover_text(
                    "Each image's confidence in its cluster, in five bins: red where the \
                     clustering is least sure (most of its nearest neighbours elsewhere), blue \
                     where it is surest",
                )
                .clicked()
            {
                edited.colour_by_confidence = true;
            }
            view.settings_changed(edited, out);
            ui.separator();
            ui.label("drag");
            ui.selectable_value(&mut self.drag_mode, DragMode::Pan, "pan")
                .on_hover_text("Drag pans the map, scroll zooms, double-click resets");
            ui.selectable_value(&mut self.drag_mode, DragMode::Box, "box select")
                .on_hover_text("Drag a box; its points are listed in the gallery");
            ui.selectable_value(&mut self.drag_mode, DragMode::Lasso, "lasso select")
                .on_hover_text(
                    "Draw an outline around any group; its points are listed in the gallery",
                );
            ui.checkbox(&mut self.images, "images")
                .on_hover_text(format!(
                    "Points drawn as their images, framed in their colour, whenever at most \
                 {IMAGES_IN_VIEW} are in view (zoom in to see them on a larger map)"
                ));
            ui.separator();
            if emb.subsampled() {
                // Short, so the row fits the window; the tooltip says how to map more.
                ui.label(format!("{} of {} points", emb.items.len(), emb.total))
                    .on_hover_text(
                        "A seeded subsample keeps t-SNE quick; `icicle gui --tsne-points N` \
                         maps more",
                    );
            } else {
                ui.label(format!("{} points", emb.items.len()));
            }
        });
        // The selection row is always there, so the map does not jump when a selection appears.
        ui.horizontal(|ui| {
            ui.set_min_height(ui.spacing().interact_size.y);
            match view.selection {
                Some(sel) => {
                    ui.label(format!("Selected: {}", sel.title));
                    if ui.button("show in gallery").clicked() {
                        out.push(Action::ShowTab(Tab::Gallery));
                    }
                    if ui.button("clear selection").clicked() {
                        out.push(Action::ClearSelection);
                    }
                }
                None => {
                    ui.weak("Nothing selected: click a point, or drag in box or lasso mode.");
                }
            }
        });
        let colouring = colour_mode(view.settings, labelled);
        let (clusters, confidence) = (&view.session.clusters, &view.session.confidence);
        let bins = palette::CONFIDENCE.len();
        let group = |i: usize| -> usize {
            match (&ds.labels, colouring) {
                (Some(l), Colour::Truth) => l[i] as usize,
                (_, Colour::Confidence) => {
                    let p = confidence.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0);
                    ((p * bins as f32) as usize).min(bins - 1)
                }
                _ => clusters.get(i).copied().unwrap_or(0).max(0) as usize,
            }
        };
        let groups = match colouring {
            Colour::Truth => ds.num_classes(),
            Colour::Confidence => bins,
            Colour::Cluster => view.session.config.clusters,
        };
        let colour = |g: usize| match colouring {
            Colour::Confidence => palette::CONFIDENCE[g.min(bins - 1)],
            _ => palette::colour(g),
        };
        // Each group's points, as indices into the map.
        let mut series: Vec<Vec<usize>> = vec![vec![]; groups.max(1)];
        for (p, &i) in emb.items.iter().enumerate() {
            let g = group(i).min(series.len() - 1);
            series[g].push(p);
        }
        let name = |g: usize| -> String {
            match colouring {
                Colour::Truth => ds
                    .class_names
                    .get(g)
                    .cloned()
                    .unwrap_or_else(|| g.to_string()),
                Colour::Confidence => format!(
                    "confidence {:.1}–{:.1}",
                    g as f32 / bins as f32,
                    (g + 1) as f32 / bins as f32
                ),
                Colour::Cluster => format!("cluster {g}"),
            }
        };
        let selected: std::collections::HashSet<usize> = view
            .selection
            .map(|s| s.items.iter().copied().collect())
            .unwrap_or_default();
        let mode = self.drag_mode;
        // Rings round a selected or corrected point: round its image where images were drawn
        // last frame, round its square otherwise.
        let ring = |small: f32| {
            if self.images_drawn > 0 {
                IMAGE_SIDE * std::f32::consts::FRAC_1_SQRT_2 + 2.0
            } else {
                small
            }
        };
        let path = self.drag_path.clone();
        // The points are one mesh of small squares drawn under the plot, not 10,000 egui_plot
        // circles: tessellating and rasterising those anti-aliased circles in software was what
        // kept frames over 16 ms while training. The plot keeps a one-point series per group for the
        // legend (and its click-to-hide), the transform and the interaction.
        let map_id = ui.make_persistent_id("tsne-map");
        let slot = ui.painter().add(egui::Shape::Noop);
        // Per colouring, so hiding "cluster 0" in the legend does not hide a confidence bin.
        let item_id = |g: usize| egui_plot::ItemId::new(("tsne-group", colouring as u8, g));
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for xy in &emb.xy {
            for d in 0..2 {
                lo[d] = lo[d].min(xy[d]);
                hi[d] = hi[d].max(xy[d]);
            }
        }
        let resp = Plot::new("tsne")
            .id(map_id)
            .legend(Legend::default())
            .data_aspect(1.0)
            .show_background(false)
            .include_x(lo[0])
            .include_x(hi[0])
            .include_y(lo[1])
            .include_y(hi[1])
            .show_axes(false)
            .show_grid(false)
            .allow_drag(mode == DragMode::Pan)
            .allow_boxed_zoom(false)
            .show_x(false)
            .show_y(false)
            .show(ui, |p| {
                for (g, pts) in series.iter().enumerate() {
                    if !pts.is_empty() {
                        p.points(
                            // One point each: enough for the legend entry, hidden under the mesh.
                            Points::new(name(g), PlotPoints::from(vec![emb.xy[pts[0]]]))
                                .id(item_id(g))
                                .color(colour(g))
                                .radius(2.0)
                                .filled(true)
                                .shape(MarkerShape::Square),
                        );
                    }
                }
                if !selected.is_empty() {
                    let sel: Vec<[f64; 2]> = emb
                        .items
                        .iter()
                        .zip(&emb.xy)
                        .filter(|(i, _)| selected.contains(i))
                        .map(|(_, xy)| *xy)
                        .collect();
                    p.points(
                        Points::new("selected", PlotPoints::from(sel))
                            .color(egui::Color32::BLACK)
                            .radius(ring(3.5))
                            .filled(false)
                            .shape(MarkerShape::Circle),
                    );
                }
                // Corrected images, marked as in every view (red rings).
                let corrected = &view.session.corrections.facts.images;
                if !corrected.is_empty() {
                    let pts: Vec<[f64; 2]> = emb
                        .items
                        .iter()
                        .zip(&emb.xy)
                        .filter(|(i, _)| corrected.contains_key(i))
                        .map(|(_, xy)| *xy)
                        .collect();
                    p.points(
                        Points::new("corrected", PlotPoints::from(pts))
                            .color(egui::Color32::RED)
                            .radius(ring(4.0))
                            .filled(false)
                            .shape(MarkerShape::Circle),
                    );
                }
                // The selection being drawn, closed back to its start.
                if let (Some(a), Some(b)) = (path.first(), p.pointer_coordinate()) {
                    let outline: Vec<[f64; 2]> = match mode {
                        DragMode::Box => vec![*a, [b.x, a[1]], [b.x, b.y], [a[0], b.y]],
                        _ => path.iter().copied().chain([[b.x, b.y]]).collect(),
                    };
                    let tint = egui::Color32::from_rgb(30, 90, 200);
                    if mode == DragMode::Box {
                        p.polygon(
                            Polygon::new("selection", PlotPoints::from(outline))
                                .fill_color(tint.gamma_multiply(0.12))
                                .stroke(egui::Stroke::new(1.0, tint)),
                        );
                    } else {
                        let closed: Vec<[f64; 2]> = outline.iter().copied().chain([*a]).collect();
                        p.line(Line::new("selection", PlotPoints::from(closed)).color(tint));
                    }
                }
                p.pointer_coordinate()
            });
        let hidden = egui_plot::PlotMemory::load(ui.ctx(), map_id)
            .map(|m| m.hidden_items)
            .unwrap_or_default();
        let frame = *resp.transform.frame();
        // Group by group, later groups on top, as the legend lists them: one mesh of squares,
        // and while few are in view, the same points kept to be drawn as their images.
        let (mut mesh, mut in_view, mut few) = (egui::Mesh::default(), 0, vec![]);
        for (g, pts) in series.iter().enumerate() {
            if hidden.contains(&item_id(g)) {
                continue;
            }
            let colour = colour(g);
            for &p in pts {
                let xy = emb.xy[p];
                let s = resp
                    .transform
                    .position_from_point(&egui_plot::PlotPoint::new(xy[0], xy[1]));
                if frame.contains(s) {
                    mesh.add_colored_rect(
                        egui::Rect::from_center_size(s, egui::vec2(3.5, 3.5)),
                        colour,
                    );
                    in_view += 1;
                    if self.images && in_view <= IMAGES_IN_VIEW {
                        few.push((s, colour, emb.items[p]));
                    }
                }
            }
        }
        let as_images = self.images && in_view <= IMAGES_IN_VIEW;
        self.images_drawn = if as_images { few.len() } else { 0 };
        if as_images {
            // Each image framed in its colour; one not made yet (a few per frame) is a square
            // of its colour until the next frame. The frames are one mesh over all the images:
            // a shape per frame, between the images, doubled the frame time on software GL.
            let (mut budget, mut frames, mut shapes) =
                (UPLOADS_PER_FRAME, egui::Mesh::default(), vec![]);
            for &(s, colour, i) in &few {
                let rect = egui::Rect::from_center_size(s, egui::Vec2::splat(IMAGE_SIDE));
                match thumbs.get_within(ui.ctx(), ds, i, &mut budget) {
                    Some(tex) => shapes.push(egui::Shape::image(
                        tex.id(),
                        rect,
                        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                        egui::Color32::WHITE,
                    )),
                    None => {
                        frames.add_colored_rect(rect, colour);
                        ui.ctx().request_repaint();
                    }
                }
                let (o, w) = (rect.expand(2.0), 2.0);
                for side in [
                    egui::Rect::from_min_max(o.min, egui::pos2(o.max.x, o.min.y + w)),
                    egui::Rect::from_min_max(egui::pos2(o.min.x, o.max.y - w), o.max),
                    egui::Rect::from_min_max(o.min, egui::pos2(o.min.x + w, o.max.y)),
                    egui::Rect::from_min_max(egui::pos2(o.max.x - w, o.min.y), o.max),
                ] {
                    frames.add_colored_rect(side, colour);
                }
            }
            shapes.push(egui::Shape::mesh(frames));
            ui.painter().set(slot, egui::Shape::Vec(shapes));
        } else {
            ui.painter().set(slot, egui::Shape::mesh(mesh));
        }
        // Under the pointer: within a few pixels of a square, or anywhere on an image.
        let reach = if as_images { IMAGE_SIDE / 2.0 } else { 6.0 };
        let pointer = resp.inner;
        let r = &resp.response;
        // The nearest point under the pointer, within a few screen pixels.
        let hovered = pointer.and_then(|pc| {
            let at = resp.transform.position_from_point(&pc);
            emb.xy
                .iter()
                .enumerate()
                .map(|(p, xy)| {
                    let s = resp
                        .transform
                        .position_from_point(&egui_plot::PlotPoint::new(xy[0], xy[1]));
                    (p, s.distance_sq(at))
                })
                .filter(|(_, d)| *d < reach * reach)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(p, _)| emb.items[p])
        });
        if mode != DragMode::Pan {
            if r.drag_started() {
                self.drag_path = pointer.map(|p| vec![[p.x, p.y]]).unwrap_or_default();
            } else if let (true, Some(p), false) = (r.dragged(), pointer, self.drag_path.is_empty())
                && mode == DragMode::Lasso
            {
                self.drag_path.push([p.x, p.y]);
            }
            if r.drag_stopped() {
                let mut path = std::mem::take(&mut self.drag_path);
                if let Some(p) = pointer {
                    path.push([p.x, p.y]);
                }
                let (items, how) = match (mode, path.first(), path.last()) {
                    (DragMode::Box, Some(&a), Some(&b)) => (emb.items_in_box(a, b), "boxed"),
                    _ => (emb.items_in_polygon(&path), "lassoed"),
                };
                if !items.is_empty() {
                    let selection = Selection {
                        title: format!("{} points {how} in the embedding", items.len()),
                        items,
                    };
                    out.push(Action::Select(selection, None));
                }
            }
        }
        if let Some(i) = hovered {
            let tex = thumbs.get(ui.ctx(), ds, i);
            let cluster = view.session.clusters.get(i).copied().unwrap_or(-1);
            r.clone().on_hover_ui_at_pointer(|ui| {
                ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(96.0, 96.0)));
                super::describe_item(ui, view, ds, i, "click: show in the gallery");
            });
            if r.clicked() {
                out.push(Action::Focus(i));
                let selection = Selection {
                    title: format!("item {}", ds.items[i]),
                    items: vec![i],
                };
                out.push(Action::Select(selection, Some(cluster.max(0) as usize)));
                out.push(Action::ShowTab(Tab::Gallery));
            }
        }
    }
}

/// What the map's colours show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Cluster,
    Truth,
    Confidence,
}

fn colour_mode(settings: &crate::ui::settings::Settings, labelled: bool) -> Colour {
    if settings.colour_by_confidence {
        Colour::Confidence
    } else if settings.colour_by_truth && labelled {
        Colour::Truth
    } else {
        Colour::Cluster
    }
}
