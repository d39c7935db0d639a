//! Server metrics in the Prometheus text format (served at `/metrics` on the
//! client-API listener).
//!
//! A handful of counters and histograms, kept with atomics so recording costs a
//! few nanoseconds on the hot path; no metrics library is needed for this.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds: fine below
/// 50 ms (the fan-out target), coarse above for retries after outages.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0, 3600.0,
];

/// All metrics of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Federation requests answered, by (endpoint, status).
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Events accepted by the hub, by kind.
    pub accepted_messages: AtomicU64,
    /// Commits accepted by the hub.
    pub accepted_commits: AtomicU64,
    /// Proposals accepted by the hub.
    pub accepted_proposals: AtomicU64,
    /// Transactions that accepted events (a batch of messages is one).
    pub accept_transactions: AtomicU64,
    /// `notify` POSTs that got a 201.
    pub fanout_posts: AtomicU64,
    /// Fan-out queues claimed: each claim starts a hold that ends with one acknowledgement.
    pub fanout_holds: AtomicU64,
    /// FanoutMessages delivered (acknowledged by a 201).
    pub fanout_delivered: AtomicU64,
    /// Failed `notify` attempts that will be retried.
    pub fanout_retries: AtomicU64,
    /// Time from acceptance (enqueue) to the follower's 201.
    pub fanout_latency: Histogram,
    /// `notify` bodies received, processed for the first time.
    pub notify_new: AtomicU64,
    /// `notify` bodies received again (answered 201, not processed).
    pub notify_duplicate: AtomicU64,
    /// Client-API requests answered, by (route, status).
    client_requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Client-API requests refused as unauthenticated, by reason.
    client_auth_failures: Mutex<BTreeMap<&'static str, u64>>,
    /// Client event streams (SSE) open now.
    pub event_streams_open: AtomicU64,
    /// keyMaterial requests refused by the claim limits (decisions KP-3).
    pub key_package_claims_limited: AtomicU64,
}

impl Metrics {
    /// Counts one answered federation request.
    pub fn request(&self, endpoint: &'static str, status: u16) {
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry((endpoint, status)).or_default() += 1;
    }

    /// Counts one answered client-API request (`route` is the route pattern).
    pub fn client_request(&self, route: &'static str, status: u16) {
        let mut map = self
            .client_requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry((route, status)).or_default() += 1;
    }

    /// Counts one client-API request refused as unauthenticated.
    pub fn client_auth_failure(&self, reason: &'static str) {
        let mut map = self
            .client_auth_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(reason).or_default() += 1;
    }

    /// The Prometheus text exposition, with the outbox depth sampled by the caller.
    pub fn render(&self, outbox_depth: Option<u64>) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        let _ = writeln!(
            out,
            "# HELP mimi_federation_requests_total Federation requests answered.\n\
             # TYPE mimi_federation_requests_total counter"
        );
        {
            let map = self
                .requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((endpoint, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "mimi_federation_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
                );
            }
        }
        counter(
            &mut out,
            "mimi_hub_messages_accepted_total",
            "Application messages accepted by the hub.",
            &self.accepted_messages,
        );
        counter(
            &mut out,
            "mimi_hub_commits_accepted_total",
            "Commits accepted by the hub.",
            &self.accepted_commits,
        );
        counter(
            &mut out,
            "mimi_hub_proposals_accepted_total",
            "Proposals accepted by the hub.",
            &self.accepted_proposals,
        );
        counter(
            &mut out,
            "mimi_hub_accept_transactions_total",
            "Store transactions that accepted events (a batch of messages counts once).",
            &self.accept_transactions,
        );
        if let Some(depth) = outbox_depth {
            let _ = writeln!(
                out,
                "# HELP mimi_fanout_queue_depth FanoutMessages waiting in the outbox.\n\
                 # TYPE mimi_fanout_queue_depth gauge\nmimi_fanout_queue_depth {depth}"
            );
        }
        counter(
            &mut out,
            "mimi_fanout_posts_total",
            "notify POSTs answered 201.",
            &self.fanout_posts,
        );
        counter(
            &mut out,
            "mimi_fanout_holds_total",
            "Fan-out queues claimed (each hold ends with one acknowledgement or failure record).",
            &self.fanout_holds,
        );
        counter(
            &mut out,
            "mimi_fanout_messages_delivered_total",
            "FanoutMessages acknowledged by followers.",
            &self.fanout_delivered,
        );
        counter(
            &mut out,
            "mimi_fanout_retries_total",
            "Failed notify attempts scheduled for retry.",
            &self.fanout_retries,
        );
        self.fanout_latency.render(
            &mut out,
            "mimi_fanout_delivery_latency_seconds",
            "Time from acceptance to the follower's 201.",
        );
        counter(
            &mut out,
            "mimi_key_package_claims_limited_total",
            "keyMaterial requests refused because the requester reached a claim limit.",
            &self.key_package_claims_limited,
        );
        counter(
            &mut out,
            "mimi_notify_received_total",
            "notify bodies processed (first receipt).",
            &self.notify_new,
        );
        counter(
            &mut out,
            "mimi_notify_duplicates_total",
            "notify bodies received again and not processed.",
            &self.notify_duplicate,
        );
        let _ = writeln!(
            out,
            "# HELP mimi_client_requests_total Client-API requests answered.\n\
             # TYPE mimi_client_requests_total counter"
        );
        {
            let map = self
                .client_requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((route, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "mimi_client_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mimi_client_auth_failures_total Client-API requests refused as unauthenticated.\n\
             # TYPE mimi_client_auth_failures_total counter"
        );
        {
            let map = self
                .client_auth_failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (reason, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "mimi_client_auth_failures_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mimi_client_event_streams_open Client event streams open now.\n\
             # TYPE mimi_client_event_streams_open gauge\nmimi_client_event_streams_open {}",
            self.event_streams_open.load(Ordering::Relaxed)
        );
        out
    }
}

/// The per-user KeyPackage stock gauges (decisions KP-5): what others can
/// still claim of each user, and how many of its clients hold a last-resort
/// KeyPackage. One series per registered user with a client.
pub fn render_key_package_stock(
    out: &mut String,
    rows: &[(mimi_proto::UserId, mimi_store::KeyPackageStock, u64)],
) {
    let _ = writeln!(
        out,
        "# HELP mimi_key_packages_available Unclaimed KeyPackages per user (last-resort ones not counted).\n\
         # TYPE mimi_key_packages_available gauge"
    );
    for (user, stock, _) in rows {
        let _ = writeln!(
            out,
            "mimi_key_packages_available{{user=\"{}\"}} {}",
            label(user.as_str()),
            stock.available
        );
    }
    let _ = writeln!(
        out,
        "# HELP mimi_key_packages_last_resort_clients Clients per user holding an unexpired last-resort KeyPackage.\n\
         # TYPE mimi_key_packages_last_resort_clients gauge"
    );
    for (user, _, clients) in rows {
        let _ = writeln!(
            out,
            "mimi_key_packages_last_resort_clients{{user=\"{}\"}} {clients}",
            label(user.as_str())
        );
    }
}

/// A Prometheus label value, escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A fixed-bucket histogram of durations.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_labels() {
        let m = Metrics::default();
        m.request("notify", 201);
        m.request("notify", 201);
        m.request("update", 400);
        m.fanout_latency.observe(Duration::from_micros(1500));
        m.fanout_latency.observe(Duration::from_secs(2));
        let text = m.render(Some(7));
        assert!(
            text.contains("mimi_federation_requests_total{endpoint=\"notify\",status=\"201\"} 2")
        );
        assert!(
            text.contains("mimi_federation_requests_total{endpoint=\"update\",status=\"400\"} 1")
        );
        assert!(text.contains("mimi_fanout_queue_depth 7"));
        assert!(text.contains("mimi_fanout_delivery_latency_seconds_bucket{le=\"0.001\"} 0"));
        assert!(text.contains("mimi_fanout_delivery_latency_seconds_bucket{le=\"0.002\"} 1"));
        assert!(text.contains("mimi_fanout_delivery_latency_seconds_bucket{le=\"5\"} 2"));
        assert!(text.contains("mimi_fanout_delivery_latency_seconds_count 2"));
    }

    #[test]
    fn renders_client_api_metrics() {
        let m = Metrics::default();
        m.client_request("/client/v1/events", 200);
        m.client_auth_failure("bad_signature");
        m.client_auth_failure("bad_signature");
        m.event_streams_open.fetch_add(3, Ordering::Relaxed);
        let text = m.render(None);
        assert!(
            text.contains(
                "mimi_client_requests_total{route=\"/client/v1/events\",status=\"200\"} 1"
            )
        );
        assert!(text.contains("mimi_client_auth_failures_total{reason=\"bad_signature\"} 2"));
        assert!(text.contains("mimi_client_event_streams_open 3"));
    }
}
