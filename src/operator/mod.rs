//! The operators' console: the HTTP API, the web pages, metrics and the config watcher.

pub mod metrics;
