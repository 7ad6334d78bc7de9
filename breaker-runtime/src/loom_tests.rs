//! Model checks of the state word and the window head, run with `--cfg loom`.
