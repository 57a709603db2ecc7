//! Export: assignments as CSV or JSON, and copies of the images in one folder per cluster.
//! Work happens on a helper thread; originals are never moved or overwritten.
use crate::ui::IcicleApp;
use crate::ui::tasks::{Done, ExportReport, Pick};
use std::path::PathBuf;

pub fn show(app: &mut IcicleApp, ui: &mut egui::Ui) {
    let Some(ds) = app.run_dataset.clone() else {
        super::nothing_yet(
            ui,
            "Train or open a run first: its assignments can then be exported.",
        );
        return;
    };
    if app.session.clusters.len() != ds.len() {
        super::nothing_yet(ui, "No assignments yet.");
        return;
    }
    if let Some(dir) = &app.session.run_dir {
        ui.label(format!(
            "The run folder already holds assignments.csv, metrics.json, confusion.csv, losses.csv and config.toml: {}",
            dir.display()
        ));
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let l = ui.label("Export to folder:");
        ui.add(
            egui::TextEdit::singleline(&mut app.settings.export_dir)
                .hint_text("/path/to/export")
                .desired_width(360.0),
        )
        .labelled_by(l.id);
        if ui.button("Choose…").clicked() {
            app.tasks.pick_folder(Pick::Export);
        }
    });
    let dest = PathBuf::from(app.settings.export_dir.trim());
    let ready = !app.settings.export_dir.trim().is_empty() && !app.export_busy;
    if app.settings.export_dir.trim().is_empty() {
        ui.weak("Type or choose a folder above to export to; it is created if missing.");
    }
    let clusters = app.session.clusters.clone();
    let confidence = app.session.confidence.clone();
    ui.horizontal(|ui| {
        if ui.add_enabled(ready, egui::Button::new("Assignments to CSV")).clicked() {
            let (ds, dest) = (ds.clone(), dest.clone());
            let (c, p) = (clusters.clone(), confidence.clone());
            app.export_busy = true;
            app.tasks.spawn("export", move |r| {
                let path = dest.join("assignments.csv");
                let res = crate::export::write_assignments(&path, &ds, &c, &p)
                    .map(|_| ExportReport::Files(vec![path]))
                    .map_err(|e| format!("{e:#}"));
                r.send(Done::Exported(res));
            });
        }
        if ui.add_enabled(ready, egui::Button::new("Assignments to JSON")).clicked() {
            let (ds, dest) = (ds.clone(), dest.clone());
            let (c, p) = (clusters.clone(), confidence.clone());
            app.export_busy = true;
            app.tasks.spawn("export", move |r| {
                let path = dest.join("assignments.json");
                let res = crate::export::write_assignments_json(&path, &ds, &c, &p)
                    .map(|_| ExportReport::Files(vec![path]))
                    .map_err(|e| format!("{e:#}"));
                r.send(Done::Exported(res));
            });
        }
        if ui
            .add_enabled(ready, egui::Button::new("Copy images into one folder per cluster"))
            .on_hover_text("Copies (never moves) every image into <folder>/clusters/cluster_NN/; the folder must be new or empty")
            .clicked()
        {
            let (ds, dest) = (ds.clone(), dest.join("clusters"));
            let c = clusters.clone();
            app.export_busy = true;
            app.tasks.spawn("export", move |r| {
                let res = crate::export::export_cluster_folders(&ds, &c, &dest, &r.progress())
                    .map(ExportReport::Folders)
                    .map_err(|e| format!("{e:#}"));
                r.send(Done::Exported(res));
            });
        }
    });
    if app.export_busy {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("exporting…");
        });
    }
    match &app.export_result {
        Some(Ok(ExportReport::Files(files))) => {
            for f in files {
                ui.colored_label(
                    egui::Color32::from_rgb(20, 120, 40),
                    format!("wrote {}", f.display()),
                );
            }
        }
        Some(Ok(ExportReport::Folders(f))) => {
            ui.colored_label(
                egui::Color32::from_rgb(20, 120, 40),
                format!(
                    "copied {} images into {} cluster folders under {}",
                    f.files,
                    f.folders,
                    f.dest.display()
                ),
            );
            if !f.failed.is_empty() {
                ui.colored_label(
                    egui::Color32::from_rgb(190, 30, 30),
                    format!("{} images could not be written:", f.failed.len()),
                );
                for (item, why) in f.failed.iter().take(20) {
                    ui.label(egui::RichText::new(format!("{item}: {why}")).small());
                }
            }
        }
        Some(Err(e)) => {
            ui.colored_label(egui::Color32::from_rgb(190, 30, 30), e);
        }
        None => {}
    }
}
