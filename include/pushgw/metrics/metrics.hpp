#pragma once
// Our small Prometheus client: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4. Updates are lock-free (atomics); creating a new label set
// takes a mutex once. The output passes `promtool check metrics`.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pushgw::metrics {

class Counter {
 public:
  void inc(double v = 1.0);
  double value() const;
 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v);
  void inc(double v = 1.0);
  void dec(double v = 1.0);
  double value() const;
 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);   // sorted, without +Inf
  void observe(double v);
  // Snapshot for rendering: cumulative counts per bound (+Inf last), sum and count.
  struct Snapshot { std::vector<double> bounds; std::vector<std::uint64_t> cumulative; double sum; std::uint64_t count; };
  Snapshot snapshot() const;
 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket (not cumulative), +Inf last
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

// Default buckets for durations in seconds: 0.5 ms .. 10 s.
std::vector<double> duration_buckets();

// A metric name with its label names; with(values) returns the series for those values,
// creating it on first use. References stay valid for the registry's lifetime.
template <class Metric>
class Family {
 public:
  Metric& with(const std::vector<std::string>& label_values);
  // Without labels.
  Metric& get() { return with({}); }
  // ... (internal state used by Registry::render)
  struct Internals;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn(label_values, metric) for each series, in label order.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;
 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

class Registry {
 public:
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::vector<double> buckets = duration_buckets());
  // Called at the start of render(), e.g. to refresh process RSS/CPU/fds gauges.
  void on_collect(std::function<void()> fn);
  // Prometheus text exposition format 0.0.4.
  std::string render() const;
 private:
  // (implementation detail: families kept in registration order)
  struct Entry;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::function<void()>> collectors_;
};

}  // namespace pushgw::metrics
