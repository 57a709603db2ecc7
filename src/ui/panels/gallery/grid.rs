//! The gallery's thumbnail grid: picking (Ctrl-, Shift-click, a dragged band), the marks of
//! focus, corrections and the preview, and what a click opens.
use crate::ui::action::Action;
use crate::ui::nav::Tab;
use crate::ui::palette;
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;
use std::collections::BTreeSet;

/// Outline of an image the preview would move.
pub(super) const PREVIEW: egui::Color32 = egui::Color32::from_rgb(230, 120, 0);

/// A virtualised thumbnail grid: only the rows on screen are laid out and uploaded.
pub(super) fn grid(
    ui: &mut egui::Ui,
    view: &View,
    thumbs: &mut Thumbs,
    items: &[usize],
    cluster: Option<usize>,
    (picked, anchor): (&mut BTreeSet<usize>, &mut Option<usize>),
    out: &mut Vec<Action>,
) {
    let model = &view.session.corrections;
    let moved: BTreeSet<usize> = model
        .preview
        .as_ref()
        .map(|p| p.moved.iter().copied().collect())
        .unwrap_or_default();
    let Some(ds) = view.run_dataset else {
        return;
    };
    if items.is_empty() {
        ui.label(egui::RichText::new("(none)").weak());
        return;
    }
    ui.horizontal(|ui| {
        if ui
            .button(format!("Pick all {}", items.len()))
            .on_hover_text("Pick every image of this list for a correction (a map selection too)")
            .clicked()
        {
            picked.extend(items.iter().copied());
        }
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
    // Dragging over the grid draws a band; the images it touches are picked when it ends.
    // The scroll area must not scroll on a drag itself (it would on a touch screen).
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .scroll_source(egui::scroll_area::ScrollSource {
            drag: egui::scroll_area::DragScroll::Never,
            ..Default::default()
        })
        .show_rows(ui, side + gap, rows, |ui, range| {
            // Under the thumbnails, which sense clicks only, so a drag that starts on one is
            // the band's (egui finds click and drag targets apart).
            let band = ui.interact(
                ui.clip_rect(),
                ui.make_persistent_id("gallery-band"),
                egui::Sense::drag(),
            );
            let mut shown: Vec<(usize, egui::Rect)> = vec![];
            for row in range {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing = egui::vec2(gap, gap);
                    for (at, &i) in items.iter().enumerate().skip(row * per_row).take(per_row) {
                        let tex = thumbs.get(ui.ctx(), ds, i);
                        let mut img =
                            egui::Image::new(&tex).fit_to_exact_size(egui::vec2(side, side));
                        if view.focus == Some(i) {
                            img = img.bg_fill(egui::Color32::YELLOW);
                        }
                        if picked.contains(&i) {
                            img = img.bg_fill(egui::Color32::LIGHT_BLUE);
                        }
                        let r = ui.add(img.sense(egui::Sense::click()));
                        shown.push((i, r.rect));
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
                        if picked.contains(&i) {
                            ui.painter().rect_stroke(
                                r.rect,
                                0.0,
                                egui::Stroke::new(3.0, egui::Color32::BLUE),
                                egui::StrokeKind::Inside,
                            );
                        }
                        if moved.contains(&i) {
                            ui.painter().rect_stroke(
                                r.rect.shrink(1.0),
                                0.0,
                                egui::Stroke::new(2.0, PREVIEW),
                                egui::StrokeKind::Outside,
                            );
                        }
                        if model.facts.images.contains_key(&i) {
                            // A corrected image: a red dot in its corner, in every view of it.
                            ui.painter().circle_filled(
                                r.rect.right_top() + egui::vec2(-5.0, 5.0),
                                3.5,
                                egui::Color32::RED,
                            );
                        }
                        let r = r.on_hover_ui(|ui| {
                            crate::ui::panels::describe_item(
                                ui,
                                view,
                                ds,
                                i,
                                "click: its neighbours on the graphs; Ctrl-click: pick it for \
                                 a correction; Shift-click: pick every image from the last \
                                 picked to this one",
                            );
                        });
                        let modifiers = ui.input(|inp| inp.modifiers);
                        let from = anchor.and_then(|a| items.iter().position(|&x| x == a));
                        if r.clicked()
                            && modifiers.shift
                            && let Some(a) = from
                        {
                            picked.extend(&items[a.min(at)..=a.max(at)]);
                            *anchor = Some(i);
                        } else if r.clicked() && (modifiers.command || modifiers.shift) {
                            if !picked.remove(&i) {
                                picked.insert(i);
                            }
                            *anchor = Some(i);
                        } else if r.clicked() {
                            out.push(Action::Focus(i));
                            out.push(Action::ShowTab(Tab::Neighbours));
                        }
                    }
                });
            }
            // Where the band started, kept in egui's memory: the release frame has no press
            // origin any more.
            if band.drag_started()
                && let Some(a) = ui.input(|i| i.pointer.press_origin())
            {
                ui.data_mut(|d| d.insert_temp(band.id, a));
            }
            let origin = ui.data(|d| d.get_temp::<egui::Pos2>(band.id));
            // A press without a drag is a click on the thumbnail under it, not a band.
            let moved = |a: egui::Pos2, b: egui::Pos2| a.distance(b) > 6.0;
            if let (Some(a), Some(b)) = (origin, band.interact_pointer_pos())
                && moved(a, b)
            {
                let rect = egui::Rect::from_two_pos(a, b);
                if band.dragged() {
                    ui.painter().rect(
                        rect,
                        0.0,
                        egui::Color32::from_rgba_unmultiplied(80, 120, 255, 40),
                        egui::Stroke::new(1.0, egui::Color32::BLUE),
                        egui::StrokeKind::Inside,
                    );
                }
                if band.drag_stopped() {
                    picked.extend(
                        shown
                            .iter()
                            .filter(|(_, r)| r.intersects(rect))
                            .map(|&(i, _)| i),
                    );
                }
            }
        });
}
