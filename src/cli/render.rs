//! Rendering of library events: indicatif bars on a terminal, JSON lines with `--json`.
