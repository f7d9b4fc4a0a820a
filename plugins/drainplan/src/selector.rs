//! Label selectors (PDBs, pod affinity terms) and node selector terms (node affinity, PV node
//! affinity) evaluated client-side, with the API's semantics for null, empty and missing labels.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::wire::{NodeSelectorTerm, Requirement};

/// Does `selector` select an object with `labels`? A null selector selects nothing (PDBs in
/// policy/v1, affinity terms); an empty one selects everything.
pub fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(sel) = selector else {
        return false;
    };
    let labels_ok = sel
        .match_labels
        .as_ref()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs_ok = sel.match_expressions.as_ref().is_none_or(|es| {
        es.iter().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let have = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => have.is_some_and(|v| values.contains(v)),
                "NotIn" => have.is_none_or(|v| !values.contains(v)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// True for a selector with no requirements at all (`{}`): it selects everything.
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty)
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty)
}

/// One node selector requirement against a value lookup (labels, or fields for
/// `matchFields`): `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
fn requirement_matches<'a>(r: &Requirement, lookup: &dyn Fn(&str) -> Option<&'a str>) -> bool {
    let have = lookup(&r.key);
    let int = |s: &str| s.trim().parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => have.is_some_and(|v| r.values.iter().any(|x| x == v)),
        "NotIn" => have.is_none_or(|v| !r.values.iter().any(|x| x == v)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        "Gt" | "Lt" => {
            let (Some(have), Some(bound)) =
                (have.and_then(int), r.values.first().and_then(|v| int(v)))
            else {
                return false;
            };
            if r.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

/// Do `terms` (ORed; expressions within a term ANDed) match a node? An empty term matches
/// nothing, as in the API. `matchFields` knows `metadata.name`.
pub fn node_terms_match(
    terms: &[NodeSelectorTerm],
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    let label = |k: &str| labels.get(k).map(String::as_str);
    let field = |k: &str| (k == "metadata.name").then_some(node_name);
    terms.iter().any(|t| {
        (!t.match_expressions.is_empty() || !t.match_fields.is_empty())
            && t.match_expressions
                .iter()
                .all(|r| requirement_matches(r, &label))
            && t.match_fields
                .iter()
                .all(|r| requirement_matches(r, &field))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn label_selectors() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        assert!(!selects(None, &l), "null selects nothing");
        assert!(
            selects(Some(&LabelSelector::default()), &l),
            "empty selects all"
        );
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["front".into(), "back".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "zone".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["a".into()]),
                },
            ]),
        };
        assert!(selects(Some(&sel), &l));
        assert!(!selects(Some(&sel), &labels(&[("app", "web")])));
        assert!(is_empty(&LabelSelector::default()));
        assert!(!is_empty(&sel));
    }

    #[test]
    fn node_terms() {
        let l = labels(&[("zone", "a"), ("cores", "16")]);
        let term = |exprs: Vec<Requirement>| NodeSelectorTerm {
            match_expressions: exprs,
            match_fields: vec![],
        };
        assert!(node_terms_match(
            &[term(vec![req("zone", "In", &["a", "b"])])],
            "n",
            &l
        ));
        assert!(!node_terms_match(&[term(vec![])], "n", &l), "empty term");
        assert!(node_terms_match(
            &[
                term(vec![req("zone", "In", &["x"])]),
                term(vec![
                    req("cores", "Gt", &["8"]),
                    req("gpu", "DoesNotExist", &[])
                ])
            ],
            "n",
            &l
        ));
        assert!(!node_terms_match(
            &[term(vec![req("cores", "Lt", &["16"])])],
            "n",
            &l
        ));
        assert!(!node_terms_match(
            &[term(vec![req("zone", "Gt", &["1"])])],
            "n",
            &l
        ));
        assert!(node_terms_match(
            &[term(vec![req("disk", "NotIn", &["hdd"])])],
            "n",
            &l
        ));
        let by_name = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req("metadata.name", "In", &["n1"])],
        };
        assert!(node_terms_match(std::slice::from_ref(&by_name), "n1", &l));
        assert!(!node_terms_match(&[by_name], "n2", &l));
    }
}
