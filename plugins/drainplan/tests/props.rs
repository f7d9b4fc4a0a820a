//! Property tests of the label selector evaluation (PDBs, affinity terms) against the
//! API's semantics: matchLabels is `In` with one value, `NotIn`/`DoesNotExist` complement
//! `In`/`Exists`, a null selector selects nothing and an empty one everything.
//! `make test` runs a few dozen cases; `make fuzz` PROPTEST_CASES of them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kubectl_drainplan::selector::selects;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Small alphabets so that keys and values collide often.
fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[abc]", "[xyz]", 0..4)
}

fn requirement(key: &str, op: &str, values: &[String]) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.to_string(),
            operator: op.to_string(),
            values: (!values.is_empty()).then(|| values.to_vec()),
        }]),
        match_labels: None,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn null_selects_nothing_and_empty_everything(l in labels()) {
        prop_assert!(!selects(None, &l));
        prop_assert!(selects(Some(&LabelSelector::default()), &l));
    }

    #[test]
    fn match_labels_is_in_with_one_value(l in labels(), key in "[abcd]", value in "[xyzw]") {
        let by_labels = LabelSelector {
            match_labels: Some(BTreeMap::from([(key.clone(), value.clone())])),
            match_expressions: None,
        };
        let by_expr = requirement(&key, "In", std::slice::from_ref(&value));
        prop_assert_eq!(selects(Some(&by_labels), &l), selects(Some(&by_expr), &l));
        prop_assert_eq!(selects(Some(&by_labels), &l), l.get(&key) == Some(&value));
    }

    #[test]
    fn not_in_and_does_not_exist_complement(l in labels(), key in "[abcd]", values in proptest::collection::vec("[xyzw]", 1..3)) {
        let is_in = selects(Some(&requirement(&key, "In", &values)), &l);
        let not_in = selects(Some(&requirement(&key, "NotIn", &values)), &l);
        prop_assert_eq!(is_in, !not_in);
        let exists = selects(Some(&requirement(&key, "Exists", &[])), &l);
        let absent = selects(Some(&requirement(&key, "DoesNotExist", &[])), &l);
        prop_assert_eq!(exists, !absent);
        prop_assert_eq!(exists, l.contains_key(&key));
    }

    #[test]
    fn an_unknown_operator_selects_nothing(l in labels(), key in "[abcd]", op in "[A-Za-z]{0,8}") {
        prop_assume!(!["In", "NotIn", "Exists", "DoesNotExist"].contains(&op.as_str()));
        prop_assert!(!selects(Some(&requirement(&key, &op, &[])), &l));
    }

    #[test]
    fn selectors_parsed_from_any_json_never_panic(doc in proptest::collection::vec(any::<u8>(), 0..64), l in labels()) {
        if let Ok(sel) = serde_json::from_slice::<LabelSelector>(&doc) {
            let _ = selects(Some(&sel), &l);
        }
    }
}
