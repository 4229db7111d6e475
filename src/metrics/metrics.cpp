#include "pushgw/metrics/metrics.hpp"

#include "pushgw/common/utf8.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace pushgw::metrics {

namespace {

// A number in an error message.
std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Integers up to 2^53 are exact in a double: print them without exponent or fraction.
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, end);
  }
  // Shortest round-trip digits in %g style, like Go's FormatFloat(v, 'g', -1): "0.0005", "1e+20".
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, end);
}

bool is_name_start(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_name_char(char c, bool allow_colon) {
  return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name, bool allow_colon) {
  if (name.empty() || !is_name_start(name.front(), allow_colon)) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return is_name_char(c, allow_colon); });
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

void validate_buckets(const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be finite (+Inf is added automatically), got " +
                                  format_value(bounds[i]));
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing, got " +
                                  format_value(bounds[i - 1]) + " before " + format_value(bounds[i]));
    }
  }
}

std::size_t hash_label_values(const auto& values) {
  std::size_t h = 0xcbf29ce484222325ULL;
  for (std::string_view v : values) {
    // Mix in the length too, so ("ab","c") and ("a","bc") differ.
    h ^= std::hash<std::string_view>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= v.size() + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

bool same_values(const std::vector<std::string>& stored, const auto& values) {
  return std::equal(stored.begin(), stored.end(), values.begin(), values.end(),
                    [](const std::string& a, std::string_view b) { return a == b; });
}

}  // namespace

// ---- names and text format ----

void validate_metric_name(std::string_view name) {
  if (!is_valid_name(name, true)) {
    throw std::invalid_argument("invalid metric name " + quoted(name) + ": must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
}

void validate_label_name(std::string_view name) {
  if (!is_valid_name(name, false)) {
    throw std::invalid_argument("invalid label name " + quoted(name) + ": must match [a-zA-Z_][a-zA-Z0-9_]*");
  }
  if (name.starts_with("__")) {
    throw std::invalid_argument("invalid label name " + quoted(name) + ": names starting with __ are reserved");
  }
}

std::string sanitize_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  common::append_utf8_sanitized(out, value, [](std::string& o, char c) { o += c; });
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  common::append_utf8_sanitized(out, help, [](std::string& o, char c) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      default: o += c;
    }
  });
  return out;
}

// ---- series ----

void Counter::inc(double v) {
  if (!(v >= 0.0)) {
    throw std::invalid_argument("counter increment must be >= 0, got " + format_value(v));
  }
  series_->Increment(v);
}

double Counter::value() const { return series_->Value(); }

void Gauge::set(double v) { series_->Set(v); }
void Gauge::inc(double v) { series_->Increment(v); }
void Gauge::dec(double v) { series_->Decrement(v); }
double Gauge::value() const { return series_->Value(); }

void Histogram::observe(double v) {
  // prometheus-cpp's bucket search would count NaN in the lowest bucket; count it in +Inf, as
  // the Go client does (the sum becomes +Inf, where the Go client's becomes NaN).
  series_->Observe(std::isnan(v) ? std::numeric_limits<double>::infinity() : v);
}

Histogram::Snapshot Histogram::snapshot() const {
  // prometheus-cpp reads the buckets, sum and count under one lock.
  const prometheus::ClientMetric collected = series_->Collect();
  Snapshot s;
  for (const auto& bucket : collected.histogram.bucket) {
    if (std::isfinite(bucket.upper_bound)) s.bounds.push_back(bucket.upper_bound);
    s.cumulative.push_back(bucket.cumulative_count);
  }
  s.sum = collected.histogram.sample_sum;
  s.count = collected.histogram.sample_count;
  return s;
}

std::vector<double> duration_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- Family ----

namespace {

// The checks of a new family, made before anything is registered with prometheus-cpp.
template <class Metric>
void validate_family(const std::string& name, const std::vector<std::string>& label_names,
                     const std::vector<double>& buckets) {
  validate_metric_name(name);
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    validate_label_name(label_names[i]);
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i), label_names[i]) !=
        label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric " + quoted(name) + ": label " + quoted(label_names[i]) + " given twice");
    }
    if constexpr (std::is_same_v<Metric, Histogram>) {
      if (label_names[i] == "le") {
        throw std::invalid_argument("histogram " + quoted(name) + ": label name \"le\" is reserved for buckets");
      }
    }
  }
  if constexpr (std::is_same_v<Metric, Histogram>) {
    validate_buckets(buckets);
  } else if (!buckets.empty()) {
    throw std::invalid_argument("metric " + quoted(name) + ": only histograms have buckets");
  }
}

}  // namespace

template <class Metric>
Family<Metric>::Family(core_family& core, std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> buckets)
    : core_(&core),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <class Metric>
Family<Metric>::~Family() {
  for (Node* node : nodes_) delete node;
}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> label_values) {
  return find_or_create(label_values);
}

template <class Metric>
Metric& Family<Metric>::with(std::span<const std::string> label_values) {
  return find_or_create(label_values);
}

template <class Metric>
template <class Values>
Metric& Family<Metric>::find_or_create(const Values& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + quoted(name_) + " has " + std::to_string(label_names_.size()) +
                                " label(s), got " + std::to_string(label_values.size()) + " value(s)");
  }
  const std::size_t hash = hash_label_values(label_values);
  std::atomic<Node*>& head = table_[hash % kBuckets];
  auto find_in_chain = [&](Node* node) -> Node* {
    for (; node != nullptr; node = node->next) {
      if (node->hash == hash && same_values(node->label_values, label_values)) return node;
    }
    return nullptr;
  };
  if (Node* found = find_in_chain(head.load(std::memory_order_acquire))) return found->metric;

  std::lock_guard lock(create_mutex_);
  Node* const first = head.load(std::memory_order_acquire);
  if (Node* found = find_in_chain(first)) return found->metric;  // another thread won the race

  // The first time this label set is seen: the one label map, and prometheus-cpp's lookup.
  prometheus::Labels labels;
  std::size_t i = 0;
  for (std::string_view value : label_values) labels.emplace(label_names_[i++], sanitize_label_value(value));
  auto* series = [&] {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      return &core_->Add(labels, prometheus::Histogram::BucketBoundaries(buckets_));
    } else {
      return &core_->Add(labels);
    }
  }();
  auto node = std::unique_ptr<Node>(new Node{{label_values.begin(), label_values.end()}, hash, Metric(*series), first});
  nodes_.reserve(nodes_.size() + 1);  // so push_back below cannot throw after release()
  Node* published = node.release();
  nodes_.push_back(published);
  head.store(published, std::memory_order_release);
  return published->metric;
}

template <class Metric>
void Family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::vector<const Node*> nodes;
  {
    std::lock_guard lock(create_mutex_);
    nodes.assign(nodes_.begin(), nodes_.end());
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const Node* a, const Node* b) { return a->label_values < b->label_values; });
  for (const Node* node : nodes) fn(node->label_values, node->metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry ----

struct Registry::Entry {
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>, std::unique_ptr<Family<Histogram>>>
      family;
  std::vector<std::string> sample_names;  // names that appear at the start of sample lines
};

namespace {

template <class Metric>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<Metric, Counter>) return "counter";
  if constexpr (std::is_same_v<Metric, Gauge>) return "gauge";
  if constexpr (std::is_same_v<Metric, Histogram>) return "histogram";
}

template <class Metric>
constexpr prometheus::MetricType core_type() {
  if constexpr (std::is_same_v<Metric, Counter>) return prometheus::MetricType::Counter;
  if constexpr (std::is_same_v<Metric, Gauge>) return prometheus::MetricType::Gauge;
  if constexpr (std::is_same_v<Metric, Histogram>) return prometheus::MetricType::Histogram;
}

template <class Metric>
auto core_builder() {
  if constexpr (std::is_same_v<Metric, Counter>) return prometheus::BuildCounter();
  if constexpr (std::is_same_v<Metric, Gauge>) return prometheus::BuildGauge();
  if constexpr (std::is_same_v<Metric, Histogram>) return prometheus::BuildHistogram();
}

template <class Metric>
std::vector<std::string> sample_names_of(const std::string& name) {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return {name, name + "_bucket", name + "_sum", name + "_count"};
  } else {
    return {name};
  }
}

}  // namespace

Registry::Registry() : core_(std::make_shared<prometheus::Registry>()) {}
Registry::~Registry() = default;

template <class Metric>
Family<Metric>& Registry::add(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                              std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    const auto* same_type = std::get_if<std::unique_ptr<Family<Metric>>>(&entry->family);
    const bool same_name = std::visit([&](const auto& f) { return f->name() == name; }, entry->family);
    if (!same_name) continue;
    if (same_type == nullptr) {
      const std::string_view existing =
          std::visit([](const auto& f) { return type_name<typename std::decay_t<decltype(*f)>::metric_type>(); },
                     entry->family);
      throw std::invalid_argument("metric " + quoted(name) + " is already registered as a " + std::string(existing) +
                                  ", not a " + std::string(type_name<Metric>()));
    }
    Family<Metric>& family = **same_type;
    if (family.label_names() != label_names) {
      throw std::invalid_argument("metric " + quoted(name) + " is already registered with other label names");
    }
    if constexpr (std::is_same_v<Metric, Histogram>) {
      if (family.buckets() != buckets) {
        throw std::invalid_argument("histogram " + quoted(name) + " is already registered with other buckets");
      }
    }
    return family;
  }

  validate_family<Metric>(name, label_names, buckets);
  // Two families whose sample lines share a name (a gauge "x_count" next to a histogram "x")
  // would make the exposition ambiguous.
  std::vector<std::string> samples = sample_names_of<Metric>(name);
  for (const auto& entry : entries_) {
    for (const std::string& taken : entry->sample_names) {
      if (std::find(samples.begin(), samples.end(), taken) != samples.end()) {
        throw std::invalid_argument("metric " + quoted(name) + " clashes with sample name " + quoted(taken) +
                                    " of an already registered metric");
      }
    }
  }
  auto& core = core_builder<Metric>().Name(name).Help(escape_help(help)).Register(*core_);
  auto family = std::make_unique<Family<Metric>>(core, name, help, std::move(label_names), std::move(buckets));
  Family<Metric>& result = *family;
  auto entry = std::make_unique<Entry>();
  entry->family = std::move(family);
  entry->sample_names = std::move(samples);
  entries_.push_back(std::move(entry));
  return result;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return add<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  return add<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names, std::vector<double> buckets) {
  return add<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

void Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  // Without the lock: a collector may register metrics or take its time reading /proc.
  for (const auto& collect : collectors) collect();

  std::vector<prometheus::MetricFamily> collected = core_->Collect();
  // prometheus-cpp leaves out families without series and orders them by type; put them in
  // registration order, with a header-only entry for each family not yet used.
  std::vector<prometheus::MetricFamily> ordered;
  {
    std::lock_guard lock(mutex_);
    ordered.reserve(entries_.size());
    for (const auto& entry : entries_) {
      std::visit(
          [&](const auto& family) {
            using Metric = typename std::decay_t<decltype(*family)>::metric_type;
            auto found = std::find_if(collected.begin(), collected.end(),
                                      [&](const prometheus::MetricFamily& f) { return f.name == family->name(); });
            if (found != collected.end()) {
              ordered.push_back(std::move(*found));
              collected.erase(found);
            } else {
              ordered.push_back({family->name(), escape_help(family->help()), core_type<Metric>(), {}});
            }
          },
          entry->family);
    }
  }
  // Families registered on core() directly, after ours.
  for (auto& rest : collected) ordered.push_back(std::move(rest));
  for (auto& family : ordered) {
    std::sort(family.metric.begin(), family.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) { return a.label < b.label; });
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, ordered);
  return std::move(out).str();
}

}  // namespace pushgw::metrics
