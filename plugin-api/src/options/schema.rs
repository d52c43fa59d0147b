//! Typed plugin options: a struct declared once with [`plugin_options!`] is the single
//! source of its keys, types, defaults and docs. It reads an [`Options`] object
//! (rejecting unknown keys with an error naming the key and the plugin) and describes
//! itself as an options schema, which the plugin exports so that
//! `archon plugins info NAME` can list every option.

use super::{OptionValue, Options};
use crate::error::{PluginError, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One option as a plugin describes it: its key, type, default and a one-line doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDoc {
    /// The key in the options object (`search.options` / `tuner.options`).
    pub key: String,
    /// The type, e.g. `whole number ≥ 0`, `"additive" | "none"`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The default; `null` when the option has none (absent means "not set").
    pub default: Value,
    /// What the option does, in one line.
    pub doc: String,
}

impl OptionDoc {
    /// The doc of option `key` of type `T` with default `default`; `doc` is the
    /// lines of its doc comment, joined into one line.
    pub fn new<T: OptionValue>(key: &str, default: &T, doc: &[&str]) -> Self {
        OptionDoc {
            key: key.into(),
            type_name: T::type_name(),
            default: default.to_json(),
            doc: doc
                .iter()
                .flat_map(|line| line.split_whitespace())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// A list of docs as JSON text (what crosses the plugin boundary).
    pub fn list_to_json(docs: &[OptionDoc]) -> String {
        serde_json::to_string(docs).unwrap_or_else(|_| "[]".into())
    }

    /// Parses [`list_to_json`](Self::list_to_json)'s text.
    pub fn list_from_json(text: &str) -> Result<Vec<OptionDoc>> {
        serde_json::from_str(text).map_err(|e| {
            PluginError::internal(format!("the plugin's options schema is malformed: {e}"))
        })
    }
}

/// A set of options: a plugin's whole options struct or a group of options that
/// several plugins share (flattened into theirs). Declare one with
/// [`plugin_options!`]; the `Default` is the defaults.
pub trait OptionSet: Default {
    /// Appends the doc of every option, with its default taken from `self`.
    fn describe(&self, out: &mut Vec<OptionDoc>);

    /// Reads every option of the set that `options` holds (a `null` counts as absent)
    /// over the values in `self`. Keys that belong to no option are not checked here.
    fn read(&mut self, options: &Options) -> Result<()>;

    /// The docs of every option, with the defaults.
    fn schema() -> Vec<OptionDoc> {
        let mut out = Vec::new();
        Self::default().describe(&mut out);
        out
    }

    /// The defaults overridden by `options`. A key that is no option of the set is an
    /// error naming the key and `plugin` (and listing the known keys); so is a value
    /// of the wrong type, naming the key.
    fn from_options(options: &Options, plugin: &str) -> Result<Self> {
        let schema = Self::schema();
        let keys: Vec<&str> = schema.iter().map(|d| d.key.as_str()).collect();
        options.deny_unknown(plugin, &keys)?;
        let mut set = Self::default();
        set.read(options)?;
        Ok(set)
    }
}

/// Declares a typed options struct: per field its doc comment, type and default.
/// Generates the struct, its `Default` (the defaults) and its [`OptionSet`] impl.
/// Fields marked `#[flatten]` (after the plain ones) are groups of options — types
/// that are [`OptionSet`]s themselves, e.g. options several plugins share — whose
/// keys sit at the same level as the others.
///
/// ```
/// use archon_plugin_api::{OptionSet, Options};
///
/// archon_plugin_api::plugin_options! {
///     /// The options of `my-tuner`.
///     pub struct MyOptions {
///         /// The generator's seed (drawn from the OS when absent).
///         pub seed: Option<u64> = None,
///         /// Probability of a random proposal.
///         pub restart: f64 = 0.1,
///     }
/// }
///
/// let options = Options::from_json_str(r#"{"restart": 0.5}"#).unwrap();
/// let o = MyOptions::from_options(&options, "my-tuner").unwrap();
/// assert_eq!((o.seed, o.restart), (None, 0.5));
/// let typo = Options::from_json_str(r#"{"restrat": 0.5}"#).unwrap();
/// let err = MyOptions::from_options(&typo, "my-tuner").unwrap_err();
/// assert!(err.message().contains("my-tuner has no option \"restrat\""));
/// ```
#[macro_export]
macro_rules! plugin_options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $fvis:vis $field:ident : $ty:ty = $default:expr,
            )*
            $(
                #[flatten]
                $gvis:vis $group:ident : $gty:ty = $gdefault:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])+ $fvis $field: $ty, )*
            $( #[doc = "A group of options, flattened into these."] $gvis $group: $gty, )*
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                $name {
                    $( $field: $default, )*
                    $( $group: $gdefault, )*
                }
            }
        }

        impl $crate::OptionSet for $name {
            fn describe(&self, out: &mut ::std::vec::Vec<$crate::OptionDoc>) {
                $(
                    out.push($crate::OptionDoc::new::<$ty>(
                        stringify!($field),
                        &self.$field,
                        &[$($doc),+],
                    ));
                )*
                $( $crate::OptionSet::describe(&self.$group, out); )*
            }

            fn read(&mut self, options: &$crate::Options) -> $crate::Result<()> {
                $(
                    if let Some(v) = options.value(stringify!($field)) {
                        self.$field =
                            <$ty as $crate::OptionValue>::read(stringify!($field), v)?;
                    }
                )*
                $( $crate::OptionSet::read(&mut self.$group, options)?; )*
                Ok(())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::{OptionDoc, OptionSet, Options};
    use serde_json::json;

    crate::plugin_options! {
        /// A shared group.
        pub struct Group {
            /// Learning rate.
            pub lr: f64 = 3e-4,
        }
    }

    crate::plugin_options! {
        /// A plugin's options.
        pub struct Mine {
            /// How many
            /// (a doc over two lines).
            pub count: u64 = 5,
            /// The cap, if any.
            pub cap: Option<usize> = None,
            /// Stages.
            pub cells: Vec<u64> = vec![5, 11],
            #[flatten]
            pub group: Group = Group { lr: 6e-4 },
        }
    }

    fn opts(text: &str) -> Options {
        Options::from_json_str(text).unwrap()
    }

    #[test]
    fn defaults_keys_and_docs_come_from_one_declaration() {
        let schema = Mine::schema();
        let keys: Vec<&str> = schema.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["count", "cap", "cells", "lr"]);
        assert_eq!(schema[0].doc, "How many (a doc over two lines).");
        assert_eq!(schema[0].type_name, "whole number ≥ 0");
        assert_eq!(schema[0].default, json!(5));
        assert_eq!(schema[1].default, json!(null));
        assert_eq!(schema[2].default, json!([5, 11]));
        assert_eq!(schema[3].default, json!(6e-4), "the plugin's own default");
        let text = OptionDoc::list_to_json(&schema);
        assert_eq!(OptionDoc::list_from_json(&text).unwrap(), schema);
    }

    #[test]
    fn options_override_defaults_and_errors_name_key_and_plugin() {
        let m = Mine::from_options(&opts(r#"{"cap": 2, "lr": 0.1, "count": null}"#), "p").unwrap();
        assert_eq!(
            m,
            Mine {
                count: 5,
                cap: Some(2),
                cells: vec![5, 11],
                group: Group { lr: 0.1 }
            }
        );
        assert_eq!(
            Mine::from_options(&opts(r#"{"lrr": 1}"#), "p")
                .unwrap_err()
                .message(),
            "options: p has no option \"lrr\" (known: count, cap, cells, lr)"
        );
        assert!(Mine::from_options(&opts(r#"{"cells": "five"}"#), "p")
            .unwrap_err()
            .message()
            .starts_with("options: \"cells\" must be a non-empty list"));
    }
}
