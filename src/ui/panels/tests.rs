//! Panels in isolation: each draws from a read-only `View` and only pushes actions; nothing in
//! the view changes until the shell applies them.
use crate::config::{Config, Preset};
use crate::data::{LoadOptions, Registry, load_entry};
use crate::progress::Progress;
use crate::ui::action::Action;
use crate::ui::nav::{Selection, Tab};
use crate::ui::session::{Analysis, Session};
use crate::ui::settings::Settings;
use crate::ui::thumbs::Thumbs;
use crate::ui::view::View;
use egui_kittest::{Harness, kittest::Queryable as _};
use std::sync::Arc;

/// 200 digits, clustered by their labels except image 0, which sits in class 1's cluster.
struct Fixture {
    settings: Settings,
    registry: Result<Registry, String>,
    ds: Arc<crate::data::Dataset>,
    session: Session,
}

fn fixture() -> Fixture {
    let registry = Registry::builtin().unwrap();
    let mut ds = load_entry(
        registry.get("digits").unwrap(),
        &LoadOptions::default(),
        &Progress::none(),
    )
    .unwrap();
    ds.truncate(200);
    let mut clusters: Vec<i64> = ds.labels.clone().unwrap();
    clusters[0] = (clusters[0] + 1) % 10;
    let confidence = vec![0.9f32; ds.len()];
    let mut session = Session::new(Config::preset(Preset::Default, 10));
    session.analysis = Some(Analysis::new(&ds, 10, &clusters, &confidence));
    session.clusters = clusters;
    session.confidence = confidence;
    Fixture {
        settings: Settings::default(),
        registry: Ok(registry),
        ds: Arc::new(ds),
        session,
    }
}

impl Fixture {
    /// The same images as a folder without class subfolders.
    fn forget_labels(&mut self) {
        let mut ds = (*self.ds).clone();
        ds.labels = None;
        self.ds = Arc::new(ds);
    }

    /// New assignments on screen, analysed as the session would.
    fn assign(&mut self, clusters: Vec<i64>, confidence: Vec<f32>) {
        self.session.analysis = Some(Analysis::new(&self.ds, 10, &clusters, &confidence));
        self.session.clusters = clusters;
        self.session.confidence = confidence;
    }

    fn view(&self) -> View<'_> {
        View {
            settings: &self.settings,
            registry: &self.registry,
            cuda: false,
            dataset: Some(&self.ds),
            run_dataset: Some(&self.ds),
            session: &self.session,
            loading: None,
            data_error: None,
            selection: None,
            focus: None,
            notice: None,
            default_choices: &[],
            train_blocker: None,
        }
    }
}

#[test]
fn the_training_bar_asks_for_a_run_and_changes_nothing_itself() {
    let f = fixture();
    let mut bar = super::training::TrainingBar;
    let mut out = vec![];
    let mut h = Harness::new_ui(|ui| bar.ui(ui, &f.view(), &mut out));
    h.get_by_label("Train").click();
    h.run();
    drop(h);
    assert_eq!(out, vec![Action::Train]);
}

#[test]
fn editing_k_returns_edited_settings_and_leaves_the_view_alone() {
    let f = fixture();
    let mut params = super::params::ParamsPanel::default();
    let mut out = vec![];
    let mut h = Harness::new_ui(|ui| {
        egui::ScrollArea::vertical().show(ui, |ui| params.ui(ui, &f.view(), &mut out));
    });
    h.get_by_label("K (clusters)").focus();
    h.get_by_label("K (clusters)").type_text("2");
    h.run();
    drop(h);
    assert_eq!(f.settings.config.clusters, 10, "the view is read-only");
    let Some(Action::Settings(s)) = out.last() else {
        panic!("no settings action: {out:?}");
    };
    assert_ne!(s.config.clusters, 10, "{out:?}");
}

#[test]
fn a_gallery_click_focuses_the_image_and_opens_its_neighbours() {
    let f = fixture();
    let mut gallery = super::gallery::GalleryPanel::default();
    let (mut out, mut thumbs) = (vec![], Thumbs::default());
    // Cluster 1 holds image 0, a false positive of class 1's cluster.
    gallery.show_cluster(f.session.clusters[0] as usize);
    gallery.kind = crate::ui::CaseKind::FalsePositive;
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| gallery.ui(ui, &f.view(), &mut thumbs, &mut out));
    h.run();
    h.get_by_label(&format!("image {}", f.ds.items[0])).click();
    h.run();
    drop(h);
    assert_eq!(
        out,
        vec![Action::Focus(0), Action::ShowTab(Tab::Neighbours)]
    );
    // A click is not a drag: the band under the thumbnails picks nothing.
    assert!(gallery.picked.is_empty(), "{:?}", gallery.picked);
}

#[test]
fn a_selection_is_the_shells_the_gallery_only_asks_to_clear_it() {
    let f = fixture();
    let out = gallery_on_selection(&f, "two images", vec![3, 4], |h| {
        h.get_by_label("Selection: two images");
        h.get_by_label("clear selection").click();
        h.run();
    });
    assert_eq!(out, vec![Action::ClearSelection]);
}

/// The gallery showing a selection of `items`, driven by `drive`; what it asked for.
fn gallery_on_selection(
    f: &Fixture,
    title: &str,
    items: Vec<usize>,
    drive: impl FnOnce(&mut Harness<'_>),
) -> Vec<Action> {
    let sel = Selection {
        title: title.into(),
        items,
    };
    let mut gallery = super::gallery::GalleryPanel::default();
    let (mut out, mut thumbs) = (vec![], Thumbs::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| {
            let view = View {
                selection: Some(&sel),
                ..f.view()
            };
            gallery.ui(ui, &view, &mut thumbs, &mut out)
        });
    drive(&mut h);
    drop(h);
    out
}

#[test]
fn the_gallery_opens_on_the_largest_cluster_and_marks_empty_ones() {
    let mut f = fixture();
    // Every 0 joins the 1s: cluster 0 is empty, cluster 1 the largest.
    let clusters: Vec<i64> = f.session.clusters.iter().map(|&c| c.max(1)).collect();
    f.assign(clusters, f.session.confidence.clone());
    let mut gallery = super::gallery::GalleryPanel::default();
    let (mut out, mut thumbs) = (vec![], Thumbs::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| gallery.ui(ui, &f.view(), &mut thumbs, &mut out));
    h.run();
    h.get_by_label_contains("Cluster 1 is matched to class");
    h.get_by_label_contains("1 of the 10 clusters are empty");
    h.get_by_label("0 · empty");
    drop(h);
    assert_eq!(gallery.cluster, None, "still following the largest");
}

#[test]
fn the_gallery_turns_to_least_sure_first_and_lists_every_uncertain_image() {
    let mut f = fixture();
    let mut confidence = f.session.confidence.clone();
    for (i, p) in [(3, 0.1), (7, 0.3), (11, 0.2)] {
        confidence[i] = p;
    }
    f.assign(f.session.clusters.clone(), confidence);
    let mut gallery = super::gallery::GalleryPanel::default();
    let (mut out, mut thumbs) = (vec![], Thumbs::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| gallery.ui(ui, &f.view(), &mut thumbs, &mut out));
    h.run();
    h.get_by_label_contains("Most confident first.");
    h.get_by_label("least sure first").click();
    h.run();
    h.get_by_label_contains("Least sure first.");
    h.get_by_label("All 3 uncertain images").click();
    h.run();
    drop(h);
    assert!(gallery.least_sure_first);
    assert_eq!(
        out,
        vec![Action::Select(
            Selection {
                title: "the 3 uncertain images, least sure first".into(),
                items: vec![3, 11, 7],
            },
            None
        )]
    );
}

#[test]
fn the_neighbours_panel_offers_the_cluster_most_neighbours_are_in() {
    use super::neighbours::{NeighboursAction, NeighboursPanel, NeighboursView};
    use crate::graph::Knn;
    use crate::ui::corrections::Edit;
    let mut f = fixture();
    // Image 0 sits in the wrong cluster; its ten graph-b neighbours are its class's images.
    let own = f.ds.labels.as_ref().unwrap()[0];
    let wrong = f.session.clusters[0];
    let same: Vec<i64> = (1..f.ds.len())
        .filter(|&j| f.session.clusters[j] == own)
        .take(10)
        .map(|j| j as i64)
        .collect();
    assert_eq!(same.len(), 10);
    let n = f.ds.len();
    let mut neighbors = vec![0i64; n * 10];
    neighbors[..10].copy_from_slice(&same);
    for i in 1..n {
        for (s, v) in neighbors[i * 10..(i + 1) * 10].iter_mut().enumerate() {
            *v = ((i + s + 1) % n) as i64;
        }
    }
    let knn = Arc::new(Knn {
        n,
        k: 10,
        neighbors,
    });
    f.session.neighbours = Some((knn.clone(), knn));
    let mut panel = NeighboursPanel::default();
    let mut thumbs = Thumbs::default();
    let mut got = None;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 700.0))
        .build_ui(|ui| {
            let view = NeighboursView {
                ds: &f.ds,
                session: &f.session,
                focus: Some(0),
            };
            if let Some(a) = panel.ui(ui, &view, &mut thumbs) {
                got = Some(a);
            }
        });
    h.run();
    h.get_by_label_contains(&format!("10 of its 10 neighbours are in cluster {own}"));
    h.get_by_label("Move it to this cluster").click();
    h.run();
    drop(h);
    assert_ne!(wrong, own);
    match got {
        Some(NeighboursAction::Correct(Edit::MoveTo(items, c))) => {
            assert_eq!((items, c), (vec![0], own as usize));
        }
        _ => panic!("no move"),
    }
}

#[test]
fn without_labels_the_gallery_lists_each_clusters_mean_confidence() {
    let mut f = fixture();
    f.forget_labels();
    // Cluster 3's images at 0.2, the rest at 0.9.
    let confidence: Vec<f32> = f
        .session
        .clusters
        .iter()
        .map(|&c| if c == 3 { 0.2 } else { 0.9 })
        .collect();
    let size3 = f.session.clusters.iter().filter(|&&c| c == 3).count();
    f.assign(f.session.clusters.clone(), confidence);
    let mut gallery = super::gallery::GalleryPanel::default();
    let (mut out, mut thumbs) = (vec![], Thumbs::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| gallery.ui(ui, &f.view(), &mut thumbs, &mut out));
    h.run();
    h.get_by_label("cluster · size · mean confidence");
    h.get_by_label(&format!("cluster 3 · {size3} · 0.20"));
}

#[test]
fn the_graphs_table_says_how_many_edges_stay_inside_the_clusters() {
    use crate::graph::{GraphStats, Knn};
    let mut f = fixture();
    let n = f.ds.len();
    // Each image's two neighbours: one of its own cluster, one of another.
    let clusters = f.session.clusters.clone();
    let mut neighbors = vec![];
    for i in 0..n {
        let same = (1..n)
            .map(|d| (i + d) % n)
            .find(|&j| clusters[j] == clusters[i]);
        let other = (1..n)
            .map(|d| (i + d) % n)
            .find(|&j| clusters[j] != clusters[i]);
        neighbors.extend([same.unwrap() as i64, other.unwrap() as i64]);
    }
    let knn = Arc::new(Knn { n, k: 2, neighbors });
    let stats = GraphStats {
        k: 2,
        nodes: n,
        directed_edges: 2 * n,
        undirected_edges: 2 * n,
        mean_degree: 2.0,
        max_degree: 2,
        purity: None,
    };
    f.session.graphs = vec![("a", stats.clone()), ("b", stats)];
    f.session.neighbours = Some((knn.clone(), knn));
    let mut panel = super::graph::GraphPanel::default();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 500.0))
        .build_ui(|ui| panel.ui(ui, &f.view()));
    h.run();
    h.get_by_label("inside the clusters");
    assert_eq!(h.query_all_by_label("50.0 %").count(), 2);
    assert_eq!(h.query_all_by_label("— (no labels)").count(), 2);
}

#[test]
fn an_unlabelled_run_says_how_sure_it_is_and_shows_the_uncertain_images() {
    let mut f = fixture();
    f.forget_labels();
    let mut confidence = vec![0.9f32; f.ds.len()];
    confidence[5] = 0.3;
    confidence[9] = 0.1;
    f.assign(f.session.clusters.clone(), confidence);
    f.session.status = crate::ui::session::Status::Finished;
    f.session.wall_seconds = Some(12.0);
    let mut bar = super::training::TrainingBar;
    let mut out = vec![];
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 200.0))
        .build_ui(|ui| bar.ui(ui, &f.view(), &mut out));
    h.run();
    h.get_by_label_contains("1 % of images uncertain");
    h.get_by_label("show them").click();
    h.run();
    drop(h);
    assert_eq!(
        out,
        vec![
            Action::Select(
                Selection {
                    title: "the 2 uncertain images, least sure first".into(),
                    items: vec![9, 5],
                },
                None
            ),
            Action::ShowTab(Tab::Gallery),
        ]
    );
}

#[test]
fn the_preview_lists_the_images_it_would_move_and_says_where_to() {
    let mut f = fixture();
    // The person moved image 0 to cluster 4; the preview would move images 5 and 6 there too.
    let names = f.ds.items.clone();
    f.session.corrections.facts.move_to(&[0], 4, &names);
    let mut spread = f.session.clusters.clone();
    spread[0] = 4;
    spread[5] = 4;
    spread[6] = 4;
    f.session.corrections.preview = Some(crate::correct::Preview {
        clusters: spread,
        moved: vec![5, 6],
    });
    let item5 = format!("image {}", f.ds.items[5]);
    let out = gallery_on_selection(&f, "preview", vec![5, 6], |h| {
        h.get_by_label_contains("2 other images would move");
        h.get_by_label("show them").click();
        h.run();
        // Hovering a listed image says where the preview sends it.
        h.get_by_label(&item5).hover();
        h.run();
        h.get_by_label_contains("the preview moves it to cluster 4");
    });
    let listed = out.iter().find_map(|a| match a {
        Action::Select(s, None) => Some(s.items.clone()),
        _ => None,
    });
    assert_eq!(listed, Some(vec![5, 6]));
}
