//! Paged, error-mapped list calls: one paginated list per resource type (CONVENTIONS "API
//! cost"), optional lists that turn 403/404 into a skip, and typed or dynamic objects.
//!
//! # Running lists in parallel
//!
//! Lists of different types run concurrently with `tokio::try_join!` (all required) or
//! `tokio::join!` (mix of required and [`list_optional`]):
//!
//! ```no_run
//! # async fn demo(conn: &common::cli::Connection) -> common::Result<()> {
//! use common::list::{list_all, list_optional};
//! use k8s_openapi::api::core::v1::{Node, Pod};
//! use k8s_openapi::api::policy::v1::PodDisruptionBudget;
//! use kube::api::ListParams;
//!
//! let lp = ListParams::default();
//! let pods_api = conn.namespaced_api::<Pod>(false);
//! let nodes_api = conn.cluster_api::<Node>();
//! let pdbs_api = conn.namespaced_api::<PodDisruptionBudget>(false);
//! let (pods, nodes, pdbs) = tokio::join!(
//!     list_all(&pods_api, &lp),
//!     list_all(&nodes_api, &lp),
//!     list_optional(&pdbs_api, &lp),
//! );
//! let (pods, nodes, pdbs) = (pods?, nodes?, pdbs?);
//! # let _ = (pods, nodes, pdbs); Ok(()) }
//! ```
//!
//! For many lists of one type (e.g. every discovered resource in backup), use
//! [`list_each`], which bounds concurrency at [`MAX_CONCURRENT_LISTS`].

use std::fmt::Debug;

use futures::{StreamExt, TryStreamExt};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result, is_forbidden, is_not_found, status_code};
use crate::model::{SkipCause, Skipped};

/// Items per page (`limit`) when the caller did not set one.
pub const PAGE_SIZE: u32 = 500;

/// How many list calls [`list_each`] keeps in flight (client-go's default QPS-friendly level).
pub const MAX_CONCURRENT_LISTS: usize = 8;

/// All items of a list plus the `resourceVersion` of the (first) list response.
#[derive(Debug, Clone)]
pub struct Listed<K> {
    /// Every item across all pages.
    pub items: Vec<K>,
    /// The list's resourceVersion (consistent snapshot point; use for a later watch).
    pub resource_version: Option<String>,
}

/// Result of a list that may legitimately be impossible (no RBAC, API not installed).
#[derive(Debug, Clone)]
pub enum ListOutcome<K> {
    /// The list worked.
    Listed(Listed<K>),
    /// 403 or 404: plugins mark the dependent checks "skipped" with this cause.
    Skipped {
        /// Why, typed: forbidden (the answer is partial) or not served (it is not).
        cause: SkipCause,
        /// The server's message (redacted), e.g. `pods is forbidden: User ...`.
        message: String,
    },
}

impl<K> ListOutcome<K> {
    /// The items, or `None` when skipped.
    pub fn items(&self) -> Option<&[K]> {
        match self {
            ListOutcome::Listed(l) => Some(&l.items),
            ListOutcome::Skipped { .. } => None,
        }
    }

    /// Consume into the items, or `None` when skipped.
    pub fn into_items(self) -> Option<Vec<K>> {
        match self {
            ListOutcome::Listed(l) => Some(l.items),
            ListOutcome::Skipped { .. } => None,
        }
    }

    /// The skip as the suite's [`Skipped`] record for `what`, if skipped.
    pub fn skipped(&self, what: &str) -> Option<Skipped> {
        match self {
            ListOutcome::Listed(_) => None,
            ListOutcome::Skipped { cause, message } => Some(Skipped::new(what, *cause, message)),
        }
    }

    /// `forbidden: <message>` / `not available on this cluster: <message>`, if skipped.
    pub fn skipped_reason(&self) -> Option<String> {
        self.skipped("").map(|s| s.reason())
    }
}

/// List every object matching `params`, following `continue` tokens.
pub async fn list_all<K>(api: &Api<K>, params: &ListParams) -> Result<Vec<K>>
where
    K: Clone + DeserializeOwned + Debug,
{
    Ok(list_all_with_version(api, params).await?.items)
}

/// [`list_all`] that also returns the list's `resourceVersion`.
///
/// If a continue token expires mid-way (410 Gone), the list restarts once from the
/// beginning rather than returning a mix of two snapshots.
pub async fn list_all_with_version<K>(api: &Api<K>, params: &ListParams) -> Result<Listed<K>>
where
    K: Clone + DeserializeOwned + Debug,
{
    match pages(api, params, &|k| k).await {
        Err(e) if status_code(&e) == Some(410) => {
            tracing::debug!("continue token expired; restarting list");
            pages(api, params, &|k| k).await.map_err(Error::from)
        }
        other => other.map_err(Error::from),
    }
}

async fn pages<K, T, F>(
    api: &Api<K>,
    params: &ListParams,
    map: &F,
) -> std::result::Result<Listed<T>, kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
    F: Fn(K) -> T,
{
    let mut lp = params.clone();
    if lp.limit.is_none() {
        lp.limit = Some(PAGE_SIZE);
    }
    let mut items = Vec::new();
    let mut resource_version = None;
    loop {
        let page = api.list(&lp).await?;
        if resource_version.is_none() {
            resource_version = page.metadata.resource_version.clone();
        }
        items.extend(page.items.into_iter().map(map));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => lp.continue_token = Some(token),
            _ => break,
        }
    }
    Ok(Listed {
        items,
        resource_version,
    })
}

/// The pages of a list, one stream item per page, in order: process objects as they
/// arrive without holding them all (backup writes each page to its archive).
///
/// An expired continue token (410) ends the stream with that error: restarting would
/// repeat the objects already yielded.
pub fn page_stream<K>(
    api: Api<K>,
    params: ListParams,
) -> impl futures::Stream<Item = Result<Vec<K>>> + Send
where
    K: Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut first = params;
    if first.limit.is_none() {
        first.limit = Some(PAGE_SIZE);
    }
    futures::stream::try_unfold(Some(first), move |next| {
        let api = api.clone();
        async move {
            let Some(lp) = next else {
                return Ok(None);
            };
            let page = api.list(&lp).await.map_err(Error::from)?;
            let following = match page.metadata.continue_ {
                Some(token) if !token.is_empty() => {
                    let mut lp = lp;
                    lp.continue_token = Some(token);
                    Some(lp)
                }
                _ => None,
            };
            Ok(Some((page.items, following)))
        }
    })
}

/// Like [`list_all_with_version`], but 403 Forbidden and 404 Not Found become
/// [`ListOutcome::Skipped`] instead of an error. Connection and other errors still fail.
pub async fn list_optional<K>(api: &Api<K>, params: &ListParams) -> Result<ListOutcome<K>>
where
    K: Clone + DeserializeOwned + Debug,
{
    list_optional_map(api, params, |k| k).await
}

/// [`list_optional`] that maps each item as its page arrives, so only the mapped
/// values stay in memory (e.g. Secrets reduced to their key names, values dropped).
pub async fn list_optional_map<K, T, F>(
    api: &Api<K>,
    params: &ListParams,
    map: F,
) -> Result<ListOutcome<T>>
where
    K: Clone + DeserializeOwned + Debug,
    F: Fn(K) -> T,
{
    let first = pages(api, params, &map).await;
    let result = match first {
        Err(e) if status_code(&e) == Some(410) => pages(api, params, &map).await,
        other => other,
    };
    match result {
        Ok(listed) => Ok(ListOutcome::Listed(listed)),
        Err(e) if is_forbidden(&e) => Ok(ListOutcome::Skipped {
            cause: SkipCause::Forbidden,
            message: crate::redact::redact_text(&api_message(&e)).into_owned(),
        }),
        Err(e) if is_not_found(&e) => Ok(ListOutcome::Skipped {
            cause: SkipCause::NotServed,
            message: crate::redact::redact_text(&api_message(&e)).into_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        kube::Error::Api(s) => s.reason.clone(),
        other => other.to_string(),
    }
}

/// `Api<DynamicObject>` for a resource found by discovery; `namespace: None` lists across
/// all namespaces (or a cluster-scoped resource).
pub fn dynamic_api(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// Paged list of a dynamic resource (backup's path for arbitrary kinds and CRDs).
pub async fn list_dynamic(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
) -> Result<Listed<DynamicObject>> {
    list_all_with_version(&dynamic_api(client, resource, namespace), params).await
}

/// Run many lists of one type with at most [`MAX_CONCURRENT_LISTS`] in flight, results in
/// input order; the first error aborts the rest.
pub async fn list_each<K, I>(apis: I, params: &ListParams) -> Result<Vec<Listed<K>>>
where
    K: Clone + DeserializeOwned + Debug,
    I: IntoIterator<Item = Api<K>>,
{
    futures::stream::iter(apis)
        .map(|api| async move { list_all_with_version(&api, params).await })
        .buffered(MAX_CONCURRENT_LISTS)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_accessors() {
        let l: ListOutcome<u8> = ListOutcome::Listed(Listed {
            items: vec![1, 2],
            resource_version: Some("5".into()),
        });
        assert_eq!(l.items(), Some(&[1u8, 2][..]));
        assert_eq!(l.skipped_reason(), None);
        let s: ListOutcome<u8> = ListOutcome::Skipped {
            cause: SkipCause::Forbidden,
            message: "x".into(),
        };
        assert_eq!(s.items(), None);
        assert_eq!(s.skipped_reason().as_deref(), Some("forbidden: x"));
        assert_eq!(
            s.skipped("secrets").map(|k| k.cause),
            Some(SkipCause::Forbidden)
        );
        assert_eq!(s.into_items(), None);
    }
}
