//! The hub of published search spaces. Each space registers itself with `inventory`;
//! [`spaces`] lists them and [`space`] finds one by name.

mod cell_network;
mod custom_cell;
mod darts;
mod enas_macro;
mod nas_bench_201;
mod nds;
mod proxylessnas;
mod resnet;
mod shufflenet;
mod textnas;

#[cfg(test)]
mod tests;

pub use nas_bench_201::{
    arch_string as nb201_arch_string, ops as nb201_ops,
    parse_arch_string as nb201_parse_arch_string,
};

use crate::{
    choice::Builder,
    error::{Result, SpacesError},
    nn::BoxBlock,
};
use archon_plugin_api::{CellClient, Options, PluginError};
use tch::nn;

/// Creates one cell of a cell plugin from its options (JSON text).
pub type CellConstructor =
    dyn Fn(&str) -> std::result::Result<CellClient, PluginError> + Send + Sync;

/// A cell plugin to drop into the cell skeleton (space `custom-cell`): its name and
/// its constructor.
#[derive(Clone)]
pub struct CellPlugin {
    /// The plugin's name (for messages).
    pub name: String,
    /// Creates one cell.
    pub create: std::sync::Arc<CellConstructor>,
}

impl std::fmt::Debug for CellPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CellPlugin({:?})", self.name)
    }
}

/// What a space is built for: the data's shape and the space's own options.
#[derive(Debug, Clone)]
pub struct SpaceConfig {
    /// Image channels (1 for Fashion-MNIST).
    pub input_channels: i64,
    /// Image height and width.
    pub image_size: i64,
    /// Number of classes.
    pub num_classes: i64,
    /// Vocabulary size, for text spaces (0 for image data).
    pub vocab_size: i64,
    /// The cell plugin for `custom-cell`.
    pub cell_plugin: Option<CellPlugin>,
    /// The space's options (see [`SpaceFamily::options`]).
    pub options: Options,
}

impl Default for SpaceConfig {
    /// Fashion-MNIST (1×28×28, 10 classes) with default options.
    fn default() -> Self {
        SpaceConfig {
            input_channels: 1,
            image_size: 28,
            num_classes: 10,
            vocab_size: 0,
            cell_plugin: None,
            options: Options::default(),
        }
    }
}

/// One option of a space, for `archon space show` and error messages.
#[derive(Debug, Clone, Copy)]
pub struct SpaceOption {
    /// Its key.
    pub name: &'static str,
    /// Its default, as text.
    pub default: &'static str,
    /// What it sets.
    pub help: &'static str,
    /// Whether it changes only how the networks train, not which architectures the
    /// space has (e.g. learnable batch-norm scales): a ground-truth table made with
    /// one value still judges a search made with another.
    pub training_only: bool,
}

/// A published search space.
pub trait SpaceFamily: Sync {
    /// Its name in configs and on the command line.
    fn name(&self) -> &'static str;
    /// One line on what it is.
    fn description(&self) -> &'static str;
    /// The options it takes.
    fn options(&self) -> &'static [SpaceOption];
    /// Builds the network under `p`: a supernet or a child, as `b` says. The output
    /// is the class logits `[N, num_classes]` for an input `[N, C, H, W]`.
    fn build(&self, p: &nn::Path, b: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock>;
    /// The architecture written as its paper writes it (a DARTS `Genotype(...)` for
    /// cell spaces), if the space has such a form.
    fn genotype(&self, _architecture: &serde_json::Value) -> Option<String> {
        None
    }
    /// Whether the space repeats cells whose decisions all cells of a type share (the
    /// DARTS family, NAS-Bench-201), rather than deciding layer by layer.
    fn cell_based(&self) -> bool {
        false
    }
}

/// A space in the hub (what `inventory` collects).
pub struct SpaceEntry(pub &'static dyn SpaceFamily);

inventory::collect!(SpaceEntry);

/// Every space in the hub, by name.
pub fn spaces() -> Vec<&'static dyn SpaceFamily> {
    let mut all: Vec<&'static dyn SpaceFamily> = inventory::iter::<SpaceEntry>
        .into_iter()
        .map(|e| e.0)
        .collect();
    all.sort_by_key(|s| s.name());
    all
}

/// The space called `name`.
pub fn space(name: &str) -> Result<&'static dyn SpaceFamily> {
    let all = spaces();
    all.iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            SpacesError::Config(format!(
                "no search space named {name:?} (known: {})",
                all.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// Checks a space's options: no unknown keys. Returns the options.
pub(crate) fn check_options<'a>(
    family: &dyn SpaceFamily,
    cfg: &'a SpaceConfig,
) -> Result<&'a Options> {
    let known: Vec<&str> = family.options().iter().map(|o| o.name).collect();
    cfg.options
        .deny_unknown(&format!("space {}", family.name()), &known)?;
    Ok(&cfg.options)
}

/// A whole-number option with a default and a minimum.
pub(crate) fn int_option(
    o: &Options,
    space: &str,
    key: &str,
    default: i64,
    min: i64,
) -> Result<i64> {
    let v = o.u64(key)?.map(|v| v as i64).unwrap_or(default);
    if v < min {
        return Err(SpacesError::Config(format!(
            "space {space}: option \"{key}\" must be at least {min}, found {v}"
        )));
    }
    Ok(v)
}
