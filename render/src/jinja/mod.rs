//! Salt's Jinja environment on minijinja. (Stub: being written.)
