#include <plume/config/logging.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace plume::config {
namespace {

std::string iso8601(std::chrono::system_clock::time_point time) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis % 1000));
  return buffer;
}

bool is_integer(std::string_view text) {
  std::size_t i = text.starts_with('-') ? 1 : 0;
  if (i >= text.size() || text.size() - i > 18) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return !(text.size() > 1 && text[0] == '0');
}

// JSON lines: the message "<event> k=v ..." becomes {"msg": event, "k": v, ...}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = json_log_line(iso8601(msg.time), std::string_view(level.data(), level.size()),
                                           std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                                           std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string json_log_line(std::string_view time, std::string_view level, std::string_view logger,
                          std::string_view message) {
  JsonObject line;
  line["time"] = time;
  line["level"] = level;
  line["logger"] = logger;
  // The event is the text before the first key=value field.
  std::size_t event_end = message.size();
  std::size_t scan = 0;
  while (scan < message.size()) {
    const std::size_t space = message.find(' ', scan);
    const std::size_t word_end = space == std::string_view::npos ? message.size() : space;
    const std::string_view word = message.substr(scan, word_end - scan);
    const std::size_t equals = word.find('=');
    if (equals != std::string_view::npos && equals > 0) {
      event_end = scan == 0 ? 0 : scan - 1;
      break;
    }
    scan = word_end + 1;
  }
  line["msg"] = message.substr(0, event_end);
  JsonObject fields;
  std::size_t i = event_end;
  bool well_formed = true;
  while (i < message.size()) {
    while (i < message.size() && message[i] == ' ') ++i;
    if (i >= message.size()) break;
    const std::size_t equals = message.find('=', i);
    if (equals == std::string_view::npos ||
        message.substr(i, equals - i).find(' ') != std::string_view::npos) {
      well_formed = false;
      break;
    }
    const std::string key(message.substr(i, equals - i));
    std::string value;
    i = equals + 1;
    if (i < message.size() && message[i] == '"') {
      ++i;
      while (i < message.size() && message[i] != '"') {
        if (message[i] == '\\' && i + 1 < message.size()) ++i;
        value += message[i++];
      }
      ++i;  // closing quote
      fields[key] = value;
    } else {
      const std::size_t end = std::min(message.find(' ', i), message.size());
      value = std::string(message.substr(i, end - i));
      i = end;
      if (is_integer(value)) {
        fields[key] = std::stoll(value);
      } else {
        fields[key] = value;
      }
    }
  }
  if (!well_formed) {
    // Not of the key=value form: keep the whole message rather than guess at its fields.
    line["msg"] = message;
  } else {
    for (auto& [key, value] : fields) {
      if (key != "time" && key != "level" && key != "logger" && key != "msg") line[key] = std::move(value);
    }
  }
  return boost::json::serialize(line);
}

std::string log_value(std::string_view value) {
  if (!value.empty() && value.find_first_of(" \"=") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

void setup_logging(const LoggingConfig& logging) {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("plume", sink);
  spdlog::set_default_logger(logger);
  if (logging.json) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %n %v",
                                                                      spdlog::pattern_time_type::utc));
  }
  spdlog::set_level(spdlog::level::from_str(logging.level));
  // Every line reaches the output at once: logs are read by collectors while the node runs.
  spdlog::flush_on(spdlog::level::trace);
}

}  // namespace plume::config
