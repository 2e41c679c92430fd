//! The Crypticle decrypt path (publications, session replies, pillar): HMAC check, AES-CBC,
//! padding, the `pickle::` prefix, the nonce and the msgpack body, on arbitrary bytes. The
//! first 32 bytes steer a valid HMAC half the time, so the code behind the MAC is reached.
#![no_main]

use halite_proto::Crypticle;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "V6Vnb0LDshKM8VT7rodTOU28WgIBunKC2+ZB/xtLZU4xzmcxp9D+FcuD61pnI99b0XwD+N6yC5w=";

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Crypticle::new(KEY) else { return };
    let _ = c.loads(data, None);
    let _ = c.loads(data, Some("0123456789abcdef0123456789abcdef"));
    // Encrypt the input as a plaintext (valid MAC, arbitrary content) and load it back.
    if let Ok(blob) = c.encrypt(data) {
        let _ = c.loads(&blob, None);
        let _ = c.loads(&blob, Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(c.decrypt(&blob).ok().as_deref(), Some(data));
    }
});
