//! Metrics against values computed independently with scikit-learn / SciPy
//! (tests/fixtures/metrics_fixtures.py prints them).
use icicle_explorer::metrics::{Evaluation, cluster_cases, scores};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

fn check(truth: &[i64], pred: &[i64], k: usize, c: usize, acc: f64, nmi: f64, ari: f64) {
    let s = scores(pred, truth, k, c).unwrap();
    close(s.acc, acc);
    close(s.nmi, nmi);
    close(s.ari, ari);
}

#[test]
fn square_table_matches_sklearn() {
    let truth = [
        3, 2, 2, 3, 2, 3, 3, 0, 0, 1, 1, 3, 3, 0, 1, 3, 0, 3, 0, 1, 3, 1, 1, 1, 2, 1, 3, 1, 1, 2,
        2, 2, 2, 3, 3, 3, 2, 2, 1, 3,
    ];
    let pred = [
        3, 2, 2, 3, 2, 3, 3, 0, 1, 1, 1, 3, 0, 0, 1, 3, 0, 3, 3, 1, 1, 1, 0, 2, 2, 1, 0, 2, 1, 2,
        2, 1, 2, 3, 1, 2, 2, 2, 1, 3,
    ];
    check(
        &truth,
        &pred,
        4,
        4,
        0.725,
        0.43587556052750226,
        0.38445037409093286,
    );
}

#[test]
fn more_clusters_than_classes_matches_sklearn() {
    let truth = [
        1, 0, 2, 0, 2, 1, 0, 0, 1, 0, 0, 1, 2, 1, 2, 2, 2, 1, 1, 1, 0, 1, 1, 0, 2, 0, 0, 0, 2, 2,
    ];
    let pred = [
        3, 3, 2, 2, 2, 2, 4, 0, 1, 2, 0, 4, 0, 1, 1, 2, 2, 1, 1, 1, 3, 1, 1, 0, 3, 0, 1, 0, 2, 3,
    ];
    check(
        &truth,
        &pred,
        5,
        3,
        0.5666666666666667,
        0.25896044330462864,
        0.18691588785046728,
    );
}

#[test]
fn fewer_clusters_than_classes_matches_sklearn() {
    let truth = [
        3, 0, 2, 1, 1, 0, 2, 3, 2, 0, 2, 1, 3, 3, 0, 2, 3, 3, 2, 2, 0, 2, 1, 0, 0, 2, 2, 2, 2, 3,
    ];
    let pred = [
        0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1,
    ];
    check(
        &truth,
        &pred,
        2,
        4,
        0.43333333333333335,
        0.18172566074175875,
        0.09222782104138036,
    );
}

#[test]
fn relabelled_perfect_clustering_scores_one_and_predictions_are_untouched() {
    let truth = [0, 0, 1, 1, 2, 2, 2];
    let pred = [2, 2, 0, 0, 1, 1, 1];
    let before = pred;
    check(&truth, &pred, 3, 3, 1.0, 1.0, 1.0);
    assert_eq!(pred, before);
}

#[test]
fn one_cluster_for_everything() {
    // sklearn: nmi 0.0, ari 0.0; acc = size of the biggest class / n.
    let truth = [0, 0, 0, 1, 1, 2];
    let pred = [0; 6];
    check(&truth, &pred, 1, 3, 0.5, 0.0, 0.0);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(scores(&[0, 1], &[0], 2, 2).is_err(), "length mismatch");
    assert!(
        scores(&[0, 5], &[0, 1], 2, 2).is_err(),
        "cluster id out of range"
    );
    assert!(
        scores(&[0, 1], &[0, -1], 2, 2).is_err(),
        "negative class id"
    );
    assert!(scores(&[], &[], 2, 2).is_err(), "empty");
}

#[test]
fn confusion_is_aligned_by_the_matching() {
    // cluster 2 ↔ class 0, cluster 0 ↔ class 1, cluster 1 ↔ class 2, cluster 3 unmatched.
    let truth = [0, 0, 0, 1, 1, 2, 2, 2, 0];
    let pred = [2, 2, 2, 0, 0, 1, 1, 3, 0];
    let e = Evaluation::new(&pred, &truth, 4, 3).unwrap();
    assert_eq!(e.confusion.column_clusters, vec![2, 0, 1, 3]);
    assert_eq!(
        e.confusion.counts,
        vec![vec![3, 1, 0, 0], vec![0, 2, 0, 0], vec![0, 0, 2, 1]]
    );
    assert_eq!(
        e.matching.cluster_to_class,
        vec![Some(1), Some(2), Some(0), None]
    );
}

#[test]
fn case_lists_split_success_false_negative_false_positive_by_confidence() {
    let truth = [0, 0, 0, 1, 1, 1];
    let pred = [0, 0, 1, 1, 1, 0];
    let conf = [0.5, 0.9, 0.7, 0.6, 0.8, 0.4];
    let e = Evaluation::new(&pred, &truth, 2, 2).unwrap();
    let cases = cluster_cases(&pred, &truth, &conf, &e.matching);
    assert_eq!(cases[0].class, Some(0));
    assert_eq!(cases[0].successes, vec![1, 0]);
    assert_eq!(cases[0].false_negatives, vec![2]);
    assert_eq!(cases[0].false_positives, vec![5]);
    assert_eq!(cases[1].successes, vec![4, 3]);
    assert_eq!(cases[1].false_negatives, vec![5]);
    assert_eq!(cases[1].false_positives, vec![2]);
}

#[test]
fn unmatched_cluster_lists_all_its_items_as_false_positives() {
    let truth = [0, 0, 1, 1, 1];
    let pred = [0, 0, 1, 1, 2];
    let conf = [1.0; 5];
    let e = Evaluation::new(&pred, &truth, 3, 2).unwrap();
    let cases = cluster_cases(&pred, &truth, &conf, &e.matching);
    assert_eq!(cases[2].class, None);
    assert_eq!(cases[2].false_positives, vec![4]);
    assert_eq!(cases[1].false_negatives, vec![4]);
}
