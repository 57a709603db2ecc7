//! The multi-scale idea made visible: each k-NN graph's size, degrees, edge purity (the
//! share of edges joining two images of the same class, when labels exist) and the share of
//! edges inside the answer's clusters (how closely the answer follows each graph, labels or
//! not).
use crate::ui::view::View;

/// What the run's graphs were built on, as its config says.
fn built_on(s: &crate::ui::session::Session) -> &'static str {
    use crate::config::FeatureSpace;
    match s.config.graph_features {
        FeatureSpace::Backbone => "of the learned features",
        FeatureSpace::Pixels => "of the raw pixels",
        FeatureSpace::Fused => "of the learned features beside frozen pretrained ones",
        FeatureSpace::Auto => {
            "of the learned features, or of them beside frozen pretrained ones where the check \
             after stage 1 found the learned ones missing what those hold"
        }
    }
}

/// Keeps only the shares of edges inside the clusters, for the assignments they were counted on.
#[derive(Default)]
pub struct GraphPanel {
    /// (session generation, [scale a, scale b]).
    inside: Option<(u64, [Option<f64>; 2])>,
}

impl GraphPanel {
    /// Share of each graph's edges whose two images the assignments on screen put together.
    fn inside(&mut self, s: &crate::ui::session::Session) -> [Option<f64>; 2] {
        if let Some((g, v)) = self.inside
            && g == s.generation
        {
            return v;
        }
        let share = |knn: &crate::graph::Knn| {
            (knn.n == s.clusters.len() && knn.n * knn.k > 0)
                .then(|| crate::graph::edge_purity(knn, &s.clusters))
        };
        let v = match &s.neighbours {
            Some((a, b)) => [share(a), share(b)],
            None => [None, None],
        };
        self.inside = Some((s.generation, v));
        v
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View) {
        let s = view.session;
        let inside = self.inside(s);
        if s.graphs.is_empty() {
            super::nothing_yet(
                ui,
                "The k-NN graphs are built between the two stages; their statistics appear here.",
            );
            return;
        }
        ui.label(format!(
            "Stage 2 runs two GCN streams over two k-NN graphs {}: a small scale k_a (very \
             local, very pure) and a large scale k_b (more context, more wrong edges). The \
             streams exchange their layers (σ, γ), so each sees both scales.",
            built_on(s)
        ));
        // The `auto` check's own line, where this session saw it.
        if let Some(line) = s.notes.iter().find(|n| n.starts_with("graph features:")) {
            ui.label(egui::RichText::new(line).small().weak());
        }
        ui.add_space(8.0);
        egui::Grid::new("graphs")
            .striped(true)
            .num_columns(8)
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
                    "inside the clusters",
                ] {
                    let l = ui.label(egui::RichText::new(h).strong());
                    let tip = match h {
                        "edge purity" => {
                            "Share of k-NN edges joining two images of the same class (needs labels)"
                        }
                        "inside the clusters" => {
                            "Share of k-NN edges joining two images the clustering on screen puts \
                             together: how closely it follows this graph (no labels needed)"
                        }
                        _ => continue,
                    };
                    l.on_hover_text(tip);
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
                    ui.label(
                        inside[usize::from(*scale != "a")]
                            .map(|p| format!("{:.1} %", 100.0 * p))
                            .unwrap_or_else(|| "—".into()),
                    );
                    ui.end_row();
                }
            });
        // Purity as labelled bars: how much the larger scale trades purity for reach.
        if s.graphs.iter().any(|(_, g)| g.purity.is_some()) {
            ui.add_space(12.0);
            ui.label(egui::RichText::new("Edges that join two images of the same class").strong());
            for (scale, g) in &s.graphs {
                let Some(p) = g.purity else { continue };
                ui.horizontal(|ui| {
                    ui.add_sized(
                        [110.0, 18.0],
                        egui::Label::new(format!("{scale}, k = {}", g.k)),
                    );
                    ui.add(
                        egui::ProgressBar::new(p as f32)
                            .desired_width(ui.available_width().min(520.0))
                            .text(format!(
                                "{:.1} % of {} edges",
                                100.0 * p,
                                g.undirected_edges
                            )),
                    );
                });
            }
        }
    }
}
