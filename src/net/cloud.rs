//! National clouds: where Graph and the Entra authority live, and which Graph URLs we accept.

use std::net::IpAddr;

use reqwest::Url;

/// The Microsoft cloud a tenant lives in. Each has its own Graph and sign-in hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cloud {
    /// The global (commercial) cloud.
    #[default]
    #[value(name = "global")]
    Global,
    /// US Government L4 (GCC High).
    #[value(name = "usgov")]
    UsGov,
    /// US Government L5 (DoD).
    #[value(name = "usgov-dod")]
    UsGovDod,
    /// Microsoft Azure operated by 21Vianet.
    #[value(name = "china")]
    China,
}

impl Cloud {
    /// Graph's base URL, without a trailing slash. Also the token audience.
    pub fn graph_host(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com",
            Self::UsGov => "https://graph.microsoft.us",
            Self::UsGovDod => "https://dod-graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The Entra ID authority host that issues tokens for this cloud.
    pub fn authority_host(self) -> &'static str {
        match self {
            Self::Global => "https://login.microsoftonline.com",
            Self::UsGov | Self::UsGovDod => "https://login.microsoftonline.us",
            Self::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The OAuth scope for application permissions on this cloud's Graph.
    pub fn graph_scope(self) -> String {
        format!("{}/.default", self.graph_host())
    }

    /// Graph's base URL as a parsed URL.
    pub fn graph_url(self) -> Url {
        Url::parse(self.graph_host()).expect("the built-in Graph hosts are valid URLs")
    }
}

/// Checks a Graph base URL given on the command line: `https` anywhere, plain `http` only on
/// a loopback host (the simulator, a local test server), never credentials, query or fragment.
/// The error text is meant for the operator.
pub fn validate_graph_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not contain a query or fragment".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(
                "plain http is allowed only for a loopback host (127.0.0.1, ::1, localhost); use https"
                    .into(),
            );
        }
        other => return Err(format!("scheme {other:?} is not supported; use https")),
    }
    if url.host().is_none() {
        return Err("has no host".into());
    }
    Ok(without_version(url))
}

/// The base without a trailing `/v1.0`: people often paste Graph's versioned root, and the
/// client adds the version itself.
fn without_version(mut url: Url) -> Url {
    let path = url.path().trim_end_matches('/');
    if let Some(base) = path.strip_suffix("/v1.0") {
        let base = base.to_owned();
        url.set_path(&base);
    }
    url
}

/// Whether the URL's host is this machine, so a plaintext token never leaves it.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // IPv6 hosts come bracketed: `[::1]`.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_base_is_accepted() {
        let url = validate_graph_url("http://127.0.0.1:8080/v1.0/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/");
        let url = validate_graph_url("https://graph.example.net/proxy/v1.0").unwrap();
        assert_eq!(url.as_str(), "https://graph.example.net/proxy");
    }

    #[test]
    fn each_cloud_has_its_hosts_and_scope() {
        assert_eq!(
            Cloud::Global.graph_scope(),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            Cloud::UsGovDod.graph_scope(),
            "https://dod-graph.microsoft.us/.default"
        );
        assert_eq!(
            Cloud::UsGovDod.authority_host(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            Cloud::China.graph_host(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
        assert_eq!(
            Cloud::China.authority_host(),
            "https://login.chinacloudapi.cn"
        );
    }

    #[test]
    fn graph_url_accepts_https_and_loopback_http() {
        for ok in [
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            "http://127.0.0.1:8080",
            "http://127.5.6.7:1",
            "http://[::1]:9000/",
            "http://localhost:3000",
            "http://LOCALHOST:3000",
        ] {
            assert!(validate_graph_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn graph_url_refuses_plain_http_elsewhere_and_oddities() {
        for (bad, why) in [
            ("http://graph.microsoft.com", "loopback"),
            ("http://10.0.0.1", "loopback"),
            ("http://localhost.evil.example", "loopback"),
            ("ftp://graph.microsoft.com", "scheme"),
            ("https://user:pw@graph.microsoft.com", "password"),
            ("https://graph.microsoft.com/?x=1", "query"),
            ("graph.microsoft.com", "not a URL"),
        ] {
            let err = validate_graph_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
