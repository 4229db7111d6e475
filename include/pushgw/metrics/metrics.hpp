#pragma once
// Our small Prometheus client: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4. Updates are lock-free (atomics), and so is finding the series
// of a label set that already exists; creating a new label set takes a mutex once. The
// output passes `promtool check metrics`.
//
// Usage:
//   auto& requests = registry.counter("pushgw_http_requests_total", "HTTP requests.", {"route", "code"});
//   requests.with({"/push", "202"}).inc();
//
// Bad metric or label names, and a label count that does not match the family, are
// programming errors: they throw std::invalid_argument.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pushgw::metrics {

// Only goes up. inc() with a negative or NaN amount throws std::invalid_argument.
class Counter {
 public:
  void inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // Finite upper bounds in strictly increasing order, without +Inf (always added);
  // otherwise throws std::invalid_argument.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);

  // Snapshot for rendering: cumulative counts per bound (+Inf last), sum and count.
  // count always equals the +Inf bucket, even while other threads observe.
  struct Snapshot {
    std::vector<double> bounds;            // without +Inf
    std::vector<std::uint64_t> cumulative;  // bounds.size() + 1 entries
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket (not cumulative), +Inf last
  std::atomic<double> sum_{0.0};
};

// Default buckets for durations in seconds: 0.5 ms .. 10 s.
std::vector<double> duration_buckets();

// Throw std::invalid_argument naming the bad name.
void validate_metric_name(std::string_view name);
void validate_label_name(std::string_view name);

// A metric name with its label names; with(values) returns the series for those values,
// creating it on first use. References stay valid for the registry's lifetime.
template <class Metric>
class Family {
 public:
  using metric_type = Metric;

  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  ~Family();
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The values in the order of label_names(). with({"/push", "202"}) allocates nothing once
  // the series exists.
  Metric& with(std::initializer_list<std::string_view> label_values);
  Metric& with(std::span<const std::string> label_values);
  // Without labels.
  Metric& get() { return with({}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& buckets() const { return buckets_; }

  // Calls fn(label_values, metric) for each series, sorted by label values.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;

 private:
  // Series live in an insert-only hash table: a node is immutable once published and never
  // freed before the family, so with() can walk the chains without a lock.
  struct Node {
    std::vector<std::string> label_values;
    std::size_t hash;
    std::unique_ptr<Metric> metric;
    Node* next;
  };
  static constexpr std::size_t kBuckets = 64;

  template <class Values>
  Metric& find_or_create(const Values& label_values);

  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // histograms only
  std::array<std::atomic<Node*>, kBuckets> table_{};
  mutable std::mutex create_mutex_;  // serialises inserts; guards nodes_
  std::vector<Node*> nodes_;         // every node, owned; freed by the destructor
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again with the same type, labels (and buckets) returns the same
  // family; anything else under a taken name throws std::invalid_argument. Counter names
  // are kept as given (pass the `_total` suffix yourself).
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> buckets = duration_buckets());

  // Called at the start of render(), e.g. to refresh process RSS/CPU/fds gauges. Collectors
  // run without the registry lock held, and may run concurrently when scrapes overlap.
  void on_collect(std::function<void()> fn);

  // Prometheus text exposition format 0.0.4: families in registration order, series sorted
  // by label values. A family with no series yet renders only its HELP and TYPE lines.
  std::string render() const;

 private:
  struct Entry;
  template <class Metric>
  Family<Metric>& add(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;  // registration order
  std::vector<std::function<void()>> collectors_;
};

// Text-format helpers, exposed for tests and for code that renders extra samples.
// A sample value: integers without exponent, "+Inf", "-Inf", "NaN", otherwise the shortest
// text that reads back to the same double.
std::string format_value(double v);
// A label value, escaped (\\, \", \n); invalid UTF-8 becomes U+FFFD, since one bad byte
// would make Prometheus reject the whole scrape.
std::string escape_label_value(std::string_view value);
// HELP text, escaped (\\, \n); invalid UTF-8 becomes U+FFFD.
std::string escape_help(std::string_view help);

}  // namespace pushgw::metrics
