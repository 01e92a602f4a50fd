//! Request facts: the global condition keys that come from the HTTP request itself
//! (`aws:SourceIp`, `aws:SecureTransport`, `aws:UserAgent`, `aws:Referer`,
//! `aws:RequestedRegion`), and which proxies may speak for the client.

use std::net::IpAddr;
use std::sync::Arc;

/// Proxies in front of Coffer whose `X-Forwarded-For` and `X-Forwarded-Proto` it believes:
/// where TLS ends, and who the client is, for `aws:SecureTransport` and `aws:SourceIp`.
/// Empty by default: then those headers are ignored, so no client can claim either.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[ipnet::IpNet]>);

impl TrustedProxies {
    pub fn new(networks: Vec<ipnet::IpNet>) -> TrustedProxies {
        TrustedProxies(networks.into())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        // An IPv4 client of a dual-stack listener arrives as `::ffff:a.b.c.d`.
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client's address (`None` when a trusted proxy's header names it unreadably) and
    /// whether it spoke TLS, for a request that came from `peer`.
    fn client(&self, peer: IpAddr, headers: &http::HeaderMap) -> (Option<IpAddr>, bool) {
        if !self.trusts(peer) {
            return (Some(peer.to_canonical()), false);
        }
        let list = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|item| item.trim().to_owned())
                .collect()
        };
        let hops = list("x-forwarded-for");
        let protos = list("x-forwarded-proto");
        let https = |proto: &String| proto.eq_ignore_ascii_case("https");
        if hops.is_empty() {
            // The proxy names no client: it is the client, and its one protocol value says
            // what it was reached over.
            let secure = matches!(protos.as_slice(), [proto] if https(proto));
            return (Some(peer.to_canonical()), secure);
        }
        // Each proxy appends the address it heard from: the client is the last address that
        // is not itself a trusted proxy (anything left of it could be the client's invention).
        let mut client = None;
        for (index, hop) in hops.iter().enumerate().rev() {
            let Some(ip) = hop_address(hop) else {
                // Unreadable: no address rather than a proxy's, so address conditions fail.
                return (None, false);
            };
            client = Some((index, ip));
            if !self.trusts(ip) {
                break;
            }
        }
        let (index, ip) = client.expect("hops is not empty");
        // The protocol counts only when proxies appended one value per hop, so the value at the
        // client's hop was written by the proxy it reached; anything else could be the
        // client's own header passed along.
        let secure = protos.len() == hops.len() && https(&protos[index]);
        (Some(ip), secure)
    }
}

/// An address as proxies write it in `X-Forwarded-For`: bare, or with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The connection a request came over, and the proxies trusted to speak for its client (the
/// listener puts it into each request).
#[derive(Clone, Debug)]
pub struct PeerAddr {
    pub addr: std::net::SocketAddr,
    pub proxies: TrustedProxies,
    /// The connection speaks TLS to Coffer itself.
    pub tls: bool,
}

/// Global condition keys that come from the HTTP request itself.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts {
    pub source_ip: Option<IpAddr>,
    /// Whether the client spoke TLS: to Coffer itself, or to a trusted proxy that says so.
    pub secure_transport: bool,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// The region the request was signed for.
    pub region: Option<String>,
}

impl RequestFacts {
    /// Reads the facts from a request's headers and extensions.
    pub fn from_request(
        headers: &http::HeaderMap,
        extensions: &http::Extensions,
        region: Option<String>,
    ) -> RequestFacts {
        Self::new(headers, extensions.get::<PeerAddr>(), region)
    }

    /// The facts of a request with these headers, over this connection.
    pub fn new(headers: &http::HeaderMap, peer: Option<&PeerAddr>, region: Option<String>) -> RequestFacts {
        let header =
            |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let client = peer.map(|peer| peer.proxies.client(peer.addr.ip(), headers));
        // A trusted proxy says how its client reached it; anyone else reached Coffer itself,
        // over TLS or not.
        let direct_tls = peer.is_some_and(|peer| peer.tls && !peer.proxies.trusts(peer.addr.ip()));
        RequestFacts {
            source_ip: client.and_then(|(ip, _)| ip),
            secure_transport: direct_tls || client.is_some_and(|(_, secure)| secure),
            user_agent: header(http::header::USER_AGENT),
            referer: header(http::header::REFERER),
            region,
        }
    }

    /// The global condition keys these facts give.
    pub fn keys(&self) -> Vec<(&'static str, String)> {
        let secure = if self.secure_transport { "true" } else { "false" };
        let mut keys = vec![("aws:SecureTransport", secure.to_owned())];
        if let Some(ip) = self.source_ip {
            keys.push(("aws:SourceIp", ip.to_string()));
        }
        if let Some(agent) = &self.user_agent {
            keys.push(("aws:UserAgent", agent.clone()));
        }
        if let Some(referer) = &self.referer {
            keys.push(("aws:Referer", referer.clone()));
        }
        if let Some(region) = &self.region {
            keys.push(("aws:RequestedRegion", region.clone()));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn only_trusted_proxies_speak_for_the_client() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let claim = forwarded(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https")]);
        // From the proxy: believed.
        assert_eq!(proxies.client(ip("10.1.1.1"), &claim), (Some(ip("198.51.100.7")), true));
        // A dual-stack listener's view of the same proxy.
        assert_eq!(
            proxies.client(ip("::ffff:10.1.1.1"), &claim),
            (Some(ip("198.51.100.7")), true)
        );
        // Straight from a client: ignored, whatever it says.
        assert_eq!(
            proxies.client(ip("203.0.113.5"), &claim),
            (Some(ip("203.0.113.5")), false)
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.1.1.1"), &claim),
            (Some(ip("10.1.1.1")), false)
        );
        // A chain of proxies: the last hop that is not a proxy is the client; what it put to
        // the left of itself is its own invention.
        let chain = forwarded(&[
            ("x-forwarded-for", "192.0.2.66, 198.51.100.7, 10.2.2.2"),
            ("x-forwarded-proto", "http, https, https"),
        ]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &chain), (Some(ip("198.51.100.7")), true));
        let split = forwarded(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-for", "10.2.2.2:443")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &split).0, Some(ip("198.51.100.7")));
        let port = forwarded(&[("x-forwarded-for", "[2001:db8::7]:4711")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &port).0, Some(ip("2001:db8::7")));
        // A client's own X-Forwarded-Proto passed along by a proxy that only appends to
        // X-Forwarded-For: the values do not line up with the hops, so no TLS.
        let passed_along = forwarded(&[
            ("x-forwarded-for", "203.0.113.9, 198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &passed_along),
            (Some(ip("198.51.100.7")), false)
        );
        // Unreadable: no address at all (an address condition then fails), never the proxy's.
        let junk = forwarded(&[("x-forwarded-for", "unknown"), ("x-forwarded-proto", "https")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &junk), (None, false));
        // No X-Forwarded-For: the proxy is the client, and says what it was reached over.
        let proto_only = forwarded(&[("x-forwarded-proto", "https")]);
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &proto_only),
            (Some(ip("10.1.1.1")), true)
        );
    }
}
