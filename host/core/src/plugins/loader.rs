//! Loading one plugin library, with every way it can fail turned into a one-line
//! error that names the file, says what is wrong and what to do.
//!
//! Order of checks: the file exists and is a shared library; it exports an abi_stable
//! root module; that module is an archon plugin; it was built against a compatible
//! plugin-api (read from the library header, before any of its code runs); its layout
//! matches this host's ABI; then the version probe (`metadata()`) and the tensor-layer
//! versions. Libraries are never unloaded.

use abi_stable::library::{lib_header_from_path, LibraryError, RootModule};
use archon_plugin_api::{
    __private::PluginModRef, api_compatible, check_compatibility, OptionDoc, PluginKind,
    PLUGIN_API_VERSION,
};
use std::{
    fmt,
    io::Read,
    path::{Path, PathBuf},
};

/// A plugin library that loaded and passed every load-time check.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// Where it was loaded from.
    pub path: PathBuf,
    /// Its name (unique among loaded plugins).
    pub name: String,
    /// Its own version.
    pub version: String,
    /// What it does.
    pub description: String,
    /// The kinds it provides.
    pub kinds: Vec<PluginKind>,
    /// The plugin-api, tch and libtorch versions it was built against.
    pub built_against: BuiltAgainst,
    /// The options it takes (key, type, default, doc), or `None` when it declares none.
    pub options: Option<Vec<OptionDoc>>,
    module: PluginModRef,
}

/// What a plugin was built against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltAgainst {
    /// archon-plugin-api version.
    pub plugin_api: String,
    /// tch version.
    pub tch: String,
    /// libtorch version.
    pub libtorch: String,
}

impl LoadedPlugin {
    /// The plugin's root module (its constructors).
    pub fn module(&self) -> PluginModRef {
        self.module
    }

    /// The kinds as a comma-separated list.
    pub fn kinds_text(&self) -> String {
        self.kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a library could not be loaded as a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The library's path.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; {}", self.path.display(), self.reason, self.fix)
    }
}

impl std::error::Error for LoadError {}

fn fail(path: &Path, reason: impl Into<String>, fix: impl Into<String>) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        reason: reason.into(),
        fix: fix.into(),
    }
}

const REBUILD: &str = "rebuild the plugin against this archon's archon-plugin-api";

/// Opens the library, checks that it is an archon plugin of a compatible plugin-api
/// and initialises its root module (no plugin code runs before this succeeds).
fn open_module(path: &Path) -> Result<PluginModRef, LoadError> {
    check_is_shared_library(path)?;
    let header = lib_header_from_path(path).map_err(|e| match e {
        LibraryError::OpenError { err, .. } => fail(
            path,
            format!("cannot be loaded as a shared library ({err})"),
            "check that it was built for this platform and that the libraries it needs are installed",
        ),
        LibraryError::GetSymbolError { .. } => fail(
            path,
            "not an archon plugin: it exports no archon root module",
            "build plugins with `archon_plugin_api::export_plugin!`, or remove this file from the plugin folder",
        ),
        LibraryError::InvalidAbiHeader(h) => fail(
            path,
            format!(
                "built with an incompatible abi_stable (header {}.{})",
                h.abi_major, h.abi_minor
            ),
            REBUILD,
        ),
        other => fail(path, format!("cannot read the plugin header: {other}"), REBUILD),
    })?;

    let consts = header.root_mod_consts();
    if consts.base_name().as_str() != PluginModRef::BASE_NAME {
        return Err(fail(
            path,
            format!(
                "not an archon plugin: it is an abi_stable library of another kind ({:?})",
                consts.name().as_str()
            ),
            "only archon plugins belong in a plugin folder",
        ));
    }
    let api = header.version_strings().version.as_str().to_string();
    if !api_compatible(&api, PLUGIN_API_VERSION) {
        return Err(fail(
            path,
            format!(
                "built against archon-plugin-api {api}, but this archon has {PLUGIN_API_VERSION}"
            ),
            format!("rebuild the plugin against archon-plugin-api \"^{PLUGIN_API_VERSION}\""),
        ));
    }
    header
        .init_root_module::<PluginModRef>()
        .map_err(|e| match e {
            LibraryError::AbiInstability(report) => fail(
                path,
                format!(
                    "its ABI layout does not match this archon's ({})",
                    first_lines(&report.to_string(), 3)
                ),
                REBUILD,
            ),
            LibraryError::RootModule { err, .. } => fail(
                path,
                format!("its root module failed to initialise: {err}"),
                "this is a bug in the plugin; report it to its author",
            ),
            other => fail(path, format!("{other}"), REBUILD),
        })
}

/// Loads the plugin library at `path` and runs the load-time checks.
pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
    let module = open_module(path)?;

    // The version probe: the first call into the plugin's code.
    let meta = (module.metadata())();
    let built_against = BuiltAgainst {
        plugin_api: meta.plugin_api_version.to_string(),
        tch: meta.tch_version.to_string(),
        libtorch: meta.libtorch_version.to_string(),
    };
    if let Err(incompatible) = check_compatibility(
        &built_against.plugin_api,
        &built_against.tch,
        &built_against.libtorch,
    ) {
        let text = incompatible.to_string();
        let (reason, fix) = text.split_once("; ").unwrap_or((&text, REBUILD));
        return Err(fail(
            path,
            format!("plugin {:?} was {reason}", meta.name.as_str()),
            fix,
        ));
    }
    if meta.name.trim().is_empty() {
        return Err(fail(
            path,
            "the plugin has an empty name",
            "give it a name in export_plugin!",
        ));
    }
    let options = options_schema(module).map_err(|e| {
        fail(
            path,
            format!(
                "plugin {:?} cannot describe its options: {e}",
                meta.name.as_str()
            ),
            "this is a bug in the plugin; report it to its author",
        )
    })?;
    Ok(LoadedPlugin {
        path: path.to_path_buf(),
        name: meta.name.to_string(),
        version: meta.version.to_string(),
        description: meta.description.to_string(),
        kinds: meta.kinds.to_vec(),
        built_against,
        options,
        module,
    })
}

/// The options schema a plugin exports (`None`: it declares no options struct).
fn options_schema(module: PluginModRef) -> Result<Option<Vec<OptionDoc>>, String> {
    let Some(schema) = module.options_schema() else {
        return Ok(None);
    };
    let text = schema().into_result().map_err(|e| e.to_string())?;
    if text.trim() == "null" {
        return Ok(None);
    }
    OptionDoc::list_from_json(text.as_str())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Checks the file before handing it to the dynamic loader (which would run the
/// constructors of whatever it is given).
fn check_is_shared_library(path: &Path) -> Result<(), LoadError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| fail(path, format!("cannot be opened ({e})"), "check the path"))?;
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(fail(
            path,
            "is not a file",
            "give the path of a plugin library",
        ));
    }
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).unwrap_or(0);
    let expected: &[u8] = if cfg!(target_os = "macos") {
        &[0xcf, 0xfa, 0xed, 0xfe]
    } else if cfg!(windows) {
        b"MZ"
    } else {
        b"\x7fELF"
    };
    if read < expected.len() || &magic[..expected.len()] != expected {
        return Err(fail(
            path,
            "not a shared library (no executable-format header)",
            "give the path of a plugin library built with `cargo build` (a cdylib)",
        ));
    }
    Ok(())
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = lines
        .iter()
        .take(n)
        .copied()
        .collect::<Vec<_>>()
        .join(" / ");
    if lines.len() > n {
        out.push_str(" / ...");
    }
    out
}
