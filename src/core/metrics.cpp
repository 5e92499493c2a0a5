#include <plume/core/metrics.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>

namespace plume {

namespace {

// Prometheus' default latency buckets, in seconds.
const std::vector<double> kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct Series {
  double value = 0;                   // counter, gauge
  std::vector<std::uint64_t> counts;  // histogram: per bucket (not cumulative)
  std::uint64_t count = 0;
  double sum = 0;
};

struct Family {
  std::string type;
  std::string help;
  std::vector<double> buckets;
  // Keyed by the rendered label set, so that equal label sets share a series and output is sorted.
  std::map<std::string, Series> series;
};

// Prometheus text format 0.0.4: label values escape backslash, double quote and newline.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string render_labels(const MetricLabels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  return out;
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                   std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

}  // namespace

struct MetricsRegistry::Impl {
  mutable std::mutex mutex;
  std::map<std::string, Family, std::less<>> families;

  // The family `name`, created with `type` when nothing declared it.
  Family& family(std::string_view name, std::string_view type) {
    auto it = families.find(name);
    if (it == families.end()) {
      it = families.emplace(std::string(name), Family{}).first;
      it->second.type = std::string(type);
      if (type == "histogram") it->second.buckets = kLatencyBuckets;
    }
    return it->second;
  }
};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::describe(std::string_view name, std::string_view type, std::string_view help,
                               std::vector<double> buckets) {
  std::lock_guard lock(impl_->mutex);
  Family& family = impl_->family(name, type);
  family.type = std::string(type);
  family.help = std::string(help);
  if (type == "histogram") {
    if (buckets.empty()) buckets = kLatencyBuckets;
    std::sort(buckets.begin(), buckets.end());
    buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
    if (family.buckets != buckets) {
      family.buckets = std::move(buckets);
      family.series.clear();
    }
  }
}

void MetricsRegistry::increment(std::string_view name, const MetricLabels& labels, double by) {
  std::lock_guard lock(impl_->mutex);
  impl_->family(name, "counter").series[render_labels(labels)].value += by;
}

void MetricsRegistry::set_gauge(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(impl_->mutex);
  impl_->family(name, "gauge").series[render_labels(labels)].value = value;
}

void MetricsRegistry::add_gauge(std::string_view name, const MetricLabels& labels, double delta) {
  std::lock_guard lock(impl_->mutex);
  impl_->family(name, "gauge").series[render_labels(labels)].value += delta;
}

void MetricsRegistry::observe(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(impl_->mutex);
  Family& family = impl_->family(name, "histogram");
  Series& series = family.series[render_labels(labels)];
  if (series.counts.size() != family.buckets.size()) series.counts.assign(family.buckets.size(), 0);
  // Bucket `le` counts observations <= le; the first bucket that holds the value takes it and
  // render() accumulates.
  const auto it = std::lower_bound(family.buckets.begin(), family.buckets.end(), value);
  if (it != family.buckets.end()) ++series.counts[it - family.buckets.begin()];
  ++series.count;
  series.sum += value;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(impl_->mutex);
  std::string out;
  for (const auto& [name, family] : impl_->families) {
    if (!family.help.empty()) {
      out += "# HELP ";
      out += name;
      out += ' ';
      append_escaped(out, family.help, false);
      out += '\n';
    }
    out += "# TYPE ";
    out += name;
    out += ' ';
    out += family.type;
    out += '\n';
    for (const auto& [labels, series] : family.series) {
      if (family.type != "histogram") {
        append_sample(out, name, "", labels, "", series.value);
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < family.buckets.size(); ++i) {
        cumulative += i < series.counts.size() ? series.counts[i] : 0;
        std::string le = "le=\"";
        append_number(le, family.buckets[i]);
        le += '"';
        append_sample(out, name, "_bucket", labels, le, static_cast<double>(cumulative));
      }
      append_sample(out, name, "_bucket", labels, "le=\"+Inf\"", static_cast<double>(series.count));
      append_sample(out, name, "_sum", labels, "", series.sum);
      append_sample(out, name, "_count", labels, "", static_cast<double>(series.count));
    }
  }
  return out;
}

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry registry;
  return registry;
}

}  // namespace plume
