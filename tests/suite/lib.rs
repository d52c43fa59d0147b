//! Nothing here: the integration tests live in `main.rs` and its modules.
