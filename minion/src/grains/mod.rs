//! Grains: the facts Salt computes about the minion. (Stub: being written.)
