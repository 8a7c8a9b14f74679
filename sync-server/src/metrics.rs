//! Counters for Prometheus' text format. A handful of atomics: the district engineer's dashboard
//! needs syncs, bytes, errors and durations, not a metrics framework.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    pub syncs: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub changes_stored: AtomicU64,
    pub relayed_skipped: AtomicU64,
    pub docs_refused: AtomicU64,
    pub photo_bytes_in: AtomicU64,
    pub photo_bytes_out: AtomicU64,
    sync_micros: AtomicU64,
    errors: Mutex<Vec<(&'static str, u64)>>,
    /// Sync durations by upper bound in seconds, cumulative as Prometheus wants them.
    buckets: [AtomicU64; BUCKETS.len()],
}

const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

impl Metrics {
    pub fn error(&self, kind: &'static str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        match errors.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => errors.push((kind, 1)),
        }
    }

    pub fn sync_done(&self, seconds: f64) {
        self.syncs.fetch_add(1, Relaxed);
        self.sync_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                count.fetch_add(1, Relaxed);
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            ("gridbook_syncs_total", "Sync exchanges answered", &self.syncs),
            ("gridbook_bytes_in_total", "Sync request bytes received (compressed)", &self.bytes_in),
            ("gridbook_bytes_out_total", "Sync reply bytes sent (compressed)", &self.bytes_out),
            ("gridbook_changes_stored_total", "Changes stored", &self.changes_stored),
            (
                "gridbook_relayed_changes_skipped_total",
                "Relayed changes of unknown authors skipped",
                &self.relayed_skipped,
            ),
            (
                "gridbook_documents_refused_total",
                "Documents refused alone (outside scope, malformed, not allowed), the rest of their request stored",
                &self.docs_refused,
            ),
            ("gridbook_photo_bytes_in_total", "Photo bytes received", &self.photo_bytes_in),
            ("gridbook_photo_bytes_out_total", "Photo bytes sent", &self.photo_bytes_out),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Relaxed));
        }
        let _ = writeln!(out, "# HELP gridbook_sync_errors_total Requests refused or failed, by kind");
        let _ = writeln!(out, "# TYPE gridbook_sync_errors_total counter");
        for (kind, n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "gridbook_sync_errors_total{{kind=\"{kind}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP gridbook_sync_duration_seconds Time to answer a sync exchange");
        let _ = writeln!(out, "# TYPE gridbook_sync_duration_seconds histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(out, "gridbook_sync_duration_seconds_bucket{{le=\"{bound}\"}} {}", count.load(Relaxed));
        }
        let total = self.syncs.load(Relaxed);
        let _ = writeln!(out, "gridbook_sync_duration_seconds_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "gridbook_sync_duration_seconds_sum {}", self.sync_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "gridbook_sync_duration_seconds_count {total}");
        out
    }
}
