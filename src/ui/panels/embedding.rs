//! The t-SNE map of the learned features, coloured by cluster or by ground truth. Hovering a
//! point shows its image, cluster, label and confidence; a click selects it; with "box
//! select" a drag picks every point inside, and the gallery lists them.
use crate::ui::app::{Selection, Tab};
use crate::ui::{IcicleApp, palette};
use egui_plot::{Legend, MarkerShape, Plot, PlotPoints, Points, Polygon};

pub fn show(app: &mut IcicleApp, ui: &mut egui::Ui) {
    let Some(ds) = app.run_dataset.clone() else {
        super::nothing_yet(
            ui,
            "The embedding of the learned features appears when a run finishes.",
        );
        return;
    };
    if app.session.features.is_none() {
        super::nothing_yet(
            ui,
            "The embedding of the learned features appears when the run finishes.",
        );
        return;
    }
    if let Some(e) = &app.tsne_error {
        ui.colored_label(egui::Color32::from_rgb(190, 30, 30), e);
        return;
    }
    let Some(emb) = app.embedding.clone() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "Computing t-SNE of {} points on a helper thread…",
                app.session.clusters.len().min(app.settings.tsne_max_points)
            ));
        });
        return;
    };
    let labelled = ds.labels.is_some();
    ui.horizontal(|ui| {
        ui.label("colour by");
        ui.selectable_value(&mut app.settings.colour_by_truth, false, "cluster");
        ui.add_enabled_ui(labelled, |ui| {
            ui.selectable_value(&mut app.settings.colour_by_truth, true, "ground truth")
                .on_disabled_hover_text("this dataset has no labels");
        });
        ui.separator();
        ui.toggle_value(&mut app.box_select, "box select")
            .on_hover_text(
                "Drag a box to list its points in the gallery (off: drag pans, scroll zooms)",
            );
        ui.separator();
        if emb.subsampled() {
            ui.label(format!(
                "{} of {} points (seeded subsample; t-SNE is slow above a few thousand)",
                emb.items.len(),
                emb.total
            ));
        } else {
            ui.label(format!("{} points", emb.items.len()));
        }
    });
    let by_truth = app.settings.colour_by_truth && labelled;
    let clusters = &app.session.clusters;
    let group = |i: usize| -> usize {
        match (&ds.labels, by_truth) {
            (Some(l), true) => l[i] as usize,
            _ => clusters.get(i).copied().unwrap_or(0).max(0) as usize,
        }
    };
    let groups = if by_truth {
        ds.num_classes()
    } else {
        app.session.config.clusters
    };
    let mut series: Vec<Vec<[f64; 2]>> = vec![vec![]; groups.max(1)];
    for (p, &i) in emb.items.iter().enumerate() {
        let g = group(i).min(series.len() - 1);
        series[g].push(emb.xy[p]);
    }
    let name = |g: usize| -> String {
        if by_truth {
            ds.class_names
                .get(g)
                .cloned()
                .unwrap_or_else(|| g.to_string())
        } else {
            format!("cluster {g}")
        }
    };
    let selected: std::collections::HashSet<usize> = app
        .selection
        .as_ref()
        .map(|s| s.items.iter().copied().collect())
        .unwrap_or_default();
    let box_select = app.box_select;
    let box_start = app.box_start;
    let resp = Plot::new("tsne")
        .legend(Legend::default())
        .data_aspect(1.0)
        .show_axes(false)
        .show_grid(false)
        .allow_drag(!box_select)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_y(false)
        .show(ui, |p| {
            for (g, pts) in series.into_iter().enumerate() {
                if !pts.is_empty() {
                    p.points(
                        Points::new(name(g), PlotPoints::from(pts))
                            .color(palette::colour(g))
                            .radius(2.0)
                            .filled(true)
                            .shape(MarkerShape::Circle),
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
                        .radius(3.5)
                        .filled(false)
                        .shape(MarkerShape::Circle),
                );
            }
            if let (true, Some(a), Some(b)) = (box_select, box_start, p.pointer_coordinate()) {
                let rect = vec![[a[0], a[1]], [b.x, a[1]], [b.x, b.y], [a[0], b.y]];
                p.polygon(
                    Polygon::new("box", PlotPoints::from(rect))
                        .fill_color(egui::Color32::from_rgba_unmultiplied(30, 90, 200, 30)),
                );
            }
            p.pointer_coordinate()
        });
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
            .filter(|(_, d)| *d < 36.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, _)| emb.items[p])
    });
    if box_select {
        if r.drag_started() {
            app.box_start = pointer.map(|p| [p.x, p.y]);
        }
        if r.drag_stopped()
            && let (Some(a), Some(b)) = (app.box_start.take(), pointer)
        {
            let (x0, x1) = (a[0].min(b.x), a[0].max(b.x));
            let (y0, y1) = (a[1].min(b.y), a[1].max(b.y));
            let items: Vec<usize> = emb
                .items
                .iter()
                .zip(&emb.xy)
                .filter(|(_, xy)| (x0..=x1).contains(&xy[0]) && (y0..=y1).contains(&xy[1]))
                .map(|(i, _)| *i)
                .collect();
            if !items.is_empty() {
                app.selection = Some(Selection {
                    title: format!("{} points boxed in the embedding", items.len()),
                    items,
                });
            }
        }
    }
    if let Some(i) = hovered {
        let tex = app.thumbs.get(ui.ctx(), &ds, i);
        let conf = app.session.confidence.get(i).copied().unwrap_or(0.0);
        let cluster = app.session.clusters.get(i).copied().unwrap_or(-1);
        let label = ds
            .labels
            .as_ref()
            .map(|l| ds.class_names[l[i] as usize].clone());
        r.clone().on_hover_ui_at_pointer(|ui| {
            ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(96.0, 96.0)));
            ui.label(&ds.items[i]);
            ui.label(format!("cluster {cluster} · confidence {conf:.3}"));
            if let Some(l) = label {
                ui.label(format!("true class: {l}"));
            }
            ui.label(
                egui::RichText::new("click: show in the gallery")
                    .small()
                    .weak(),
            );
        });
        if r.clicked() {
            app.focus = Some(i);
            app.selection = Some(Selection {
                title: format!("item {}", ds.items[i]),
                items: vec![i],
            });
            app.gallery_cluster = cluster.max(0) as usize;
            app.tab = Tab::Gallery;
        }
    }
}
