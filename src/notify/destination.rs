//! Which addresses a branding image may be downloaded from: public ones only.
//!
//! A branding URL names a host the job then connects to from inside the job host's network.
//! Pointed at `localhost`, a private range or the link-local metadata service, it would make
//! the job probe (and, through its warnings, report on) services that only the host can
//! reach. So the name is resolved first and refused unless every address is public, and the
//! connection goes to exactly the addresses that were checked: the check runs inside the
//! client's own resolver ([`VettingResolver`]), so a second lookup that answers differently
//! (DNS rebinding) is never consulted. A URL that names an address directly is checked before
//! any request ([`check_literal`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Where branding downloads may connect.
///
/// The job itself only ever uses [`Destinations::Public`]: no flag, variable or input of the
/// binary selects anything else. [`Destinations::PublicOrLoopback`] exists for tests that
/// serve images from a loopback HTTPS server and call the library directly; an operator
/// cannot reach it, because only code that links the library can pass it. (An escape hatch
/// behind an environment variable or a resolver override would be one an operator could set.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destinations {
    /// Public unicast addresses only.
    Public,
    /// Public addresses and this machine's loopback, for tests of the download rules.
    PublicOrLoopback,
}

impl Destinations {
    /// Whether a connection to `ip` is allowed.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == Self::PublicOrLoopback && canonical(ip).is_loopback())
    }
}

/// Why a host was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationRefused {
    /// The host is, or resolves to, an address that is not public. The message leaves the
    /// address out: it would tell whoever reads the log what an internal name resolves to.
    #[error(
        "the host is not at a public address (loopback, private, link-local, shared, unique-local and unspecified ones are refused)"
    )]
    NotPublic(IpAddr),
    /// The name did not resolve.
    #[error("the name does not resolve ({0})")]
    Unresolved(String),
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918), link-local,
/// shared (CGNAT, 100.64.0.0/10), unique-local (fc00::/7), unspecified, broadcast, multicast
/// or reserved, also when written as an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6
/// address.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// The IPv4 address an IPv6 form stands for, when it stands for one; otherwise `ip`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and
/// 6to4 `2002:AABB:CCDD::` all reach an IPv4 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        _ => None,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || ip.is_multicast()
        || a >= 240) // reserved, and the broadcast address
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated, still routed internally)
        || ip.is_multicast())
}

/// Refuses a URL whose host is an address literal that `destinations` does not allow. Names
/// are checked by [`VettingResolver`] when the client resolves them.
pub fn check_literal(
    url: &reqwest::Url,
    destinations: Destinations,
) -> Result<(), DestinationRefused> {
    let host = url.host_str().unwrap_or_default();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) if !destinations.allows(ip) => Err(DestinationRefused::NotPublic(ip)),
        _ => Ok(()),
    }
}

/// Resolves `name` and returns its addresses if every one is allowed.
pub async fn resolve_vetted(
    name: &str,
    destinations: Destinations,
) -> Result<Vec<SocketAddr>, DestinationRefused> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, 0))
        .await
        .map_err(|e| DestinationRefused::Unresolved(e.to_string()))?
        .collect();
    if addresses.is_empty() {
        return Err(DestinationRefused::Unresolved("no address".into()));
    }
    // One address that is not public refuses the name: a name that mixes them is no CDN.
    match addresses.iter().find(|a| !destinations.allows(a.ip())) {
        Some(refused) => Err(DestinationRefused::NotPublic(refused.ip())),
        None => Ok(addresses),
    }
}

/// The branding client's resolver: the system's lookup, then [`resolve_vetted`]'s rule. The
/// configured proxies' own names are exempt, since the job connects to them and they usually
/// sit in a private range; where a proxy carries a download, the proxy resolves the image's
/// host, which [`resolve_vetted`] has checked just before.
pub struct VettingResolver {
    destinations: Destinations,
    proxy_hosts: Arc<[String]>,
}

impl VettingResolver {
    /// A resolver that allows `destinations`, and any address for the names in `proxy_hosts`.
    pub fn new(destinations: Destinations, proxy_hosts: Vec<String>) -> Self {
        Self {
            destinations,
            proxy_hosts: proxy_hosts.into(),
        }
    }
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = self.destinations;
        let exempt = self
            .proxy_hosts
            .iter()
            .any(|p| p.eq_ignore_ascii_case(name.as_str()));
        Box::pin(async move {
            let addresses = if exempt {
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect()
            } else {
                resolve_vetted(name.as_str(), destinations).await?
            };
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.170",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!is_public(ip), "{refused} counted as public");
        }
        for public in [
            "20.190.128.1",
            "52.1.2.3",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2603:1026::1",
            "::ffff:20.190.128.1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} refused");
        }
    }

    /// The resolver is what the connection uses, so this check cannot be raced by a second
    /// lookup; the proxy's own name is the one exception.
    #[tokio::test]
    async fn the_resolver_refuses_names_of_this_machine_except_the_proxy() {
        let strict = VettingResolver::new(Destinations::Public, vec![]);
        let refused = strict.resolve("localhost".parse().unwrap()).await;
        assert!(refused.is_err());
        let proxied = VettingResolver::new(Destinations::Public, vec!["LocalHost".into()]);
        let addresses: Vec<SocketAddr> = proxied
            .resolve("localhost".parse().unwrap())
            .await
            .map_err(|e| e.to_string())
            .unwrap()
            .collect();
        assert!(addresses.iter().all(|a| a.ip().is_loopback()) && !addresses.is_empty());
    }

    #[test]
    fn loopback_is_allowed_only_when_a_test_asks() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(!Destinations::Public.allows(ip));
        assert!(Destinations::PublicOrLoopback.allows(ip));
        assert!(Destinations::PublicOrLoopback.allows(mapped));
        assert!(!Destinations::PublicOrLoopback.allows(private));
    }
}
