//! One option's value: how it is read from JSON, what it must be (for error messages
//! and `archon plugins info`), and how its default is shown.

use crate::error::{PluginError, Result};
use serde_json::{Map, Value};

/// A type an option can have. Implemented for whole numbers, numbers, booleans,
/// strings, lists, tables (JSON objects) and `Option<T>`; a string enum gets it from
/// [`option_enum!`](crate::option_enum).
pub trait OptionValue: Sized {
    /// The type as `archon plugins info` shows it, e.g. `whole number ≥ 0`.
    fn type_name() -> String;

    /// What a value must be, as an error message says it: "must be {expected}".
    fn expected() -> String {
        format!("a {}", Self::type_name())
    }

    /// The value of `v`, or `None` when `v` is not one.
    fn from_json(v: &Value) -> Option<Self>;

    /// The value as JSON (for the default shown in the options schema).
    fn to_json(&self) -> Value;

    /// Reads option `key` from `v`; the error names the option and what it must be.
    fn read(key: &str, v: &Value) -> Result<Self> {
        Self::from_json(v).ok_or_else(|| {
            PluginError::invalid_input(format!(
                "options: \"{key}\" must be {}, found {v}",
                Self::expected()
            ))
        })
    }
}

macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            fn type_name() -> String {
                "whole number ≥ 0".into()
            }
            fn from_json(v: &Value) -> Option<Self> {
                v.as_u64().and_then(|n| <$t>::try_from(n).ok())
            }
            fn to_json(&self) -> Value {
                Value::from(*self as u64)
            }
        }
    )*};
}

whole_numbers!(u8, u16, u32, u64, usize);

impl OptionValue for f64 {
    fn type_name() -> String {
        "number".into()
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_f64()
    }
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl OptionValue for bool {
    fn type_name() -> String {
        "true or false".into()
    }
    fn expected() -> String {
        Self::type_name()
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_bool()
    }
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl OptionValue for String {
    fn type_name() -> String {
        "string".into()
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

/// A table of further options (a JSON object, a TOML table).
impl OptionValue for Map<String, Value> {
    fn type_name() -> String {
        "table".into()
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_object().cloned()
    }
    fn to_json(&self) -> Value {
        Value::Object(self.clone())
    }
}

/// A non-empty list.
impl<T: OptionValue> OptionValue for Vec<T> {
    fn type_name() -> String {
        format!("list of ({})", T::type_name())
    }
    fn expected() -> String {
        format!("a non-empty list of ({})", T::type_name())
    }
    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Array(items) if !items.is_empty() => items.iter().map(T::from_json).collect(),
            _ => None,
        }
    }
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(T::to_json).collect())
    }
}

/// An option without a default: absent (or `null`) is `None`.
impl<T: OptionValue> OptionValue for Option<T> {
    fn type_name() -> String {
        T::type_name()
    }
    fn expected() -> String {
        T::expected()
    }
    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_json(v).map(Some),
        }
    }
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_json)
    }
}

/// Declares a string enum usable as an option: `"a"`, `"b"`, … in JSON, with an error
/// listing the allowed values.
///
/// ```
/// archon_plugin_api::option_enum! {
///     /// Whether a larger metric is better.
///     pub enum OptimizeMode {
///         /// Larger is better.
///         Maximize = "maximize",
///         /// Smaller is better.
///         Minimize = "minimize",
///     }
/// }
/// assert_eq!(OptimizeMode::Minimize.as_str(), "minimize");
/// ```
#[macro_export]
macro_rules! option_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The value as it is written in options.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl $crate::OptionValue for $name {
            fn type_name() -> ::std::string::String {
                [$( concat!("\"", $text, "\"") ),+].join(" | ")
            }
            fn expected() -> ::std::string::String {
                format!("one of {}", [$( concat!("\"", $text, "\"") ),+].join(", "))
            }
            fn from_json(v: &$crate::serde_json::Value) -> ::std::option::Option<Self> {
                match v.as_str()? {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
            fn to_json(&self) -> $crate::serde_json::Value {
                $crate::serde_json::Value::from(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::option_enum! {
        /// A test enum.
        enum Mode {
            /// A.
            Fast = "fast",
            /// B.
            Slow = "slow",
        }
    }

    #[test]
    fn values_read_and_errors_name_the_option() {
        assert_eq!(u64::read("n", &json!(3)).unwrap(), 3);
        assert_eq!(
            u64::read("n", &json!("y")).unwrap_err().message(),
            "options: \"n\" must be a whole number ≥ 0, found \"y\""
        );
        assert_eq!(
            u8::read("n", &json!(300)).unwrap_err().message(),
            "options: \"n\" must be a whole number ≥ 0, found 300"
        );
        assert_eq!(f64::read("x", &json!(2)).unwrap(), 2.0);
        assert_eq!(
            bool::read("b", &json!(1)).unwrap_err().message(),
            "options: \"b\" must be true or false, found 1"
        );
        assert_eq!(
            Vec::<u64>::read("keep", &json!([5, 3])).unwrap(),
            vec![5, 3]
        );
        assert!(Vec::<u64>::read("keep", &json!([]))
            .unwrap_err()
            .message()
            .contains("\"keep\" must be a non-empty list"));
        assert_eq!(Option::<f64>::read("t", &json!(null)).unwrap(), None);
        assert_eq!(Mode::read("m", &json!("slow")).unwrap(), Mode::Slow);
        assert_eq!(
            Mode::read("m", &json!("x")).unwrap_err().message(),
            "options: \"m\" must be one of \"fast\", \"slow\", found \"x\""
        );
        assert_eq!(Mode::type_name(), "\"fast\" | \"slow\"");
        assert_eq!(Mode::Fast.to_json(), json!("fast"));
    }
}
