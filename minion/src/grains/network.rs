//! Network grains: interfaces and their addresses (through `getifaddrs`), default gateways
//! (`/proc/net/route`, `/proc/net/ipv6_route`), the resolver configuration, and the host
//! names (`/etc/hosts`, never DNS).

use halite_core::{Map, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One network interface as `ip addr show` lists it.
#[derive(Debug, Default, Clone)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// The link-layer address, `aa:bb:...`, when the interface has one.
    pub hwaddr: Option<String>,
    /// IPv4 addresses, kernel order.
    pub inet: Vec<Ipv4Addr>,
    /// IPv6 addresses, kernel order.
    pub inet6: Vec<Ipv6Addr>,
}

/// Every interface in index order (the order of `ip addr show`), with its addresses.
pub fn interfaces() -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return out;
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, valid until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let idx = match out.iter().position(|i| i.name == name) {
            Some(i) => i,
            None => {
                out.push(Interface {
                    name,
                    ..Interface::default()
                });
                out.len() - 1
            }
        };
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr whose family says which struct it is.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        match family {
            libc::AF_INET => {
                // SAFETY: family AF_INET means a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                out[idx]
                    .inet
                    .push(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
            libc::AF_INET6 => {
                // SAFETY: family AF_INET6 means a sockaddr_in6.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                out[idx].inet6.push(Ipv6Addr::from(sin6.sin6_addr.s6_addr));
            }
            libc::AF_PACKET => {
                // SAFETY: family AF_PACKET means a sockaddr_ll.
                let sll = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
                let len = usize::from(sll.sll_halen).min(sll.sll_addr.len());
                if len > 0 {
                    let mac: Vec<String> = sll.sll_addr[..len]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    out[idx].hwaddr = Some(mac.join(":"));
                }
            }
            _ => {}
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

fn str_list<T: ToString>(items: &[T]) -> Value {
    Value::List(items.iter().map(|i| Value::Str(i.to_string())).collect())
}

/// `hwaddr_interfaces`, `ip4_interfaces`, `ip6_interfaces`, `ip_interfaces`.
pub fn interface_grains(ifaces: &[Interface]) -> (Value, Value, Value, Value) {
    let mut hw = Map::default();
    let mut v4 = Map::default();
    let mut v6 = Map::default();
    let mut all = Map::default();
    for i in ifaces {
        let key = Value::Str(i.name.clone());
        if let Some(mac) = &i.hwaddr {
            hw.insert(key.clone(), Value::Str(mac.clone()));
        }
        v4.insert(key.clone(), str_list(&i.inet));
        v6.insert(key.clone(), str_list(&i.inet6));
        let mut both: Vec<Value> = i.inet.iter().map(|a| a.to_string().into()).collect();
        both.extend(i.inet6.iter().map(|a| Value::Str(a.to_string())));
        all.insert(key, Value::List(both));
    }
    (
        Value::Map(hw),
        Value::Map(v4),
        Value::Map(v6),
        Value::Map(all),
    )
}

/// The `ipv4` and `ipv6` grains: every address, deduplicated and sorted numerically.
pub fn all_addresses(ifaces: &[Interface]) -> (Value, Value) {
    let mut v4: Vec<Ipv4Addr> = ifaces.iter().flat_map(|i| i.inet.clone()).collect();
    v4.sort();
    v4.dedup();
    let mut v6: Vec<Ipv6Addr> = ifaces.iter().flat_map(|i| i.inet6.clone()).collect();
    v6.sort();
    v6.dedup();
    (str_list(&v4), str_list(&v6))
}

/// Is `binary` an executable file somewhere on `PATH` (Salt's `which`)?
pub fn which(binary: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').filter(|d| !d.is_empty()).any(|dir| {
        std::fs::metadata(format!("{dir}/{binary}"))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// `ip_gw`, `ip4_gw`, `ip6_gw` (inserted into `grains`): the first default route of each
/// family, its gateway address or `true` when it has none; nothing when `ip` is not
/// installed, as Salt.
pub fn default_gateway(grains: &mut Map) {
    if !which("ip") {
        return;
    }
    let v4 = std::fs::read_to_string("/proc/net/route")
        .ok()
        .and_then(|t| ipv4_default_route(&t));
    let v6 = std::fs::read_to_string("/proc/net/ipv6_route")
        .ok()
        .and_then(|t| ipv6_default_route(&t));
    grains.insert("ip_gw".into(), Value::Bool(v4.is_some() || v6.is_some()));
    grains.insert("ip4_gw".into(), v4.unwrap_or(Value::Bool(false)));
    grains.insert("ip6_gw".into(), v6.unwrap_or(Value::Bool(false)));
}

/// The default route in `/proc/net/route` text: the gateway, or `true` without one.
fn ipv4_default_route(text: &str) -> Option<Value> {
    let mut best: Option<(u32, Value)> = None;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 || f[1] != "00000000" || f[7] != "00000000" {
            continue;
        }
        let metric = f[6].parse::<u32>().unwrap_or(u32::MAX);
        let gw = u32::from_str_radix(f[2], 16).ok()?;
        let value = if gw == 0 {
            Value::Bool(true)
        } else {
            Value::Str(Ipv4Addr::from(u32::from_be(gw)).to_string())
        };
        if best.as_ref().is_none_or(|(m, _)| metric < *m) {
            best = Some((metric, value));
        }
    }
    best.map(|(_, v)| v)
}

/// The default route in `/proc/net/ipv6_route` text.
fn ipv6_default_route(text: &str) -> Option<Value> {
    let mut best: Option<(u32, Value)> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[0] != "0".repeat(32) || f[1] != "00" || f[9] == "lo" {
            continue;
        }
        // Unreachable/prohibit routes are not defaults `ip -6 route` shows as `default`.
        let flags = u32::from_str_radix(f[8], 16).unwrap_or(0);
        if flags & 0x0200 != 0 {
            continue;
        }
        let metric = u32::from_str_radix(f[5], 16).unwrap_or(u32::MAX);
        let gw = u128::from_str_radix(f[4], 16).ok()?;
        let value = if gw == 0 {
            Value::Bool(true)
        } else {
            Value::Str(Ipv6Addr::from(gw).to_string())
        };
        if best.as_ref().is_none_or(|(m, _)| metric < *m) {
            best = Some((metric, value));
        }
    }
    best.map(|(_, v)| v)
}

/// The `dns` grain: Salt's `parse_resolv` of the resolver configuration.
pub fn dns() -> Option<Value> {
    let path = if std::path::Path::new("/run/systemd/resolve/resolv.conf").exists() {
        "/run/systemd/resolve/resolv.conf"
    } else {
        "/etc/resolv.conf"
    };
    let text = std::fs::read_to_string(path).ok()?;
    Some(parse_resolv(&text))
}

/// Parse resolv.conf text the way `salt.utils.dns.parse_resolv` does.
pub fn parse_resolv(text: &str) -> Value {
    let (mut ns, mut ns4, mut ns6) = (Vec::new(), Vec::new(), Vec::new());
    let mut search = Vec::new();
    let mut domain = String::new();
    let mut options: Vec<String> = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((directive, rest)) = words.split_first() else {
            continue;
        };
        let args: Vec<&str> = rest
            .iter()
            .take_while(|w| !w.starts_with(['#', ';']))
            .copied()
            .collect();
        match directive.to_lowercase().as_str() {
            "nameserver" => {
                let Some(addr) = args.first().and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                let s = Value::Str(addr.to_string());
                if !ns.contains(&s) {
                    ns.push(s.clone());
                }
                let list = if addr.is_ipv4() { &mut ns4 } else { &mut ns6 };
                if !list.contains(&s) {
                    list.push(s);
                }
            }
            "domain" => {
                if let Some(d) = args.first() {
                    domain = (*d).to_string();
                }
            }
            "search" => search = args.iter().map(|s| Value::from(*s)).collect(),
            "options" => {
                if let Some(o) = args.first() {
                    if !options.iter().any(|x| x == o) {
                        options.push((*o).to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let mut m = Map::default();
    m.insert("nameservers".into(), Value::List(ns));
    m.insert("ip4_nameservers".into(), Value::List(ns4));
    m.insert("ip6_nameservers".into(), Value::List(ns6));
    m.insert("sortlist".into(), Value::List(vec![]));
    m.insert("domain".into(), Value::Str(domain));
    m.insert("search".into(), Value::List(search));
    m.insert(
        "options".into(),
        Value::List(options.into_iter().map(Value::Str).collect()),
    );
    Value::Map(m)
}

/// `/etc/hosts` entries: (address, names).
fn hosts_entries() -> Vec<(IpAddr, Vec<String>)> {
    let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let addr = words.next()?.parse::<IpAddr>().ok()?;
            Some((addr, words.map(str::to_string).collect()))
        })
        .collect()
}

/// The fully qualified name of `hostname` as the resolver's `AI_CANONNAME` gives it from
/// `/etc/hosts` (the first name of the first line naming it), or the host name itself.
pub fn fqdn(hostname: &str) -> String {
    hosts_entries()
        .into_iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(hostname)))
        .and_then(|(_, names)| names.into_iter().next())
        .unwrap_or_else(|| hostname.to_string())
}

/// `fqdn_ip4` and `fqdn_ip6`: the addresses `/etc/hosts` gives `fqdn` (empty when the host has
/// no address of that family).
pub fn fqdn_ips(fqdn: &str, have_v4: bool, have_v6: bool) -> (Value, Value) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (addr, names) in hosts_entries() {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(fqdn)) {
            continue;
        }
        let s = Value::Str(addr.to_string());
        let list = if addr.is_ipv4() { &mut v4 } else { &mut v6 };
        if !list.contains(&s) {
            list.push(s);
        }
    }
    if !have_v4 {
        v4.clear();
    }
    if !have_v6 {
        v6.clear();
    }
    (Value::List(v4), Value::List(v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_parsing() {
        let v = parse_resolv(
            "# c\nnameserver 10.0.0.1\nnameserver fd00::53 # x\nnameserver 10.0.0.1\nsearch a.example b.example\noptions ndots:2\noptions ndots:2\n",
        );
        assert_eq!(
            v.get("nameservers").map(Value::py_repr).as_deref(),
            Some("['10.0.0.1', 'fd00::53']")
        );
        assert_eq!(
            v.get("ip6_nameservers").map(Value::py_repr).as_deref(),
            Some("['fd00::53']")
        );
        assert_eq!(
            v.get("search").map(Value::py_repr).as_deref(),
            Some("['a.example', 'b.example']")
        );
        assert_eq!(
            v.get("options").map(Value::py_repr).as_deref(),
            Some("['ndots:2']")
        );
    }

    #[test]
    fn default_routes() {
        let route =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(ipv4_default_route(route), Some(Value::from("192.0.2.1")));
        assert_eq!(ipv4_default_route("Iface\n"), None);
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
        assert_eq!(ipv6_default_route(v6), Some(Value::from("fd00::1")));
    }
}
