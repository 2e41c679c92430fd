//! A YAML emitter that writes what PyYAML's `SafeDumper` writes. (Stub: being written.)
