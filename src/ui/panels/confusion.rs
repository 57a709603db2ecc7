//! The Hungarian-aligned confusion matrix: rows are true classes, columns clusters, each
//! cluster facing the class it is matched to, so a good clustering is a bright diagonal.
//! Shading is per row (share of the class); clicking a cell lists its images in the gallery.
use crate::ui::action::Action;
use crate::ui::nav::{Selection, Tab};
use crate::ui::palette;
use crate::ui::view::View;

/// The matrix keeps no state of its own: a click becomes a selection the shell shows.
#[derive(Default)]
pub struct ConfusionPanel;

impl ConfusionPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        let (Some(ds), Some(an)) = (view.run_dataset, view.session.analysis.as_ref()) else {
            super::nothing_yet(
                ui,
                "The confusion matrix appears with the first assignments (after stage-1 epoch 1).",
            );
            return;
        };
        let Some(eval) = &an.eval else {
            super::nothing_yet(
                ui,
                "This dataset has no labels, so there is no confusion matrix: see the gallery.",
            );
            return;
        };
        let conf = &eval.confusion;
        ui.label(format!(
            "ACC {:.3}  NMI {:.3}  ARI {:.3}   ·   from {}",
            eval.scores.acc,
            eval.scores.nmi,
            eval.scores.ari,
            match view.session.assignments_stage {
                Some(crate::messages::Stage::One) => "the stage-1 AE head (training)",
                _ => "the final head",
            }
        ));
        let classes = conf.counts.len();
        let cols = conf.column_clusters.len();
        let label_w = 110.0;
        let head_h = 34.0;
        let avail = ui.available_size();
        let cell = ((avail.x - label_w - 10.0) / cols.max(1) as f32)
            .min((avail.y - head_h - 30.0) / classes.max(1) as f32)
            .clamp(18.0, 64.0);
        let size = egui::vec2(label_w + cell * cols as f32, head_h + cell * classes as f32);
        let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::click());
        // Named for screen readers (and for tests that click a cell).
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Canvas, true, "class-by-cluster counts")
        });
        let painter = ui.painter_at(rect);
        let font = egui::FontId::proportional((cell * 0.32).clamp(9.0, 14.0));
        let text_col = ui.visuals().text_color();
        let origin = rect.min + egui::vec2(label_w, head_h);
        for (c, &cluster) in conf.column_clusters.iter().enumerate() {
            let x = origin.x + cell * (c as f32 + 0.5);
            painter.text(
                egui::pos2(x, rect.min.y + head_h * 0.5),
                egui::Align2::CENTER_CENTER,
                format!("c{cluster}"),
                font.clone(),
                palette::colour(cluster),
            );
        }
        let mut hovered_cell = None;
        for (class, row) in conf.counts.iter().enumerate() {
            let y = origin.y + cell * class as f32;
            let name = ds
                .class_names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string());
            painter.text(
                egui::pos2(rect.min.x + label_w - 6.0, y + cell * 0.5),
                egui::Align2::RIGHT_CENTER,
                name,
                font.clone(),
                text_col,
            );
            let total: u64 = row.iter().sum::<u64>().max(1);
            for (c, &n) in row.iter().enumerate() {
                let r = egui::Rect::from_min_size(
                    egui::pos2(origin.x + cell * c as f32, y),
                    egui::vec2(cell, cell),
                );
                let t = n as f32 / total as f32;
                painter.rect_filled(r.shrink(0.5), 2.0, palette::heat(t));
                if n > 0 {
                    let colour = if t > 0.5 {
                        egui::Color32::WHITE
                    } else {
                        egui::Color32::from_gray(40)
                    };
                    painter.text(
                        r.center(),
                        egui::Align2::CENTER_CENTER,
                        n.to_string(),
                        font.clone(),
                        colour,
                    );
                }
                if resp.hovered() && resp.hover_pos().is_some_and(|p| r.contains(p)) {
                    painter.rect_stroke(
                        r,
                        2.0,
                        egui::Stroke::new(2.0, egui::Color32::BLACK),
                        egui::StrokeKind::Inside,
                    );
                    hovered_cell = Some((class, c, n));
                }
            }
        }
        if let Some((class, c, n)) = hovered_cell {
            let cluster = conf.column_clusters[c];
            let name = ds.class_names.get(class).cloned().unwrap_or_default();
            let resp = resp.clone().on_hover_text(if n == 0 {
                format!("no image of class {name} is in cluster {cluster}")
            } else {
                format!("{n} images of class {name} in cluster {cluster} — click to see them")
            });
            if n > 0 && resp.clicked() {
                let labels = ds.labels.as_ref().expect("evaluated, so labelled");
                let mut items: Vec<usize> = (0..ds.len())
                    .filter(|&i| {
                        labels[i] as usize == class && view.session.clusters[i] as usize == cluster
                    })
                    .collect();
                let confidence = &view.session.confidence;
                items.sort_by(|a, b| confidence[*b].total_cmp(&confidence[*a]));
                let selection = Selection {
                    title: format!("class {name} in cluster {cluster} ({n} images)"),
                    items,
                };
                out.push(Action::Select(selection, Some(cluster)));
                out.push(Action::ShowTab(Tab::Gallery));
            }
        }
        ui.label(
        egui::RichText::new("Rows: true classes. Columns: clusters, matched ones first, facing their class. Shade: share of the row.")
            .small()
            .weak(),
    );
    }
}
