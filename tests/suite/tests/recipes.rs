//! The "Recipes" sections of README.md and of every plugins/*/README.md, run verbatim:
//! each ```sh block is executed with bash against kube-sandbox (the fixtures it names)
//! with the built plugins first on PATH, and checked against the expectation written
//! right after it as an HTML comment (invisible on GitHub):
//!
//! ```text
//! <!-- recipe-check: exit=0 fixtures=demo expect="hypersdk is unhealthy" expect="CrashLoopBackOff" -->
//! ```
//!
//! `fixtures` is a comma-separated list of folders under tests/fixtures (default `demo`);
//! every `expect` must appear in stdout. A recipe without a check fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use suite_tests::{kubectl_available, path_with_plugins};

/// One recipe: where it is documented, its title, its script and what it must do.
#[derive(Debug)]
struct Recipe {
    file: String,
    title: String,
    body: String,
    exit: i32,
    fixtures: Vec<String>,
    expect: Vec<String>,
}

/// `key=value` and `key="quoted value"` pairs of a recipe-check comment.
fn check_pairs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_string();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            // A quoted value ends at the first `"` not escaped as `\"`.
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i;
                        break;
                    }
                    other => value.push(other),
                }
            }
            (value, quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        out.push((key, value));
        rest = next.trim_start();
    }
    out
}

/// The recipes of one markdown file's "## Recipes" section.
fn recipes_in(path: &Path) -> Vec<Recipe> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Some(section) = text.split("\n## Recipes\n").nth(1) else {
        return Vec::new();
    };
    let section = section.split("\n## ").next().unwrap_or(section);
    let file = path.display().to_string();
    let mut out = Vec::new();
    for block in section.split("```sh\n").skip(1) {
        let (body, after) = block.split_once("\n```").unwrap_or((block, ""));
        let title = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# recipe: "))
            .unwrap_or_else(|| panic!("{file}: each recipe starts with `# recipe: <title>`"))
            .to_string();
        let check = after
            .trim_start()
            .strip_prefix("<!-- recipe-check:")
            .and_then(|c| c.split_once("-->"))
            .map(|(c, _)| c)
            .unwrap_or_else(|| panic!("{file}: recipe {title:?} has no recipe-check comment"));
        let mut recipe = Recipe {
            file: file.clone(),
            title,
            body: body.to_string(),
            exit: 0,
            fixtures: vec!["demo".to_string()],
            expect: Vec::new(),
        };
        for (key, value) in check_pairs(check) {
            match key.as_str() {
                "exit" => recipe.exit = value.parse().unwrap_or_else(|e| panic!("exit: {e}")),
                "fixtures" => recipe.fixtures = value.split(',').map(str::to_string).collect(),
                "expect" => recipe.expect.push(value),
                other => panic!("{file}: unknown recipe-check key {other:?}"),
            }
        }
        out.push(recipe);
    }
    out
}

fn all_recipes() -> Vec<Recipe> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    for plugin in suite_tests::PLUGINS {
        files.push(root.join("plugins").join(plugin).join("README.md"));
    }
    files.iter().flat_map(|f| recipes_in(f)).collect()
}

#[test]
fn check_comments_parse() {
    let pairs = check_pairs(r#"exit=1 fixtures=demo,drain expect="a b" expect="\"c\": 1""#);
    assert_eq!(
        pairs,
        [
            ("exit".to_string(), "1".to_string()),
            ("fixtures".to_string(), "demo,drain".to_string()),
            ("expect".to_string(), "a b".to_string()),
            ("expect".to_string(), "\"c\": 1".to_string()),
        ]
    );
}

#[test]
fn every_readme_recipe_runs_as_documented() {
    let found = all_recipes();
    assert!(found.len() >= 5, "the README has its recipes: {found:?}");
    if !kubectl_available() {
        return;
    }
    if Command::new("jq").arg("--version").output().is_err() {
        assert!(
            !suite_tests::kubectl_required(),
            "jq is needed by the recipes"
        );
        eprintln!("SKIP: jq not found on PATH (the recipes use it)");
        return;
    }
    // One sandbox per recipe: some recipes change the cluster.
    for r in &found {
        let sandbox = Sandbox::start(SandboxOptions {
            fixtures: r.fixtures.iter().map(|f| fixture_dir(f)).collect(),
            ..Default::default()
        })
        .expect("start sandbox");
        let work = tempfile::tempdir().expect("tempdir");
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", &r.body])
            .current_dir(work.path())
            .env("KUBECONFIG", sandbox.kubeconfig())
            .env("KUBECACHEDIR", work.path().join(".kube-cache"))
            .env("PATH", path_with_plugins())
            .env("NO_COLOR", "1")
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(r.exit),
            "recipe {:?} ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
            r.title,
            r.file
        );
        for needle in &r.expect {
            assert!(
                stdout.contains(needle.as_str()),
                "recipe {:?} ({}): {needle:?} not in stdout:\n{stdout}\nstderr:\n{stderr}",
                r.title,
                r.file
            );
        }
    }
}
