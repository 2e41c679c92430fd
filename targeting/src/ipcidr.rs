//! The `S@` / `ipcidr` matcher: a single address or a network against the `ipv4`/`ipv6` grains.

use halite_core::Value;
#[cfg(test)]
use std::net::Ipv6Addr;
use std::net::{IpAddr, Ipv4Addr};

/// An IP network as Python's `ipaddress.ip_network(text)` (strict) accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parse `addr/prefix`, `addr/netmask` or `addr/hostmask` (IPv4), `addr/prefix` (IPv6), or a
    /// bare address; `None` when Python would raise `ValueError` (including host bits set).
    pub fn parse(text: &str) -> Option<Network> {
        let (addr_text, mask_text) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().ok()?;
        let max = if addr.is_ipv4() { 32u8 } else { 128u8 };
        let prefix = match mask_text {
            None => max,
            Some(m) if !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()) => {
                let p: u32 = m.parse().ok()?;
                if p > u32::from(max) {
                    return None;
                }
                u8::try_from(p).ok()?
            }
            Some(m) if addr.is_ipv4() => ipv4_mask_prefix(m)?,
            Some(_) => return None,
        };
        let net = Network { addr, prefix };
        // Strict: the address must be the network address.
        (mask(addr, prefix) == bits(addr)).then_some(net)
    }

    /// Is `ip` inside this network (same IP version)?
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == bits(self.addr)
    }

    /// 4 or 6.
    pub fn version(&self) -> u8 {
        if self.addr.is_ipv4() {
            4
        } else {
            6
        }
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(ip: IpAddr, prefix: u8) -> u128 {
    let width: u32 = if ip.is_ipv4() { 32 } else { 128 };
    let host = width - u32::from(prefix);
    let value = bits(ip);
    if host >= 128 {
        0
    } else {
        (value >> host) << host
    }
}

/// A dotted IPv4 netmask (`255.255.0.0`) or hostmask (`0.0.255.255`) as a prefix length.
fn ipv4_mask_prefix(m: &str) -> Option<u8> {
    let mask: Ipv4Addr = m.parse().ok()?;
    let v = u32::from(mask);
    let inv = !v;
    if inv & inv.wrapping_add(1) == 0 {
        return u8::try_from(v.leading_ones()).ok();
    }
    if v & v.wrapping_add(1) == 0 {
        return u8::try_from(v.leading_zeros()).ok();
    }
    None
}

/// The result of the ipcidr matcher: Salt returns `[]` (falsy) for an invalid target, which
/// reads differently from `False` inside a compound expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcidrResult {
    /// A boolean answer.
    Bool(bool),
    /// The target was neither an address nor a network.
    Invalid,
}

/// `salt.matchers.ipcidr_match.match(tgt)` against `grains`.
pub fn ipcidr_match(tgt: &str, grains: &Value) -> IpcidrResult {
    if let Ok(addr) = tgt.parse::<IpAddr>() {
        let proto = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
        let Some(known) = grains.get(proto) else {
            return IpcidrResult::Bool(false);
        };
        let text = addr.to_string();
        let hit = match known {
            Value::List(items) => items.iter().any(|i| i.as_str() == Some(text.as_str())),
            Value::Str(s) => s.contains(&text),
            _ => false,
        };
        return IpcidrResult::Bool(hit);
    }
    let Some(net) = Network::parse(tgt) else {
        return IpcidrResult::Invalid;
    };
    let proto = if net.version() == 4 { "ipv4" } else { "ipv6" };
    let Some(known) = grains.get(proto) else {
        return IpcidrResult::Bool(false);
    };
    let addrs: Vec<&Value> = match known {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    };
    let hit = addrs.iter().any(|a| {
        a.as_str()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| net.contains(ip))
    });
    IpcidrResult::Bool(hit)
}

#[cfg(test)]
fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::Map;

    fn grains() -> Value {
        let mut m = Map::default();
        m.insert(
            "ipv4".into(),
            Value::List(vec!["127.0.0.1".into(), "192.0.2.2".into()]),
        );
        m.insert(
            "ipv6".into(),
            Value::List(vec!["::1".into(), "fd00::2".into()]),
        );
        Value::Map(m)
    }

    #[test]
    fn addresses_and_networks() {
        let g = grains();
        assert_eq!(ipcidr_match("192.0.2.2", &g), IpcidrResult::Bool(true));
        assert_eq!(ipcidr_match("192.0.2.3", &g), IpcidrResult::Bool(false));
        assert_eq!(ipcidr_match("192.0.2.0/24", &g), IpcidrResult::Bool(true));
        assert_eq!(ipcidr_match("10.0.0.0/8", &g), IpcidrResult::Bool(false));
        assert_eq!(
            ipcidr_match("192.0.2.0/255.255.255.0", &g),
            IpcidrResult::Bool(true)
        );
        assert_eq!(ipcidr_match("192.0.2.1/24", &g), IpcidrResult::Invalid);
        assert_eq!(ipcidr_match("fd00::/64", &g), IpcidrResult::Bool(true));
        assert_eq!(ipcidr_match("fd00:0::2", &g), IpcidrResult::Bool(true));
        assert_eq!(ipcidr_match("web*", &g), IpcidrResult::Invalid);
        assert_eq!(ipcidr_match("0.0.0.0/0", &g), IpcidrResult::Bool(true));
        assert!(Network::parse("10.0.0.0/0.255.255.255").is_some());
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(Network::parse("::/0").is_some_and(|n| n.contains(IpAddr::V6(v6("fd00::1")))));
    }
}
