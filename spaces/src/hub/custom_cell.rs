//! `custom-cell`: the cell skeleton of DARTS with every cell taken from a Cell plugin
//! (a fixed network, nothing to search). The plugin's cell gets the options
//! `{"channels": C, "reduction": bool, "nodes": N}`, receives the two preprocessed
//! inputs (`[N, C, H, W]` each) and must return `[N, nodes·C, H', W']` (H' = H/2 in a
//! reduction cell). The host creates the weights the cell declares, so they train,
//! save and load with the rest of the network.

use super::{
    cell_network::{cell_network, cell_options, CellBody},
    SpaceConfig, SpaceEntry, SpaceFamily, SpaceOption,
};
use crate::{
    choice::Builder,
    error::{Result, SpacesError},
    nn::{BoxBlock, Ctx},
};
use archon_plugin_api::{CellClient, Init};
use std::sync::Mutex;
use tch::{nn, Tensor};

/// The custom-cell skeleton.
pub struct CustomCell;

inventory::submit!(SpaceEntry(&CustomCell));

const OPTIONS: [SpaceOption; 5] = cell_options("4");

impl SpaceFamily for CustomCell {
    fn name(&self) -> &'static str {
        "custom-cell"
    }
    fn description(&self) -> &'static str {
        "the DARTS skeleton with every cell from a Cell plugin (--cell-plugin NAME)"
    }
    fn options(&self) -> &'static [SpaceOption] {
        &OPTIONS
    }
    fn build(&self, p: &nn::Path, _: &Builder, cfg: &SpaceConfig) -> Result<BoxBlock> {
        let plugin = cfg
            .cell_plugin
            .clone()
            .ok_or_else(|| SpacesError::Config("space custom-cell needs a cell plugin: give --cell-plugin NAME (see `archon plugins list`)".into()))?;
        cell_network(self, p, cfg, 4, |cp, spec| {
            let options = serde_json::json!({"channels": spec.c, "reduction": spec.reduction, "nodes": spec.nodes}).to_string();
            let client = (plugin.create)(&options)
                .map_err(|e| SpacesError::Config(format!("cell plugin {:?}: {e}", plugin.name)))?;
            let specs = client
                .parameters()
                .map_err(|e| SpacesError::Config(format!("cell plugin {:?}: {e}", plugin.name)))?;
            let body = cp / "plugin";
            let params = specs
                .iter()
                .map(|s| {
                    let init = match s.init {
                        Init::Kaiming => nn::init::DEFAULT_KAIMING_UNIFORM,
                        Init::Zeros => nn::Init::Const(0.0),
                        Init::Ones => nn::Init::Const(1.0),
                    };
                    body.var(&s.name, &s.shape, init)
                })
                .collect();
            Ok(Box::new(PluginCell {
                name: plugin.name.clone(),
                client: Mutex::new(client),
                params,
                expected_channels: spec.nodes * spec.c,
                reduction: spec.reduction,
            }) as Box<dyn CellBody>)
        })
    }
}

/// A cell computed by a plugin, with host-owned parameters.
struct PluginCell {
    name: String,
    client: Mutex<CellClient>,
    params: Vec<Tensor>,
    expected_channels: i64,
    reduction: bool,
}

impl std::fmt::Debug for PluginCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PluginCell({:?})", self.name)
    }
}

impl CellBody for PluginCell {
    fn forward(&self, inputs: [Tensor; 2], _ctx: &Ctx) -> Result<Tensor> {
        let params: Vec<&Tensor> = self.params.iter().collect();
        let mut client = self
            .client
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let out = client
            .forward(&[&inputs[0], &inputs[1]], &params)
            .map_err(|e| SpacesError::Config(format!("cell plugin {:?} failed: {e}", self.name)))?;
        let (size, input) = (out.size(), inputs[0].size());
        let want_hw = if self.reduction {
            [(input[2] + 1) / 2, (input[3] + 1) / 2]
        } else {
            [input[2], input[3]]
        };
        if !(size.len() == 4 && size[1] == self.expected_channels && size[2..] == want_hw) {
            return Err(SpacesError::Config(format!(
                "cell plugin {:?} returned shape {size:?}; the skeleton needs [N, {}, {}, {}]",
                self.name, self.expected_channels, want_hw[0], want_hw[1]
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hub::CellPlugin, Supernet};
    use archon_plugin_api::{Cell, Options, PluginError};
    use std::sync::Arc;
    use tch::{Device, Kind};

    /// A cell plugin that fails in every forward pass.
    struct Failing;

    impl Cell for Failing {
        fn new(_: &Options) -> archon_plugin_api::Result<Self> {
            Ok(Failing)
        }
        fn describe(&self) -> serde_json::Value {
            serde_json::json!({"name": "failing"})
        }
        fn forward(&mut self, _: &[Tensor], _: &[Tensor]) -> archon_plugin_api::Result<Tensor> {
            Err(PluginError::internal("no luck today"))
        }
    }

    /// A cell plugin that returns its first input: the wrong shape (the one cell of a
    /// one-cell network is a reduction cell).
    struct WrongShape;

    impl Cell for WrongShape {
        fn new(_: &Options) -> archon_plugin_api::Result<Self> {
            Ok(WrongShape)
        }
        fn describe(&self) -> serde_json::Value {
            serde_json::json!({"name": "wrong-shape"})
        }
        fn forward(
            &mut self,
            inputs: &[Tensor],
            _: &[Tensor],
        ) -> archon_plugin_api::Result<Tensor> {
            Ok(inputs[0].shallow_clone())
        }
    }

    /// The error of one forward pass of a one-cell custom-cell network around `C`.
    fn forward_error<C: Cell>() -> String {
        let cfg = SpaceConfig {
            cell_plugin: Some(CellPlugin {
                name: "broken".into(),
                create: Arc::new(|options: &str| CellClient::in_process::<C>(options)),
            }),
            options: Options::from_json_str(r#"{"width": 4, "cells": 1, "nodes": 2}"#).unwrap(),
            ..SpaceConfig::default()
        };
        let net = Supernet::build(&CustomCell, &cfg, Device::Cpu).unwrap();
        let xs = Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu));
        net.forward(&xs, false).unwrap_err().to_string()
    }

    #[test]
    fn a_failing_cell_plugin_is_an_error_not_a_panic() {
        let e = forward_error::<Failing>();
        assert!(
            e.starts_with("forward pass failed: cell plugin \"broken\" failed: no luck today"),
            "{e}"
        );
        let e = forward_error::<WrongShape>();
        assert!(
            e.starts_with("forward pass failed: cell plugin \"broken\" returned shape [2, 8, 28, 28]; the skeleton needs [N, 16, 14, 14]"),
            "{e}"
        );
    }
}
