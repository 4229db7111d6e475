#pragma once
// pushgw's metrics API on prometheus-cpp core (Debian's prometheus-cpp-dev): its registry owns
// the families and series, and its TextSerializer writes the exposition (format 0.0.4) that
// pushgw serves on its own listener. What this layer adds:
//   - Family::with(values) finds a series by label values without building a label map: an
//     insert-only, lock-free table in front of prometheus-cpp's map, which is only asked
//     (under its mutex) the first time a label set is seen. Hot paths keep the reference.
//   - checks and messages for bad names, label counts and conflicting registrations;
//   - label values made valid UTF-8 (one bad byte would make Prometheus reject the scrape);
//   - a family with no series yet still renders its HELP and TYPE lines, families in
//     registration order, series sorted: the scrape is stable and every name is visible.
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

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace pushgw::metrics {

// One series of a counter. Only goes up: inc() with a negative or NaN amount throws
// std::invalid_argument (prometheus-cpp would ignore it silently).
class Counter {
 public:
  using core_type = prometheus::Counter;
  explicit Counter(prometheus::Counter& series) : series_(&series) {}
  void inc(double v = 1.0);
  double value() const;

 private:
  prometheus::Counter* series_;
};

class Gauge {
 public:
  using core_type = prometheus::Gauge;
  explicit Gauge(prometheus::Gauge& series) : series_(&series) {}
  void set(double v);
  void inc(double v = 1.0);
  void dec(double v = 1.0);
  double value() const;

 private:
  prometheus::Gauge* series_;
};

class Histogram {
 public:
  using core_type = prometheus::Histogram;
  explicit Histogram(prometheus::Histogram& series) : series_(&series) {}
  void observe(double v);  // NaN counts in the +Inf bucket

  // For tests and diagnostics: cumulative counts per bound (+Inf last), sum and count, read
  // together (count always equals the +Inf bucket, even while other threads observe).
  struct Snapshot {
    std::vector<double> bounds;            // without +Inf
    std::vector<std::uint64_t> cumulative;  // bounds.size() + 1 entries
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  prometheus::Histogram* series_;
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

  using core_family = prometheus::Family<typename Metric::core_type>;

  // Made by Registry, which has checked the names and registered `core`.
  Family(core_family& core, std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets);
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
    Metric metric;  // points at the series prometheus-cpp owns
    Node* next;
  };
  static constexpr std::size_t kBuckets = 64;

  template <class Values>
  Metric& find_or_create(const Values& label_values);

  core_family* core_;
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

  // The prometheus-cpp registry that owns every family registered here.
  prometheus::Registry& core() { return *core_; }

  // Called at the start of render(), e.g. to refresh process RSS/CPU/fds gauges. Collectors
  // run without the registry lock held, and may run concurrently when scrapes overlap.
  void on_collect(std::function<void()> fn);

  // Prometheus text exposition format 0.0.4, written by prometheus-cpp's TextSerializer:
  // families in registration order, series sorted by labels. A family with no series yet
  // renders only its HELP and TYPE lines.
  std::string render() const;

 private:
  struct Entry;
  template <class Metric>
  Family<Metric>& add(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names, std::vector<double> buckets);

  std::shared_ptr<prometheus::Registry> core_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;  // registration order
  std::vector<std::function<void()>> collectors_;
};

// Label values and HELP text as they go to prometheus-cpp: invalid UTF-8 becomes U+FFFD.
// prometheus-cpp escapes label values itself but writes HELP as given, so escape_help also
// escapes \\ and \n as the text format requires.
std::string sanitize_label_value(std::string_view value);
std::string escape_help(std::string_view help);

}  // namespace pushgw::metrics
