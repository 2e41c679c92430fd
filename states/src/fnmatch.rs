//! Python's `fnmatch.fnmatchcase`: shell-style wildcards over the whole string.

/// Does `name` match the shell pattern `pat` (`*`, `?`, `[seq]`, `[!seq]`)?
pub fn fnmatch(name: &str, pat: &str) -> bool {
    let n: Vec<char> = name.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    matches_at(&n, 0, &p, 0)
}

fn matches_at(n: &[char], mut ni: usize, p: &[char], mut pi: usize) -> bool {
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() => {
                    ni += 1;
                    pi += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class(p, pi, n.get(ni).copied()) {
                        if ok && ni < n.len() {
                            ni += 1;
                            pi = next;
                            continue;
                        }
                    } else if ni < n.len() && n[ni] == '[' {
                        ni += 1;
                        pi += 1;
                        continue;
                    }
                }
                c if c != '?' && ni < n.len() && n[ni] == c => {
                    ni += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return true;
        }
        match star {
            Some((sp, sn)) if sn < n.len() => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Parse a `[...]` class at `p[start]`; `None` when unterminated (then `[` is literal).
fn class(p: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let first = i;
    let mut ok = false;
    while i < p.len() {
        if p[i] == ']' && i > first {
            return Some((c.is_some() && ok != negate, i + 1));
        }
        if let Some(ch) = c {
            if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                if p[i] <= ch && ch <= p[i + 2] {
                    ok = true;
                }
                i += 3;
                continue;
            }
            if p[i] == ch {
                ok = true;
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn python_fnmatch_cases() {
        assert!(fnmatch("web01", "web*"));
        assert!(fnmatch("web01.prod.x", "web0[1-3].prod.*"));
        assert!(!fnmatch("web04.prod.x", "web0[1-3].prod.*"));
        assert!(fnmatch("a.b", "a?b"));
        assert!(!fnmatch("ab", "a?b"));
        assert!(fnmatch("x", "[!y]"));
        assert!(!fnmatch("y", "[!y]"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("anything", "*"));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("abc", "ab"));
    }
}
