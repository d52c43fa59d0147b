//! Items the export macro expands to. Not part of the author surface.

pub use crate::abi::{PluginMetadata, PluginMod, PluginModRef};
pub use crate::cell::new_cell;
pub use crate::one_shot::new_one_shot_trainer;
pub use crate::tuner::new_tuner;
pub use abi_stable::library::{
    __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
};
pub use abi_stable::prefix_type::PrefixTypeTrait;

use crate::abi::{CellBox, OneShotTrainerBox, TunerBox};
use crate::error::PluginError;
use crate::guard::catch_panic;
use crate::options::{OptionDoc, OptionSet};
use abi_stable::std_types::{RResult, RStr, RString};

/// `options_schema` of a plugin whose options are the [`OptionSet`] `O`.
pub extern "C" fn options_schema<O: OptionSet>() -> RResult<RString, PluginError> {
    catch_panic("the options schema", || {
        Ok(OptionDoc::list_to_json(&O::schema()).into())
    })
    .into()
}

/// `options_schema` of a plugin that declares no options struct.
pub extern "C" fn undeclared_options_schema() -> RResult<RString, PluginError> {
    RResult::ROk("null".into())
}

/// `new_tuner` of a plugin that has no tuner.
pub extern "C" fn unsupported_tuner(_: RStr<'_>) -> RResult<TunerBox, PluginError> {
    RResult::RErr(PluginError::unsupported("this plugin provides no tuner"))
}

/// `new_cell` of a plugin that has no cell.
pub extern "C" fn unsupported_cell(_: RStr<'_>) -> RResult<CellBox, PluginError> {
    RResult::RErr(PluginError::unsupported("this plugin provides no cell"))
}

/// `new_one_shot_trainer` of a plugin that has no one-shot trainer.
pub extern "C" fn unsupported_one_shot_trainer(
    _: RStr<'_>,
) -> RResult<OneShotTrainerBox, PluginError> {
    RResult::RErr(PluginError::unsupported(
        "this plugin provides no one-shot trainer",
    ))
}
