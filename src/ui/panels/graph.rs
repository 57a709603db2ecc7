//! The multi-scale idea made visible: each k-NN graph's size, degrees and edge purity (the
//! share of edges joining two images of the same class, when labels exist).
use crate::ui::IcicleApp;

pub fn show(app: &mut IcicleApp, ui: &mut egui::Ui) {
    let s = &app.session;
    if s.graphs.is_empty() {
        super::nothing_yet(
            ui,
            "The k-NN graphs are built between the two stages; their statistics appear here.",
        );
        return;
    }
    ui.label(
        "Stage 2 runs two GCN streams over two k-NN graphs of the learned features: a small scale \
         k_a (very local, very pure) and a large scale k_b (more context, more wrong edges). \
         The streams exchange their layers (σ, γ), so each sees both scales.",
    );
    ui.add_space(8.0);
    egui::Grid::new("graphs")
        .striped(true)
        .num_columns(7)
        .spacing([24.0, 6.0])
        .show(ui, |ui| {
            for h in [
                "scale",
                "k",
                "nodes",
                "edges (undirected)",
                "mean degree",
                "max degree",
                "edge purity",
            ] {
                ui.label(egui::RichText::new(h).strong());
            }
            ui.end_row();
            for (scale, g) in &s.graphs {
                ui.label(format!(
                    "{scale} ({})",
                    if *scale == "a" { "k_a" } else { "k_b" }
                ));
                ui.label(g.k.to_string());
                ui.label(g.nodes.to_string());
                ui.label(g.undirected_edges.to_string());
                ui.label(format!("{:.2}", g.mean_degree));
                ui.label(g.max_degree.to_string());
                ui.label(
                    g.purity
                        .map(|p| format!("{:.1} %", 100.0 * p))
                        .unwrap_or_else(|| "— (no labels)".into()),
                );
                ui.end_row();
            }
        });
    ui.add_space(12.0);
    // Purity as bars: how much the larger scale trades purity for reach.
    let bars: Vec<egui_plot::Bar> = s
        .graphs
        .iter()
        .enumerate()
        .filter_map(|(i, (scale, g))| {
            g.purity.map(|p| {
                egui_plot::Bar::new(i as f64, p)
                    .name(format!("scale {scale}, k = {}", g.k))
                    .width(0.5)
            })
        })
        .collect();
    if !bars.is_empty() {
        egui_plot::Plot::new("purity")
            .height(220.0)
            .include_y(0.0)
            .include_y(1.0)
            .y_axis_label("edge purity")
            .show_x(false)
            .show(ui, |p| {
                p.bar_chart(egui_plot::BarChart::new("edge purity", bars))
            });
    }
}
