//! What a decision is and what each of its candidates does, as the space declares it.
//!
//! Algorithms decide by these — kind, group, role — and never by a label's or a
//! candidate's name, so a third-party space with its own op names works with every
//! trainer.

use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

/// The kind of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// One of N candidate operations (NNI's `layer_choice`).
    Layer,
    /// Some of N candidate inputs (NNI's `input_choice`).
    Input,
    /// One of N values of a hyper-parameter (NNI's `choice` over numbers).
    Value,
}

/// What a candidate does, as its space declares it. Crosses the ABI as one byte.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, StableAbi)]
#[serde(rename_all = "snake_case")]
pub enum CandidateRole {
    /// Contributes nothing (DARTS's `none`): the output is zero.
    Zero,
    /// Passes its input on (a skip connection; in a reduction cell possibly a
    /// factorized reduce).
    Identity,
    /// A parameter-free pooling.
    Pooling,
    /// Another parameter-free operation.
    ParameterFree,
    /// An operation with weights (convolutions, attention, recurrent layers, ...).
    Parametric,
    /// A candidate input of an input choice.
    Input,
    /// A value of a value choice.
    Value,
    /// The space does not say.
    Other,
}

impl CandidateRole {
    /// Whether the candidate has no weights of its own: zero, identity, pooling or
    /// another parameter-free operation. The operations that short proxies favour
    /// because they converge first (the "collapse" of differentiable NAS).
    pub fn is_parameter_free(self) -> bool {
        matches!(
            self,
            CandidateRole::Zero
                | CandidateRole::Identity
                | CandidateRole::Pooling
                | CandidateRole::ParameterFree
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_roles_round_trip_as_json_text() {
        for kind in [
            DecisionKind::Layer,
            DecisionKind::Input,
            DecisionKind::Value,
        ] {
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<DecisionKind>(&text).unwrap(), kind);
        }
        assert_eq!(
            serde_json::to_string(&DecisionKind::Layer).unwrap(),
            "\"layer\""
        );
        let roles = [
            CandidateRole::Zero,
            CandidateRole::Identity,
            CandidateRole::Pooling,
            CandidateRole::ParameterFree,
            CandidateRole::Parametric,
            CandidateRole::Input,
            CandidateRole::Value,
            CandidateRole::Other,
        ];
        for role in roles {
            let text = serde_json::to_string(&role).unwrap();
            assert_eq!(serde_json::from_str::<CandidateRole>(&text).unwrap(), role);
        }
        assert_eq!(
            serde_json::to_string(&CandidateRole::ParameterFree).unwrap(),
            "\"parameter_free\""
        );
        let free: Vec<_> = roles.iter().filter(|r| r.is_parameter_free()).collect();
        assert_eq!(free.len(), 4);
    }
}
