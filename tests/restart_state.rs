//! What the operator set survives a restart: surprises paused stay paused, a disabled column
//! stays disabled (the real binary, killed and started again on the same books).

mod common;

use common::fleet::KioskProc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_and_a_disabled_column_survive_a_restart() {
    let mut k = KioskProc::start_with("k1", &[], "", &[]).await;
    assert_eq!(k.status().await["surprises_paused"], false);
    let paused = k.post("/api/surprises/pause").await;
    assert!(paused.status().is_success(), "{}", paused.status());
    let disabled = k.post("/api/columns/2/disable").await;
    assert!(disabled.status().is_success(), "{}", disabled.status());
    k.wait_status("paused", |s| s["surprises_paused"] == true)
        .await;
    k.restart().await;
    let s = k.status().await;
    assert_eq!(s["surprises_paused"], true, "{s}");
    assert_eq!(
        s["columns"][1]["status"]["status"], "disabled",
        "{}",
        s["columns"][1]
    );
    // And resumed, they stay resumed.
    let resumed = k.post("/api/surprises/resume").await;
    assert!(resumed.status().is_success());
    k.wait_status("resumed", |s| s["surprises_paused"] == false)
        .await;
    k.restart().await;
    assert_eq!(k.status().await["surprises_paused"], false);
}
