//! Splitting the target nodes into waves: the nodes of one wave are drained together, so
//! together they may take from each budget at most what it allows now.
//!
//! Between waves the evicted pods' replacements become Ready elsewhere and the budgets
//! recover, which is why the next wave may take the same amount again. Room is not a wave
//! concern: replacements only go to nodes outside every wave, so they need the same room
//! whatever the grouping (the plan checks it once, in wave order).

use std::collections::BTreeMap;

/// The evictions one node's drain charges to each budget (by index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    pub node: String,
    pub charges: BTreeMap<usize, usize>,
}

/// First fit, in the given node order: a node joins the earliest wave where every budget it
/// charges still has room for all its evictions. A node that alone charges a budget more
/// than it allows gets a wave without other users of that budget; its own evictions then
/// wait for each other (the executor retries a refused eviction once a replacement is Ready).
pub fn split(nodes: &[Demand], allowed: &dyn Fn(usize) -> i64) -> Vec<Vec<String>> {
    struct Open {
        nodes: Vec<String>,
        used: BTreeMap<usize, usize>,
    }
    let mut waves: Vec<Open> = Vec::new();
    for d in nodes {
        let fits = |w: &Open| {
            d.charges.iter().all(|(pdb, n)| {
                let used = w.used.get(pdb).copied().unwrap_or(0);
                let cap = usize::try_from(allowed(*pdb).max(0)).unwrap_or(0);
                used + n <= cap || used == 0
            })
        };
        let slot = match waves.iter().position(fits) {
            Some(i) => i,
            None => {
                waves.push(Open {
                    nodes: Vec::new(),
                    used: BTreeMap::new(),
                });
                waves.len() - 1
            }
        };
        let w = &mut waves[slot];
        w.nodes.push(d.node.clone());
        for (pdb, n) in &d.charges {
            *w.used.entry(*pdb).or_default() += n;
        }
    }
    waves.into_iter().map(|w| w.nodes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(node: &str, charges: &[(usize, usize)]) -> Demand {
        Demand {
            node: node.into(),
            charges: charges.iter().copied().collect(),
        }
    }

    #[test]
    fn a_budget_of_one_across_two_nodes_gives_two_waves() {
        let nodes = [demand("n1", &[(0, 1)]), demand("n2", &[(0, 1)])];
        assert_eq!(split(&nodes, &|_| 1), [vec!["n1"], vec!["n2"]]);
        assert_eq!(split(&nodes, &|_| 2), [vec!["n1", "n2"]]);
    }

    #[test]
    fn unrelated_budgets_share_a_wave_and_free_nodes_go_first() {
        let nodes = [
            demand("n1", &[(0, 1)]),
            demand("n2", &[(0, 1), (1, 1)]),
            demand("n3", &[(1, 1)]),
            demand("n4", &[]),
        ];
        // Budget 0 allows 1, budget 1 allows 1: n2 cannot join n1 (0) nor n3 (1).
        assert_eq!(split(&nodes, &|_| 1), [vec!["n1", "n3", "n4"], vec!["n2"]]);
    }

    #[test]
    fn a_node_over_the_budget_alone_gets_its_own_wave() {
        let nodes = [
            demand("n1", &[(0, 3)]),
            demand("n2", &[(0, 1)]),
            demand("n3", &[(1, 1)]),
        ];
        assert_eq!(split(&nodes, &|_| 1), [vec!["n1", "n3"], vec!["n2"]]);
        assert!(split(&[], &|_| 1).is_empty());
    }
}
