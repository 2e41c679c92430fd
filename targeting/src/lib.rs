//! Salt's targeting matchers. (Stub: being written.)
