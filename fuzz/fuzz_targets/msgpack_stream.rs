//! The event-bus stream decoder: documents taken one by one off a byte stream.
#![no_main]

use halite_proto::msgpack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((_, used))) = msgpack::decode_prefix(rest) {
        assert!(used > 0 && used <= rest.len());
        rest = &rest[used..];
    }
});
