//! Python's `fnmatch.fnmatchcase`: shell-style globbing over a whole string.
//!
//! The pattern is read the way CPython 3.11's `fnmatch.translate` reads it: `*` is any run of
//! characters (slashes and newlines included), `?` is one character, `[...]` a set with ranges,
//! `[!...]` a negated set, a `[` without a closing `]` is a literal, and there is no escape
//! character (a backslash is a literal).

/// One element of a compiled glob.
#[derive(Debug, Clone)]
enum Item {
    /// `*`.
    Star,
    /// `?`.
    Any,
    /// One literal character.
    Char(char),
    /// A bracket set.
    Set(CharSet),
    /// An empty set: never matches.
    Never,
}

/// A bracket expression after CPython's empty-range removal.
#[derive(Debug, Clone)]
struct CharSet {
    negated: bool,
    singles: Vec<char>,
    ranges: Vec<(char, char)>,
}

impl CharSet {
    fn contains(&self, c: char) -> bool {
        let inside =
            self.singles.contains(&c) || self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        inside != self.negated
    }
}

/// A glob pattern compiled once, matched many times.
#[derive(Debug, Clone)]
pub struct Glob {
    items: Vec<Item>,
}

impl Glob {
    /// Compile `pattern` with `fnmatch`'s rules (every pattern is valid).
    pub fn new(pattern: &str) -> Glob {
        let pat: Vec<char> = pattern.chars().collect();
        let n = pat.len();
        let mut items = Vec::new();
        let mut i = 0;
        while i < n {
            let c = pat[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(items.last(), Some(Item::Star)) {
                        items.push(Item::Star);
                    }
                }
                '?' => items.push(Item::Any),
                '[' => {
                    let mut j = i;
                    if j < n && pat[j] == '!' {
                        j += 1;
                    }
                    if j < n && pat[j] == ']' {
                        j += 1;
                    }
                    while j < n && pat[j] != ']' {
                        j += 1;
                    }
                    if j >= n {
                        items.push(Item::Char('['));
                    } else {
                        items.push(bracket(&pat, i, j));
                        i = j + 1;
                    }
                }
                other => items.push(Item::Char(other)),
            }
        }
        Glob { items }
    }

    /// Does the whole of `name` match?
    pub fn is_match(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        let items = &self.items;
        let (mut p, mut t) = (0usize, 0usize);
        // Position after the last star and the text position it is retried from.
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            if p < items.len() {
                match &items[p] {
                    Item::Star => {
                        backtrack = Some((p + 1, t));
                        p += 1;
                        continue;
                    }
                    item if t < text.len() && item_matches(item, text[t]) => {
                        p += 1;
                        t += 1;
                        continue;
                    }
                    _ => {}
                }
            } else if t == text.len() {
                return true;
            }
            match backtrack {
                Some((bp, bt)) if bt < text.len() => {
                    backtrack = Some((bp, bt + 1));
                    p = bp;
                    t = bt + 1;
                }
                _ => return false,
            }
        }
    }
}

fn item_matches(item: &Item, c: char) -> bool {
    match item {
        Item::Any => true,
        Item::Char(x) => *x == c,
        Item::Set(set) => set.contains(c),
        Item::Never | Item::Star => false,
    }
}

/// Build the set for `pat[i..j]` (the text between `[` and `]`), as CPython does: chunks split
/// on range hyphens, empty ranges dropped, `!` first negates.
fn bracket(pat: &[char], start: usize, j: usize) -> Item {
    let stuff: Vec<char> = pat[start..j].to_vec();
    let chunks: Vec<Vec<char>> = if !stuff.contains(&'-') {
        vec![stuff]
    } else {
        let mut chunks: Vec<Vec<char>> = Vec::new();
        let mut i = start;
        let mut k = if pat[i] == '!' { i + 2 } else { i + 1 };
        loop {
            let found = (k..j).find(|&x| pat[x] == '-');
            let Some(pos) = found else { break };
            chunks.push(pat[i..pos].to_vec());
            i = pos + 1;
            k = pos + 3;
        }
        let chunk: Vec<char> = if i < j {
            pat[i..j].to_vec()
        } else {
            Vec::new()
        };
        if !chunk.is_empty() {
            chunks.push(chunk);
        } else if let Some(last) = chunks.last_mut() {
            last.push('-');
        }
        let mut k = chunks.len().saturating_sub(1);
        while k > 0 {
            let prev_last = chunks[k - 1].last().copied();
            let next_first = chunks[k].first().copied();
            if let (Some(a), Some(b)) = (prev_last, next_first) {
                if a > b {
                    let mut merged = chunks[k - 1][..chunks[k - 1].len() - 1].to_vec();
                    merged.extend_from_slice(&chunks[k][1..]);
                    chunks[k - 1] = merged;
                    chunks.remove(k);
                }
            }
            k -= 1;
        }
        chunks
    };
    // Flatten: literals, with a range between the last char of one chunk and the first of
    // the next.
    let mut singles = Vec::new();
    let mut ranges = Vec::new();
    for (idx, chunk) in chunks.iter().enumerate() {
        singles.extend_from_slice(chunk);
        if idx + 1 < chunks.len() {
            if let (Some(&a), Some(&b)) = (chunk.last(), chunks[idx + 1].first()) {
                ranges.push((a, b));
            }
        }
    }
    if singles.is_empty() {
        return Item::Never;
    }
    let negated = singles[0] == '!';
    if negated {
        singles.remove(0);
        // When the `!` is also a range start (`[!-...]` cannot be: CPython skips it), the range
        // list is untouched.
    }
    Item::Set(CharSet {
        negated,
        singles,
        ranges,
    })
}

/// `fnmatch.fnmatch(name, pattern)` on POSIX (case-sensitive).
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    Glob::new(pattern).is_match(name)
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn stars_and_questions() {
        assert!(fnmatch("web01.prod", "web*"));
        assert!(fnmatch("web01.prod", "*"));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("", "?"));
        assert!(fnmatch("a/b\nc", "a*c"));
        assert!(fnmatch("abc", "a?c"));
        assert!(!fnmatch("abcd", "a?c"));
        assert!(fnmatch("aXbXc", "*b*c"));
        assert!(!fnmatch("aXbXc", "*b*d"));
        assert!(fnmatch("mississippi", "*ss*pi"));
        assert!(!fnmatch("web", "web?"));
    }

    #[test]
    fn brackets() {
        assert!(fnmatch("web02", "web0[1-3]"));
        assert!(!fnmatch("web04", "web0[1-3]"));
        assert!(fnmatch("web04", "web0[!1-3]"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("a", "[!]]"));
        assert!(!fnmatch("]", "[!]]"));
        assert!(fnmatch("[ab", "[ab"));
        assert!(fnmatch("-", "[a-]"));
        assert!(fnmatch("-", "[a-c-e]"));
        assert!(fnmatch("e", "[a-c-e]"));
        assert!(!fnmatch("d", "[a-c-e]"));
        assert!(!fnmatch("a", "[b-a]"));
        assert!(fnmatch("x", "[!b-a]"));
        assert!(fnmatch("c", "[a--c]"));
        assert!(!fnmatch("b", "[a--c]"));
        assert!(fnmatch("^", "[^a]"));
        assert!(fnmatch("\\", "[\\]"));
        assert!(fnmatch("a\\b", "a\\b"));
        assert!(!fnmatch("-", "[!-a]"));
        assert!(fnmatch("b", "[!-a]"));
    }
}
