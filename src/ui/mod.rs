//! The desktop explorer (eframe/egui, glow renderer). The UI thread only draws and sends
//! commands: training runs on the engine's worker, and loading, t-SNE, export and file
//! dialogs on helper threads (`tasks`); every result comes back over a channel and wakes the UI.
mod action;
mod app;
mod automation;
pub mod corrections;
mod nav;
mod palette;
mod panels;
pub mod session;
mod settings;
mod tasks;
mod thumbs;
mod view;

pub use action::Action;
pub use app::IcicleApp;
pub use automation::Automation;
pub use nav::{CaseKind, DragMode, Selection, Tab};
pub use panels::embedding::IMAGES_IN_VIEW;
pub use session::Status;
pub use settings::Settings;

use anyhow::Result;

/// Opens the window and runs until it is closed.
pub fn launch(automation: Automation) -> Result<()> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("Icicle Explorer")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Icicle Explorer",
        options,
        Box::new(move |cc| Ok(Box::new(IcicleApp::new(cc, automation)))),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the window: {e} (no display? set DISPLAY, or run under xvfb-run; \
             the CLI works without one: icicle --help)"
        )
    })?;
    // Files being written are finished; a map or preview still computing is not waited for.
    crate::helpers::settle_or_exit(std::time::Duration::from_secs(2));
    Ok(())
}
