//! `export_plugin!`: the one macro a plugin author writes.

/// Exports a plugin: its metadata and the types that implement its kinds.
///
/// ```ignore
/// archon_plugin_api::export_plugin! {
///     name: "random",
///     version: env!("CARGO_PKG_VERSION"),
///     description: "Uniform random search over every choice",
///     options: RandomOptions,
///     tuner: RandomTuner,
/// }
/// ```
///
/// `options:` names the plugin's options struct (declared with
/// [`plugin_options!`](crate::plugin_options)), whose schema `archon plugins info`
/// prints; it is optional but every plugin should give it.
/// `tuner:`, `cell:` and `one_shot_trainer:` are each optional (give at least one). The macro generates the
/// abi_stable root module and the exported symbol; every entry point runs the author's
/// code under `catch_unwind`, so a panic reaches the host as an error.
/// Use it once per library, at the crate root.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:expr,
        version: $version:expr,
        description: $description:expr
        $(, options: $options:ty)?
        $(, tuner: $tuner:ty)?
        $(, cell: $cell:ty)?
        $(, one_shot_trainer: $trainer:ty)?
        $(,)?
    ) => {
        #[doc(hidden)]
        #[no_mangle]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader = {
            extern "C" fn metadata() -> $crate::__private::PluginMetadata {
                let kinds: &[$crate::PluginKind] = &[
                    $( $crate::__export_kind!($tuner, $crate::PluginKind::Tuner), )?
                    $( $crate::__export_kind!($cell, $crate::PluginKind::Cell), )?
                    $( $crate::__export_kind!($trainer, $crate::PluginKind::OneShotTrainer), )?
                ];
                $crate::__private::PluginMetadata::new($name, $version, $description, kinds)
            }
            fn root_module() -> $crate::__private::PluginModRef {
                use $crate::__private::PrefixTypeTrait;
                $crate::__private::PluginMod {
                    metadata,
                    new_tuner: $crate::__export_ctor!(new_tuner, unsupported_tuner $(, $tuner)?),
                    new_cell: $crate::__export_ctor!(new_cell, unsupported_cell $(, $cell)?),
                    new_one_shot_trainer: $crate::__export_ctor!(
                        new_one_shot_trainer,
                        unsupported_one_shot_trainer
                        $(, $trainer)?
                    ),
                    options_schema: $crate::__export_options!($($options)?),
                }
                .leak_into_prefix()
            }
            extern "C" fn erased_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(root_module)
            }
            // SAFETY: `erased_root_module` returns the `PluginModRef` that the header
            // is typed with, and its layout is checked by the host.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::__private::PluginModRef>(
                    erased_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_kind {
    ($ty:ty, $kind:expr) => {
        $kind
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_ctor {
    ($ctor:ident, $unsupported:ident, $ty:ty) => {
        $crate::__private::$ctor::<$ty>
    };
    ($ctor:ident, $unsupported:ident) => {
        $crate::__private::$unsupported
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_options {
    ($ty:ty) => {
        $crate::__private::options_schema::<$ty>
    };
    () => {
        $crate::__private::undeclared_options_schema
    };
}
