//! Who the client is: the socket's peer, or, when that peer is a configured reverse proxy, the
//! address its forwarding header names. Forwarding headers from anyone else are ignored: a
//! client could write anything there.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header::FORWARDED, HeaderMap};
use ipnet::IpNet;

use crate::config::ForwardedHeader;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: Option<ForwardedHeader>,
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>, header: ForwardedHeader) -> Self {
        TrustedProxies { header: (!nets.is_empty()).then_some(header), nets }
    }

    /// Whether `peer` is one of the trusted proxies (whose `X-Request-Id` is believed).
    pub fn trusts_peer(&self, peer: IpAddr) -> bool {
        self.trusts(peer)
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.nets.iter().any(|net| net.contains(&addr))
    }

    /// The client of a request that came from `peer` with `headers`: walking the forwarding
    /// chain from the right (the hop nearest to us), the first address that is not a trusted
    /// proxy. Entries left of it were written by the client or its side and are not believed.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let Some(header) = self.header else { return peer };
        if !self.trusts(peer) {
            return peer;
        }
        let hops = match header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
            ForwardedHeader::Forwarded => forwarded(headers),
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            // An unparsable or obfuscated hop ends what can be believed: the last trusted
            // hop is then the best we know.
            let Some(addr) = hop else { break };
            client = addr;
            if !self.trusts(addr) {
                break;
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of every `X-Forwarded-For` line, in order; `None` for one that is not an address.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|line| match line.to_str() {
            Ok(text) => text.split(',').map(|hop| parse_hop(hop.trim())).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` of every element of every `Forwarded` line (RFC 7239 §4), in order.
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(FORWARDED)
        .iter()
        .flat_map(|line| match line.to_str() {
            Ok(text) => text
                .split(',')
                .map(|element| {
                    element
                        .split(';')
                        .filter_map(|pair| pair.trim().split_once('='))
                        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                        .and_then(|(_, value)| parse_hop(value.trim().trim_matches('"')))
                })
                .collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name, v.parse().unwrap());
        }
        map
    }

    fn proxies(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect(), header)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.1"), &headers("x-forwarded-for", &["1.1.1.1"])), ip("10.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        assert_eq!(p.client(ip("192.0.2.9"), &headers("x-forwarded-for", &["1.1.1.1"])), ip("192.0.2.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let spoofed = headers("x-forwarded-for", &["6.6.6.6, 203.0.113.5", "10.1.1.1"]);
        assert_eq!(p.client(ip("10.0.0.1"), &spoofed), ip("203.0.113.5"), "the left-most entry is the client's word");
        let all_proxies = headers("x-forwarded-for", &["10.2.2.2, 10.1.1.1"]);
        assert_eq!(p.client(ip("10.0.0.1"), &all_proxies), ip("10.2.2.2"));
        assert_eq!(p.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"), "no header: the proxy itself");
        let garbage = headers("x-forwarded-for", &["203.0.113.5, not-an-ip"]);
        assert_eq!(p.client(ip("10.0.0.1"), &garbage), ip("10.0.0.1"), "an unreadable hop is not skipped");
    }

    #[test]
    fn forwarded_for_is_read_with_ports_brackets_and_quotes() {
        let p = proxies(&["::1/128", "127.0.0.1/32"], ForwardedHeader::Forwarded);
        let h = headers("forwarded", &[r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#]);
        assert_eq!(p.client(ip("::1"), &h), ip("2001:db8::7"));
        let v4 = headers("forwarded", &["for=198.51.100.2:80;by=127.0.0.1"]);
        assert_eq!(p.client(ip("127.0.0.1"), &v4), ip("198.51.100.2"));
        let xff = headers("x-forwarded-for", &["198.51.100.2"]);
        assert_eq!(p.client(ip("127.0.0.1"), &xff), ip("127.0.0.1"), "only the configured header is read");
        assert_eq!(p.client(ip("::ffff:127.0.0.1"), &v4), ip("198.51.100.2"), "a mapped peer is its IPv4 address");
    }
}
