//! Endpoint safety: https only and public addresses only, unless the host opted in.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether `ip` is a public unicast address (not private, loopback, link-local, unspecified,
/// shared, documentation, benchmarking, multicast or reserved).
pub(crate) fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64: the v4 part decides
}

/// Whether `ip` is never a legitimate endpoint, even for a service the host allowed onto the
/// local network: link-local (169.254.0.0/16 holds the cloud metadata service, fe80::/10),
/// unspecified, broadcast and multicast addresses.
pub(crate) fn is_never_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_never_allowed(IpAddr::V4(v4));
            }
            (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_unspecified() || v6.is_multicast()
        }
    }
}

/// Host names of cloud metadata services (they resolve to link-local addresses, but only inside
/// the cloud, so they are refused by name as well).
fn is_metadata_name(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    ["metadata.google.internal", "metadata", "instance-data"]
        .iter()
        .any(|m| domain.eq_ignore_ascii_case(m))
        || domain
            .to_ascii_lowercase()
            .ends_with(".metadata.google.internal")
}

/// Why `url`'s host is never allowed (a link-local or metadata address), if it is.
pub(crate) fn never_allowed_host(url: &Url) -> Option<String> {
    let ip = match url.host()? {
        Host::Ipv4(v4) => IpAddr::V4(v4),
        Host::Ipv6(v6) => IpAddr::V6(v6),
        Host::Domain(domain) => {
            return is_metadata_name(domain)
                .then(|| format!("`{domain}` is a cloud metadata service"));
        }
    };
    is_never_allowed(ip).then(|| {
        format!("{ip} is a link-local, metadata, unspecified or multicast address, never allowed")
    })
}

/// Checks the scheme and, for an IP literal, the address of `url`. Host names are checked when
/// they are resolved ([`PublicOnlyResolver`]).
pub(crate) fn check_url(url: &Url, allow_local: bool) -> Result<(), String> {
    if let Some(reason) = never_allowed_host(url) {
        return Err(reason);
    }
    if allow_local {
        return match url.scheme() {
            "http" | "https" => Ok(()),
            other => Err(format!("the scheme `{other}` is not allowed")),
        };
    }
    if url.scheme() != "https" {
        return Err(format!(
            "only https endpoints are allowed, not {}://",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(domain)) => {
            if domain.eq_ignore_ascii_case("localhost") || domain.ends_with(".localhost") {
                return Err(format!("`{domain}` is a loopback name"));
            }
            return Ok(());
        }
        None => return Err("the URL has no host".into()),
    };
    if is_public_ip(ip) {
        Ok(())
    } else {
        Err(format!("{ip} is a private, loopback or link-local address"))
    }
}

/// A resolved host name pointed at a non-public address.
#[derive(Debug)]
pub(crate) struct BlockedAddress {
    pub(crate) host: String,
    pub(crate) ip: IpAddr,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` resolves to {}, a private, loopback or link-local address",
            self.host, self.ip
        )
    }
}

impl std::error::Error for BlockedAddress {}

/// DNS resolution that refuses a name when any of its addresses is not public, so a name cannot
/// smuggle a request to the local network (the check happens on the addresses actually used).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        resolve_refusing(name, |ip| !is_public_ip(ip))
    }
}

/// DNS resolution for services allowed onto the local network (tests, a local proxy): loopback
/// and private addresses pass, link-local and metadata addresses ([`is_never_allowed`]) do not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoLinkLocalResolver;

impl Resolve for NoLinkLocalResolver {
    fn resolve(&self, name: Name) -> Resolving {
        resolve_refusing(name, is_never_allowed)
    }
}

fn resolve_refusing(name: Name, refused: fn(IpAddr) -> bool) -> Resolving {
    let host = name.as_str().to_string();
    Box::pin(async move {
        if is_metadata_name(&host) {
            return Err(Box::new(BlockedAddress {
                host,
                ip: IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
            }) as Box<dyn std::error::Error + Send + Sync>);
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
        if let Some(bad) = addrs.iter().find(|a| refused(a.ip())) {
            return Err(Box::new(BlockedAddress { host, ip: bad.ip() })
                as Box<dyn std::error::Error + Send + Sync>);
        }
        Ok(Box::new(addrs.into_iter()) as Addrs)
    })
}

/// The [`BlockedAddress`] somewhere in an error's source chain.
pub(crate) fn blocked_address(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(blocked) = e.downcast_ref::<BlockedAddress>() {
            return Some(blocked.to_string());
        }
        current = e.source();
    }
    None
}
