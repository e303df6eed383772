//! Watching the config directory: a change to `machine.toml` or `surprises.toml` (an editor
//! saving, a deploy tool copying) becomes one [`Request::ReloadFromDisk`] after the writes settle.
//! The controller does the validating and swapping; this only notices.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::MACHINE_FILE;
use crate::controller::Request;
use crate::surprise::config::SURPRISES_FILE;

/// How long writes must stop before a reload: editors write a file in several steps.
const SETTLE: Duration = Duration::from_millis(300);

fn is_config(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == MACHINE_FILE || n == SURPRISES_FILE)
}

/// Start watching `dir`. Keep the returned watcher alive for as long as changes should be seen.
pub fn watch_config(
    dir: PathBuf,
    requests: UnboundedSender<Request>,
) -> Result<RecommendedWatcher, notify::Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if event.paths.iter().any(|p| is_config(p)) {
                // The receiver is gone only when the kiosk is stopping.
                let _ = tx.send(());
            }
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of writes finish, then reload once.
            loop {
                tokio::time::sleep(SETTLE).await;
                let mut more = false;
                while rx.try_recv().is_ok() {
                    more = true;
                }
                if !more {
                    break;
                }
            }
            if requests.send(Request::ReloadFromDisk).is_err() {
                return;
            }
        }
    });
    Ok(watcher)
}
