//! Crash safety of `file.managed`: a `salt-call` writing a 10 MB file is killed with SIGKILL
//! at random points, 200 times. After every kill the target holds either the whole old
//! content or the whole new content, never a mix or a truncation.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIZE: usize = 10 * 1024 * 1024;
const TRIALS: usize = 200;

/// A deterministic pseudo-random sequence (xorshift), seeded from the clock.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn content(seed: u8) -> Vec<u8> {
    (0..SIZE)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'a' + ((i / 64 + seed as usize) % 26) as u8
            }
        })
        .collect()
}

fn spawn(root: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_salt-call"))
        .arg("-c")
        .arg(root.join("etc/salt"))
        .args(["--local", "--out=quiet", "state.apply", "big"])
        .env("HOME", root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn salt-call")
}

#[test]
fn killed_writes_leave_old_or_new_content() {
    let tmp = tempfile::Builder::new()
        .prefix("halite-crash.")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path();
    for d in ["etc/salt", "srv/salt", "srv/pillar", "work"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::write(
        root.join("etc/salt/minion"),
        format!(
            "id: node1\nroot_dir: {r}\nfile_client: local\nfile_roots: {{base: [{r}/srv/salt]}}\npillar_roots: {{base: [{r}/srv/pillar]}}\nlog_level: quiet\n",
            r = root.display()
        ),
    )
    .expect("config");
    let old = content(0);
    let new = content(7);
    std::fs::write(root.join("srv/salt/big.txt"), &new).expect("source");
    let target = root.join("work/big.txt");
    std::fs::write(
        root.join("srv/salt/big.sls"),
        format!(
            "big:\n  file.managed:\n    - name: {}\n    - source: salt://big.txt\n    - show_changes: False\n",
            target.display()
        ),
    )
    .expect("sls");

    // One uninterrupted run: it must write the new content, and it tells how long a run takes.
    std::fs::write(&target, &old).expect("old content");
    let start = Instant::now();
    let status = spawn(root).wait().expect("wait");
    let full = start.elapsed();
    assert!(status.success(), "an uninterrupted apply must succeed");
    assert!(
        std::fs::read(&target).expect("read") == new,
        "an uninterrupted apply writes the new content"
    );

    let mut rng = Rng(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 | 1)
        .unwrap_or(0x9e37_79b9_7f4a_7c15));
    let window = full.as_micros().max(1000) as u64 * 12 / 10;
    let (mut saw_old, mut saw_new) = (0, 0);
    for trial in 0..TRIALS {
        std::fs::write(&target, &old).expect("reset old content");
        let mut child = spawn(root);
        std::thread::sleep(Duration::from_micros(rng.next() % window));
        let _ = child.kill();
        let _ = child.wait();
        let got = std::fs::read(&target).expect("target must exist after a kill");
        if got == old {
            saw_old += 1;
        } else if got == new {
            saw_new += 1;
        } else {
            panic!(
                "trial {trial}: target is neither the old nor the new content ({} bytes)",
                got.len()
            );
        }
    }
    eprintln!("{TRIALS} kills: {saw_old} left the old content, {saw_new} the new (a full run takes {full:?})");
}
