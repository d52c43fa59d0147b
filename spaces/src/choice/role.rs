//! The role of every operation the hub's spaces offer, declared once here so that
//! one-shot algorithms read roles (zero, identity, pooling, parametric) instead of
//! matching candidate names. A space with its own operations declares their roles
//! with [`Builder::set_roles`](super::Builder::set_roles).

use archon_plugin_api::one_shot::CandidateRole;

/// The role of the hub operation `name` ([`CandidateRole::Other`] for a name the hub
/// does not offer).
pub fn role_of(name: &str) -> CandidateRole {
    use CandidateRole::*;
    match name {
        "none" => Zero,
        "skip_connect" | "identity" => Identity,
        "avg_pool_3x3" | "max_pool_3x3" | "max_pool_5x5" | "max_pool_7x7" | "avg_pool_3"
        | "max_pool_3" => Pooling,
        // DARTS, NASNet, AmoebaNet, PNAS, ENAS cells and the ENAS macro layer.
        "conv_1x1" | "conv_3x3" | "conv_5x5" | "conv_3x1_1x3" | "conv_7x1_1x7"
        | "sep_conv_3x3" | "sep_conv_5x5" | "sep_conv_7x7" | "dil_sep_conv_3x3"
        | "dil_conv_3x3" | "dil_conv_5x5"
        // NAS-Bench-201.
        | "nor_conv_1x1" | "nor_conv_3x3"
        // TextNAS.
        | "conv_1" | "conv_3" | "conv_5" | "conv_7" | "bi_gru" | "attention"
        // ShuffleNetV2 (SPOS).
        | "choice_3" | "choice_5" | "choice_7" | "xception" => Parametric,
        _ => Other,
    }
}
