//! Python's `difflib.unified_diff` (SequenceMatcher with `autojunk`), byte for byte: Salt's
//! diffs are difflib's, and Myers diffs group hunks differently.

use std::collections::HashMap;

type Opcode = (char, usize, usize, usize, usize);

/// Python's `SequenceMatcher(None, a, b)` over lines.
struct Matcher<'a> {
    a: &'a [&'a str],
    b: &'a [&'a str],
    b2j: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Matcher<'a> {
    fn new(a: &'a [&'a str], b: &'a [&'a str]) -> Self {
        let mut b2j: HashMap<&str, Vec<usize>> = HashMap::default();
        for (j, line) in b.iter().enumerate() {
            b2j.entry(line).or_default().push(j);
        }
        let n = b.len();
        if n >= 200 {
            let ntest = n / 100 + 1;
            b2j.retain(|_, idxs| idxs.len() <= ntest);
        }
        Matcher { a, b, b2j }
    }

    fn longest_match(
        &self,
        alo: usize,
        ahi: usize,
        blo: usize,
        bhi: usize,
    ) -> (usize, usize, usize) {
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        let mut j2len: HashMap<usize, usize> = HashMap::default();
        for i in alo..ahi {
            let mut newj2len = HashMap::default();
            if let Some(js) = self.b2j.get(self.a[i]) {
                for &j in js {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = j
                        .checked_sub(1)
                        .and_then(|p| j2len.get(&p))
                        .copied()
                        .unwrap_or(0)
                        + 1;
                    newj2len.insert(j, k);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            j2len = newj2len;
        }
        while besti > alo && bestj > blo && self.a[besti - 1] == self.b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi
            && bestj + bestsize < bhi
            && self.a[besti + bestsize] == self.b[bestj + bestsize]
        {
            bestsize += 1;
        }
        (besti, bestj, bestsize)
    }

    fn matching_blocks(&self) -> Vec<(usize, usize, usize)> {
        let (la, lb) = (self.a.len(), self.b.len());
        let mut queue = vec![(0, la, 0, lb)];
        let mut blocks = Vec::new();
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = self.longest_match(alo, ahi, blo, bhi);
            if k > 0 {
                blocks.push((i, j, k));
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        blocks.sort_unstable();
        let mut out: Vec<(usize, usize, usize)> = Vec::new();
        for (i, j, k) in blocks {
            if let Some(last) = out.last_mut() {
                if last.0 + last.2 == i && last.1 + last.2 == j {
                    last.2 += k;
                    continue;
                }
            }
            out.push((i, j, k));
        }
        out.push((la, lb, 0));
        out
    }

    fn opcodes(&self) -> Vec<Opcode> {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        for (ai, bj, size) in self.matching_blocks() {
            let tag = match (i < ai, j < bj) {
                (true, true) => Some('r'),
                (true, false) => Some('d'),
                (false, true) => Some('i'),
                _ => None,
            };
            if let Some(t) = tag {
                out.push((t, i, ai, j, bj));
            }
            i = ai + size;
            j = bj + size;
            if size > 0 {
                out.push(('e', ai, i, bj, j));
            }
        }
        out
    }

    fn grouped(&self, n: usize) -> Vec<Vec<Opcode>> {
        let mut codes = self.opcodes();
        if codes.is_empty() {
            codes.push(('e', 0, 1, 0, 1));
        }
        if let Some(first) = codes.first_mut() {
            if first.0 == 'e' {
                let (t, i1, i2, j1, j2) = *first;
                *first = (
                    t,
                    i1.max(i2.saturating_sub(n)),
                    i2,
                    j1.max(j2.saturating_sub(n)),
                    j2,
                );
            }
        }
        if let Some(last) = codes.last_mut() {
            if last.0 == 'e' {
                let (t, i1, i2, j1, j2) = *last;
                *last = (t, i1, i2.min(i1 + n), j1, j2.min(j1 + n));
            }
        }
        let nn = n + n;
        let mut groups = Vec::new();
        let mut group = Vec::new();
        for (t, mut i1, i2, mut j1, j2) in codes {
            if t == 'e' && i2 - i1 > nn {
                group.push((t, i1, i2.min(i1 + n), j1, j2.min(j1 + n)));
                groups.push(std::mem::take(&mut group));
                i1 = i1.max(i2.saturating_sub(n));
                j1 = j1.max(j2.saturating_sub(n));
            }
            group.push((t, i1, i2, j1, j2));
        }
        if !(group.is_empty() || group.len() == 1 && group[0].0 == 'e') {
            groups.push(group);
        }
        groups
    }
}

fn format_range(start: usize, stop: usize) -> String {
    let mut beginning = start + 1;
    let length = stop - start;
    if length == 1 {
        return beginning.to_string();
    }
    if length == 0 {
        beginning -= 1;
    }
    format!("{beginning},{length}")
}

/// `difflib.unified_diff(a, b, lineterm=lineterm)` as a list of lines (empty file names).
pub fn unified_diff_lines(a: &[&str], b: &[&str], lineterm: &str) -> Vec<String> {
    let m = Matcher::new(a, b);
    let mut out = Vec::new();
    for (gi, group) in m.grouped(3).iter().enumerate() {
        if gi == 0 {
            out.push(format!("--- {lineterm}"));
            out.push(format!("+++ {lineterm}"));
        }
        let (first, last) = (group[0], group[group.len() - 1]);
        out.push(format!(
            "@@ -{} +{} @@{lineterm}",
            format_range(first.1, last.2),
            format_range(first.3, last.4)
        ));
        for &(t, i1, i2, j1, j2) in group {
            if t == 'e' {
                out.extend(a[i1..i2].iter().map(|l| format!(" {l}")));
                continue;
            }
            if t == 'r' || t == 'd' {
                out.extend(a[i1..i2].iter().map(|l| format!("-{l}")));
            }
            if t == 'r' || t == 'i' {
                out.extend(b[j1..j2].iter().map(|l| format!("+{l}")));
            }
        }
    }
    out
}

/// Python's `str.splitlines(keepends=True)` for `\n`, `\r\n` and `\r`.
pub fn split_keepends(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..=i]);
                start = i + 1;
            }
            b'\r' => {
                let end = if bytes.get(i + 1) == Some(&b'\n') {
                    i + 1
                } else {
                    i
                };
                out.push(&text[start..=end]);
                i = end;
                start = end + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Salt's `get_diff` on two texts: `"".join(unified_diff(readlines(a), readlines(b)))`.
pub fn file_diff(old: &str, new: &str) -> String {
    let a = split_keepends(old);
    let b = split_keepends(new);
    unified_diff_lines(&a, &b, "\n").concat()
}

/// `"\n".join(difflib.unified_diff(old_lines, new_lines))` over lines without their ends
/// (what `file.append` and `file.prepend` report).
pub fn lines_diff(old: &[String], new: &[String]) -> String {
    let a: Vec<&str> = old.iter().map(String::as_str).collect();
    let b: Vec<&str> = new.iter().map(String::as_str).collect();
    unified_diff_lines(&a, &b, "\n").join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_line_and_addition() {
        let d = file_diff(
            "line one\nline two\nline three\n",
            "line one\nline 2\nline three\nline four\n",
        );
        assert_eq!(
            d,
            "--- \n+++ \n@@ -1,3 +1,4 @@\n line one\n-line two\n+line 2\n line three\n+line four\n"
        );
    }

    #[test]
    fn identical_is_empty() {
        assert_eq!(file_diff("a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn distant_changes_make_two_hunks() {
        let old: String = (0..20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "two\n").replace("17\n", "seventeen\n");
        let d = file_diff(&old, &new);
        assert_eq!(d.matches("@@ ").count(), 2, "{d}");
        assert!(d.contains("@@ -1,6 +1,6 @@\n"), "{d}");
    }

    #[test]
    fn append_style_diff() {
        let old = vec!["existing line".to_string()];
        let new = vec!["existing line".to_string(), "10.0.0.1 node1".to_string()];
        assert_eq!(
            lines_diff(&old, &new),
            "--- \n\n+++ \n\n@@ -1 +1,2 @@\n\n existing line\n+10.0.0.1 node1"
        );
        assert_eq!(
            lines_diff(&[], &["x".to_string()]),
            "--- \n\n+++ \n\n@@ -0,0 +1 @@\n\n+x"
        );
    }

    #[test]
    fn splitlines_keeps_ends() {
        assert_eq!(
            split_keepends("a\r\nb\rc\nd"),
            vec!["a\r\n", "b\r", "c\n", "d"]
        );
    }
}
