//! The IDX format of (Fashion-)MNIST: a 4-byte magic (0, 0, type, number of
//! dimensions), one big-endian u32 per dimension, then the data. Files may be gzipped.

use crate::error::{Result, SpacesError};
use flate2::read::GzDecoder;
use std::{io::Read, path::Path};

/// An unsigned-byte IDX array: its shape and its data, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Parses IDX bytes (already decompressed); `path` is only for messages.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let bad = |reason: String| SpacesError::Format {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(bad(format!(
            "{} bytes is too short for an IDX file",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(format!(
            "not an IDX file (magic {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 0N)",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            bytes[2]
        )));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 {
        return Err(bad("an IDX file with 0 dimensions".into()));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(bad(format!(
            "truncated header: {ndims} dimensions need {header} bytes, the file has {}",
            bytes.len()
        )));
    }
    let shape: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {shape:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(bad(format!(
            "dimensions {shape:?} need {expected} bytes of data, the file has {} (truncated or corrupt)",
            data.len()
        )));
    }
    Ok(IdxArray {
        shape,
        data: data.to_vec(),
    })
}

/// Reads an IDX file, gunzipping it if its name ends in `.gz`.
pub fn read_idx_file(path: &Path) -> Result<IdxArray> {
    let read_err = |source| SpacesError::Read {
        path: path.to_path_buf(),
        source,
        hint: "check the path and permissions".into(),
    };
    let raw = std::fs::read(path).map_err(read_err)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| SpacesError::Format {
                path: path.to_path_buf(),
                reason: format!("not a valid gzip file ({e})"),
            })?;
        out
    } else {
        raw
    };
    parse_idx(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend(d.to_be_bytes());
        }
        b.extend(data);
        b
    }

    fn err(bytes: &[u8]) -> String {
        parse_idx(bytes, Path::new("x.idx"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_a_small_array() {
        let a = parse_idx(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), Path::new("x")).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn malformed_files_are_explained() {
        assert!(err(&[0, 0]).contains("too short"));
        assert!(err(&[1, 2, 3, 4]).contains("not an IDX file"));
        assert!(err(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])
            .contains("element type 0x0d is not supported"));
        assert!(err(&[0, 0, 8, 2, 0, 0]).contains("truncated header"));
        let e = err(&idx(&[2, 3], &[1, 2, 3]));
        assert!(
            e.starts_with("x.idx: dimensions [2, 3] need 6 bytes of data, the file has 3"),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_is_not_gzip_is_explained() {
        let dir = std::env::temp_dir().join(format!("archon-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.gz");
        std::fs::write(&path, b"plain text").unwrap();
        let e = read_idx_file(&path).unwrap_err().to_string();
        assert!(e.contains("not a valid gzip file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
