//! Deletion with the garbage collector's effects, done synchronously:
//! finalizers keep an object (terminating) until they are removed, owners take
//! their dependents with them (Background/Foreground) or leave them behind
//! (Orphan), and a namespace takes everything in it.

use crate::store::{Txn, meta_str};
use serde_json::{Value, json};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Propagation> {
        match s {
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            "Orphan" => Some(Propagation::Orphan),
            _ => None,
        }
    }
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Deletes one object. Returns what the client sees: the removed object, or
/// the object marked with deletionTimestamp when finalizers hold it.
pub fn delete(
    txn: &mut Txn<'_>,
    res: &str,
    ns: &str,
    name: &str,
    propagation: Propagation,
    now: &str,
) -> Option<Value> {
    let mut seen = HashSet::new();
    delete_inner(txn, res, ns, name, propagation, now, &mut seen)
}

fn delete_inner(
    txn: &mut Txn<'_>,
    res: &str,
    ns: &str,
    name: &str,
    propagation: Propagation,
    now: &str,
    seen: &mut HashSet<String>,
) -> Option<Value> {
    let obj = txn.get(res, ns, name)?.clone();
    let uid = meta_str(&obj, "uid").to_string();
    if !seen.insert(uid.clone()) {
        return None;
    }
    if has_finalizers(&obj) {
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            return Some(obj);
        }
        let mut marked = obj;
        marked["metadata"]["deletionTimestamp"] = json!(now);
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        return Some(txn.put(res, marked));
    }
    // Dependents: objects whose ownerReferences name this uid (indexed by the store).
    let dependents = txn.inner().owned_by(&uid);
    for (r, dns, dname) in dependents {
        match propagation {
            Propagation::Orphan => {
                if let Some(mut d) = txn.get(&r, &dns, &dname) {
                    if let Some(refs) = d
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|x| x.get("uid").and_then(Value::as_str) != Some(&uid));
                    }
                    txn.put(&r, d);
                }
            }
            _ => {
                delete_inner(txn, &r, &dns, &dname, Propagation::Background, now, seen);
            }
        }
    }
    // A namespace takes everything in it.
    if res == "/namespaces" {
        let contents: Vec<(String, String)> = txn
            .inner()
            .iter_all()
            .filter(|(_, o)| o.namespace == name)
            .map(|(r, o)| (r.clone(), o.name.clone()))
            .collect();
        for (r, n) in contents {
            if let Some(o) = txn.get(&r, name, &n) {
                // Finalizers would keep the namespace Terminating forever in a
                // real cluster; the sandbox has nobody to remove them, so drop them.
                if has_finalizers(&o) && !txn.dry_run {
                    let mut o = o;
                    o["metadata"]["finalizers"] = json!([]);
                    txn.put(&r, o);
                }
            }
            delete_inner(txn, &r, name, &n, Propagation::Background, now, seen);
        }
    }
    txn.remove(res, ns, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn obj(name: &str, uid: &str, owner: Option<&str>) -> Value {
        let mut o = json!({"metadata": {"namespace": "n", "name": name, "uid": uid}});
        if let Some(ou) = owner {
            o["metadata"]["ownerReferences"] = json!([{"uid": ou, "kind": "X", "name": "x"}]);
        }
        o
    }

    #[test]
    fn background_is_recursive_and_orphan_keeps() {
        let s = Store::new();
        s.write(false, |t| {
            t.put("apps/deployments", obj("d", "1", None));
            t.put("apps/replicasets", obj("rs", "2", Some("1")));
            t.put("/pods", obj("p", "3", Some("2")));
        });
        s.write(false, |t| {
            delete(
                t,
                "apps/deployments",
                "n",
                "d",
                Propagation::Background,
                "now",
            )
        });
        assert!(s.get("/pods", "n", "p").is_none());
        s.write(false, |t| {
            t.put("apps/replicasets", obj("rs", "2", None));
            t.put("/pods", obj("p", "3", Some("2")));
        });
        s.write(false, |t| {
            delete(t, "apps/replicasets", "n", "rs", Propagation::Orphan, "now")
        });
        let p = s.get("/pods", "n", "p").expect("orphaned pod stays");
        assert_eq!(p["metadata"]["ownerReferences"], json!([]));
    }

    #[test]
    fn finalizers_hold() {
        let s = Store::new();
        let mut o = obj("p", "1", None);
        o["metadata"]["finalizers"] = json!(["x"]);
        s.write(false, |t| t.put("/pods", o));
        let r = s.write(false, |t| {
            delete(t, "/pods", "n", "p", Propagation::Background, "T")
        });
        assert_eq!(
            r.map(|v| v["metadata"]["deletionTimestamp"].clone()),
            Some(json!("T"))
        );
        assert!(s.get("/pods", "n", "p").is_some());
    }
}
