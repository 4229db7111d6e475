#pragma once
// Every metric pushgw exports (DESIGN.md §4 "Metrics"), registered once on a Registry so all
// modules use the same names, labels and types:
//
//   metrics.http_requests.with({"/push", "202"}).inc();
//   metrics.send_duration.with({"ios"}).observe(seconds);
//
// Label values are the lowercase names used elsewhere: platform "ios" | "android", lane
// "high" | "default" | "bulk", outcome as job::to_string(OutcomeKind), code as "202".

#include "pushgw/metrics/metrics.hpp"

namespace pushgw::metrics {

struct PushgwMetrics {
  // Registers everything below, plus the process_* metrics (RSS, CPU, fds).
  explicit PushgwMetrics(Registry& registry);

  // pushgw_notifications_total{app,platform,outcome}: one per token send outcome.
  Family<Counter>& notifications;
  // pushgw_send_duration_seconds{platform}: provider request round trip.
  Family<Histogram>& send_duration;
  // pushgw_queue_depth{lane}, pushgw_processing_depth{lane}, pushgw_retry_depth{lane}.
  Family<Gauge>& queue_depth;
  Family<Gauge>& processing_depth;
  Family<Gauge>& retry_depth;
  // pushgw_dead_letters_total{lane,reason}.
  Family<Counter>& dead_letters;
  // pushgw_inflight_sends{platform}: requests awaiting a provider answer.
  Family<Gauge>& inflight_sends;
  // pushgw_sends_unanswered_total{platform}: requests that went out and got no answer (the
  // connection dropped, a timeout, a reset): the provider may have delivered them, and they
  // are sent again. Duplicate deliveries are bounded by this count.
  Family<Counter>& sends_unanswered;
  // pushgw_h2_connections{app,platform,state}: provider connections by state.
  Family<Gauge>& h2_connections;
  // pushgw_tokens_marked_inactive_total{platform,reason}.
  Family<Counter>& tokens_marked_inactive;
  // pushgw_tokens_skipped_inactive_total{platform}: sends skipped for a known-dead token.
  Family<Counter>& tokens_skipped_inactive;
  // pushgw_inactive_marks_expired_total{platform}: marks removed after feedback.inactive_ttl.
  Family<Counter>& inactive_marks_expired;
  // pushgw_feedback_events_waiting: events on pushgw:feedback and in the webhook's batch.
  Family<Gauge>& feedback_events_waiting;
  // pushgw_feedback_webhook_requests_total{outcome}: webhook POSTs by outcome (ok, refused: a
  // non-2xx answer, timeout, unreachable, error).
  Family<Counter>& webhook_requests;
  // pushgw_feedback_webhook_events_total: events the webhook acknowledged.
  Family<Counter>& webhook_events;
  // pushgw_http_requests_total{route,code}.
  Family<Counter>& http_requests;
  // pushgw_http_request_duration_seconds{route}.
  Family<Histogram>& http_request_duration;
  // pushgw_jobs_total{outcome}: enqueued, refused (front door, over limits.max_queue_depth);
  // completed, retried, scheduled, duplicate, dead_lettered, parked (to the retry ZSET by flow
  // control: a breaker open or the app's max_workers) (dispatcher, per notification); requeued
  // (recovered from a dead instance).
  Family<Counter>& jobs;
  // Flow control (dispatch/flow_control.hpp): pushgw_breaker_state{app,platform,state} (1 for
  // the breaker's state: closed, open, half_open), pushgw_breaker_opened_total{app,platform},
  // pushgw_app_jobs_sending{app} (against apps.<app>.max_workers),
  // pushgw_sends_rate_limited_total{app,platform} (sends that waited for the rate limit).
  Family<Gauge>& breaker_state;
  Family<Counter>& breaker_opened;
  Family<Gauge>& app_jobs_sending;
  Family<Counter>& sends_rate_limited;
  // pushgw_redis_server{mode,server}: 1 for the Redis server the front door's connection
  // uses (mode single or sentinel; server "host:port/db" or "master <name> at host:port/db"),
  // 0 for servers it used before (after a Sentinel failover), set at each scrape.
  Family<Gauge>& redis_server;
  // pushgw_provider_healthy{app,platform}: 0 while the provider refuses our credentials.
  Family<Gauge>& provider_healthy;
  // Live web delivery: pushgw_web_connections{transport} (sse, ws), pushgw_web_messages_total
  // {transport} (messages written to clients), pushgw_web_dropped_total{reason} (clients
  // disconnected by pushgw: slow, token_expired, shutdown), pushgw_web_fanout_seconds (from the
  // publish, the message id's time, to the message written to a client's socket).
  Family<Gauge>& web_connections;
  Family<Counter>& web_messages;
  Family<Counter>& web_dropped;
  Family<Histogram>& web_fanout;
};

}  // namespace pushgw::metrics
