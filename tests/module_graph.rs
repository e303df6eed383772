//! The library's modules depend on each other in one direction only: no module imports another
//! that (directly or through others) imports it back, and the leaves (`money`, `model`) import
//! nothing of the program but money. Read from the source itself: every `crate::<module>` path in
//! a module's files (unit tests excluded) is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Module -> the modules its files name.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs").to_string();
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        // Unit tests (`tests.rs` and the files of a `tests/` module) may use anything.
        let in_tests = rel.components().any(|c| c.as_os_str() == "tests");
        if module == "main" || module == "lib" || name.as_deref() == Some("tests.rs") || in_tests {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let edges = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let target: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !target.is_empty() && target != module {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A path back to `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    assert!(graph.len() > 10, "the graph was read: {graph:?}");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import loops: {cycles:#?}");
}

#[test]
fn the_leaves_import_nothing_of_the_program_but_money() {
    let graph = graph();
    for leaf in ["money", "model", "localtime", "i18n", "files"] {
        let edges = graph.get(leaf).cloned().unwrap_or_default();
        let extra: Vec<&String> = edges.iter().filter(|m| *m != "money").collect();
        assert!(extra.is_empty(), "{leaf} imports {extra:?}");
    }
}

/// The "must not import" column of ARCHITECTURE.md's table, for the rows that name a top-level
/// module of `src/` (`src/x.rs` or `src/x/`): module -> what it must not import.
fn forbidden_imports() -> BTreeMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("ARCHITECTURE.md readable");
    let mut rules = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `src/")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", where, owns, must not, must not import, ""
        let [_, place, _, _, forbidden, ..] = cells.as_slice() else {
            continue;
        };
        let first = place.split('`').nth(1).unwrap_or_default();
        let Some(rest) = first.strip_prefix("src/") else {
            continue;
        };
        let module = rest.trim_end_matches('/').trim_end_matches(".rs");
        if module.contains('/') || module == "main" {
            continue;
        }
        let names: Vec<String> = forbidden
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        rules.insert(module.to_string(), names);
    }
    rules
}

#[test]
fn no_module_imports_what_the_architecture_table_forbids() {
    let graph = graph();
    let rules = forbidden_imports();
    for module in [
        "config",
        "surprise",
        "vend",
        "journal",
        "controller",
        "operator",
    ] {
        assert!(
            rules.get(module).is_some_and(|r| !r.is_empty()),
            "ARCHITECTURE.md names what {module} must not import: {rules:?}"
        );
    }
    let mut broken = Vec::new();
    for (module, forbidden) in &rules {
        let imports = graph.get(module).cloned().unwrap_or_default();
        for f in forbidden {
            assert!(
                graph.contains_key(f),
                "ARCHITECTURE.md forbids `{f}`, not a module of src/"
            );
            if imports.contains(f) {
                broken.push(format!("{module} imports {f}"));
            }
        }
    }
    assert!(broken.is_empty(), "against ARCHITECTURE.md: {broken:?}");
}
