#include "pushgw/metrics/pushgw_metrics.hpp"

#include "pushgw/metrics/process.hpp"

namespace pushgw::metrics {

PushgwMetrics::PushgwMetrics(Registry& registry)
    : notifications(registry.counter("pushgw_notifications_total",
                                     "Notifications sent to a provider, per token, by outcome.",
                                     {"app", "platform", "outcome"})),
      send_duration(registry.histogram("pushgw_send_duration_seconds",
                                       "Time from sending a notification to the provider's answer.", {"platform"})),
      queue_depth(registry.gauge("pushgw_queue_depth", "Jobs waiting in the Redis queue.", {"lane"})),
      processing_depth(registry.gauge("pushgw_processing_depth", "Jobs held by this instance.", {"lane"})),
      retry_depth(registry.gauge("pushgw_retry_depth", "Jobs scheduled for a retry or a later send_at.", {"lane"})),
      dead_letters(registry.counter("pushgw_dead_letters_total", "Jobs moved to the dead-letter list, by reason.",
                                    {"lane", "reason"})),
      inflight_sends(registry.gauge("pushgw_inflight_sends", "Provider requests awaiting an answer.", {"platform"})),
      sends_unanswered(registry.counter("pushgw_sends_unanswered_total",
                                        "Provider requests that went out and got no answer (sent again; the provider "
                                        "may have delivered them).",
                                        {"platform"})),
      h2_connections(registry.gauge("pushgw_h2_connections", "HTTP/2 connections to providers, by state.",
                                    {"app", "platform", "state"})),
      tokens_marked_inactive(registry.counter("pushgw_tokens_marked_inactive_total",
                                              "Device tokens marked inactive after the provider reported them dead.",
                                              {"platform", "reason"})),
      tokens_skipped_inactive(registry.counter("pushgw_tokens_skipped_inactive_total",
                                               "Sends skipped because the token is known to be inactive.",
                                               {"platform"})),
      inactive_marks_expired(registry.counter("pushgw_inactive_marks_expired_total",
                                              "Inactive-token marks removed after feedback.inactive_ttl.", {"platform"})),
      feedback_events_waiting(registry.gauge("pushgw_feedback_events_waiting",
                                             "Feedback events not yet consumed (the list and the webhook's batch).", {})),
      webhook_requests(registry.counter("pushgw_feedback_webhook_requests_total",
                                        "Feedback webhook requests by outcome (ok, refused, timeout, unreachable, error).",
                                        {"outcome"})),
      webhook_events(registry.counter("pushgw_feedback_webhook_events_total",
                                      "Feedback events the webhook acknowledged with a 2xx.", {})),
      http_requests(registry.counter("pushgw_http_requests_total", "HTTP requests served, by route and status code.",
                                     {"route", "code"})),
      http_request_duration(registry.histogram("pushgw_http_request_duration_seconds",
                                               "Time to serve an HTTP request.", {"route"})),
      jobs(registry.counter("pushgw_jobs_total", "Jobs by what happened to them (enqueued, completed, retried, ...).",
                            {"outcome"})),
      provider_healthy(registry.gauge("pushgw_provider_healthy",
                                      "1 while the provider can be reached and accepts our credentials, 0 when it cannot or refused them.",
                                      {"app", "platform"})),
      web_connections(registry.gauge("pushgw_web_connections", "Live web connections, by transport (sse, ws).",
                                     {"transport"})),
      web_messages(registry.counter("pushgw_web_messages_total", "Messages written to live web clients, by transport.",
                                    {"transport"})),
      web_dropped(registry.counter("pushgw_web_dropped_total",
                                   "Live web clients disconnected by pushgw, by reason (slow, token_expired, shutdown).",
                                   {"reason"})),
      web_fanout(registry.histogram("pushgw_web_fanout_seconds",
                                    "Time from publishing a web message to writing it to a client's socket.", {})) {
  register_process_metrics(registry);
}

}  // namespace pushgw::metrics
