//! Salt's hashing and IP-test Jinja filters: `md5`, `sha1`, `sha256`, `sha512`, `is_ip`,
//! `is_ipv4`, `is_ipv6` (salt/utils/jinja.py, salt/utils/network.py).

use minijinja::value::Value as JValue;
use minijinja::Environment;
use sha2::Digest;

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(v: &JValue) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => super::pyrepr::py_str(v),
    }
}

/// Register the filters on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("md5", |v: JValue| {
        hex(&md5::Md5::digest(text(&v).as_bytes()))
    });
    env.add_filter("sha1", |v: JValue| {
        hex(&sha1::Sha1::digest(text(&v).as_bytes()))
    });
    env.add_filter("sha256", |v: JValue| {
        hex(&sha2::Sha256::digest(text(&v).as_bytes()))
    });
    env.add_filter("sha512", |v: JValue| {
        hex(&sha2::Sha512::digest(text(&v).as_bytes()))
    });
    env.add_filter("is_ip", |v: JValue| {
        text(&v).parse::<std::net::IpAddr>().is_ok()
    });
    env.add_filter("is_ipv4", |v: JValue| {
        text(&v).parse::<std::net::Ipv4Addr>().is_ok()
    });
    env.add_filter("is_ipv6", |v: JValue| {
        text(&v).parse::<std::net::Ipv6Addr>().is_ok()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_ip_tests() {
        let mut env = Environment::new();
        register(&mut env);
        let r = |src: &str| env.render_str(src, ()).expect("render");
        assert_eq!(r("{{ 'hello' | md5 }}"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(
            r("{{ '10.0.0.1' | is_ip }} {{ 'x' | is_ip }} {{ '::1' | is_ipv6 }}"),
            "True False True"
        );
    }
}
