//! The root module: the one symbol a plugin library exports.

use super::{metadata::PluginMetadata, tuner::TunerBox, CellBox, OneShotTrainerBox};
use crate::error::PluginError;
use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RString},
    StableAbi,
};

/// The exported symbol's name (abi_stable's, fixed within abi_stable 0.11).
/// `export_plugin!` spells it out; a test checks the two agree.
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// The root module of an archon plugin.
///
/// Fields up to `new_tuner` are the prefix every plugin has; later fields may be absent
/// in plugins built against an older plugin-api (their accessors return `None`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(option))]
pub struct PluginMod {
    /// The version probe: called first, before anything else; never fails.
    pub metadata: extern "C" fn() -> PluginMetadata,
    /// Creates a tuner from its options (a JSON object as text).
    #[sabi(last_prefix_field)]
    pub new_tuner: extern "C" fn(options: RStr<'_>) -> RResult<TunerBox, PluginError>,
    /// Creates a cell from its options (a JSON object as text).
    pub new_cell: extern "C" fn(options: RStr<'_>) -> RResult<CellBox, PluginError>,
    /// Creates a one-shot trainer from its options (a JSON object as text).
    pub new_one_shot_trainer:
        extern "C" fn(options: RStr<'_>) -> RResult<OneShotTrainerBox, PluginError>,
    /// The plugin's options schema: a JSON list of `{"key", "type", "default", "doc"}`
    /// ([`OptionDoc`](crate::OptionDoc)), or `null` when the plugin declares none.
    /// Added in plugin-api 0.2 (absent in older plugins).
    pub options_schema: extern "C" fn() -> RResult<RString, PluginError>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "archon_plugin";
    const NAME: &'static str = "archon plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            super::ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
