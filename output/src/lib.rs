//! Salt's outputters. (Stub: being written.)
