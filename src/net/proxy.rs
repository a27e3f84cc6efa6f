//! Which requests go through a proxy: those to public hosts, as the usual variables say, and
//! never those to this machine or its link-local network.
//!
//! The managed-identity endpoints (Azure Automation and App Service, the legacy MSI endpoint,
//! Arc's `127.0.0.1:40342`, the instance metadata service at `169.254.169.254`) and a loopback
//! Graph (the simulated tenant, `--graph-url http://127.0.0.1:…`) speak plain http, and their
//! traffic carries the identity secret, the bearer token and the pass. Sent through a proxy it
//! would cross the network in cleartext, and hybrid workers often have a proxy set for the
//! whole machine. So loopback and link-local destinations are always direct, whatever
//! `NO_PROXY` says.
//!
//! The variables are read from the environment captured at start, so the one place that
//! decides is here; reqwest's own reading of the process environment (and, on Windows, of the
//! Internet Options proxy) is switched off. azure_identity's credentials, the instance
//! metadata one included, send through the same client (`auth::azure_identity`), so the rule
//! holds for them too.

use std::net::IpAddr;

use reqwest::{ClientBuilder, NoProxy, Proxy, Url};

use super::environment::Environment;
use super::transport::HttpSetupError;

/// Destinations that are never proxied, in `NO_PROXY` syntax: the loopback and link-local
/// ranges of IPv4 and IPv6, their IPv4-mapped IPv6 forms, the unspecified addresses (which
/// reach this machine), and `localhost` with its subdomains (RFC 6761).
pub const ALWAYS_DIRECT: &str = "localhost, .localhost, localhost., .localhost., \
     127.0.0.0/8, ::1/128, 0.0.0.0/32, ::/128, 169.254.0.0/16, fe80::/10, \
     ::ffff:127.0.0.0/104, ::ffff:169.254.0.0/112, ::ffff:0.0.0.0/128";

/// Whether `url` names this machine or its link-local network, the destinations of
/// [`ALWAYS_DIRECT`]: the only ones a secret may be sent to over plain http.
pub fn is_always_direct(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        Ok(ip) => ip,
        Err(_) => return false,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The proxy variables that are honoured, each name before its lower-case form, as curl reads
/// them: plain-http destinations use `HTTP_PROXY`, https ones `HTTPS_PROXY`, either falls back
/// to `ALL_PROXY`, and `NO_PROXY` lists hosts, domains and address ranges to reach directly.
const HTTP: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const HTTPS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const ALL: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const NO: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// `Proxy::http`, `Proxy::https` or `Proxy::all`: which destinations a proxy serves.
type MakeProxy = fn(Url) -> reqwest::Result<Proxy>;

/// One configured proxy and the variable it came from.
#[derive(Clone, PartialEq, Eq)]
struct Configured {
    variable: &'static str,
    url: String,
}

/// The proxy settings of the job. `Debug` names the variables only: a proxy URL may carry a
/// password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    http: Option<Configured>,
    https: Option<Configured>,
    all: Option<Configured>,
    no_proxy: String,
}

impl std::fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |c: &Option<Configured>| c.as_ref().map(|c| c.variable);
        f.debug_struct("ProxySettings")
            .field("http", &name(&self.http))
            .field("https", &name(&self.https))
            .field("all", &name(&self.all))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxySettings {
    /// The proxy variables of `env`.
    pub fn from_environment(env: &Environment) -> Self {
        let first = |names: [&'static str; 2]| {
            names.into_iter().find_map(|variable| {
                env.get(variable).map(|url| Configured {
                    variable,
                    url: url.to_owned(),
                })
            })
        };
        Self {
            http: first(HTTP),
            https: first(HTTPS),
            all: first(ALL),
            no_proxy: first(NO).map(|c| c.url).unwrap_or_default(),
        }
    }

    /// The `NO_PROXY` list in force: the job host's entries and [`ALWAYS_DIRECT`].
    pub fn direct_destinations(&self) -> String {
        if self.no_proxy.is_empty() {
            ALWAYS_DIRECT.to_owned()
        } else {
            format!("{}, {ALWAYS_DIRECT}", self.no_proxy)
        }
    }

    /// The host names of the configured proxies, which the job connects to itself.
    pub fn proxy_hosts(&self) -> Vec<String> {
        [&self.http, &self.https, &self.all]
            .into_iter()
            .flatten()
            .filter_map(|c| proxy_url(&c.url).ok())
            .filter_map(|url| url.host_str().map(str::to_owned))
            .collect()
    }

    /// Sets these proxies on `builder`, replacing reqwest's own choice. reqwest asks its
    /// proxies in order and takes the first that matches: the scheme's own variable, then
    /// `ALL_PROXY`.
    pub(crate) fn apply(&self, builder: ClientBuilder) -> Result<ClientBuilder, HttpSetupError> {
        let mut builder = builder.no_proxy();
        let direct = || NoProxy::from_string(&self.direct_destinations());
        let rules: [(&Option<Configured>, MakeProxy); 3] = [
            (&self.http, Proxy::http),
            (&self.https, Proxy::https),
            (&self.all, Proxy::all),
        ];
        for (configured, make) in rules {
            let Some(configured) = configured else {
                continue;
            };
            let refused = |reason: &str| HttpSetupError::Proxy {
                variable: configured.variable,
                reason: reason.to_owned(),
            };
            let url = proxy_url(&configured.url).map_err(refused)?;
            let proxy = make(url).map_err(|_| refused("reqwest cannot use it as a proxy"))?;
            builder = builder.proxy(proxy.no_proxy(direct()));
        }
        Ok(builder)
    }
}

/// A proxy URL as curl reads one: `host:port` alone means an http proxy. The reason never
/// quotes the value, which may hold a password.
fn proxy_url(text: &str) -> Result<Url, &'static str> {
    let text = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&text).map_err(|_| "not a proxy URL")?;
    match url.scheme() {
        "http" | "https" | "socks5" | "socks5h" if url.host_str().is_some() => Ok(url),
        "http" | "https" | "socks5" | "socks5h" => Err("the proxy URL has no host"),
        _ => Err("the proxy URL's scheme is not http, https, socks5 or socks5h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> ProxySettings {
        ProxySettings::from_environment(&vars.iter().copied().collect())
    }

    #[test]
    fn upper_case_names_win_and_no_proxy_keeps_the_local_ranges() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("https_proxy", "http://other:1"),
            ("no_proxy", ".corp.example"),
        ]);
        assert_eq!(s.proxy_hosts(), ["proxy.corp"]);
        assert!(
            s.direct_destinations()
                .starts_with(".corp.example, localhost")
        );
        assert!(
            settings(&[])
                .direct_destinations()
                .contains("169.254.0.0/16")
        );
    }

    /// reqwest decides with hyper-util's matcher, built from the proxy URL and the
    /// `NO_PROXY` list we give it; asking that matcher shows what reqwest will do, without
    /// sending anything anywhere.
    fn proxied(settings: &ProxySettings, url: &str) -> bool {
        let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
            .all("http://proxy.corp.example:3128".to_owned())
            .no(settings.direct_destinations())
            .build();
        matcher.intercept(&url.parse().unwrap()).is_some()
    }

    #[test]
    fn this_machine_and_its_link_are_always_direct_and_public_hosts_are_proxied() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://proxy.corp.example:3128"),
            ("NO_PROXY", "intranet.contoso.com, 10.0.0.0/8"),
        ]);
        for direct in [
            "http://127.0.0.1:41234/msi/token",
            "http://127.0.0.1:40342/metadata/identity/oauth2/token",
            "http://localhost:40342/metadata/identity/oauth2/token",
            "http://LOCALHOST:8081/msi/token",
            "http://arc.localhost:1/",
            "http://[::1]:8080/v1.0/users",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://169.254.169.254/metadata/identity/oauth2/token",
            "http://169.254.129.2:8081/msi/token",
            "http://[fe80::1]:80/",
            "http://0.0.0.0:8080/",
            "https://intranet.contoso.com/",
            "https://app.intranet.contoso.com/",
            "https://10.1.2.3/",
        ] {
            assert!(!proxied(&s, direct), "{direct} would go through the proxy");
            let on_this_host = is_always_direct(&Url::parse(direct).unwrap());
            assert_eq!(
                on_this_host,
                !proxied(&ProxySettings::default(), direct),
                "{direct}"
            );
        }
        for public in [
            "https://graph.microsoft.com/v1.0/users",
            "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
            "https://cdn.contoso.com/logo.png",
            "https://169.255.0.1/",
            "https://localhost.evil.example/",
        ] {
            assert!(
                proxied(&s, public),
                "{public} would not go through the proxy"
            );
        }
    }

    #[test]
    fn a_bad_proxy_is_refused_without_quoting_it() {
        let s = settings(&[("HTTP_PROXY", "ftp://user:hunter2@proxy")]);
        let error = s.apply(reqwest::Client::builder()).unwrap_err().to_string();
        assert!(error.contains("HTTP_PROXY"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        let debug = format!("{:?}", settings(&[("ALL_PROXY", "http://u:hunter2@p:1")]));
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            settings(&[("ALL_PROXY", "proxy.corp:8080")])
                .apply(reqwest::Client::builder())
                .is_ok()
        );
    }
}
