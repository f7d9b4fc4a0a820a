//! Content negotiation on `Accept`: plain JSON, server-side Table,
//! PartialObjectMetadata, aggregated discovery; protobuf-only clients get 406.

use crate::table::IncludeObject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    PartialMetadata,
    AggregatedDiscovery,
}

/// What the endpoint can produce besides plain JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Resource,
    Discovery,
    Plain,
}

/// Picks the first acceptable media range, in the client's order (kubectl
/// lists its preference first, e.g. Table then plain JSON).
pub fn negotiate(accept: Option<&str>, offer: Offer) -> Option<Format> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Format::Json);
    };
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut as_, mut g, mut v) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("as", x)) => as_ = x,
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                _ => {}
            }
        }
        if !matches!(media.as_str(), "application/json" | "*/*" | "application/*") {
            continue;
        }
        let format = match (as_, offer) {
            ("", _) => Format::Json,
            ("Table", Offer::Resource) if g == "meta.k8s.io" && matches!(v, "v1" | "v1beta1") => {
                Format::Table
            }
            ("PartialObjectMetadata" | "PartialObjectMetadataList", Offer::Resource)
                if g == "meta.k8s.io" && matches!(v, "v1" | "v1beta1") =>
            {
                Format::PartialMetadata
            }
            ("APIGroupDiscoveryList", Offer::Discovery)
                if g == "apidiscovery.k8s.io" && v == "v2" =>
            {
                Format::AggregatedDiscovery
            }
            _ => continue,
        };
        return Some(format);
    }
    None
}

pub fn include_object(param: Option<&str>) -> IncludeObject {
    match param {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_headers() {
        let get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(get), Offer::Resource), Some(Format::Table));
        assert_eq!(negotiate(Some(get), Offer::Plain), Some(Format::Json));
        let disc = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            negotiate(Some(disc), Offer::Discovery),
            Some(Format::AggregatedDiscovery)
        );
        assert_eq!(negotiate(None, Offer::Resource), Some(Format::Json));
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf"), Offer::Resource),
            None
        );
        assert_eq!(
            negotiate(
                Some("application/vnd.kubernetes.protobuf, */*"),
                Offer::Resource
            ),
            Some(Format::Json)
        );
    }
}
