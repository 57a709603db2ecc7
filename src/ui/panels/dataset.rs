//! Dataset panel: the registry's entries (with availability and install hints), any folder
//! (dialog or typed path), reopening a run, and a look at what was loaded.
use crate::rundir::DataRecord;
use crate::ui::action::Action;
use crate::ui::tasks::Pick;
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;

/// Owns what is typed in its two path fields.
#[derive(Default)]
pub struct DatasetPanel {
    pub folder_input: String,
    pub run_input: String,
}

impl DatasetPanel {
    pub fn new(folder: Option<&std::path::Path>) -> Self {
        Self {
            folder_input: folder.map(|p| p.display().to_string()).unwrap_or_default(),
            run_input: String::new(),
        }
    }

    /// The folder a file dialog returned.
    pub fn on_picked_folder(&mut self, path: &std::path::Path) {
        self.folder_input = path.display().to_string();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        thumbs: &mut Thumbs,
        out: &mut Vec<Action>,
    ) {
        let mut settings = view.settings.clone();
        self.controls(ui, view, &mut settings, out);
        view.settings_changed(settings, out);
        self.loaded(ui, view, thumbs);
    }

    fn controls(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        settings: &mut crate::ui::Settings,
        out: &mut Vec<Action>,
    ) {
        let entries = match view.registry {
            Ok(r) => r.datasets.clone(),
            Err(e) => {
                ui.colored_label(egui::Color32::RED, e);
                vec![]
            }
        };
        let default_name = view
            .registry
            .as_ref()
            .map(|r| r.default.clone())
            .unwrap_or_default();
        let busy = view.loading.is_some();
        let current = view.settings.data.clone();
        for entry in &entries {
            let available = entry.availability();
            let selected = current.folder.is_none()
                && current.dataset.as_deref().unwrap_or(&default_name) == entry.name;
            ui.horizontal(|ui| {
                let label = entry.title.clone();
                let r = ui.add_enabled(
                    available.is_ok() && !busy,
                    egui::RadioButton::new(selected, label),
                );
                let r = r.on_hover_text(&entry.description);
                if let Err(why) = &available {
                    r.on_disabled_hover_text(why.as_str());
                } else if r.clicked() && !selected {
                    out.push(Action::LoadData(DataRecord::registry(Some(
                        entry.name.clone(),
                    ))));
                }
            });
            if let Err(why) = &available {
                ui.label(
                    egui::RichText::new(format!("   not installed: {why}"))
                        .small()
                        .weak(),
                );
            }
        }
        ui.add_space(6.0);
        let l = ui.label("Any folder of images (class subfolders give labels):");
        ui.horizontal(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.folder_input)
                    .hint_text("/path/to/photos")
                    .desired_width(170.0),
            );
            let edit = edit.labelled_by(l.id);
            let go = ui.add_enabled(
                !busy && !self.folder_input.trim().is_empty(),
                egui::Button::new("Load"),
            );
            if go.clicked() || (edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
            {
                let mut rec = view.settings.data.clone();
                rec.folder = Some(self.folder_input.trim().into());
                rec.dataset = None;
                out.push(Action::LoadData(rec));
            }
            if ui
                .add_enabled(!busy, egui::Button::new("Open folder…"))
                .clicked()
            {
                out.push(Action::Pick(Pick::Data));
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label("side");
            let mut auto = settings.data.size == 0;
            if ui
                .checkbox(&mut auto, "auto")
                .on_hover_text(
                    "Images of 64 px or less keep their side; larger ones are decoded \
                     straight to the pretrained backbone's side (128 on a CPU, 224 on a GPU)",
                )
                .changed()
            {
                settings.data.size = if auto { 0 } else { 64 };
            }
            if !auto {
                ui.add(
                    egui::DragValue::new(&mut settings.data.size)
                        .range(4..=512)
                        .suffix(" px"),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "Folder images are resized to this square size (the small CNN trains at it)",
                );
            }
            let l = ui.label("channels");
            egui::ComboBox::from_id_salt("channels")
                .selected_text(settings.data.channels.clone())
                .show_ui(ui, |ui| {
                    for c in ["auto", "1", "3"] {
                        ui.selectable_value(&mut settings.data.channels, c.to_string(), c);
                    }
                })
                .response
                .labelled_by(l.id);
        });
        ui.horizontal(|ui| {
            use crate::data::folder::Labels;
            let l = ui.label("labels from").on_hover_text(
                "auto: class subfolders are labels when every image is in one, there are at \
                 least two, and they are not named like dates · subfolders: always · none: never \
                 (an album sorted by year or trip). Press Load again to apply.",
            );
            egui::ComboBox::from_id_salt("labels")
                .selected_text(settings.data.labels.name())
                .show_ui(ui, |ui| {
                    for v in [Labels::Auto, Labels::Subfolders, Labels::None] {
                        ui.selectable_value(&mut settings.data.labels, v, v.name());
                    }
                })
                .response
                .labelled_by(l.id);
        });
        let l = ui.label("A saved run:");
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.run_input)
                    .hint_text("runs/<dataset>-<time>")
                    .desired_width(170.0),
            )
            .labelled_by(l.id);
            if ui
                .add_enabled(
                    !busy && !self.run_input.trim().is_empty(),
                    egui::Button::new("Open run"),
                )
                .on_hover_text("Show a finished run again: losses, metrics, assignments, embedding")
                .clicked()
            {
                out.push(Action::OpenRun(self.run_input.trim().into()));
            }
            if ui
                .add_enabled(!busy, egui::Button::new("…"))
                .on_hover_text("Pick a run folder")
                .clicked()
            {
                out.push(Action::Pick(Pick::Run));
            }
        });
    }

    /// Loading progress, errors, and a look at what was loaded.
    fn loaded(&self, ui: &mut egui::Ui, view: &View, thumbs: &mut Thumbs) {
        ui.separator();
        if let Some((what, done, total)) = view.loading {
            let frac = if *total > 0 {
                *done as f32 / *total as f32
            } else {
                0.0
            };
            ui.add(
                egui::ProgressBar::new(frac)
                    .text(format!("{what} {done}/{total}"))
                    .animate(true),
            );
        }
        if let Some(e) = view.data_error {
            ui.colored_label(egui::Color32::from_rgb(190, 30, 30), e);
        }
        let Some(ds) = view.dataset else {
            return;
        };
        ui.label(egui::RichText::new(&ds.name).strong());
        let classes = if ds.labels.is_some() {
            format!("{} classes", ds.num_classes())
        } else {
            "unlabelled".to_string()
        };
        ui.label(format!(
            "{} images · {}×{} · {} · {classes}",
            ds.len(),
            ds.width,
            ds.height,
            if ds.channels == 3 { "colour" } else { "gray" }
        ));
        if ds.labels.is_some() {
            let names = ds.class_names.join(", ");
            ui.label(egui::RichText::new(names).small().weak());
        }
        // A strip of samples, spread over the whole set.
        let n = ds.len().min(16);
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(2.0, 2.0);
            for j in 0..n {
                let i = j * ds.len() / n;
                let tex = thumbs.get(ui.ctx(), ds, i);
                ui.add(egui::Image::new(&tex).fit_to_exact_size(egui::vec2(32.0, 32.0)))
                    .on_hover_text(&ds.items[i]);
            }
        });
        if !ds.skipped.is_empty() {
            egui::CollapsingHeader::new(format!("{} skipped files", ds.skipped.len())).show(
                ui,
                |ui| {
                    for s in ds.skipped.iter().take(200) {
                        ui.label(egui::RichText::new(format!("{}: {}", s.path, s.reason)).small());
                    }
                },
            );
        }
    }
}
