//! Hyperparameters: the preset, K and every IcicleGCN knob, each with a tooltip saying what it
//! does in the method. Invalid values are named inline and block Train; changes made while a
//! run trains apply to the next run.
use crate::config::{
    BackboneKind, CentreInit, FeatureSpace, Head, MAX_FINETUNE_BLOCKS, NeighborSpace, Preset,
};
use crate::graph::Normalization;
use crate::runtime::DeviceChoice;
use crate::ui::action::Action;
use crate::ui::panels::suggest_k::{SuggestAction, SuggestKPanel};
use crate::ui::view::View;

/// The knobs edit a copy of the settings (returned as an action); the panel owns "Suggest K",
/// which sits under its header.
pub struct ParamsPanel {
    pub suggest_k: SuggestKPanel,
}

impl Default for ParamsPanel {
    fn default() -> Self {
        Self {
            suggest_k: SuggestKPanel::new(),
        }
    }
}

fn num<T: egui::emath::Numeric>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    range: std::ops::RangeInclusive<T>,
    speed: f64,
    tip: &str,
) {
    let l = ui.label(label).on_hover_text(tip);
    ui.add(egui::DragValue::new(value).range(range).speed(speed))
        .labelled_by(l.id)
        .on_hover_text(tip);
    ui.end_row();
}

fn unit(ui: &mut egui::Ui, label: &str, value: &mut f64, tip: &str) {
    let l = ui.label(label).on_hover_text(tip);
    ui.add(egui::Slider::new(value, 0.0..=1.0).step_by(0.01))
        .labelled_by(l.id)
        .on_hover_text(tip);
    ui.end_row();
}

fn log_num(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut f64,
    range: std::ops::RangeInclusive<f64>,
    tip: &str,
) {
    let l = ui.label(label).on_hover_text(tip);
    ui.add(egui::Slider::new(value, range).logarithmic(true))
        .labelled_by(l.id)
        .on_hover_text(tip);
    ui.end_row();
}

/// A setting's variant as the drop-downs and config files spell it.
fn lower<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}").to_lowercase()
}

/// A labelled drop-down of `options` for `value`, each shown as `name` gives it.
fn pick<T: PartialEq + Copy, S: Into<egui::WidgetText>>(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    value: &mut T,
    options: &[T],
    name: impl Fn(T) -> S,
    tip: &str,
) {
    let l = ui.label(label).on_hover_text(tip);
    egui::ComboBox::from_id_salt(id)
        .selected_text(name(*value))
        .show_ui(ui, |ui| {
            for &o in options {
                ui.selectable_value(value, o, name(o));
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
}

fn flag(ui: &mut egui::Ui, label: &str, value: &mut bool, tip: &str) {
    ui.checkbox(value, label).on_hover_text(tip);
}

impl ParamsPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        let mut settings = view.settings.clone();
        // A preset replaces the knobs, so it is pushed after the edited copy.
        let mut preset = None;
        ui.horizontal(|ui| {
            ui.label("Preset").on_hover_text(
                "reference: the released code, its bugs included · paper: the paper's equations · \
             default: reference numbers with the bugs fixed, sized for a CPU",
            );
            for p in [Preset::Default, Preset::Paper, Preset::Reference] {
                let name = format!("{p:?}").to_lowercase();
                if ui
                    .selectable_label(view.settings.config.preset == p, name)
                    .clicked()
                    && view.settings.config.preset != p
                {
                    preset = Some(p);
                }
            }
        });
        if !view.default_choices.is_empty() {
            egui::CollapsingHeader::new("What the default chose for this data")
                .default_open(false)
                .show(ui, |ui| {
                    for why in view.default_choices {
                        ui.label(egui::RichText::new(format!("• {why}")).small());
                    }
                });
        }
        self.suggest_k(ui, view, &mut settings, out);
        let items = view.dataset.map(|d| d.len()).unwrap_or(0);
        let cfg = &mut settings.config;
        egui::Grid::new("core").num_columns(2).striped(true).show(ui, |ui| {
        num(ui, "K (clusters)", &mut cfg.clusters, 2..=1000, 0.1,
            "Number of clusters: the size of the JC-SLIM softmax bottleneck and of the GCN outputs");
        num(ui, "seed", &mut cfg.seed, 0..=u64::MAX, 1.0,
            "Seeds weights, batches and augmentations: the same config and seed reproduce a run");
        pick(ui, "device", "device", &mut cfg.device, &[DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda], lower,
            "auto: CUDA when libtorch sees a GPU, else CPU");
    });
        egui::CollapsingHeader::new("Stage 1 · contrastive learning").default_open(true).show(ui, |ui| {
        egui::Grid::new("s1").num_columns(2).striped(true).show(ui, |ui| {
            pick(ui, "backbone", "backbone", &mut cfg.backbone, &BackboneKind::ALL, |b| b.name(),
                "Feature extractor f(·), trained here: a small CNN at the images' own size (CPU), or the paper's ResNet-34 / ResNet-18 at input size. \
                 Frozen and pretrained (features computed once and cached; stage 1 trains only ISM and JC-SLIM): \
                 efficientnet-lite0 (ImageNet weights, installed by setup) or torchscript (your own .pt model)");
            num(ui, "input size", &mut cfg.input_size, 0..=512, 1.0,
                "Side of the backbone input in pixels; 0 = the images' own size (224 for a frozen backbone). \
                 EfficientNet-Lite0 on 2 CPU cores: about 2,000 images/s at 64, 400 at 128, 100 at 224");
            if cfg.backbone == BackboneKind::EfficientnetLite0 {
                let tip = "Which EfficientNet-Lite0 output is the feature: 0 = the pooled 1,280-d head (the most semantic), \
                           1–16 = the pooled output of that block (earlier = more about colour and texture, and cheaper)";
                let l = ui.label("feature tap").on_hover_text(tip);
                ui.add(egui::Slider::new(&mut cfg.backbone_tap, 0..=crate::model::efficientnet::BLOCKS)
                    .custom_formatter(|v, _| crate::model::efficientnet::tap_name(v as usize)))
                    .labelled_by(l.id)
                    .on_hover_text(tip);
                ui.end_row();
                let tip = "0: the backbone stays frozen. n > 0: its last n blocks (and the head) train in stage 1 at their own learning rate, \
                           on activations cached before them, so each step runs only those blocks (slower than frozen, far cheaper than the whole network)";
                let l = ui.label("fine-tune last blocks").on_hover_text(tip);
                ui.add(egui::Slider::new(&mut cfg.finetune_blocks, 0..=MAX_FINETUNE_BLOCKS))
                    .labelled_by(l.id)
                    .on_hover_text(tip);
                ui.end_row();
                if cfg.finetune_blocks > 0 {
                    log_num(ui, "fine-tune lr", &mut cfg.finetune_lr, 1e-7..=1e-2,
                        "Adam learning rate of the fine-tuned blocks; below the heads' lr, since they start trained");
                }
            }
            if cfg.backbone == BackboneKind::Torchscript {
                let tip = "A TorchScript image model (.pt): forward takes B×3×S×S RGB in [0, 1] and returns B×D features (B×D×H×W maps are averaged)";
                let l = ui.label("model file").on_hover_text(tip);
                ui.text_edit_singleline(&mut cfg.backbone_file).labelled_by(l.id).on_hover_text(tip);
                ui.end_row();
            }
            if cfg.backbone.is_frozen() {
                num(ui, "views", &mut cfg.views, 2..=64, 0.1,
                    "Augmented views per image whose features are computed once and cached; each stage-1 step picks two of them. \
                     Extraction costs views + 1 forward passes per image");
            }
            num(ui, "neighbour positives k", &mut cfg.neighbor_k, 0..=100, 0.1,
                "0: the two views of a pair are augmentations of one image (the paper). k > 0: view b comes from the image itself or one of its k nearest neighbours \
                 (in pixels for a trained CNN, in the pretrained features for a frozen backbone), as SCAN's neighbour consistency");
            if !cfg.backbone.is_frozen() && cfg.neighbor_k > 0 {
                pick(ui, "nfeat", "neighbours in", &mut cfg.neighbor_features, &[NeighborSpace::Pixels, NeighborSpace::Fused], lower,
                    "Where the CNN's neighbour positives are found: the pixels, or fused: the pixels beside frozen \
                     pretrained features of the same images (neighbours both agree on)");
            }
            num(ui, "batch", &mut cfg.batch, 2..=4096, 1.0,
                "Images per step; each gives two augmented views, so the contrastive losses see 2·batch");
            log_num(ui, "lr", &mut cfg.lr, 1e-6..=1e-1, "Adam learning rate of stage 1");
            num(ui, "warm-up epochs", &mut cfg.warmup_epochs, 0..=10000, 1.0,
                "Contrastive-only epochs (instance + cluster loss, no reconstruction) before stage 1 proper");
            num(ui, "epochs", &mut cfg.epochs, 1..=10000, 1.0,
                "Stage-1 epochs of L_CIS + L_CCS + L_re (the default preset fits this to the data size)");
            log_num(ui, "τ_I", &mut cfg.tau_i, 0.01..=10.0,
                "Temperature of the instance-level contrastive loss (ISM, NT-Xent over projected features)");
            log_num(ui, "τ_C", &mut cfg.tau_c, 0.01..=10.0,
                "Temperature of the cluster-level contrastive loss (JC-SLIM, over cluster columns)");
        });
    });
        egui::CollapsingHeader::new("Stage 2 · multi-scale GCN").default_open(true).show(ui, |ui| {
        egui::Grid::new("s2").num_columns(2).striped(true).show(ui, |ui| {
            unit(ui, "σ", &mut cfg.sigma,
                "Fusion weight of a GCN stream's own previous layer");
            unit(ui, "γ", &mut cfg.gamma,
                "Fusion weight of the other stream's previous layer (the cross-scale exchange)");
            unit(ui, "AE weight", &mut cfg.ae_weight,
                "Fusion weight of the auto-encoder's hidden layer (the paper: 1 − σ − γ)");
            log_num(ui, "α", &mut cfg.alpha, 1e-4..=10.0, "Weight of KL(P||Q): the AE's Student-t assignment");
            log_num(ui, "β", &mut cfg.beta, 1e-4..=10.0, "Weight of KL(P||G_a): the small-scale (k_a) GCN stream");
            log_num(ui, "η", &mut cfg.eta, 1e-4..=10.0, "Weight of KL(P||G_b): the large-scale (k_b) GCN stream");
            num(ui, "k_a", &mut cfg.k_a, 1..=200, 0.1,
                "Neighbours per item in the small-scale graph (the paper: 1)");
            num(ui, "k_b", &mut cfg.k_b, 1..=200, 0.1,
                "Neighbours per item in the large-scale graph (the paper: 10–15)");
            num(ui, "iterations", &mut cfg.iterations, 1..=100000, 1.0,
                "Stage-2 iterations: one forward and one Adam step each, on the whole graph or on one mini-batch");
            num(ui, "whole graph up to", &mut cfg.full_graph_up_to, 0..=10_000_000, 100.0,
                "Up to this many images stage 2 runs on the whole graph each iteration; above, on mini-batches of nodes with the subgraph between them (bounded time and memory per iteration)");
            num(ui, "mini-batch nodes", &mut cfg.stage2_batch, 8..=1_000_000, 10.0,
                "Nodes per stage-2 mini-batch, made of random parts of the k_b graph");
            num(ui, "part nodes", &mut cfg.stage2_part, 1..=100_000, 0.1,
                "Nodes per part (a breadth-first ball of the k_b graph): small parts mix more of the data into each batch, large ones keep more edges");
            num(ui, "refresh P every", &mut cfg.target_every, 0..=100_000, 0.1,
                "Mini-batches: iterations between recomputing the target P over all images (0 = once per pass over the images)");
            log_num(ui, "stage-2 lr", &mut cfg.stage2_lr, 1e-6..=1e-1,
                "Adam learning rate of the AE and the cluster centres in stage 2");
            log_num(ui, "GCN lr", &mut cfg.gcn_lr, 1e-6..=1.0,
                "Learning rate of the GCN weights (0 would mean the stage-2 lr)");
            pick(ui, "norm", "normalisation", &mut cfg.normalization, &[Normalization::Row, Normalization::Symmetric], lower,
                "Row D^-1 A (reference code) or symmetric D^-1/2 A D^-1/2 (paper)");
            pick(ui, "head", "final head", &mut cfg.head, &[Head::StreamA, Head::StreamB, Head::Q], |h| h.name(),
                "Which distribution gives each item's cluster at the end");
            pick(ui, "gfeat", "graph features", &mut cfg.graph_features, &[
                        FeatureSpace::Backbone,
                        FeatureSpace::Pixels,
                        FeatureSpace::Fused,
                        FeatureSpace::Auto,
                    ], lower,
                "Where stage 2 builds its k-NN graphs: the learned backbone features, raw pixels, \
                 or fused: the learned features beside frozen pretrained ones; auto: fused where the \
                 learned features miss structure the pretrained ones hold");
            pick(ui, "centre_init", "starting partition", &mut cfg.centre_init, &[CentreInit::Kmeans, CentreInit::Spectral, CentreInit::Auto], lower,
                "Where the stage-2 centres start: K-means on the AE embedding (the paper), the spectral partition of the k_b graph, \
                 or auto: whichever of the two has the higher modularity on the k_b graph (no labels needed)");
            unit(ui, "hold the partition", &mut cfg.partition_targets,
                "λ: stage 2's target is (1 − λ)·P + λ·(the starting partition); 0 = the paper's sharpened P alone. \
                 Keeps a partition the graph found better than the AE's K-means");
        });
        let mut separate = !cfg.share_gcn_weights;
        flag(ui, "separate weights per stream", &mut separate,
            "Each GCN stream gets its own weights (the paper); off: both streams share them (reference)");
        cfg.share_gcn_weights = !separate;
    });
        egui::CollapsingHeader::new("Ablations (paper Tables 4–6)").show(ui, |ui| {
            flag(
                ui,
                "no instance loss",
                &mut cfg.no_instance_loss,
                "Drop L_CIS (ISM) from stage 1",
            );
            flag(
                ui,
                "no cluster loss",
                &mut cfg.no_cluster_loss,
                "Drop L_CCS (JC-SLIM's cluster contrast) from stage 1",
            );
            flag(
                ui,
                "no GCN",
                &mut cfg.no_gcn,
                "Stage 2 with the AE and Q only, no GCN streams",
            );
            flag(
                ui,
                "single scale",
                &mut cfg.single_scale,
                "One graph (k_a) for both streams instead of two scales",
            );
        });
        match cfg.validate(items.max(1)) {
            Err(e) if items > 0 => {
                ui.colored_label(
                    egui::Color32::from_rgb(190, 30, 30),
                    format!("Invalid: {e:#}"),
                );
            }
            _ => {}
        }
        if view.training() && *cfg != view.session.config {
            ui.colored_label(
                egui::Color32::from_rgb(170, 110, 0),
                "Changes apply to the next run; the current run keeps its settings.",
            );
        }
        if ui
            .button("Reset to preset")
            .on_hover_text("Put back the preset's values for this dataset")
            .clicked()
        {
            preset = Some(cfg.preset);
        }
        view.settings_changed(settings, out);
        out.extend(preset.map(Action::ApplyPreset));
    }

    /// "Suggest K" under its own header; the sweep runs on the run's learned features when the
    /// run on screen is of the picked data, else on the data itself.
    fn suggest_k(
        &mut self,
        ui: &mut egui::Ui,
        view: &View,
        settings: &mut crate::ui::Settings,
        out: &mut Vec<Action>,
    ) {
        let reveal = self.suggest_k.take_reveal();
        let action = egui::CollapsingHeader::new("Suggest K (no labels needed)")
            .open(reveal.then_some(true))
            .show(ui, |ui| self.suggest_k.ui(ui, view.dataset.is_some()))
            .body_returned
            .flatten();
        match action {
            Some(SuggestAction::UseK(k)) => settings.config.clusters = k,
            Some(SuggestAction::Start) => out.push(Action::SuggestK),
            None => {}
        }
    }
}
