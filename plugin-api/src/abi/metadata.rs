//! What a plugin says about itself. Returned by the first call the host makes.

use crate::version::{LIBTORCH_VERSION, PLUGIN_API_VERSION, TCH_VERSION};
use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};

/// The kinds of plugin archon knows.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// A classic (multi-trial) search strategy.
    Tuner = 0,
    /// A one-shot search over a host-owned supernet.
    OneShotTrainer = 1,
    /// A search-space cell for the space hub.
    Cell = 2,
}

impl PluginKind {
    /// The kind's name as the CLI shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Tuner => "tuner",
            PluginKind::OneShotTrainer => "one-shot",
            PluginKind::Cell => "cell",
        }
    }
}

/// A plugin's self-description. Owned by the caller of `metadata()`; its strings are
/// freed by whichever side drops it.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct PluginMetadata {
    /// The plugin's name, unique among loaded plugins (an experiment names it).
    pub name: RString,
    /// The plugin's own version.
    pub version: RString,
    /// One line on what it does.
    pub description: RString,
    /// The kinds it provides.
    pub kinds: RVec<PluginKind>,
    /// The archon-plugin-api version it was built against.
    pub plugin_api_version: RString,
    /// The tch version it was built against.
    pub tch_version: RString,
    /// The libtorch version it was built against.
    pub libtorch_version: RString,
}

impl PluginMetadata {
    /// Metadata for a plugin built against this plugin-api (the versions are filled in).
    pub fn new(name: &str, version: &str, description: &str, kinds: &[PluginKind]) -> Self {
        PluginMetadata {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            kinds: kinds.iter().copied().collect(),
            plugin_api_version: PLUGIN_API_VERSION.into(),
            tch_version: TCH_VERSION.into(),
            libtorch_version: LIBTORCH_VERSION.into(),
        }
    }
}
