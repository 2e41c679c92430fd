//! `lab`: a demo cluster on one machine, for Halite's demo and end-to-end tests.
//!
//! ```text
//! lab up [--dir DIR] [--nodes 3|5] [--schedule SECONDS]
//! lab down [--dir DIR]
//! lab exec [--dir DIR] NODE [--] CMD...      run CMD inside a node
//! lab salt [--dir DIR] ARGS...               `salt ARGS` on the bootstrap node
//! lab demo [--dir DIR] [--nodes N] [--schedule SECONDS] [--keep]
//! ```
//! Every node is a network namespace (addresses that exist only inside the lab), a mount
//! namespace over the host's tree (private /etc, /var, /usr, /opt, /srv overlays, private
//! /run and /tmp) and a private systemd as its PID 1. Runs as root.

mod demo;
mod lab;
mod layout;
mod netns;
mod node;
mod sh;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: lab up|down|exec|salt|demo [--dir DIR] [--nodes 3|5] [--schedule SECONDS] [--keep] ...";

/// Parsed options common to the subcommands; the rest are positional.
struct Args {
    dir: PathBuf,
    nodes: usize,
    schedule: u64,
    keep: bool,
    rest: Vec<String>,
}

fn default_dir() -> PathBuf {
    if let Ok(d) = std::env::var("HALITE_LAB_DIR") {
        return PathBuf::from(d);
    }
    // target/<profile>/lab -> target/lab
    std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|p| p.parent()).map(|t| t.join("lab")))
        .unwrap_or_else(|| PathBuf::from("/var/tmp/halite-lab"))
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        dir: default_dir(),
        nodes: 5,
        schedule: 60,
        keep: false,
        rest: vec![],
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--dir" if a.rest.len() < 2 => a.dir = PathBuf::from(value("--dir")?),
            "--nodes" if a.rest.len() < 2 => {
                a.nodes = value("--nodes")?
                    .parse()
                    .map_err(|e| format!("--nodes: {e}"))?
            }
            "--schedule" if a.rest.len() < 2 => {
                a.schedule = value("--schedule")?
                    .parse()
                    .map_err(|e| format!("--schedule: {e}"))?
            }
            "--keep" if a.rest.len() < 2 => a.keep = true,
            _ => a.rest.push(arg),
        }
    }
    Ok(a)
}

/// Where the build put the `halite` binary (next to `lab`).
fn halite_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let h = exe.with_file_name("halite");
    if h.exists() {
        Ok(h)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p halite",
            h.display()
        ))
    }
}

fn up_options(a: &Args) -> Result<lab::UpOptions, String> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = a
        .dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    Ok(lab::UpOptions {
        nodes: a.nodes,
        schedule: a.schedule,
        halite: halite_binary()?,
        tree: repo.join("examples/cluster"),
        cache: target.join("lab-cache"),
    })
}

fn run() -> Result<u8, String> {
    let mut argv = std::env::args().skip(1);
    let cmd = argv.next().ok_or(USAGE)?;
    let a = parse(argv)?;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 && cmd != "help" {
        return Err("the lab makes namespaces, mounts and cgroups: run it as root".into());
    }
    match cmd.as_str() {
        "up" => {
            let lab = lab::up(&a.dir, &up_options(&a)?)?;
            for n in &lab.nodes {
                println!(
                    "{} {} [{}]",
                    n.spec.name,
                    n.spec.ip,
                    n.spec.roles.join(", ")
                );
            }
            println!("lab up in {} (lab down to remove it)", a.dir.display());
            Ok(0)
        }
        "down" => {
            lab::down(&a.dir)?;
            println!("lab down: {} removed", a.dir.display());
            Ok(0)
        }
        "exec" => {
            let lab = lab::Lab::load(&a.dir)?;
            let mut rest = a.rest.iter().skip_while(|s| s.as_str() == "--");
            let name = rest.next().ok_or("exec NODE [--] CMD...")?;
            let mut cmdline: Vec<&String> = rest.collect();
            if cmdline.first().is_some_and(|s| s.as_str() == "--") {
                cmdline.remove(0);
            }
            let (prog, args) = cmdline.split_first().ok_or("exec NODE [--] CMD...")?;
            let mut c = lab.node(name)?.command(prog)?;
            let status = c.args(args).status().map_err(|e| format!("{prog}: {e}"))?;
            Ok(status.code().unwrap_or(1) as u8)
        }
        "salt" => {
            let lab = lab::Lab::load(&a.dir)?;
            let mut c = lab.bootstrap()?.command("salt")?;
            let status = c.args(&a.rest).status().map_err(|e| format!("salt: {e}"))?;
            Ok(status.code().unwrap_or(1) as u8)
        }
        "demo" => demo::run(&a.dir, &up_options(&a)?, a.keep),
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("lab: {e}");
            ExitCode::from(1)
        }
    }
}
