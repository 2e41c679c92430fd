//! Job ids (`salt.utils.jid`): the local time as `%Y%m%d%H%M%S%f`, 20 digits.

/// A new jid.
pub fn gen_jid() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes only into the `tm` we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        libc::localtime_r(&secs, &mut tm);
    }
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:06}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_micros()
    )
}

/// Salt's `is_jid`: 20 digits, optionally followed by `_…`.
pub fn is_jid(s: &str) -> bool {
    let (head, _) = s.split_once('_').unwrap_or((s, ""));
    head.len() == 20 && head.bytes().all(|b| b.is_ascii_digit())
}

/// A jid that is strictly greater than `last` (two jobs in the same microsecond would
/// otherwise collide): the master allocates through this.
pub fn next_jid(last: &mut String) -> String {
    let mut j = gen_jid();
    if j <= *last {
        let n: u128 = last.parse().unwrap_or(0) + 1;
        j = format!("{n:020}");
    }
    last.clone_from(&j);
    j
}

#[cfg(test)]
mod tests {
    #[test]
    fn jids() {
        let j = super::gen_jid();
        assert!(super::is_jid(&j), "{j}");
        assert!(super::is_jid("20261123003156498044_123"));
        assert!(!super::is_jid("2026112300315649804"));
        let mut last = "99991231235959999999".to_string();
        assert_eq!(super::next_jid(&mut last), "99991231235960000000");
    }
}
