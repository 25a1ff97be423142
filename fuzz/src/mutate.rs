//! The stable driver's mutator: a small seeded random generator and byte/text mutations of a
//! seed (bit flips, byte changes, deletions, duplications, dictionary words, splices from
//! another seed, line moves). No coverage feedback: breadth comes from the seeds and the
//! dictionaries, repeatability from the seed of the generator.

/// SplitMix64: small, fast, good enough to pick mutations; the same seed gives the same run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // The modulo bias is irrelevant here.
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Tokens of TypeScript/JSX root files.
pub const JS_WORDS: &[&[u8]] = &[
    b"// a comment\n",
    b"/* a comment */ ",
    b"\n",
    b"const x = 1;\n",
    b"import { a } from 'b';\n",
    b"import type { T } from './t';\n",
    b"export const y = () => null;\n",
    b"export { App as default };\n",
    b"export default App;\n",
    b"App.displayName = 'App';\n",
    b"registerRootComponent(App);\n",
    b"export default ",
    b"export ",
    b"default",
    b"function ",
    b"class ",
    b"extends React.Component ",
    b"const App = () => ",
    b"import ",
    b" from ",
    b"'./src/connectors'",
    b"import { withConnectors } from './src/connectors';\n",
    b"withConnectors(",
    b"registerRootComponent(",
    b"AppRegistry.registerComponent('main', () => App);",
    b"Sentry.wrap(",
    b"React.memo(",
    b"App",
    b"as default",
    b"export { App as default };",
    b"export { default } from './pages';",
    b"'use client';\n",
    b"<>",
    b"</>",
    b"<View>",
    b"</View>",
    b"{",
    b"}",
    b"(",
    b")",
    b"=>",
    b";",
    b",",
    b"'",
    b"\"",
    b"`",
    b"${",
    b"//",
    b"/*",
    b"*/",
    b"\n",
    b"\r\n",
    b"\t",
    b"    ",
    b"\xEF\xBB\xBF",
    b"\xE2\x80\xA8",
    b"satisfies ",
    b"async ",
    b"declare ",
    b"@decorator ",
    b"#!/usr/bin/env node\n",
];

/// Tokens of JSON documents (package.json, app.json, manifests, configs).
pub const JSON_WORDS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\"",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-1",
    b"1e999",
    b"1.5",
    b"\"\"",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\"\\\\\"",
    b"\"expo\"",
    b"\"plugins\"",
    b"\"dependencies\"",
    b"\"devDependencies\"",
    b"\"web\"",
    b"\"output\"",
    b"\"main\"",
    b"\"type\"",
    b"\"string\"",
    b"\"object\"",
    b"\"properties\"",
    b"\"required\"",
    b"\"secret\"",
    b"\"public\"",
    b"\"pattern\"",
    b"\"^sk_\"",
    b"\"EXPO_PUBLIC_X\"",
    b"\"../../etc/passwd\"",
    b"\"{%json /x%}\"",
    b"\"{{/publishableKey}}\"",
    b"\"sk_live_0000000000000000\"",
    b"\"pk_test_0000000000000000\"",
    b"\"https://x.supabase.co\"",
    b"\n",
    b"\r\n",
    b"\t",
    b"  ",
    b"\xEF\xBB\xBF",
];

/// Tokens of the vault's record formats.
pub const VAULT_WORDS: &[&[u8]] = &[
    b"mgv1:", b"MGV1", b"\x01", b"\x00", b"\xff", b"=", b"-", b"_", b"+", b"/", b"AAAA",
];

/// A mutation of `seed`: one to eight random edits (one half of the time, two a quarter, ...:
/// small changes keep most inputs valid enough to reach the deep checks), with words from
/// `dictionary` and pieces of `others` (the other seeds). The result is at most `max_len` bytes.
pub fn mutate(
    rng: &mut Rng,
    seed: &[u8],
    others: &[Vec<u8>],
    dictionary: &[&[u8]],
    max_len: usize,
) -> Vec<u8> {
    let mut data = seed.to_vec();
    let mut rounds = 1;
    while rounds < 8 && rng.one_in(2) {
        rounds += 1;
    }
    for _ in 0..rounds {
        match rng.below(12) {
            0 if !data.is_empty() => {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let at = rng.below(data.len());
                data[at] = interesting_byte(rng);
            }
            2 => {
                let at = rng.below(data.len() + 1);
                let byte = interesting_byte(rng);
                data.insert(at, byte);
            }
            3 if !data.is_empty() => {
                let at = rng.below(data.len());
                let len = 1 + rng.below((data.len() - at).min(64));
                data.drain(at..at + len);
            }
            4 if !data.is_empty() => {
                // Duplicate a range somewhere else.
                let from = rng.below(data.len());
                let len = 1 + rng.below((data.len() - from).min(128));
                let piece = data[from..from + len].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, piece);
            }
            5 | 6 if !dictionary.is_empty() => {
                let word = dictionary[rng.below(dictionary.len())];
                let at = rng.below(data.len() + 1);
                if rng.one_in(3) && at < data.len() {
                    // Overwrite instead of insert.
                    let end = (at + word.len()).min(data.len());
                    data.splice(at..end, word.iter().copied());
                } else {
                    data.splice(at..at, word.iter().copied());
                }
            }
            7 if !others.is_empty() => {
                // Splice a piece of another seed in.
                let other = &others[rng.below(others.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let len = 1 + rng.below((other.len() - from).min(256));
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, other[from..from + len].iter().copied());
                }
            }
            8 => swap_lines(rng, &mut data),
            11 if !dictionary.is_empty() => {
                // A word at the start of a line (a new statement, comment or member).
                let word = dictionary[rng.below(dictionary.len())];
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        data.iter()
                            .enumerate()
                            .filter(|(_, b)| **b == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .collect();
                let at = starts[rng.below(starts.len())];
                data.splice(at..at, word.iter().copied());
            }
            9 if data.len() > 1 => {
                // Truncate.
                let keep = rng.below(data.len());
                data.truncate(keep);
            }
            _ if !data.is_empty() => {
                // Change an ASCII digit or letter to a neighbour (keeps most text valid).
                let at = rng.below(data.len());
                if data[at].is_ascii_alphanumeric() {
                    data[at] = if rng.one_in(2) {
                        data[at].wrapping_add(1)
                    } else {
                        data[at].wrapping_sub(1)
                    };
                }
            }
            _ => data.push(interesting_byte(rng)),
        }
    }
    data.truncate(max_len);
    data
}

fn interesting_byte(rng: &mut Rng) -> u8 {
    const BYTES: &[u8] = b"\x00\x01\x7f\x80\xff\n\r\t \"'`{}[]()<>;:,./\\=!?*#@$-_0aZ";
    if rng.one_in(4) {
        u8::try_from(rng.below(256)).unwrap_or(0)
    } else {
        BYTES[rng.below(BYTES.len())]
    }
}

/// Moves, duplicates or deletes one line.
fn swap_lines(rng: &mut Rng, data: &mut Vec<u8>) {
    let mut lines: Vec<Vec<u8>> = data
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    if lines.len() < 2 {
        return;
    }
    let a = rng.below(lines.len());
    let b = rng.below(lines.len());
    match rng.below(3) {
        0 => lines.swap(a, b),
        1 => {
            let line = lines[a].clone();
            lines.insert(b, line);
        }
        _ => {
            lines.remove(a);
        }
    }
    *data = lines.concat();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let seed = b"export default function App() {}\n".to_vec();
        let run = |s| {
            let mut rng = Rng::new(s);
            (0..50)
                .map(|_| mutate(&mut rng, &seed, &[], JS_WORDS, 1 << 16))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn mutations_respect_the_length_bound() {
        let mut rng = Rng::new(1);
        let seed = vec![b'x'; 100];
        for _ in 0..1000 {
            assert!(
                mutate(
                    &mut rng,
                    &seed,
                    std::slice::from_ref(&seed),
                    JSON_WORDS,
                    120
                )
                .len()
                    <= 120
            );
        }
    }
}
