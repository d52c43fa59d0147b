//! The search device, one type on both sides of the ABI: written `"cpu"` or
//! `"cuda:N"` in JSON (the form users write in configs).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{fmt, str::FromStr};

/// Where the supernet and its batches live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchDevice {
    /// The CPU.
    #[default]
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

impl SearchDevice {
    /// The tch device.
    pub fn tch(self) -> tch::Device {
        match self {
            SearchDevice::Cpu => tch::Device::Cpu,
            SearchDevice::Cuda(n) => tch::Device::Cuda(n),
        }
    }

    /// The device of a tch device (`Mps`/`Vulkan` are not search devices: CPU).
    pub fn from_tch(device: tch::Device) -> Self {
        match device {
            tch::Device::Cuda(n) => SearchDevice::Cuda(n),
            _ => SearchDevice::Cpu,
        }
    }
}

impl fmt::Display for SearchDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchDevice::Cpu => f.write_str("cpu"),
            SearchDevice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for SearchDevice {
    type Err = String;

    /// `cpu`, `cuda` (device 0) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(SearchDevice::Cpu),
            "cuda" => Ok(SearchDevice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(SearchDevice::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: expected cpu, cuda or cuda:N")),
        }
    }
}

impl Serialize for SearchDevice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SearchDevice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_round_trip_in_the_documented_form() {
        for (text, device) in [
            ("cpu", SearchDevice::Cpu),
            ("cuda:1", SearchDevice::Cuda(1)),
        ] {
            assert_eq!(text.parse::<SearchDevice>().unwrap(), device);
            assert_eq!(device.to_string(), text);
            let json = serde_json::to_string(&device).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<SearchDevice>(&json).unwrap(), device);
            assert_eq!(SearchDevice::from_tch(device.tch()), device);
        }
        assert_eq!(
            "cuda".parse::<SearchDevice>().unwrap(),
            SearchDevice::Cuda(0)
        );
        let err = "cuda(0)".parse::<SearchDevice>().unwrap_err();
        assert!(err.contains("cuda(0)") && err.contains("cuda:N"), "{err}");
    }
}
