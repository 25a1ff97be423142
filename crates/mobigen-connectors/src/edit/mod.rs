//! Editors of the user's files, pure text in and text out: insertions only, in the file's own
//! style, each returning what its exact removal needs.
//!
//! - [`code`]: JavaScript / TypeScript (the root component's import and wrap, the parse check
//!   every written file passes, the generated root module).
//! - [`json`]: `package.json` and `app.json` on the text, with a byte-span JSON parser.
//! - [`env`](mod@env): marked per-connector blocks in `.env` / `.env.local`, `.gitignore` coverage.
//!
//! This layer knows nothing of connectors, projects or secrets: the layers above call it.

pub mod code;
pub mod env;
pub mod json;
