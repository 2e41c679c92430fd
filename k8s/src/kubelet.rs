//! (in progress)

use halite_states::modules::Registry;

/// Register this module's state functions.
pub fn register(r: &mut Registry) {
    let _ = r;
}
