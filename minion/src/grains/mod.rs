//! Grains: the facts Salt computes about the minion.
//!
//! [`core_grains`] computes the core set Salt 3008.5 computes on Linux, with the same keys,
//! values, types and key order as `salt-call grains.items`, reading `/proc`, `/sys`, `/etc`,
//! `uname(2)` and `getifaddrs(3)` only: no process is spawned and no DNS query is made.
//! Static grains from the `grains:` option are merged on top, as Salt does.

mod lookup;
mod network;
mod sha256;
mod system;

pub use lookup::{dict_update, filter_by, get};

use halite_core::{Map, Value};

/// The Salt version Halite answers as (`saltversion`, `saltversioninfo`).
pub const SALT_VERSION: (i64, i64) = (3008, 5);

fn ins(m: &mut Map, k: &str, v: impl Into<Value>) {
    m.insert(Value::Str(k.to_string()), v.into());
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Compute the core grains for a minion configured with `opts` (Salt's `__opts__`: `id`,
/// `master`, `grains`, `enable_fqdns_grains`...).
///
/// Keys Salt gets from Python itself (`pythonversion`, `pythonpath`, `pythonexecutable`,
/// `saltpath`, `zmqversion`, `ca_truststore`, `package`), from running commands (`systemd`,
/// `gpus` beyond the empty list, `selinux`), or from reverse DNS (`fqdns` when
/// `enable_fqdns_grains` is true) are not computed; `fqdns` is always an empty list.
pub fn core_grains(opts: &Map) -> Map {
    let mut g = Map::default();
    let opt_str = |k: &str| {
        opts.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };

    let cwd = std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    ins(&mut g, "cwd", cwd);
    network::default_gateway(&mut g);
    if let Some(dns) = network::dns() {
        ins(&mut g, "dns", dns);
    }
    ins(
        &mut g,
        "fibre_channel_host",
        std::path::Path::new("/sys/class/fc_host").is_dir(),
    );
    ins(&mut g, "fqdns", Value::List(vec![]));
    if let Some(mid) = system::machine_id() {
        ins(&mut g, "machine_id", mid);
    }
    ins(
        &mut g,
        "master",
        opts.get("master").cloned().unwrap_or_else(|| "".into()),
    );
    let id = opt_str("id");
    ins(&mut g, "server_id", sha256::server_id(&id));

    let (kernel, nodename, kernelrelease, kernelversion, cpuarch) = system::uname();
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| nodename.clone());
    let fqdn = network::fqdn(&hostname);
    ins(&mut g, "localhost", hostname.clone());
    ins(&mut g, "fqdn", fqdn.clone());
    let (host, domain) = match fqdn.split_once('.') {
        Some((h, d)) => (h.to_string(), d.to_string()),
        None => (fqdn.clone(), String::new()),
    };
    ins(&mut g, "host", host);
    ins(&mut g, "domain", domain);

    let ifaces = network::interfaces();
    let (hw, ip4, ip6, ip_all) = network::interface_grains(&ifaces);
    let (ipv4, ipv6) = network::all_addresses(&ifaces);
    ins(&mut g, "hwaddr_interfaces", hw);
    ins(&mut g, "id", id);
    ins(&mut g, "ip4_interfaces", ip4);
    ins(&mut g, "ip6_interfaces", ip6);
    let have_v4 = ipv4.as_list().is_some_and(|l| !l.is_empty());
    let have_v6 = ipv6.as_list().is_some_and(|l| !l.is_empty());
    ins(&mut g, "ipv4", ipv4);
    ins(&mut g, "ipv6", ipv6);
    let (fqdn_ip4, fqdn_ip6) = network::fqdn_ips(&fqdn, have_v4, have_v6);
    ins(&mut g, "fqdn_ip4", fqdn_ip4);
    ins(&mut g, "fqdn_ip6", fqdn_ip6);
    ins(&mut g, "ip_interfaces", ip_all);
    if let Ok(cmdline) = std::fs::read_to_string("/proc/cmdline") {
        ins(&mut g, "kernelparams", system::kernelparams(&cmdline));
    }

    let (lang, enc) = system::locale_pair();
    let mut locale = Map::default();
    ins(&mut locale, "defaultlanguage", lang);
    ins(&mut locale, "defaultencoding", enc);
    ins(&mut locale, "detectedencoding", "utf-8");
    ins(&mut locale, "timezone", system::timezone_name());
    ins(&mut g, "locale_info", Value::Map(locale));

    ins(&mut g, "num_gpus", 0i64);
    ins(&mut g, "gpus", Value::List(vec![]));
    ins(&mut g, "kernel", kernel);
    ins(&mut g, "nodename", nodename);
    ins(&mut g, "kernelrelease", kernelrelease);
    ins(&mut g, "kernelversion", kernelversion);
    ins(&mut g, "cpuarch", cpuarch.clone());
    ins(&mut g, "init", system::init_system());

    let os_release = {
        let t = read("/etc/os-release");
        if t.is_empty() {
            read("/usr/lib/os-release")
        } else {
            t
        }
    };
    let dist = system::distribution(&system::parse_os_release(&os_release));
    for (k, v) in &dist {
        g.insert(k.clone(), v.clone());
    }
    let (num_cpus, cpu_model, cpu_flags) = system::cpudata(&read("/proc/cpuinfo"));
    ins(&mut g, "num_cpus", num_cpus);
    ins(&mut g, "cpu_model", cpu_model);
    ins(&mut g, "cpu_flags", Value::List(cpu_flags));
    let os_family = dist
        .get("os_family")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let osarch = if os_family == "Debian" {
        system::debian_arch(&cpuarch)
    } else {
        cpuarch.clone()
    };
    ins(&mut g, "osarch", osarch);
    let (mem, swap) = system::memdata(&read("/proc/meminfo"));
    ins(&mut g, "mem_total", mem);
    ins(&mut g, "swap_total", swap);
    let (virt, subtype) = system::virtual_grains();
    ins(&mut g, "virtual", virt);
    if let Some(s) = subtype {
        ins(&mut g, "virtual_subtype", s);
    }
    ins(&mut g, "ps", "ps -efHww");
    let dist_str = |k: &str| {
        dist.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let osrelease = dist_str("osrelease");
    if !osrelease.is_empty() {
        system::osrelease_data(&dist_str("os"), &dist_str("osfullname"), &osrelease, &mut g);
    }

    let path = std::env::var("PATH").unwrap_or_default().trim().to_string();
    let systempath: Vec<Value> = path.split(':').map(Value::from).collect();
    ins(&mut g, "path", path);
    ins(&mut g, "systempath", Value::List(systempath));
    ins(
        &mut g,
        "saltversion",
        format!("{}.{}", SALT_VERSION.0, SALT_VERSION.1),
    );
    ins(
        &mut g,
        "saltversioninfo",
        Value::List(vec![SALT_VERSION.0.into(), SALT_VERSION.1.into()]),
    );
    let (disks, ssds) = system::disks();
    ins(&mut g, "disks", Value::List(disks));
    ins(&mut g, "ssds", Value::List(ssds));
    ins(
        &mut g,
        "shell",
        std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into()),
    );
    ins(
        &mut g,
        "transactional",
        network::which("transactional-update"),
    );
    let (efi, secure) = system::uefi();
    ins(&mut g, "efi", efi);
    ins(&mut g, "efi-secure-boot", secure);
    system::process_grains(&mut g);

    if let Some(Value::Map(static_grains)) = opts.get("grains") {
        if opts.get("grains_deep_merge").is_some_and(Value::is_truthy) {
            dict_update(&mut g, static_grains);
        } else {
            for (k, v) in static_grains {
                g.insert(k.clone(), v.clone());
            }
        }
    }
    g
}

#[cfg(test)]
mod tests;
