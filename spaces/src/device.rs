//! `--device cpu|cuda|cuda:N|auto`.

use crate::error::{Result, SpacesError};
use tch::Device;

/// Parses a device name; `auto` is CUDA device 0 when present, else the CPU.
pub fn parse_device(text: &str) -> Result<Device> {
    let cuda_count = || tch::Cuda::device_count() as usize;
    let device = match text.trim() {
        "auto" => return Ok(Device::cuda_if_available()),
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => Device::Cuda(n),
            _ => {
                return Err(SpacesError::Config(format!(
                    "unknown device {other:?}: use cpu, cuda, cuda:N or auto"
                )))
            }
        },
    };
    if let Device::Cuda(n) = device {
        if n >= cuda_count() {
            return Err(SpacesError::Config(format!(
                "device {text:?} is not available: this machine has {} CUDA device(s); use cpu or auto",
                cuda_count()
            )));
        }
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        assert!(matches!(
            parse_device("auto").unwrap(),
            Device::Cpu | Device::Cuda(0)
        ));
        let e = parse_device("gpu").unwrap_err().to_string();
        assert!(e.contains("unknown device \"gpu\""), "{e}");
        if !tch::Cuda::is_available() {
            let e = parse_device("cuda:1").unwrap_err().to_string();
            assert!(e.contains("is not available"), "{e}");
        }
    }
}
