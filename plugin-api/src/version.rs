//! What a plugin was built against, and the rule for whether a host accepts it.
//!
//! Every plugin embeds three versions at build time: the plugin-api semver, the tch
//! version and the libtorch version. The host loads a plugin only if its plugin-api
//! version is semver-compatible with the host's and both tensor-layer versions are
//! exactly the host's (the C++ ABI of libtorch is not stable across releases).

use semver::Version;

/// The plugin-api version this crate is (and a plugin built against it reports).
pub const PLUGIN_API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The tch version plugin-api is pinned to (`tch = "=0.26.0"` in the workspace).
pub const TCH_VERSION: &str = "0.26.0";

/// The libtorch version plugin-api was compiled against (read by build.rs from the
/// installed torch wheel, local part such as `+cu130` removed).
pub const LIBTORCH_VERSION: &str = env!("ARCHON_LIBTORCH_VERSION");

/// Why a plugin built against other versions cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Which version disagrees: `plugin-api`, `tch` or `libtorch`.
    pub what: &'static str,
    /// What the plugin was built against.
    pub plugin: String,
    /// What this host has.
    pub host: String,
}

impl std::fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.what {
            "plugin-api" => write!(
                f,
                "built against archon-plugin-api {}, but this archon has {}; rebuild the plugin against archon-plugin-api \"^{}\"",
                self.plugin, self.host, self.host
            ),
            what => write!(
                f,
                "built against {what} {}, but this archon uses {what} {}; rebuild the plugin with tch {} / libtorch {}",
                self.plugin, self.host, TCH_VERSION, LIBTORCH_VERSION
            ),
        }
    }
}

/// Whether a plugin built against plugin-api `plugin` can be loaded by a host with
/// plugin-api `host`: cargo's caret rule (`^plugin` matches `host`), so the host is
/// at least as new as the plugin within one compatible release line.
pub fn api_compatible(plugin: &str, host: &str) -> bool {
    let (Ok(p), Ok(h)) = (Version::parse(plugin), Version::parse(host)) else {
        return false;
    };
    let req = semver::VersionReq {
        comparators: vec![semver::Comparator {
            op: semver::Op::Caret,
            major: p.major,
            minor: Some(p.minor),
            patch: Some(p.patch),
            pre: p.pre.clone(),
        }],
    };
    req.matches(&h)
}

/// Checks a plugin's three build versions against this host's.
pub fn check_compatibility(
    plugin_api: &str,
    tch: &str,
    libtorch: &str,
) -> Result<(), Incompatibility> {
    if !api_compatible(plugin_api, PLUGIN_API_VERSION) {
        return Err(Incompatibility {
            what: "plugin-api",
            plugin: plugin_api.into(),
            host: PLUGIN_API_VERSION.into(),
        });
    }
    for (what, plugin, host) in [
        ("tch", tch, TCH_VERSION),
        ("libtorch", libtorch, LIBTORCH_VERSION),
    ] {
        if plugin != host {
            return Err(Incompatibility {
                what,
                plugin: plugin.into(),
                host: host.into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_rule() {
        assert!(api_compatible("0.1.0", "0.1.3"));
        assert!(!api_compatible("0.1.4", "0.1.3"));
        assert!(!api_compatible("0.2.0", "0.1.3"));
        assert!(!api_compatible("0.0.3", "0.1.0"));
        assert!(api_compatible("1.2.0", "1.5.0"));
        assert!(!api_compatible("2.0.0", "1.5.0"));
        assert!(!api_compatible("garbage", "1.5.0"));
    }

    #[test]
    fn plugins_of_an_older_release_line_are_refused() {
        // 0.2 added the options schema to the root module and changed the one-shot
        // contract: a plugin built against 0.1.x must be rebuilt, not half-loaded.
        let host = Version::parse(PLUGIN_API_VERSION).unwrap();
        assert!((host.major, host.minor) >= (0, 2), "{host}");
        assert!(!api_compatible("0.1.0", PLUGIN_API_VERSION));
        assert!(api_compatible(
            &format!("{}.{}.0", host.major, host.minor),
            PLUGIN_API_VERSION
        ));
    }

    #[test]
    fn tensor_layer_must_match_exactly() {
        let err = check_compatibility(PLUGIN_API_VERSION, "0.25.0", LIBTORCH_VERSION).unwrap_err();
        assert_eq!(err.what, "tch");
        assert!(err.to_string().contains("tch 0.25.0"), "{err}");
        assert!(check_compatibility(PLUGIN_API_VERSION, TCH_VERSION, LIBTORCH_VERSION).is_ok());
    }
}
