// Durations and sizes as configuration files write them ("10s", "1mb"), in the units the
// `ms` and `bytes` npm packages read, which Feathers apps' configs already use.
#include <plume/config/config.hpp>

#include <cctype>
#include <cmath>
#include <string>

namespace plume::config {
namespace {

struct Quantity {
  double number = 0;
  std::string unit;  // lower case
};

std::optional<Quantity> split_quantity(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  const std::string number(text.substr(0, i));
  if (number.front() == '.' || number.back() == '.' || number.find('.') != number.rfind('.'))
    return std::nullopt;
  std::size_t unit_start = i;
  while (unit_start < text.size() && text[unit_start] == ' ') ++unit_start;
  Quantity quantity;
  quantity.number = std::stod(number);
  for (char c : text.substr(unit_start)) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
    quantity.unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return quantity;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(const Json& value) {
  if (value.is_int64()) {
    if (value.get_int64() < 0) return std::nullopt;
    return std::chrono::milliseconds(value.get_int64());
  }
  if (!value.is_string()) return std::nullopt;
  const auto quantity = split_quantity(value.get_string());
  if (!quantity) return std::nullopt;
  double factor = 0;
  if (quantity->unit == "ms" || quantity->unit.empty()) {
    factor = 1;
  } else if (quantity->unit == "s") {
    factor = 1000;
  } else if (quantity->unit == "m") {
    factor = 60'000;
  } else if (quantity->unit == "h") {
    factor = 3'600'000;
  } else if (quantity->unit == "d") {
    factor = 86'400'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(quantity->number * factor)));
}

std::optional<std::size_t> parse_size(const Json& value) {
  if (value.is_int64()) {
    if (value.get_int64() < 0) return std::nullopt;
    return static_cast<std::size_t>(value.get_int64());
  }
  if (!value.is_string()) return std::nullopt;
  const auto quantity = split_quantity(value.get_string());
  if (!quantity) return std::nullopt;
  double factor = 0;
  if (quantity->unit == "b" || quantity->unit.empty()) {
    factor = 1;
  } else if (quantity->unit == "kb") {
    factor = 1024.0;
  } else if (quantity->unit == "mb") {
    factor = 1024.0 * 1024;
  } else if (quantity->unit == "gb") {
    factor = 1024.0 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  return static_cast<std::size_t>(std::llround(quantity->number * factor));
}

}  // namespace plume::config
