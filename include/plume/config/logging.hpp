// Structured logs for a node: one line per event, as text
//   2026-11-25T12:00:00.000Z info plume listening host=127.0.0.1 port=3030
// or, with logging.format json, one JSON object per line
//   {"time":"2026-11-25T12:00:00.000Z","level":"info","logger":"plume","msg":"listening","host":"127.0.0.1","port":3030}
// Messages are written as "<event> key=value key=\"a value\"", which the JSON form splits into fields.
#pragma once

#include <plume/config/config.hpp>

#include <string>
#include <string_view>

namespace plume::config {

// Makes a logger named "plume" writing to standard output the default spdlog logger, and applies
// the format and level to every registered logger.
void setup_logging(const LoggingConfig& logging);

// The JSON line for one message (exposed for tests): the event, then its key=value fields;
// values that are integers become JSON numbers.
std::string json_log_line(std::string_view time, std::string_view level, std::string_view logger,
                          std::string_view message);

// Quotes a value for a key=value log message when it holds spaces, quotes or '='.
std::string log_value(std::string_view value);

}  // namespace plume::config
