//! Ranked, typo-tolerant search over connectors.
//!
//! Each query word is scored against a connector's fields, best field first: id and name
//! (exact, prefix, substring, then within a small edit distance) outrank capabilities and the
//! category, which outrank words of the description. A connector's score is the sum over the query
//! words; a connector that matches no word is not returned.

use crate::catalog::connector::Connector;

/// One search result.
#[derive(Debug, Clone, Copy)]
pub struct SearchHit<'a> {
    /// The connector found.
    pub connector: &'a Connector,
    /// Its score; higher is better.
    pub score: u32,
}

const EXACT: u32 = 1000;
const PREFIX: u32 = 800;
const SUBSTRING: u32 = 600;
const TYPO: u32 = 500;
/// Weight of a match in capabilities or the category relative to id/name.
const TAG_DIVISOR: u32 = 4;
/// Weight of a match in the description relative to id/name.
const TEXT_DIVISOR: u32 = 10;

/// How well `word` (lowercase) matches `target` (lowercase); 0 for no match.
fn word_score(word: &str, target: &str) -> u32 {
    if word.is_empty() || target.is_empty() {
        0
    } else if word == target {
        EXACT
    } else if target.starts_with(word) && word.len() >= 2 {
        PREFIX
    } else if target.contains(word) && word.len() >= 3 {
        SUBSTRING
    } else if is_typo_of(word, target) {
        TYPO
    } else {
        0
    }
}

/// Whether `word` is within a small edit distance of `target` (one edit for short words, two for
/// words of seven or more characters), or of a prefix of `target` as long as `word`.
fn is_typo_of(word: &str, target: &str) -> bool {
    let len = word.chars().count();
    if len < 4 {
        return false;
    }
    let allowed = if len >= 7 { 2 } else { 1 };
    if strsim::damerau_levenshtein(word, target) <= allowed {
        return true;
    }
    let prefix: String = target.chars().take(len).collect();
    prefix.chars().count() == len && strsim::damerau_levenshtein(word, &prefix) <= allowed
}

fn best(word: &str, targets: impl IntoIterator<Item = String>) -> u32 {
    targets
        .into_iter()
        .map(|t| word_score(word, &t))
        .max()
        .unwrap_or(0)
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn connector_score(connector: &Connector, query_words: &[String]) -> u32 {
    let def = connector.definition();
    query_words
        .iter()
        .map(|word| {
            let names = [def.id.to_lowercase(), def.name.to_lowercase()]
                .into_iter()
                .chain(words(&def.name));
            let tags = def
                .capabilities
                .iter()
                .map(|c| c.to_lowercase())
                .chain([def.category.as_str().to_string()]);
            let name_score = best(word, names);
            let tag_score = best(word, tags) / TAG_DIVISOR;
            let text_score = best(word, words(&def.description)) / TEXT_DIVISOR;
            name_score.max(tag_score).max(text_score)
        })
        .sum()
}

/// Connectors matching `query`, best first (ties broken by id).
pub(crate) fn search<'a>(
    connectors: impl Iterator<Item = &'a Connector>,
    query: &str,
) -> Vec<SearchHit<'a>> {
    let query_words: Vec<String> = words(query).collect();
    if query_words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<SearchHit<'a>> = connectors
        .map(|connector| SearchHit {
            connector,
            score: connector_score(connector, &query_words),
        })
        .filter(|hit| hit.score > 0)
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.connector.id().cmp(b.connector.id()))
    });
    hits
}

/// The id among `ids` closest to `wanted`, if it is close enough to be a likely typo.
pub(crate) fn closest_id<'a>(ids: impl Iterator<Item = &'a str>, wanted: &str) -> Option<&'a str> {
    let wanted = wanted.to_lowercase();
    ids.map(|id| (strsim::damerau_levenshtein(&wanted, id), id))
        .filter(|(distance, id)| *distance <= (id.len() / 3).max(1) || id.starts_with(&wanted))
        .min()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_score_ranks_exact_prefix_substring_typo() {
        assert_eq!(word_score("stripe", "stripe"), EXACT);
        assert_eq!(word_score("str", "stripe"), PREFIX);
        assert_eq!(word_score("ripe", "stripe"), SUBSTRING);
        assert_eq!(word_score("strpe", "stripe"), TYPO);
        assert_eq!(word_score("firebse", "firebase"), TYPO);
        assert_eq!(word_score("xyz", "stripe"), 0);
    }

    #[test]
    fn short_words_are_not_fuzzy() {
        assert_eq!(word_score("abc", "abd"), 0);
    }

    #[test]
    fn closest_id_suggests_only_near_ids() {
        let ids = ["firebase", "stripe", "supabase"];
        assert_eq!(closest_id(ids.into_iter(), "strpe"), Some("stripe"));
        assert_eq!(closest_id(ids.into_iter(), "Stripe"), Some("stripe"));
        assert_eq!(closest_id(ids.into_iter(), "twilio"), None);
    }
}
