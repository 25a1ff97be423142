//! Editing user files by insertion only, in the file's own style, exactly reversibly.
//!
//! - [`edit`]: ruff-style [`Edit`]s (byte range + text) and [`apply_edits`], one pass, no overlaps.
//! - [`style`]: the file's line ending, BOM, indent unit, quotes and semicolons ([`Style`]).
//! - [`root`]: the root component file: one import of the generated connectors module plus a
//!   wrap of the root component, found by SWC AST queries ([`plan_root_insert`]), and the exact
//!   inverse ([`plan_root_remove`]). Every output is re-parsed and refused if it does not parse.
//!
//! All of it is pure: text in, edits and text out, no IO.

pub mod app_config;
pub mod edit;
mod names;
mod parse;
pub mod root;
pub mod root_module;
pub mod style;

use std::ops::Range;

pub use edit::{Edit, apply_edits};
pub use root::{
    Insertion, InsertionKind, ReExport, RootConflict, RootEdit, RootInsert, RootRemove, RootShape,
    SourceSyntax, WrapSpec, check_syntax, check_syntax_each, plan_root_insert, plan_root_remove,
};
pub use style::{Indent, LineEnding, Quote, Style};

/// Everything that can go wrong while planning an edit of a user file.
///
/// Each message names the file, the place (line:column, 1-based, columns in characters) and,
/// where the tool cannot act, the manual step that does the job by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InjectError {
    /// The file does not parse as the syntax its extension says; nothing is changed.
    #[error(
        "{file}:{line}:{column}: does not parse: {message}; fix the syntax error and run again"
    )]
    Parse {
        /// The file, as the caller named it.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (characters) of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The file's extension is not one of `.js .jsx .mjs .cjs .ts .tsx .mts .cts`.
    #[error(
        "{file}: cannot edit a `{extension}` file as a root component; the root must be a .js, .jsx, .ts or .tsx file"
    )]
    UnsupportedFileType {
        /// The file.
        file: String,
        /// Its extension (empty when it has none).
        extension: String,
    },
    /// The file is larger than the injector parses; nothing is changed.
    #[error("{file}: {len} bytes is too large to parse (the limit is {limit} bytes)")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size in bytes.
        len: usize,
        /// The largest size parsed.
        limit: usize,
    },
    /// The stack for parsing the file could not be reserved (it is sized so that no nesting
    /// can overflow it: see [`check_syntax`]); nothing is changed.
    #[error(
        "{file}: cannot reserve {mib} MiB of stack to parse it safely ({message}); nothing was changed"
    )]
    ParserStack {
        /// The file.
        file: String,
        /// The stack asked for, in MiB.
        mib: usize,
        /// The operating system's answer.
        message: String,
    },
    /// Neither a default export nor a `registerRootComponent(...)` call was found.
    #[error(
        "{file}: no default export and no `registerRootComponent(...)` call to wrap; {manual_step}"
    )]
    NoRootComponent {
        /// The file.
        file: String,
        /// What to do by hand.
        manual_step: String,
    },
    /// The root component is exported in a form that cannot be wrapped by insertion only
    /// without changing what the module means.
    #[error("{file}:{line}:{column}: cannot wrap {anchor} automatically; {manual_step}")]
    UnsupportedRootShape {
        /// The file.
        file: String,
        /// 1-based line of the anchor.
        line: usize,
        /// 1-based column of the anchor.
        column: usize,
        /// What was found there (`a default-exported class that is referenced elsewhere`).
        anchor: String,
        /// What to do by hand.
        manual_step: String,
    },
    /// A name the edit needs is already taken in the file.
    #[error("{file}:{line}:{column}: `{name}` is already used in this file; {manual_step}")]
    NameClash {
        /// The file.
        file: String,
        /// 1-based line of the first use.
        line: usize,
        /// 1-based column of the first use.
        column: usize,
        /// The name.
        name: String,
        /// What to do by hand.
        manual_step: String,
    },
    /// Two edits touch the same bytes.
    #[error("edit at bytes {second:?} overlaps the edit at bytes {first:?}")]
    OverlappingEdits {
        /// The earlier edit's range.
        first: Range<usize>,
        /// The later edit's range.
        second: Range<usize>,
    },
    /// An edit's range is reversed, past the end of the text or splits a UTF-8 character.
    #[error("edit range {range:?} does not fit a text of {len} bytes (or splits a character)")]
    EditOutOfBounds {
        /// The range.
        range: Range<usize>,
        /// The text's length in bytes.
        len: usize,
    },
    /// The edited text would not parse; nothing is written.
    #[error(
        "{file}:{line}:{column}: the edit would leave the file unparsable ({message}); nothing was changed, please report this"
    )]
    BrokenOutput {
        /// The file.
        file: String,
        /// 1-based line in the edited text.
        line: usize,
        /// 1-based column in the edited text.
        column: usize,
        /// The parser's message.
        message: String,
    },
}
