//! Python's string semantics where Salt's behaviour depends on them (whitespace, strip,
//! split, text-mode lines, `strerror`), shared by the state modules' system layers.

/// Python's `str.isspace()` for one character (Unicode whitespace plus the separators
/// U+001C..U+001F, which Python counts and Rust does not).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `s.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `s.split()` (no separator: runs of whitespace, no empty fields).
pub fn py_split(s: &str) -> Vec<&str> {
    s.split(is_py_space).filter(|w| !w.is_empty()).collect()
}

/// The lines of a file read in Python's text mode (`readlines()`): `\r\n` and `\r` become
/// `\n`, and every line keeps its `\n` (the last one may have none).
pub fn text_lines(text: &str) -> Vec<String> {
    let norm = text.replace("\r\n", "\n").replace('\r', "\n");
    norm.split_inclusive('\n').map(str::to_string).collect()
}

/// The C library's text for an I/O error (`exc.strerror` in Python, without the
/// ` (os error N)` Rust appends).
pub fn strerror(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// Python's `int(s)` for a string: surrounding whitespace, an optional sign, decimal
/// digits with single `_` between them. `None` where Python raises `ValueError`.
pub fn py_int(s: &str) -> Option<i128> {
    let t = py_strip(s);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// [`py_int`] in `i64` (`None` also when it does not fit).
pub fn py_int64(s: &str) -> Option<i64> {
    py_int(s).and_then(|n| i64::try_from(n).ok())
}

/// Python's `os.path.normpath` for POSIX paths.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_python() {
        assert_eq!(py_int(" 999 "), Some(999));
        assert_eq!(py_int("+5"), Some(5));
        assert_eq!(py_int("-5"), Some(-5));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("_1"), None);
        assert_eq!(py_int("0x10"), None);
        assert_eq!(py_int(""), None);
    }

    #[test]
    fn normpath_like_python() {
        assert_eq!(normpath("/var//lib/./etcd/"), "/var/lib/etcd");
        assert_eq!(normpath("/a/../b"), "/b");
        assert_eq!(normpath("//x"), "//x");
        assert_eq!(normpath("a/../../b"), "../b");
        assert_eq!(normpath(""), ".");
    }
}
