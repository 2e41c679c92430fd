//! `salt-call`: the same binary as `halite call`.

fn main() {
    std::process::exit(halite::run(std::env::args().collect()));
}
