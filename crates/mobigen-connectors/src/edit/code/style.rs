//! The style of a source file, detected from its text, so that inserted code looks like the
//! code around it: line ending, byte-order mark, indent unit, quotes and semicolons.

/// The line ending of a file, taken from its first line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\n`; also the choice for a file without any line break.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl LineEnding {
    /// The characters of this line ending.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// One level of indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indent {
    /// A tab character.
    Tab,
    /// This many spaces.
    Spaces(u8),
}

impl Indent {
    /// The characters of one indent level.
    pub fn unit(self) -> String {
        match self {
            Indent::Tab => "\t".to_owned(),
            Indent::Spaces(n) => " ".repeat(usize::from(n)),
        }
    }
}

/// The quote character of string literals in import declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quote {
    /// `'`, the choice of the Expo templates and the default.
    Single,
    /// `"`.
    Double,
}

impl Quote {
    /// The quote character.
    pub fn as_char(self) -> char {
        match self {
            Quote::Single => '\'',
            Quote::Double => '"',
        }
    }
}

/// The detected style of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Style {
    /// Line ending of the first line break.
    pub line_ending: LineEnding,
    /// Whether the file starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// Indent unit of the first indented code line (tabs), or the smallest space indent.
    pub indent: Indent,
    /// Quote style of the module specifiers of imports.
    pub quote: Quote,
    /// Whether statements end with `;`.
    pub semicolons: bool,
}

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

impl Default for Style {
    fn default() -> Style {
        Style {
            line_ending: LineEnding::Lf,
            bom: false,
            indent: Indent::Spaces(2),
            quote: Quote::Single,
            semicolons: true,
        }
    }
}

impl Style {
    /// Detects the style of `source` in one pass over its lines.
    ///
    /// Quotes and semicolons come from `import` lines when there are any (they are what an
    /// inserted import sits next to), otherwise from the rest of the code. Without evidence the
    /// defaults hold: LF, 2 spaces, single quotes, semicolons.
    pub fn detect(source: &str) -> Style {
        let mut style = Style {
            bom: source.starts_with(BOM),
            line_ending: Style::line_ending_of(source),
            ..Style::default()
        };

        let mut tab_lines = 0usize;
        let mut smallest_spaces: Option<usize> = None;
        let mut imports = ImportLines::default();
        let (mut code_semi, mut code_lines) = (0usize, 0usize);

        for line in source.trim_start_matches(BOM).lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let trimmed = line.trim_start_matches([' ', '\t']);
            let leading = &line[..line.len() - trimmed.len()];
            let trimmed = without_leading_block_comment(trimmed);
            if trimmed.is_empty() || is_comment_line(trimmed) {
                continue;
            }
            if leading.starts_with('\t') {
                tab_lines += 1;
            } else if !leading.is_empty() && !leading.contains('\t') {
                let n = leading.len();
                smallest_spaces = Some(smallest_spaces.map_or(n, |s| s.min(n)));
            }
            if imports.observe(line) {
                continue;
            }
            code_lines += 1;
            if without_trailing_comment(trimmed).ends_with(';') {
                code_semi += 1;
            }
        }

        if tab_lines > 0 && smallest_spaces.is_none() {
            style.indent = Indent::Tab;
        } else if let Some(n) = smallest_spaces {
            if tab_lines > 0 && tab_lines >= code_lines / 2 {
                style.indent = Indent::Tab;
            } else {
                style.indent = Indent::Spaces(u8::try_from(n.clamp(1, 8)).unwrap_or(2));
            }
        }
        imports.apply(&mut style);
        if imports.semi + imports.plain == 0 {
            style.semicolons = code_lines == 0 || code_semi > 0;
        }
        style
    }

    /// The style an inserted import line needs (line ending, quotes, semicolons), read from the
    /// lines `import_starts` (offsets where the file's import declarations start, from its
    /// syntax tree) instead of every line: the same answer as [`Style::detect`] for those
    /// fields whenever an import line settles the semicolons (else it is `detect`'s answer),
    /// at a cost independent of the file's length. The indent is left at its default.
    pub fn detect_for_imports(
        source: &str,
        import_starts: impl IntoIterator<Item = usize>,
    ) -> Style {
        let mut style = Style {
            bom: source.starts_with(BOM),
            line_ending: Style::line_ending_of(source),
            ..Style::default()
        };
        let mut imports = ImportLines::default();
        for start in import_starts {
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..]
                .find('\n')
                .map_or(source.len(), |i| start + i);
            let line = &source[line_start..line_end];
            let line = line.strip_prefix(BOM).unwrap_or(line);
            imports.observe(line.strip_suffix('\r').unwrap_or(line));
        }
        if imports.semi + imports.plain == 0 {
            return Style::detect(source);
        }
        imports.apply(&mut style);
        style
    }

    /// The line ending of the first line break (LF without one).
    pub(crate) fn line_ending_of(source: &str) -> LineEnding {
        match source.find('\n') {
            Some(newline) if newline > 0 && source.as_bytes()[newline - 1] == b'\r' => {
                LineEnding::CrLf
            }
            _ => LineEnding::Lf,
        }
    }
}

/// What `import` lines say about quotes and semicolons.
#[derive(Default)]
struct ImportLines {
    quote: Option<Quote>,
    semi: usize,
    plain: usize,
}

impl ImportLines {
    /// Takes in `line` (without its line break) if it is an import line: unindented, maybe
    /// after a `/* ... */`, starting with `import`. Returns whether it was one.
    fn observe(&mut self, line: &str) -> bool {
        if line.starts_with([' ', '\t']) {
            return false;
        }
        let trimmed = without_leading_block_comment(line);
        if !(trimmed.starts_with("import ") || trimmed.starts_with("import{")) {
            return false;
        }
        let end = without_trailing_comment(trimmed);
        if self.quote.is_none() {
            self.quote = match end.chars().rev().find(|c| *c == '\'' || *c == '"') {
                Some('"') => Some(Quote::Double),
                Some(_) => Some(Quote::Single),
                None => None,
            };
        }
        // Only one-line imports say something about semicolons.
        if end.contains(" from ") || end.starts_with("import '") || end.starts_with("import \"") {
            if end.ends_with(';') {
                self.semi += 1;
            } else if end.ends_with('\'') || end.ends_with('"') {
                self.plain += 1;
            }
        }
        true
    }

    fn apply(&self, style: &mut Style) {
        if let Some(quote) = self.quote {
            style.quote = quote;
        }
        if self.semi + self.plain > 0 {
            style.semicolons = self.semi >= self.plain;
        }
    }
}

/// The line without a `/* ... */` that opens and closes at its start.
fn without_leading_block_comment(trimmed: &str) -> &str {
    match trimmed
        .strip_prefix("/*")
        .and_then(|rest| rest.find("*/").map(|i| &rest[i + 2..]))
    {
        Some(rest) if !rest.trim().is_empty() => rest.trim_start(),
        _ => trimmed,
    }
}

/// The code of a line without a trailing `// ...` or `/* ... */` comment, trimmed at the end.
fn without_trailing_comment(line: &str) -> &str {
    let mut end = line.trim_end();
    loop {
        if end.ends_with("*/") {
            match end.rfind("/*") {
                Some(open) if open > 0 => end = end[..open].trim_end(),
                _ => return end,
            }
        } else if let Some(comment) = line_comment_start(end) {
            end = end[..comment].trim_end();
        } else {
            return end;
        }
    }
}

/// Where the first ` //` in `line` starts: `line.find(" //")`, but a `memchr` for each `/` rather
/// than a substring searcher built per call (this runs on every line of the file).
fn line_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(found) = line[from..].find('/') {
        let at = from + found;
        if at > 0 && bytes[at - 1] == b' ' && bytes.get(at + 1) == Some(&b'/') {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

/// Whether a trimmed line is (the start or the continuation of) a comment.
fn is_comment_line(trimmed: &str) -> bool {
    trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with('*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_crlf_from_the_first_line_break() {
        assert_eq!(Style::detect("a;\r\nb;\n").line_ending, LineEnding::CrLf);
        assert_eq!(Style::detect("a;\nb;\r\n").line_ending, LineEnding::Lf);
        assert_eq!(Style::detect("a;").line_ending, LineEnding::Lf);
    }

    #[test]
    fn detects_the_bom() {
        assert!(Style::detect("\u{feff}import a from 'a';\n").bom);
        assert!(!Style::detect("import a from 'a';\n").bom);
    }

    #[test]
    fn detects_indent_units() {
        assert_eq!(
            Style::detect("function f() {\n\treturn 1;\n}\n").indent,
            Indent::Tab
        );
        assert_eq!(
            Style::detect("function f() {\n    if (a) {\n        b();\n    }\n}\n").indent,
            Indent::Spaces(4)
        );
        let jsdoc = "/**\n * Doc\n */\nfunction f() {\n  return 1;\n}\n";
        assert_eq!(Style::detect(jsdoc).indent, Indent::Spaces(2));
    }

    #[test]
    fn detects_quotes_and_semicolons_from_imports() {
        let style =
            Style::detect("import React from \"react\"\nimport { View } from \"react-native\"\n");
        assert_eq!(style.quote, Quote::Double);
        assert!(!style.semicolons);
        let style = Style::detect("import React from 'react';\nexport default App;\n");
        assert_eq!(style.quote, Quote::Single);
        assert!(style.semicolons);
    }

    #[test]
    fn comments_around_code_do_not_hide_the_style() {
        let style = Style::detect(
            "\u{feff}/* a */ import React from \"react\"; // b\nimport x from \"x\"; /* c */\n",
        );
        assert_eq!(style.quote, Quote::Double);
        assert!(style.semicolons);
    }

    #[test]
    fn line_comments_are_found_like_a_substring_search() {
        for line in [
            "a; // b",
            "a // b // c",
            "a/ /b",
            "//a",
            " //",
            "a /// b",
            "x / y //z",
            "",
        ] {
            assert_eq!(line_comment_start(line), line.find(" //"), "{line:?}");
        }
    }

    #[test]
    fn the_import_lines_alone_give_detects_quotes_semicolons_and_line_ending() {
        for source in [
            "import React from \"react\"\r\nimport { View } from \"react-native\"\r\nconst a = 1;\r\n",
            "\u{feff}/* a */ import React from 'react'; // b\nimport x from \"x\"; /* c */\n",
            "import {\n  a,\n} from 'a'\nimport b from 'b'\nexport default App\n",
            "import {\n  a,\n} from 'a';\nconst b = 1\n",
            "const a = 1\nexport default a\n",
        ] {
            let starts = source.match_indices("import").map(|(at, _)| at);
            let fast = Style::detect_for_imports(source, starts);
            let full = Style::detect(source);
            assert_eq!(
                (fast.line_ending, fast.quote, fast.semicolons, fast.bom),
                (full.line_ending, full.quote, full.semicolons, full.bom),
                "{source:?}"
            );
        }
    }

    #[test]
    fn without_imports_semicolons_come_from_code_lines() {
        assert!(!Style::detect("const a = 1\nexport default a\n").semicolons);
        assert!(Style::detect("const a = 1;\nexport default a;\n").semicolons);
    }
}
