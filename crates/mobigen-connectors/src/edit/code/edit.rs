//! Ruff-style text edits: a byte range of the source plus the text that replaces it.
//!
//! Edits are applied in one pass: they are sorted by range, must not overlap, and every byte
//! outside them is copied verbatim. Root files only ever receive insertions (empty ranges).

use std::ops::Range;

use super::InjectError;

/// One change to a text: replace the bytes in `range` with `text`.
///
/// An empty range is an insertion at `range.start`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Edit {
    /// Byte offsets into the source (not counting anything before it: offset 0 is its first byte).
    pub range: Range<usize>,
    /// Replacement text.
    pub text: String,
}

impl Edit {
    /// An insertion of `text` at byte `offset`.
    pub fn insertion(offset: usize, text: impl Into<String>) -> Edit {
        Edit {
            range: offset..offset,
            text: text.into(),
        }
    }

    /// A deletion of the bytes in `range`.
    pub fn deletion(range: Range<usize>) -> Edit {
        Edit {
            range,
            text: String::new(),
        }
    }

    /// Whether this edit only inserts text.
    pub fn is_insertion(&self) -> bool {
        self.range.is_empty()
    }
}

/// Applies `edits` to `source` in one pass and returns the new text.
///
/// Edits are sorted by `(start, end)`; insertions at the same offset keep the order in which
/// they were given. Bytes outside every edit are copied verbatim.
///
/// # Errors
/// [`InjectError::EditOutOfBounds`] when a range is reversed, past the end of `source` or not on
/// a UTF-8 character boundary; [`InjectError::OverlappingEdits`] when two edits touch the same
/// bytes (two insertions at one offset, or an insertion at the boundary of a replacement, are
/// fine).
pub fn apply_edits(source: &str, edits: &[Edit]) -> Result<String, InjectError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    for edit in &order {
        let Range { start, end } = edit.range;
        if start > end
            || end > source.len()
            || !source.is_char_boundary(start)
            || !source.is_char_boundary(end)
        {
            return Err(InjectError::EditOutOfBounds {
                range: edit.range.clone(),
                len: source.len(),
            });
        }
    }
    // Stable: same-offset insertions keep their given order.
    order.sort_by_key(|edit| (edit.range.start, edit.range.end));

    let added: usize = order.iter().map(|edit| edit.text.len()).sum();
    let mut output = String::with_capacity(source.len() + added);
    let mut copied_to = 0;
    let mut previous: Option<&Range<usize>> = None;
    for edit in order {
        if let Some(previous) = previous
            && edit.range.start < previous.end
        {
            return Err(InjectError::OverlappingEdits {
                first: previous.clone(),
                second: edit.range.clone(),
            });
        }
        output.push_str(&source[copied_to..edit.range.start]);
        output.push_str(&edit.text);
        copied_to = edit.range.end;
        previous = Some(&edit.range);
    }
    output.push_str(&source[copied_to..]);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_and_replacements_apply_in_offset_order() -> Result<(), InjectError> {
        let edits = [
            Edit::insertion(5, ")"),
            Edit::insertion(0, "w("),
            Edit {
                range: 1..3,
                text: "XY".into(),
            },
        ];
        assert_eq!(apply_edits("abcde", &edits)?, "w(aXYde)");
        Ok(())
    }

    #[test]
    fn insertions_at_one_offset_keep_their_order() -> Result<(), InjectError> {
        let edits = [
            Edit::insertion(1, "1"),
            Edit::insertion(1, "2"),
            Edit::deletion(1..2),
        ];
        assert_eq!(apply_edits("abc", &edits)?, "a12c");
        Ok(())
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let edits = [Edit::deletion(0..3), Edit::insertion(2, "x")];
        assert!(matches!(
            apply_edits("abcdef", &edits),
            Err(InjectError::OverlappingEdits { first, second }) if first == (0..3) && second == (2..2)
        ));
    }

    #[test]
    fn ranges_outside_the_text_or_inside_a_character_are_refused() {
        assert!(matches!(
            apply_edits("ab", &[Edit::insertion(3, "x")]),
            Err(InjectError::EditOutOfBounds { .. })
        ));
        assert!(matches!(
            apply_edits("é", &[Edit::insertion(1, "x")]),
            Err(InjectError::EditOutOfBounds { .. })
        ));
    }

    #[test]
    fn no_edits_copies_the_source() -> Result<(), InjectError> {
        assert_eq!(apply_edits("keep\r\nme", &[])?, "keep\r\nme");
        Ok(())
    }
}
