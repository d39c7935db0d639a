//! The documents stay consistent with the code that cites them.
//!
//! Code comments cite decisions (`docs/decisions.md`, e.g. `HUB-6`, `POL-D11`) and policy rules
//! (`docs/policy-rules.md`, `POL-07`) by id. These tests fail when a cited id is not defined, when
//! an id is defined twice, and when a document links to a file that does not exist or lies
//! outside the repository. They live in `mimi-cli` because it is the crate on top of the
//! workspace; they read files only and link nothing of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// An id token: `[A-Z]+-D?[0-9]+` standing alone (not inside a longer word). Returns
/// `(family, id)`, where the family is the id without its number (`POL-`, `POL-D`, `CR-`).
fn ids(text: &str) -> Vec<(String, String)> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_uppercase() || (i > 0 && word(b[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_uppercase() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'-' {
            continue;
        }
        let mut j = i + 1;
        if j < b.len() && b[j] == b'D' {
            j += 1;
        }
        let digits = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == digits || (j < b.len() && word(b[j])) {
            continue;
        }
        out.push((text[start..digits].to_owned(), text[start..j].to_owned()));
        i = j;
    }
    out
}

/// `text` if it is exactly one id and nothing else.
fn whole_id(text: &str) -> Option<String> {
    match ids(text).as_slice() {
        [(_, id)] if id == text => Some(id.clone()),
        _ => None,
    }
}

/// Where each id is defined: a bold `**ID**` in decisions.md, or the first cell of a row of the
/// rule table in policy-rules.md. Values are every place it is defined.
fn definitions() -> BTreeMap<String, Vec<String>> {
    let root = repo_root();
    let mut defs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let decisions = read(&root.join("docs/decisions.md"));
    for (n, bold) in decisions.split("**").enumerate() {
        // Odd pieces are between a pair of `**`.
        if n % 2 == 1
            && let Some(id) = whole_id(bold)
        {
            defs.entry(id).or_default().push("docs/decisions.md".into());
        }
    }
    let rules = read(&root.join("docs/policy-rules.md"));
    for line in rules.lines() {
        let Some(cell) = line.strip_prefix("| ").and_then(|l| l.split(" |").next()) else {
            continue;
        };
        if let Some(id) = whole_id(cell) {
            defs.entry(id)
                .or_default()
                .push("docs/policy-rules.md".into());
        }
    }
    defs
}

/// Text files that may cite ids: sources and manifests under `crates/` and `fuzz/` (not build
/// output or corpora), the README and the documents.
fn citing_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(
                    name.as_ref(),
                    "target" | "corpus" | "artifacts" | "coverage"
                ) {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") || name.ends_with(".md") || name.ends_with(".toml") {
                out.push(path);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    walk(&root.join("crates"), &mut files);
    walk(&root.join("fuzz"), &mut files);
    walk(&root.join("docs"), &mut files);
    files.push(root.join("README.md"));
    files
}

#[test]
fn id_scanner_reads_ids_and_ignores_other_tokens() {
    let found: Vec<String> = ids("HUB-6, (POL-D11) POL-07; SHA-256 ML-DSA-87 RFC 9420 aPOL-1 A-1b")
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        found,
        ["HUB-6", "POL-D11", "POL-07", "SHA-256", "DSA-87"],
        "families decide which of these count as citations"
    );
}

#[test]
fn every_cited_decision_or_rule_id_is_defined_once() {
    let defs = definitions();
    assert!(
        defs.contains_key("HUB-6") && defs.contains_key("POL-07") && defs.contains_key("CR-9"),
        "the definition parser found too little: {:?}",
        defs.keys().collect::<Vec<_>>()
    );
    let twice: Vec<_> = defs.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(twice.is_empty(), "ids defined more than once: {twice:?}");

    // Only the families the documents define are decision ids; SHA-256 or UTF-8 are not.
    let families: BTreeSet<String> = defs.keys().flat_map(|id| ids(id)).map(|(f, _)| f).collect();
    let root = repo_root();
    let mut missing = BTreeSet::new();
    for file in citing_files() {
        let text = read(&file);
        for (family, id) in ids(&text) {
            if families.contains(&family) && !defs.contains_key(&id) {
                let rel = file
                    .strip_prefix(&root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                missing.insert(format!("{id} (cited in {rel})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not defined in docs/decisions.md or docs/policy-rules.md: {missing:#?}"
    );
}

#[test]
fn document_links_stay_inside_the_repository_and_resolve() {
    let root = repo_root();
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.push(root.join("README.md"));
    let mut bad = Vec::new();
    for doc in docs {
        let text = read(&doc);
        for target in text
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.starts_with("https://") || path.starts_with("http://") {
                continue;
            }
            let dir = doc.parent().expect("a document is in a directory");
            let resolved = dir.join(path);
            let inside = normalize(&resolved).starts_with(normalize(&root));
            if !inside || !resolved.exists() {
                let rel = doc.strip_prefix(&root).unwrap_or(&doc);
                bad.push(format!("{} -> {target}", rel.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "links outside the repository or to nothing: {bad:#?}"
    );
}

/// Resolves `..` and `.` lexically (the targets need not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `docs/architecture.md` names source files by path relative to `crates/`
/// (`mimi-hub/src/commit.rs`), and files of the same crate after that by path relative to its
/// `src/` (`lanes/sequencer.rs`). Every one must exist, so the page follows the code when files
/// move.
#[test]
fn architecture_names_only_files_that_exist() {
    let root = repo_root();
    let text = read(&root.join("docs/architecture.md"));
    let mut checked = 0;
    let mut missing = Vec::new();
    for line in text.lines() {
        let mut src: Option<PathBuf> = None;
        for (n, token) in line.split('`').enumerate() {
            let is_path = n % 2 == 1
                && !token.contains(' ')
                && (token.ends_with(".rs") || token.ends_with('/'));
            if !is_path {
                continue;
            }
            let path = match token.split_once("/src/") {
                Some((krate, _)) => {
                    src = Some(root.join("crates").join(krate).join("src"));
                    root.join("crates").join(token)
                }
                None => match &src {
                    Some(dir) => dir.join(token),
                    None => {
                        missing.push(format!("{token} (no crate named before it on its line)"));
                        continue;
                    }
                },
            };
            checked += 1;
            if !path.exists() {
                missing.push(token.to_owned());
            }
        }
    }
    assert!(checked > 20, "the path scanner found only {checked} paths");
    assert!(
        missing.is_empty(),
        "architecture.md names files that do not exist: {missing:#?}"
    );
}
