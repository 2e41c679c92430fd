//! The ret port's first step on untrusted bytes: msgpack decoding and the request envelope
//! shape check. Must never panic; whatever decodes must re-encode to bytes our decoder
//! reads back, and the encoding must be stable from then on (one round may normalise: bytes
//! that are valid UTF-8 come back as str, as in Salt, so two keys can merge).
#![no_main]

use halite_proto::envelope::Request;
use halite_proto::msgpack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Request::parse(data);
    if let Ok(v) = msgpack::decode(data) {
        let first = msgpack::decode(&msgpack::encode(&v)).expect("our own encoding decodes");
        let stable = msgpack::encode(&first);
        let second = msgpack::decode(&stable).expect("our own encoding decodes");
        assert_eq!(msgpack::encode(&second), stable);
    }
});
