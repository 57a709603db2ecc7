//! Live loss curves of every term of both stages, and clustering quality over training: the
//! label-free scores always, ACC/NMI/ARI too when the data has labels. Log scale plots log10
//! of each loss term.
use crate::messages::{LossPoint, LossTerms, Stage};
use crate::ui::action::Action;
use crate::ui::view::View;

/// The plots keep no state of their own (the log-scale choice is a remembered setting).
#[derive(Default)]
pub struct LossesPanel;
use egui_plot::{Legend, Line, Plot, PlotPoints};

type Term = (&'static str, fn(&LossTerms) -> Option<f64>);
/// One of ACC, NMI, ARI.
type ScoreOf = fn(&crate::metrics::Scores) -> f64;

const STAGE1: [Term; 5] = [
    ("total", |t| Some(t.total)),
    ("instance L_CIS", |t| t.instance),
    ("cluster L_CCS", |t| t.cluster),
    ("entropy (log K − H)", |t| t.entropy),
    ("reconstruction L_re", |t| t.reconstruction),
];

const STAGE2: [Term; 5] = [
    ("total", |t| Some(t.total)),
    ("reconstruction L_rec", |t| t.reconstruction),
    ("KL(P||Q)", |t| t.kl_q),
    ("KL(P||G_a)", |t| t.kl_a),
    ("KL(P||G_b)", |t| t.kl_b),
];

fn plot_losses(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    points: &[LossPoint],
    terms: &[Term],
    log: bool,
    height: f32,
) {
    ui.label(egui::RichText::new(title).strong());
    if points.is_empty() {
        ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
            super::nothing_yet(ui, "Starts when the previous stage ends.");
        });
        return;
    }
    // Long runs have many steps; a few thousand points per line are plenty to draw.
    let stride = (points.len() / 4000).max(1);
    Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .x_axis_label(if id == "loss1" { "step" } else { "iteration" })
        .y_axis_label(if log { "log10(loss)" } else { "loss" })
        .show(ui, |p| {
            for (name, get) in terms {
                let pts: Vec<[f64; 2]> = points
                    .iter()
                    .step_by(stride)
                    .filter_map(|l| {
                        let v = get(&l.terms)?;
                        let y = if log { v.max(1e-12).log10() } else { v };
                        y.is_finite().then_some([l.global_step as f64, y])
                    })
                    .collect();
                if !pts.is_empty() {
                    p.line(Line::new(*name, PlotPoints::from(pts)));
                }
            }
        });
}

impl LossesPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        let s = view.session;
        if s.losses1.is_empty() && s.losses2.is_empty() {
            super::nothing_yet(
                ui,
                "Press Train: loss curves of both stages appear here as training runs.",
            );
            return;
        }
        ui.horizontal(|ui| {
            let mut log = view.settings.log_scale;
            if ui.checkbox(&mut log, "log scale").changed() {
                let mut edited = view.settings.clone();
                edited.log_scale = log;
                view.settings_changed(edited, out);
            }
            if let Some(l) = s.losses2.last().or(s.losses1.last()) {
                ui.label(format!("latest total loss {:.4}", l.terms.total));
            }
        });
        let log = view.settings.log_scale;
        let labelled = view.labelled();
        let avail = ui.available_height();
        let h = ((avail - 110.0) / 2.0).max(120.0);
        ui.columns(2, |cols| {
            plot_losses(
                &mut cols[0],
                "loss1",
                "Stage 1: contrastive pre-training",
                &s.losses1,
                &STAGE1,
                log,
                h,
            );
            plot_losses(
                &mut cols[1],
                "loss2",
                "Stage 2: multi-scale GCN",
                &s.losses2,
                &STAGE2,
                log,
                h,
            );
        });
        // Wrapped: the scores must never widen the panel past the window.
        ui.horizontal_wrapped(|ui| {
            ui.label(
                egui::RichText::new(if labelled {
                    "Clustering quality: against the labels, and without them"
                } else {
                    "Clustering quality without labels"
                })
                .strong(),
            );
            label_free_line(ui, s);
        });
        // One plot per stage, like the losses above: stage 2's few hundred iterations would be a
        // sliver at the end of stage 1's thousands of steps on a shared axis.
        let series = |stage: Stage, f: ScoreOf| -> Vec<[f64; 2]> {
            s.final_head_metrics()
                .filter(|m| (m.stage == Stage::One) == (stage == Stage::One))
                .map(|m| [m.global_step as f64, f(&m.scores)])
                .collect()
        };
        let free = |stage: Stage, name: &str| -> Vec<[f64; 2]> {
            s.label_free
                .iter()
                .filter(|p| (p.stage == Stage::One) == (stage == Stage::One))
                .filter_map(|p| {
                    let v = p.scores.named().into_iter().find(|(n, _)| *n == name)?.1;
                    Some([p.global_step as f64, v])
                })
                .collect()
        };
        let h = (ui.available_height() - 10.0).max(100.0);
        ui.columns(2, |cols| {
            for (col, stage, id, axis) in [
                (0, Stage::One, "metrics1", "stage-1 step (AE head)"),
                (1, Stage::Two, "metrics2", "stage-2 iteration (final head)"),
            ] {
                Plot::new(id)
                    .height(h)
                    .legend(Legend::default())
                    .include_y(0.0)
                    .include_y(1.0)
                    .x_axis_label(axis)
                    .show(&mut cols[col], |p| {
                        // Fixed colours, so a score looks the same in both stages' plots.
                        let colour = crate::ui::palette::colour;
                        if labelled {
                            let scores: [(&str, ScoreOf); 3] =
                                [("ACC", |s| s.acc), ("NMI", |s| s.nmi), ("ARI", |s| s.ari)];
                            for (i, (name, f)) in scores.into_iter().enumerate() {
                                p.line(
                                    Line::new(name, PlotPoints::from(series(stage, f)))
                                        .color(colour(i)),
                                );
                            }
                        }
                        for (i, name) in LABEL_FREE_PLOTTED.into_iter().enumerate() {
                            let pts = free(stage, name);
                            // Before the graphs exist a confidence can only be the head's own
                            // top probability: named so, not to be read as the later one.
                            let shown = match (stage, name) {
                                (Stage::One, "mean confidence") => "head's top probability",
                                _ => name,
                            };
                            if !pts.is_empty() {
                                p.line(
                                    Line::new(shown, PlotPoints::from(pts))
                                        .color(colour(3 + i))
                                        .style(egui_plot::LineStyle::dashed_loose()),
                                );
                            }
                        }
                    });
            }
        });
    }
}

/// The label-free scores drawn over the run (dashed, beside ACC/NMI/ARI).
const LABEL_FREE_PLOTTED: [&str; 5] = [
    "silhouette",
    "modularity b",
    "head agreement",
    "mean confidence",
    "balance",
];

/// The label-free scores of the answer on screen once the run has ended (the candidate shown:
/// the worker's silhouette and modularities, confidence and balance of its clusters), else the
/// latest evaluation's; each name with its meaning as a tooltip.
fn label_free_line(ui: &mut egui::Ui, s: &crate::ui::session::Session) {
    use crate::metrics::label_free::MEANINGS;
    let (named, empty) = match (s.shown_answer(), &s.analysis) {
        (Some(j), Some(a)) if !s.status.active() => {
            ui.label(format!("the answer shown ({}):", j.name));
            let (mean, uncertain, balance) = a.confidence_and_balance;
            let mut named = vec![
                ("silhouette", j.silhouette),
                ("modularity a", j.modularity_a),
                ("modularity b", j.modularity_b),
            ];
            // The run's heads, not the answer: how much Q and the two streams agreed at the end.
            if let Some(h) = s.label_free.last().and_then(|p| p.scores.head_agreement) {
                named.push(("head agreement", h));
            }
            named.extend([
                ("mean confidence", mean),
                ("uncertain", uncertain),
                ("balance", balance),
            ]);
            (named, a.members.iter().filter(|m| m.is_empty()).count())
        }
        _ => match s.label_free.last() {
            Some(p) => (p.scores.named(), p.scores.empty_clusters),
            None => return,
        },
    };
    for (name, v) in named {
        let meaning = MEANINGS
            .iter()
            .find(|(n, _)| {
                *n == name || (n.starts_with("modularity") && name.starts_with("modularity"))
            })
            .map_or("", |(_, m)| m);
        ui.label(format!("{name} {v:.3}")).on_hover_text(meaning);
    }
    if empty > 0 {
        ui.label(
            egui::RichText::new(format!("{empty} empty clusters"))
                .color(ui.visuals().warn_fg_color),
        )
        .on_hover_text(MEANINGS[6].1);
    }
}
