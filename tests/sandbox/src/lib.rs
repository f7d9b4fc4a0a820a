//! kube-sandbox: a test Kubernetes API server that serves fixtures.
//! Test infrastructure only; see ../../shared/SANDBOX.md for the contract.

pub mod discovery;
pub mod openapi;
pub mod registry;
pub mod table;
