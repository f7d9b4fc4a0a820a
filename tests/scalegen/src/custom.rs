//! Custom resources for backup benchmarks: a namespaced CRD and its objects spread
//! evenly over the generated namespaces (`--custom-resources N`).

use std::fmt::Write as _;

use crate::render::FixtureFile;

/// The CRD's group and plural, for benchmark scripts.
pub const GROUP: &str = "bench.example.com";
pub const PLURAL: &str = "exportprofiles";

/// The CRD file plus one file of custom resources per namespace, `count` in all.
pub fn render_custom(namespaces: &[String], count: usize) -> Vec<FixtureFile> {
    let mut files = vec![FixtureFile {
        path: "cluster-crd-exportprofiles.yaml".into(),
        text: format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {PLURAL}.{GROUP}\nspec:\n  group: {GROUP}\n  scope: Namespaced\n  names: {{plural: {PLURAL}, singular: exportprofile, kind: ExportProfile, listKind: ExportProfileList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
        ),
    }];
    if namespaces.is_empty() || count == 0 {
        return files;
    }
    for (n, ns) in namespaces.iter().enumerate() {
        // An even share, the first namespaces taking the remainder.
        let share = count / namespaces.len() + usize::from(n < count % namespaces.len());
        let mut text = String::new();
        for i in 0..share {
            let _ = write!(
                text,
                "---\napiVersion: {GROUP}/v1\nkind: ExportProfile\nmetadata:\n  name: profile-{i:05}\n  namespace: {ns}\n  labels: {{app: exporter, tier: t{}}}\nspec:\n  format: {}\n  compression: zstd\n  retentionDays: {}\n  schedule: \"{} {} * * *\"\n  targets: [vm-{i:05}-a, vm-{i:05}-b]\n",
                i % 3,
                ["ova", "vmdk", "qcow2"][i % 3],
                7 + i % 30,
                i % 60,
                i % 24
            );
        }
        files.push(FixtureFile {
            path: format!("namespaces/{ns}/exportprofiles.yaml"),
            text,
        });
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_the_count_over_namespaces() {
        let ns: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let files = render_custom(&ns, 10);
        assert_eq!(files.len(), 4);
        let objects: usize = files
            .iter()
            .map(|f| f.text.matches("kind: ExportProfile\n").count())
            .sum();
        assert_eq!(objects, 10);
        assert!(files[0].text.contains("kind: CustomResourceDefinition"));
        assert_eq!(files[1].text.matches("kind: ExportProfile\n").count(), 4);
    }
}
