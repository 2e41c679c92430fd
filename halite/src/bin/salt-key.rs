//! `salt-key`: the same binary as `halite`, dispatching on its name.

fn main() {
    std::process::exit(halite::run(std::env::args().collect()));
}
