//! What every part of the archon host shares: the specs a command or config asks for
//! (`spec`, `args`), plugin loading (`plugins`), child networks built, trained, costed
//! and exported (`child`, `costs`), time budgets, statistics, number formatting, and
//! the one reporting interface (`reporter`) through which the library speaks.

pub mod args;
pub mod budget;
pub mod child;
mod child_export;
pub mod costs;
pub mod malloc;
pub mod number;
mod onnx;
pub mod plugins;
pub mod progress;
pub mod readable_error;
pub mod reporter;
pub mod spec;
pub mod stats;
