//! ImageFolder-style datasets: `root/<class>/<image>.png|jpg|jpeg`, classes in
//! alphabetical order, every image decoded into memory at one size.

use super::Dataset;
use crate::error::{Result, SpacesError};
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// A folder of class folders, decoded.
#[derive(Debug)]
pub struct ImageFolder {
    /// Images `[N, C, size, size]` in `[0, 1]` and labels `[N]`.
    pub data: Dataset,
    /// The class (folder) names, by label.
    pub classes: Vec<String>,
}

fn is_image(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("png" | "jpg" | "jpeg")
    )
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| SpacesError::Read {
        path: dir.to_path_buf(),
        source,
        hint: "give a folder with one sub-folder of images per class".into(),
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

impl ImageFolder {
    /// Loads `root`, resizing every image to `size`×`size` with `channels` (1: grey,
    /// 3: RGB).
    pub fn load(root: &Path, size: u32, channels: i64) -> Result<Self> {
        if channels != 1 && channels != 3 {
            return Err(SpacesError::Config(format!(
                "image folders load 1 or 3 channels, not {channels}"
            )));
        }
        let (mut pixels, mut labels, mut classes) = (Vec::new(), Vec::new(), Vec::new());
        for class_dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
            let label = classes.len() as i64;
            classes.push(
                class_dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("?")
                    .to_string(),
            );
            for file in sorted_entries(&class_dir)?
                .into_iter()
                .filter(|p| is_image(p))
            {
                let img = image::open(&file).map_err(|e| SpacesError::Format {
                    path: file.clone(),
                    reason: format!("cannot decode the image ({e})"),
                })?;
                let img = img.resize_exact(size, size, image::imageops::FilterType::Triangle);
                if channels == 1 {
                    pixels.extend_from_slice(img.to_luma8().as_raw());
                } else {
                    // HWC → CHW.
                    let rgb = img.to_rgb8();
                    let raw = rgb.as_raw();
                    for c in 0..3 {
                        pixels.extend(raw.iter().skip(c).step_by(3));
                    }
                }
                labels.push(label);
            }
        }
        if classes.len() < 2 || labels.is_empty() {
            return Err(SpacesError::Format {
                path: root.to_path_buf(),
                reason: format!("found {} class folder(s) and {} image(s); need at least 2 classes with .png/.jpg images", classes.len(), labels.len()),
            });
        }
        let (n, s) = (labels.len() as i64, size as i64);
        Ok(ImageFolder {
            data: Dataset {
                inputs: Tensor::from_slice(&pixels)
                    .view([n, channels, s, s])
                    .to_kind(Kind::Float)
                    / 255.0,
                labels: Tensor::from_slice(&labels),
            },
            classes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_class_folders_and_names_bad_files() {
        let root = std::env::temp_dir().join(format!("archon-folder-{}", std::process::id()));
        for (class, shade) in [("cats", 40u8), ("dogs", 200u8)] {
            std::fs::create_dir_all(root.join(class)).unwrap();
            for i in 0..3 {
                let img =
                    image::RgbImage::from_pixel(10 + i, 12, image::Rgb([shade, shade, shade]));
                img.save(root.join(class).join(format!("{i}.png"))).unwrap();
            }
        }
        let folder = ImageFolder::load(&root, 8, 1).unwrap();
        assert_eq!(folder.classes, ["cats", "dogs"]);
        assert_eq!(folder.data.inputs.size(), [6, 1, 8, 8]);
        assert_eq!(
            Vec::<i64>::try_from(&folder.data.labels).unwrap(),
            [0, 0, 0, 1, 1, 1]
        );
        let dog = folder
            .data
            .inputs
            .get(4)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!((dog - 200.0 / 255.0).abs() < 0.01, "{dog}");
        assert_eq!(
            ImageFolder::load(&root, 8, 3).unwrap().data.inputs.size(),
            [6, 3, 8, 8]
        );
        std::fs::write(root.join("dogs").join("broken.png"), b"not a png").unwrap();
        let e = ImageFolder::load(&root, 8, 1).unwrap_err().to_string();
        assert!(e.contains("broken.png: cannot decode the image"), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
