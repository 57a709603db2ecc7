//! One training run from start (or checkpoint) to results: stage 1, features and graphs,
//! stage 2, with pause/cancel between steps, events for every front end, atomic checkpoints,
//! and a clean stop on a non-finite loss.
use super::adam::Adam;
use super::checkpoint;
use super::inputs::{extract_features, partners, positives, stage2_input};
use super::results;
use super::stage1::Stage1;
use super::stage2::Stage2;
use super::stage2_graphs::Stage2Graphs;
use super::step_clock::StepClock;
pub use super::trainer::Stop;
use super::trainer::{LossReadback, Res, Stage1Meta, Stage2Meta, Trainer, save_checkpoint};
use super::{answer, frozen, scan, step_seed};
use crate::config::{CentreInit, FeatureSpace, FinalAnswer, Head, StartHead};
use crate::graph::{self, Adjacency};
use crate::messages::{Command, Event, Job, LossPoint, RunResult, Stage};
use crate::metrics::label_free::{LabelFree, LabelFreeInput};
use crate::model::efficientnet;
use crate::progress::Progress;
use crate::runtime::device_name;
use anyhow::{Context, anyhow};
use crossbeam_channel::Receiver;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use tch::{Device, Kind, Tensor};
/// Runs `job`, reading commands from `rx` between steps and reporting through `emit`.
pub fn run(job: &Job, rx: &Receiver<Command>, emit: &dyn Fn(Event)) -> Res<RunResult> {
    let cfg = &job.config;
    let ds = &job.dataset;
    cfg.validate(ds.len()).context("invalid configuration")?;
    if let Some(from) = &job.correct_from {
        // Contradictions are named before anything is written or trained.
        from.corrections.validate(&ds.items, cfg.clusters)?;
    }
    // One training process per run folder, held until this run returns.
    let _lock = crate::runlock::RunLock::acquire(&job.run_dir)?;
    if let Some(from) = &job.correct_from {
        return super::retrain::run(job, from, rx, emit);
    }
    let device = cfg.device.resolve()?;
    let started = Instant::now();
    std::fs::create_dir_all(&job.run_dir)
        .with_context(|| format!("cannot create run folder {}", job.run_dir.display()))?;
    crate::atomic::write(&job.run_dir.join("config.toml"), cfg.to_toml().as_bytes())?;
    let ck1 = checkpoint::path(&job.run_dir, "stage1");
    let ck2 = checkpoint::path(&job.run_dir, "stage2");
    let mut t = Trainer::new(job, cfg, rx, emit);
    let resumed_from = job
        .resume
        .then(|| checkpoint::existing(&ck1))
        .flatten()
        .map(|f| f.display().to_string());
    if job.resume && resumed_from.is_none() {
        return Err(Stop::Failed(anyhow!(
            "nothing to resume in {}: no stage-1 checkpoint",
            job.run_dir.display()
        )));
    }
    emit(Event::Started {
        device: device_name(device),
        run_dir: job.run_dir.clone(),
        items: ds.len(),
        resumed_from,
    });

    tch::manual_seed(cfg.seed as i64);
    let n = ds.len() as i64;
    let images = ds.to_u8_tensor(device);

    // ---- Frozen backbone: cached features of the augmented views ----
    let frozen = if cfg.backbone.is_frozen() {
        Some(extract_features(&mut t, &images, device)?)
    } else {
        None
    };

    // ---- Stage 1 ----
    // Seeded again after the extraction's own draws, so weights start the same whether the
    // features came from the cache or were computed just now.
    tch::manual_seed(cfg.seed as i64);
    let frozen_dim = match &frozen {
        Some(_) if cfg.finetune_blocks > 0 => Some(efficientnet::tap_dim(cfg.backbone_tap)),
        Some(f) => Some(f.test.size()[1] as usize),
        None => None,
    };
    let mut s1 = Stage1::new(
        cfg,
        ds.channels,
        ds.height.max(ds.width),
        frozen_dim,
        device,
    )?;
    if cfg.finetune_blocks > 0 {
        let net = efficientnet::EfficientNetLite0::load(&efficientnet::default_weights(), device)?;
        s1.attach_tail(&net, frozen::first_tuned(cfg) - 1, cfg.backbone_tap);
    }
    let mut adam1 = Adam::new(&s1.vs, cfg.lr);
    adam1.set_lr_for("tail.", cfg.finetune_lr);
    let mut epochs_done = 0;
    if job.resume {
        let (saved, meta): (_, Stage1Meta) = checkpoint::load(&ck1, device)?;
        checkpoint::restore_vars(&s1.vs, &saved, "model.")?;
        adam1.load_state(&saved, "adam.")?;
        epochs_done = meta.epochs_done;
        for (e, s, g, terms) in meta.losses {
            t.losses.push(LossPoint {
                stage: Stage::One,
                epoch: e,
                step: s,
                global_step: g,
                terms,
            });
        }
        t.last_checkpoint = Some(ck1.clone());
    }
    let cache = job.feature_cache.as_deref();
    let (positives, pretrained) = positives(cfg, &s1, frozen.as_ref(), ds, &images, cache)?;
    let total_epochs = cfg.warmup_epochs + cfg.epochs;
    let steps = ds.len() / cfg.batch;
    emit(Event::StageChanged {
        stage: Stage::One,
        total_steps: total_epochs * steps,
    });
    let stage_start = Instant::now();
    let done_at_start = epochs_done * steps;
    let mut clock = StepClock::new();
    let mut readback = LossReadback::new();
    // Evaluations and checkpoints come after the first and last epoch, and in between once
    // the training since the last one took 19 times what that one cost, so they take at most
    // 5 % of stage 1: a pass over every image costs about a sixth of an epoch, 9 % of stage 1
    // on digits and 14 % on MNIST-test when it came after every epoch. Neither changes the
    // training (its draws are seeded per step), so results do not depend on when they come.
    let mut last_eval = (Instant::now(), std::time::Duration::ZERO);
    for epoch in epochs_done + 1..=total_epochs {
        let mut order: Vec<i64> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            cfg.seed ^ (epoch as u64) << 32,
        ));
        let warmup = epoch <= cfg.warmup_epochs;
        for step in 1..=steps {
            t.poll()?;
            clock.restart();
            tch::manual_seed(step_seed(cfg.seed, 1, epoch, step));
            let idx = Tensor::from_slice(&order[(step - 1) * cfg.batch..step * cfg.batch])
                .to_device(device);
            let partner = partners(positives.as_ref(), &idx);
            let loss = match &frozen {
                Some(f) => {
                    let (mut h_a, mut h_b) = f.view_pair(&idx, &partner);
                    clock.lap("batch");
                    if s1.tail.is_some() {
                        (h_a, h_b) = (s1.tail_features(&h_a), s1.tail_features(&h_b));
                        clock.lap("backbone forward");
                    }
                    s1.step_loss(&h_a, &h_b, cfg, warmup)
                }
                None => {
                    let float = |i: &Tensor| images.index_select(0, i).to_kind(Kind::Float) / 255.0;
                    let (a, b) = (float(&idx), float(&partner));
                    clock.lap("batch");
                    let (va, vb) = s1.views(&a, &b, cfg);
                    clock.lap("augment");
                    let (h_a, h_b) = s1.encode(&va, &vb);
                    clock.lap("backbone forward");
                    s1.step_loss(&h_a, &h_b, cfg, warmup)
                }
            };
            clock.lap("heads and losses");
            adam1.zero_grad();
            loss.total.backward();
            clock.lap("backward");
            adam1.step();
            clock.lap("optimizer");
            let global = (epoch - 1) * steps + step;
            readback.push(&loss, epoch, step, global);
            if readback.due(step == steps) {
                readback.flush(&mut t)?;
            }
            t.progress(
                Stage::One,
                global,
                total_epochs * steps,
                stage_start,
                done_at_start,
            );
            clock.lap("read-back and events");
            clock.step_done();
        }
        if !(epoch == 1 || epoch == total_epochs || last_eval.0.elapsed() >= 19 * last_eval.1) {
            continue;
        }
        clock.restart();
        let eval_started = Instant::now();
        let feats = stage2_input(&s1, frozen.as_ref(), &images);
        let (assign, conf) = s1.assign(&feats);
        t.score(Stage::One, epoch * steps, "ae", &assign);
        t.judge(
            Stage::One,
            epoch * steps,
            &LabelFreeInput {
                features: &feats,
                clusters: &assign,
                confidence: &conf,
                k: cfg.clusters,
                graphs: None,
                heads: None,
                seed: cfg.seed,
            },
        );
        emit(Event::Assignments {
            stage: Stage::One,
            clusters: assign,
            confidence: conf,
        });
        let meta = Stage1Meta {
            epochs_done: epoch,
            losses: t
                .stage_losses(Stage::One)
                .map(|l| (l.epoch, l.step, l.global_step, l.terms))
                .collect(),
        };
        clock.lap("epoch evaluation");
        save_checkpoint(&ck1, &s1.vs, &adam1, &meta)?;
        t.last_checkpoint = Some(ck1.clone());
        results::write_losses(&job.run_dir.join("losses.csv"), &t.losses)?;
        clock.lap("checkpoint");
        last_eval = (Instant::now(), eval_started.elapsed());
    }

    let stage1_steps = (clock.steps > 0).then(|| clock.breakdown());
    if let (Device::Cpu, Some(b)) = (device, &stage1_steps) {
        // On a GPU unsynchronised laps time launches, not work: reported on a CPU only.
        emit(Event::Info(format!("stage-1 step: {}", b.describe())));
    }

    // ---- The SCAN head on the frozen features: stage 2's starting partition ----
    // Frozen path only: on the CNN path's learned features it was measured far below the
    // other heads (MNIST-test 0.478 against stream b 0.746, docs/BENCHMARKS.md).
    let scan_head = match &frozen {
        Some(f) if cfg.start_head == StartHead::Scan && cfg.finetune_blocks == 0 => {
            let started = Instant::now();
            let h = scan::train(&f.views, &f.test, cfg, |_, _| t.poll())?;
            emit(Event::Info(format!(
                "SCAN head on the frozen features: head {} of {} kept (SCAN losses {}), {} \
                 images above the self-labelling threshold, {:.1} s",
                h.kept + 1,
                h.head_losses.len(),
                h.head_losses
                    .iter()
                    .map(|l| format!("{l:.3}"))
                    .collect::<Vec<_>>()
                    .join(" / "),
                h.confident,
                started.elapsed().as_secs_f64()
            )));
            Some(h)
        }
        _ => None,
    };
    let scan_clusters = scan_head
        .as_ref()
        .map(|h| super::argmax_confidence(&h.probs));

    // ---- Features and graphs ----
    emit(Event::StageChanged {
        stage: Stage::Graphs,
        total_steps: 2,
    });
    t.poll()?;
    let x = stage2_input(&s1, frozen.as_ref(), &images);
    let graph_x = match cfg.graph_features {
        FeatureSpace::Backbone => x.shallow_clone(),
        FeatureSpace::Pixels => images.view([n, -1]).to_kind(Kind::Float) / 255.0,
        FeatureSpace::Fused => match &pretrained {
            Some(p) => super::graph_space::fuse(&x, p),
            None => super::graph_space::fused(&x, ds, &images, device, cache)?,
        },
        FeatureSpace::Auto => {
            let (check, gx) = super::graph_space::choose(
                &x,
                ds,
                &images,
                cache,
                cfg.clusters,
                cfg.seed,
                super::graph_space::fuse_below(cfg),
                pretrained.as_ref(),
                device,
            )?;
            emit(Event::Info(check.line()));
            gx
        }
    };
    let knn_a = graph::knn(&graph_x, cfg.k_a, &Progress::none())?;
    let knn_b = if cfg.single_scale {
        knn_a.clone()
    } else {
        graph::knn(&graph_x, cfg.k_b, &Progress::none())?
    };
    let labels = ds.labels.as_deref();
    let adj_a = Adjacency::from_knn(&knn_a, cfg.normalization);
    let adj_b = Adjacency::from_knn(&knn_b, cfg.normalization);
    let graphs = [
        ("a", graph::graph_stats(&knn_a, &adj_a, labels)),
        ("b", graph::graph_stats(&knn_b, &adj_b, labels)),
    ];
    crate::rundir::write_graphs(&job.run_dir, &graphs)?;
    crate::rundir::write_neighbours(&job.run_dir, &knn_a, &knn_b)?;
    emit(Event::Neighbours {
        a: std::sync::Arc::new(knn_a.clone()),
        b: std::sync::Arc::new(knn_b.clone()),
    });
    for (scale, stats) in graphs {
        emit(Event::Graph { scale, stats });
    }
    let features: Vec<f32> =
        Vec::try_from(&x.to_device(Device::Cpu).view([-1])).map_err(anyhow::Error::from)?;
    let feature_dim = x.size()[1] as usize;
    crate::export::npy::write_f32(
        &job.run_dir.join("features.npy"),
        &features,
        ds.len(),
        feature_dim,
    )?;
    emit(Event::Features {
        features: features.clone(),
        dim: feature_dim,
    });
    let mut graphs2 = Stage2Graphs::new(cfg, (&knn_a, &knn_b), (&adj_a, &adj_b), device);
    let (graph_a, graph_b) = (adj_a, adj_b);
    emit(Event::Info(graphs2.describe(ds.len())));

    // ---- Stage 2 ----
    tch::manual_seed(cfg.seed as i64 + 1);
    let s2 = Stage2::new(cfg, x.size()[0] as usize, x.size()[1] as usize, device);
    let mut adam2 = Adam::new(&s2.vs, cfg.stage2_lr);
    if cfg.gcn_lr > 0.0 {
        adam2.set_lr_for("gcn.", cfg.gcn_lr);
    }
    let mut iterations_done = 0;
    if job.resume && checkpoint::exists(&ck2) {
        let (saved, meta): (_, Stage2Meta) = checkpoint::load(&ck2, device)?;
        checkpoint::restore_vars(&s2.vs, &saved, "model.")?;
        adam2.load_state(&saved, "adam.")?;
        iterations_done = meta.iterations_done;
        for (it, terms) in meta.losses {
            t.losses.push(LossPoint {
                stage: Stage::Two,
                epoch: 0,
                step: it,
                global_step: it,
                terms,
            });
        }
        t.last_checkpoint = Some(ck2.clone());
    } else {
        s2.load_ae(&s1.vs)?;
        // The starting partition comes from the k_b neighbourhoods even when the single-scale
        // ablation feeds both streams the k_a graph: at k_a = 1 the graph is fragments, and its
        // partition would measure the partition step rather than the second GCN scale.
        let partition_graph = if cfg.single_scale && cfg.centre_init != CentreInit::Kmeans {
            let knn = graph::knn(&graph_x, cfg.k_b, &Progress::none())?;
            Adjacency::from_knn(&knn, cfg.normalization)
        } else {
            graph_b.clone()
        };
        let start = scan_clusters.as_ref().map(|(c, _)| &c[..]);
        let note = s2.init_centres(&x, cfg, &partition_graph, start)?;
        emit(Event::Info(note));
    }
    emit(Event::StageChanged {
        stage: Stage::Two,
        total_steps: cfg.iterations,
    });
    let stage_start = Instant::now();
    let mut clock = StepClock::new();
    for it in iterations_done + 1..=cfg.iterations {
        t.poll()?;
        clock.restart();
        let (loss, terms, heads) = graphs2.step(&s2, &x, cfg, it);
        clock.lap("forward");
        t.check_finite(&terms, format!("stage 2, iteration {it}"))?;
        if it % cfg.eval_every == 0 || it == 1 || it == cfg.iterations {
            // Scores of the forward pass before this update, as the reference logs them (on
            // mini-batches, a pass over every node before the update).
            let heads = heads.unwrap_or_else(|| graphs2.heads(&s2, &x, cfg));
            let _guard = tch::no_grad_guard();
            let mut per_head = vec![];
            for (head, h) in [
                (Head::Q, Some(&heads.log_q)),
                (Head::StreamA, heads.log_a.as_ref()),
                (Head::StreamB, heads.log_b.as_ref()),
            ] {
                if let Some(h) = h {
                    let (a, _) = super::argmax_confidence(h);
                    t.score(Stage::Two, it, head.name(), &a);
                    per_head.push(a);
                }
            }
            let (a, _) = super::argmax_confidence(&heads.chosen(cfg.head).exp());
            let c = crate::metrics::confidence(&x, &a, cfg.clusters, &knn_b);
            t.judge(
                Stage::Two,
                it,
                &LabelFreeInput {
                    features: &x,
                    clusters: &a,
                    confidence: &c,
                    k: cfg.clusters,
                    graphs: Some((&graph_a, &graph_b)),
                    heads: (per_head.len() == 3)
                        .then(|| [&per_head[0][..], &per_head[1][..], &per_head[2][..]]),
                    seed: cfg.seed,
                },
            );
            emit(Event::Assignments {
                stage: Stage::Two,
                clusters: a,
                confidence: c,
            });
            clock.lap("evaluation");
        }
        adam2.zero_grad();
        loss.backward();
        clock.lap("backward");
        adam2.step();
        clock.lap("optimizer");
        t.record(LossPoint {
            stage: Stage::Two,
            epoch: 0,
            step: it,
            global_step: it,
            terms,
        });
        t.progress(Stage::Two, it, cfg.iterations, stage_start, iterations_done);
        if it % cfg.checkpoint_every == 0 || it == cfg.iterations {
            let meta = Stage2Meta {
                iterations_done: it,
                losses: t
                    .stage_losses(Stage::Two)
                    .map(|l| (l.step, l.terms))
                    .collect(),
            };
            save_checkpoint(&ck2, &s2.vs, &adam2, &meta)?;
            t.last_checkpoint = Some(ck2.clone());
            results::write_losses(&job.run_dir.join("losses.csv"), &t.losses)?;
        }
        clock.lap("events and checkpoints");
        clock.step_done();
    }
    let stage2_steps = (clock.steps > 0).then(|| clock.breakdown());
    if let (Device::Cpu, Some(b)) = (device, &stage2_steps) {
        emit(Event::Info(format!("stage-2 iteration: {}", b.describe())));
    }

    // ---- Final assignment ----
    let heads = graphs2.heads(&s2, &x, cfg);
    let mut candidates = vec![];
    let stage1 = s1.assign(&x);
    candidates.push(answer::Candidate {
        name: "stage-1".into(),
        clusters: stage1.0,
        confidence: stage1.1,
        refined: None,
    });
    if let Some((c, p)) = scan_clusters {
        candidates.push(answer::Candidate {
            name: "scan".into(),
            clusters: c,
            confidence: p,
            refined: None,
        });
    }
    for (head, h) in [
        (Head::Q, Some(&heads.log_q)),
        (Head::StreamA, heads.log_a.as_ref()),
        (Head::StreamB, heads.log_b.as_ref()),
    ] {
        if let Some(h) = h {
            let (c, p) = super::argmax_confidence(&h.exp());
            candidates.push(answer::Candidate {
                name: head.name().into(),
                clusters: c,
                confidence: p,
                refined: None,
            });
        }
    }
    if cfg.final_answer == FinalAnswer::Auto {
        let km = crate::cluster::kmeans(
            &x,
            &crate::cluster::KMeansConfig {
                n_init: cfg.kmeans_restarts,
                ..crate::cluster::KMeansConfig::new(cfg.clusters, cfg.seed)
            },
            &Progress::none(),
        )?;
        candidates.push(answer::Candidate {
            name: "kmeans".into(),
            clusters: km.labels,
            confidence: km.confidence,
            refined: None,
        });
    }
    if cfg.final_answer == FinalAnswer::Auto && cfg.refine_answer {
        for note in answer::refine(
            &mut candidates,
            &graph_b,
            cfg.clusters,
            cfg.seed,
            cfg.answer_min_modularity,
        ) {
            emit(Event::Info(note));
        }
    }
    // One confidence for every candidate, read off the clusters it ends with (a refined
    // candidate's probabilities belong to clusters it merged away).
    for c in &mut candidates {
        c.confidence = crate::metrics::confidence(&x, &c.clusters, cfg.clusters, &knn_b);
    }
    let configured = (if cfg.no_gcn { Head::Q } else { cfg.head }).name();
    let (chosen, final_answer) = answer::choose(
        &candidates,
        &x,
        (&graph_a, &graph_b),
        cfg.clusters,
        cfg.seed,
        ds.labels.as_deref().map(|l| (l, ds.num_classes())),
        match cfg.final_answer {
            FinalAnswer::Head => answer::How::Head(configured),
            FinalAnswer::Auto => answer::How::Auto {
                min_strength: cfg.answer_min_modularity,
            },
        },
    );
    let (mut chosen, mut final_answer) = (chosen, final_answer);
    if cfg.final_answer == FinalAnswer::Auto && cfg.smooth_answer {
        // The smoothed answer is a candidate of its own beside the one it came from, so the
        // app can show either and the record keeps what the rule chose (and K-means, the floor).
        let mut s = candidates[chosen].clone();
        if answer::smooth(&mut s, &knn_b, &x, cfg.clusters) > 0 {
            s.name = format!("{}-smoothed", s.name);
            let (_, again) = answer::choose(
                std::slice::from_ref(&s),
                &x,
                (&graph_a, &graph_b),
                cfg.clusters,
                cfg.seed,
                ds.labels.as_deref().map(|l| (l, ds.num_classes())),
                answer::How::Head(&s.name),
            );
            let agreement = final_answer
                .candidates
                .iter()
                .find(|j| j.name == final_answer.chosen)
                .map_or(0.0, |j| j.agreement);
            if let Some(j) = again.candidates.into_iter().next() {
                final_answer.candidates.push(answer::Judged {
                    agreement,
                    refined: s.refined.clone(),
                    ..j
                });
            }
            let note = s.refined.as_deref().unwrap_or_default();
            final_answer.why = format!(
                "{}; then {}",
                final_answer.why,
                note.rsplit("; ").next().unwrap_or_default()
            );
            final_answer.chosen = s.name.clone();
            candidates.push(s);
            chosen = candidates.len() - 1;
        }
    }
    emit(Event::Info(format!("final answer: {}", final_answer.why)));
    let clusters = candidates[chosen].clusters.clone();
    let confidence = candidates[chosen].confidence.clone();
    let head_clusters: Vec<Vec<i64>> = [
        Some(&heads.log_q),
        heads.log_a.as_ref(),
        heads.log_b.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|h| super::argmax_confidence(h).0)
    .collect();
    let label_free = LabelFree::new(&LabelFreeInput {
        features: &x,
        clusters: &clusters,
        confidence: &confidence,
        k: cfg.clusters,
        graphs: Some((&graph_a, &graph_b)),
        heads: (head_clusters.len() == 3).then(|| {
            [
                &head_clusters[0][..],
                &head_clusters[1][..],
                &head_clusters[2][..],
            ]
        }),
        seed: cfg.seed,
    });
    let saved_candidates = answer::SavedCandidates::new(&candidates);
    saved_candidates.write(&job.run_dir)?;
    results::Outcome {
        dir: &job.run_dir,
        ds,
        cfg,
        device,
        started,
        losses: &t.losses,
        metrics: &t.metrics,
        label_free_history: &t.label_free,
        clusters,
        confidence,
        label_free,
        final_answer,
        notes: Default::default(),
        features,
        feature_dim,
        candidates: Some(saved_candidates),
        stage1_steps,
        stage2_steps,
    }
    .finish()
    .map_err(Into::into)
}
