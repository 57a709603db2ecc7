//! datasets.toml: parsing, validation errors that name the line and field, availability.
use icicle_explorer::data::{Registry, Source};
use std::path::Path;

fn parse(text: &str) -> Result<Registry, String> {
    Registry::parse(text, Path::new("/base"), "test.toml").map_err(|e| format!("{e:#}"))
}

const ENTRY: &str = r#"
[[dataset]]
name = "tiny"
source = "folder"
path = "imgs"
image_size = [16, 16]
channels = 3
classes = 2
"#;

#[test]
fn builtin_registry_has_the_embedded_sets_and_full_sets() {
    let r = Registry::builtin().unwrap();
    assert_eq!(r.default, "digits");
    for name in ["digits", "mnist-test", "fashion-mnist-test"] {
        assert!(
            r.get(name).unwrap().availability().is_ok(),
            "{name} is embedded"
        );
    }
    for name in ["fashion-mnist", "mnist"] {
        let e = r.get(name).unwrap();
        assert!(matches!(&e.source, Source::Idx(parts) if parts.len() == 2));
        assert!(e.install.as_deref().unwrap().contains("make datasets"));
    }
    assert_eq!(
        r.get("fashion-mnist-test").unwrap().class_names[9],
        "Ankle boot"
    );
}

#[test]
fn relative_paths_are_taken_from_the_registry_folder() {
    let r = parse(ENTRY).unwrap();
    assert_eq!(r.default, "tiny");
    assert_eq!(
        r.get("tiny").unwrap().source,
        Source::Folder("/base/imgs".into())
    );
}

#[test]
fn syntax_error_names_the_line() {
    let e = parse("[[dataset]]\nname = \"x\"\nsource = \n").unwrap_err();
    assert!(e.contains("test.toml") && e.contains("line 3"), "{e}");
}

#[test]
fn unknown_field_names_the_field_and_line() {
    let e = parse(&ENTRY.replace("channels = 3", "chanels = 3")).unwrap_err();
    assert!(e.contains("chanels") && e.contains("line"), "{e}");
}

#[test]
fn invalid_values_name_dataset_line_and_field() {
    for (from, to, field) in [
        ("channels = 3", "channels = 2", "channels"),
        ("source = \"folder\"", "source = \"ftp\"", "source"),
        (
            "image_size = [16, 16]",
            "image_size = [0, 16]",
            "image_size",
        ),
        (
            "classes = 2",
            "classes = 2\nclass_names = [\"a\"]",
            "class_names",
        ),
        ("path = \"imgs\"", "", "path"),
    ] {
        let e = parse(&ENTRY.replace(from, to)).unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("\"tiny\"") && e.contains(field),
            "{field}: {e}"
        );
    }
}

#[test]
fn duplicate_names_unknown_default_and_empty_files_are_errors() {
    assert!(
        parse(&format!("{ENTRY}{ENTRY}"))
            .unwrap_err()
            .contains("twice")
    );
    assert!(
        parse(&format!("default = \"nope\"\n{ENTRY}"))
            .unwrap_err()
            .contains("nope")
    );
    assert!(parse("").unwrap_err().contains("no [[dataset]]"));
}

#[test]
fn unknown_dataset_lists_the_known_ones() {
    let e = format!(
        "{:#}",
        Registry::builtin().unwrap().get("cifar").unwrap_err()
    );
    assert!(e.contains("cifar") && e.contains("digits"), "{e}");
}

#[test]
fn missing_files_report_the_install_hint() {
    let text = r#"
[[dataset]]
name = "gone"
source = "idx"
parts = [{ images = "nope-images", labels = "nope-labels" }]
image_size = [28, 28]
channels = 1
classes = 10
install = "apt-get install something"
"#;
    let r = parse(text).unwrap();
    let why = r.get("gone").unwrap().availability().unwrap_err();
    assert!(
        why.contains("/base/nope-images") && why.contains("apt-get install something"),
        "{why}"
    );
}
