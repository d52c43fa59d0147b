"""Runtime pieces of archon's NNI shim: environment variables, logging and archon's
trial protocol (parameters in, ``ARCHON_METRIC`` lines out)."""
