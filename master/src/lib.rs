//! The master: keys, auth, publisher, request server, fileserver, pillar service, job cache.
