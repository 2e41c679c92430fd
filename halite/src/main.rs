//! `halite`: dispatches on its name (`salt-call`) or its first argument (`halite call`).

fn main() {
    std::process::exit(halite::run(std::env::args().collect()));
}
