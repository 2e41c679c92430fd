#!/opt/salt-venv/bin/python
"""Generate golden test vectors for the `halite-proto` crate from real Salt.

Run with the Salt 3008.5 venv:

    /opt/salt-venv/bin/python scripts/gen-proto-vectors.py [--keep-keys] [OUT]

It writes proto/tests/vectors/salt_vectors.json (or OUT).  Every value in it is
produced by Salt's own code (salt.crypt, salt.payload, salt.utils.crypt,
salt.utils.rsax931), so the Rust implementation can be checked byte for byte
against Salt.  The output is COMMITTED TEST DATA: the keys in it are throwaway
test keys, never use them for anything else.  RSA key generation, OAEP and the
Crypticle IV are random, so each run gives a different (equally valid) file;
`--keep-keys` reuses the key pairs (and AES/session key strings) already in OUT
so that a regeneration only changes the randomised ciphertexts.

Nothing of Salt's source is copied here; Salt is only called to produce data.
"""

import argparse
import hashlib
import json
import logging
import pathlib
import sys
import tempfile
from unittest import mock

import salt.crypt
import salt.exceptions
import salt.payload
import salt.utils.crypt
import salt.utils.rsax931
import salt.version

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "proto" / "tests" / "vectors" / "salt_vectors.json"

NONCE = "0123456789abcdef0123456789abcdef"

CONVENTIONS = {
    "hex": "Every field whose name ends in `_hex` or is `hex`, and every binary "
    "value (signatures, ciphertexts, msgpack bytes), is lowercase hex with no "
    "separators.",
    "text": "`*_pem`, `clean_key`, `aes_key`, `session_key` and `pem_finger_sha256` "
    "are the exact Python str values (PEM files as written by Salt, "
    "including their trailing newline).",
    "objects": "Python objects that go through msgpack are described in a tagged "
    "JSON form (fields named `obj` / `json`): JSON null/true/false/strings/arrays "
    "map to None/bool/str/list; a JSON number without '.' or exponent is a "
    "Python int, one with '.' is a Python float (msgpack float64); "
    '{"__bytes__": "<hex>"} is a Python bytes value (packed as msgpack str-type, '
    'since Salt uses use_bin_type=False); {"__map__": [[key, value], ...]} is a '
    "Python dict with entries in insertion order (= msgpack map order), keys "
    "in the same tagged form, so non-string keys are possible. No other JSON "
    "objects appear inside these descriptions.",
    "randomness": "RSA keys, OAEP ciphertexts and Crypticle IVs are random: "
    "OAEP and Crypticle vectors are meant to be decrypted by Rust and "
    "compared with the given plaintext. X9.31 and PKCS#1 v1.5 signatures are "
    "deterministic and must match byte for byte. `crypticle.fixed_iv` was "
    "produced by Salt's Crypticle with os.urandom patched to return the given "
    "IV, so Rust encryption can be compared byte for byte.",
}


# --------------------------------------------------------------------------
# tagged JSON description of Python objects
# --------------------------------------------------------------------------
def describe(obj):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    if isinstance(obj, (list, tuple)):
        return [describe(x) for x in obj]
    if isinstance(obj, dict):
        return {"__map__": [[describe(k), describe(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot describe {type(obj)}")


def undescribe(d):
    if isinstance(d, list):
        return [undescribe(x) for x in d]
    if isinstance(d, dict):
        if set(d) == {"__bytes__"}:
            return bytes.fromhex(d["__bytes__"])
        if set(d) == {"__map__"}:
            return {undescribe(k): undescribe(v) for k, v in d["__map__"]}
        raise ValueError(f"bad tagged object {d!r}")
    return d


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------
def make_keypair(tmp, name, reuse=None):
    """Write a 2048-bit key pair with Salt into tmp, return its vector dict."""
    if reuse is None:
        # salt.crypt.write_keys is what the daemons use to create
        # <name>.pem / <name>.pub (gen_keys only returns the strings).
        salt.crypt.write_keys(str(tmp), name, 2048)
    else:
        (tmp / f"{name}.pem").write_text(reuse["priv_pem"])
        (tmp / f"{name}.pub").write_text(reuse["pub_pem"])
    priv_path = tmp / f"{name}.pem"
    pub_path = tmp / f"{name}.pub"
    priv_pem = priv_path.read_text()
    pub_pem = pub_path.read_text()
    return {
        "bits": 2048,
        "priv_pem": priv_pem,
        "pub_pem": pub_pem,
        "pem_finger_sha256": salt.utils.crypt.pem_finger(
            path=str(pub_path), sum_type="sha256"
        ),
        "clean_key": salt.crypt.clean_key(pub_pem),
    }, priv_path, pub_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default=str(DEFAULT_OUT))
    ap.add_argument("--keep-keys", action="store_true")
    args = ap.parse_args()
    out = pathlib.Path(args.out)

    old = None
    if args.keep_keys:
        old = json.loads(out.read_text())

    with tempfile.TemporaryDirectory() as tmpd:
        tmp = pathlib.Path(tmpd)
        minion_dir = tmp / "minion"
        master_dir = tmp / "master"
        minion_dir.mkdir()
        master_dir.mkdir()
        minion_key, minion_priv_path, minion_pub_path = make_keypair(
            minion_dir, "minion", old and old["minion_key"]
        )
        master_key, master_priv_path, master_pub_path = make_keypair(
            master_dir, "master", old and old["master_key"]
        )

        minion_priv = salt.crypt.PrivateKey.from_file(str(minion_priv_path))
        minion_pub = salt.crypt.PublicKey(minion_pub_path.read_bytes())
        master_priv = salt.crypt.PrivateKey.from_file(str(master_priv_path))
        master_pub = salt.crypt.PublicKey(master_pub_path.read_bytes())

        # ---- 3. tok: X9.31 "private encrypt" of b"salt" with the minion key
        tok = minion_priv.encrypt(b"salt")
        assert len(tok) == 256
        assert minion_pub.decrypt(tok) == b"salt"
        # same thing through the raw rsax931 wrapper
        assert salt.utils.rsax931.RSAX931Signer(minion_key["priv_pem"]).sign(
            b"salt"
        ) == tok
        assert (
            salt.utils.rsax931.RSAX931Verifier(minion_key["pub_pem"]).verify(tok)
            == b"salt"
        )
        tok_v = {
            "key": "minion_key",
            "message_hex": b"salt".hex(),
            "sig_hex": tok.hex(),
        }

        # ---- 4. aes_sig: X9.31 by the master of ascii sha256(aes_key).hexdigest()
        aes_key = old["aes_key"] if old else salt.crypt.Crypticle.generate_key_string()
        assert len(aes_key) == 76
        digest = hashlib.sha256(aes_key.encode()).hexdigest().encode()
        aes_sig = master_priv.encrypt(digest)
        assert master_pub.decrypt(aes_sig) == digest
        aes_sig_v = {
            "key": "master_key",
            "aes_key": aes_key,
            "message": digest.decode(),
            "message_hex": digest.hex(),
            "sig_hex": aes_sig.hex(),
        }

        # ---- 5. PKCS#1 v1.5 SHA1 signature by the master key
        msg_obj = {"ret": True, "nonce": NONCE}
        msg = salt.payload.dumps(msg_obj)
        pk_sig = master_priv.sign(msg)  # default algorithm PKCS1v15-SHA1
        assert salt.crypt.sign_message(str(master_priv_path), msg) == pk_sig
        assert master_pub.verify(msg, pk_sig)
        assert salt.crypt.verify_signature(str(master_pub_path), msg, pk_sig)
        bad = bytearray(pk_sig)
        bad[-1] ^= 1
        assert not master_pub._verify(msg, bytes(bad), salt.crypt.PKCS1v15_SHA1)
        pkcs_v = {
            "key": "master_key",
            "algorithm": salt.crypt.PKCS1v15_SHA1,
            "obj": describe(msg_obj),
            "message_hex": msg.hex(),
            "sig_hex": pk_sig.hex(),
        }

        # ---- 6. OAEP-SHA1 to the minion key of the aes_key string
        oaep = minion_pub.encrypt(aes_key)  # default algorithm OAEP-SHA1
        assert len(oaep) == 256
        assert minion_priv.decrypt(oaep) == aes_key.encode()
        oaep_v = {
            "key": "minion_key",
            "algorithm": salt.crypt.OAEP_SHA1,
            "plaintext": aes_key,
            "plaintext_hex": aes_key.encode().hex(),
            "ciphertext_hex": oaep.hex(),
        }

        # ---- 7. Crypticle
        def crypt_case(obj, nonce=None):
            c = salt.crypt.Crypticle({}, aes_key)
            blob = c.dumps(obj, nonce=nonce)
            plain = c.decrypt(blob)
            expected_plain = (
                b"pickle::" + (nonce.encode() if nonce else b"") + salt.payload.dumps(obj)
            )
            assert plain == expected_plain
            loaded = salt.crypt.Crypticle({}, aes_key).loads(blob, nonce=nonce)
            return {
                "obj": describe(obj),
                "nonce": nonce,
                "plaintext_hex": plain.hex(),
                "blob_hex": blob.hex(),
                "blob_len": len(blob),
                # what Crypticle(serial=0).loads(blob, nonce) returns
                # (it pops "serial" when present)
                "loads": describe(loaded),
            }

        pub_obj = {
            "fun": "test.ping",
            "arg": [],
            "tgt": "*",
            "jid": "20261123003156498044",
            "ret": "",
            "tgt_type": "glob",
            "user": "root",
            "serial": 5,
        }
        crypticle_v = {
            "aes_key": aes_key,
            "aes192_key_hex": salt.crypt.Crypticle.extract_keys(aes_key, 192)[0].hex(),
            "hmac_key_hex": salt.crypt.Crypticle.extract_keys(aes_key, 192)[1].hex(),
            "no_nonce": crypt_case({"a": 1}),
            "with_nonce": crypt_case({"a": 1}, nonce=NONCE),
            "publish": crypt_case(pub_obj),
        }
        assert crypticle_v["with_nonce"]["blob_len"] == 96
        # serial replay: a Crypticle that has already seen serial 5 drops it
        c = salt.crypt.Crypticle({}, aes_key, serial=5)
        logging.disable(logging.CRITICAL)  # Salt logs the replay at CRITICAL
        try:
            assert c.loads(bytes.fromhex(crypticle_v["publish"]["blob_hex"])) == {}
        finally:
            logging.disable(logging.NOTSET)
        crypticle_v["publish"]["loads_with_last_serial_5"] = describe({})

        # (d) corrupted HMAC
        good = bytearray.fromhex(crypticle_v["with_nonce"]["blob_hex"])
        good[-1] ^= 0x01
        corrupted = bytes(good)
        try:
            salt.crypt.Crypticle({}, aes_key).loads(corrupted, nonce=NONCE)
        except salt.crypt.AuthenticationError as exc:
            err = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
        else:
            raise AssertionError("corrupted blob decrypted")
        crypticle_v["bad_hmac"] = {
            "derived_from": "with_nonce (last byte XOR 0x01)",
            "nonce": NONCE,
            "blob_hex": corrupted.hex(),
            "salt_error": err,
        }

        # (e) deterministic: Salt's Crypticle with a fixed IV
        iv = bytes(range(16))
        fixed_obj = {"a": 1}

        def fake_urandom(n):
            assert n == 16
            return iv

        with mock.patch.object(salt.crypt.os, "urandom", fake_urandom):
            fixed_blob = salt.crypt.Crypticle({}, aes_key).dumps(fixed_obj, nonce=NONCE)
        assert fixed_blob[:16] == iv
        assert salt.crypt.Crypticle({}, aes_key).loads(fixed_blob, nonce=NONCE) == fixed_obj
        crypticle_v["fixed_iv"] = {
            "obj": describe(fixed_obj),
            "nonce": NONCE,
            "iv_hex": iv.hex(),
            "plaintext_hex": (b"pickle::" + NONCE.encode() + salt.payload.dumps(fixed_obj)).hex(),
            "blob_hex": fixed_blob.hex(),
        }

        # ---- 8. msgpack
        cases = [
            ("bytes and str", {"k": b"\xff\x00", "s": "x"}),
            (
                "nested",
                {"a": {"b": [1, "two", None, {"c": True}]}, "l": [[], {}], "e": ""},
            ),
            ("int 0", 0),
            ("int -1", -1),
            ("int 127", 127),
            ("int 128", 128),
            ("int -32", -32),
            ("int -33", -33),
            ("int 255", 255),
            ("int 256", 256),
            ("int 65535", 65535),
            ("int 65536", 65536),
            ("int 2**32", 2**32),
            ("int -2**40", -(2**40)),
            ("int 2**63 (uint64)", 2**63),
            ("float 1.5", 1.5),
            ("None", None),
            ("True", True),
            ("False", False),
            ("int key", {1: "a"}),
            ("str 31 chars (fixstr)", "y" * 31),
            ("str 40 chars (no str8 with use_bin_type=False)", "z" * 40),
            ("str 300 chars", "".join(chr(ord("a") + i % 26) for i in range(300))),
            ("non-ascii str", "h\u00e9llo \u2603"),
            ("bytes 40 (packed as str16)", bytes(range(40))),
            ("list of 20", list(range(20))),
            ("list of 16 (array16)", list(range(16))),
            ("list of 15 (fixarray)", list(range(15))),
            ("map of 20", {f"k{i:02d}": i for i in range(20)}),
            ("map of 16 (map16)", {f"k{i:02d}": i for i in range(16)}),
            ("tuple packs as array", (1, "x")),
        ]
        msgpack_v = []
        for desc, obj in cases:
            packed = salt.payload.dumps(obj)
            # roundtrip check (str/bytes both come back as str, tuples as lists)
            salt.payload.loads(packed)
            msgpack_v.append({"desc": desc, "json": describe(obj), "hex": packed.hex()})
        # int beyond u64: salt.payload.dumps turns it into a decimal string
        big = 2**64
        msgpack_v.append(
            {
                "desc": "int 2**64 (too big: Salt packs str(n))",
                "json": describe(str(big)),
                "python_input": str(big) + " (Python int)",
                "hex": salt.payload.dumps(big).hex(),
            }
        )
        assert salt.payload.dumps(big) == salt.payload.dumps(str(big))
        assert msgpack_v[0]["hex"] == "82a16ba2ff00a173a178"

        # ---- 9. accepted _auth reply (signed, version 3)
        session_key = (
            old["auth_reply"]["session_key"]
            if old
            else salt.crypt.Crypticle.generate_key_string()
        )
        inner = {
            "enc": "pub",
            "pub_key": master_key["clean_key"],
            "publish_port": 4505,
            "aes": minion_pub.encrypt(aes_key.encode()),
            "session": minion_pub.encrypt(session_key),
            "sig": master_priv.encrypt(
                hashlib.sha256(aes_key.encode()).hexdigest().encode()
            ),
            "nonce": NONCE,
        }
        assert inner["sig"] == aes_sig
        load = salt.payload.dumps(inner)
        wrapper_sig = master_priv.sign(load, algorithm=salt.crypt.PKCS1v15_SHA1)
        wrapper = {"enc": "clear", "load": load, "sig": wrapper_sig}
        # minion-side checks, with Salt's own primitives
        assert master_pub.verify(load, wrapper_sig, salt.crypt.PKCS1v15_SHA1)
        back = salt.payload.loads(load)
        assert back["nonce"] == NONCE
        assert minion_priv.decrypt(back["aes"]) == aes_key.encode()
        assert minion_priv.decrypt(back["session"]) == session_key.encode()
        assert (
            salt.crypt.PublicKey.from_str(back["pub_key"]).decrypt(back["sig"])
            == hashlib.sha256(aes_key.encode()).hexdigest().encode()
        )
        auth_v = {
            "minion_key": "minion_key",
            "master_key": "master_key",
            "aes_key": aes_key,
            "session_key": session_key,
            "nonce": NONCE,
            "sig_algo": salt.crypt.PKCS1v15_SHA1,
            "enc_algo": salt.crypt.OAEP_SHA1,
            "inner": describe(inner),
            "load_hex": load.hex(),
            "sig_hex": wrapper_sig.hex(),
            # the whole {"enc":"clear","load":...,"sig":...} reply as packed
            # by salt.payload.dumps (the ZeroMQ frame body)
            "reply_hex": salt.payload.dumps(wrapper).hex(),
        }

    doc = {
        "generator": "scripts/gen-proto-vectors.py",
        "salt_version": salt.version.__version__,
        "conventions": CONVENTIONS,
        "minion_key": minion_key,
        "master_key": master_key,
        "tok": tok_v,
        "aes_key": aes_key,
        "aes_sig": aes_sig_v,
        "pkcs1v15_sha1": pkcs_v,
        "oaep_sha1": oaep_v,
        "crypticle": crypticle_v,
        "msgpack": msgpack_v,
        "auth_reply": auth_v,
    }
    # self-check: every msgpack description undescribes to a value Salt packs
    # to the same bytes
    for case in msgpack_v:
        if "python_input" in case:
            continue
        assert salt.payload.dumps(undescribe(case["json"])).hex() == case["hex"], case
    assert salt.payload.dumps(undescribe(auth_v["inner"])) == load

    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1, ensure_ascii=True) + "\n"
    out.write_text(text)
    print(f"wrote {out} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
