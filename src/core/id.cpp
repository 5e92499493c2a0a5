#include <plume/core/error.hpp>
#include <plume/core/id.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace plume {

Id Id::from_json(const Json& value) {
  if (value.is_int64()) return Id(value.get_int64());
  if (value.is_uint64() && value.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return Id(static_cast<std::int64_t>(value.get_uint64()));
  }
  if (value.is_double()) {
    // 7.0 is the integer 7 to JavaScript.
    const double d = value.get_double();
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18) {
      return Id(static_cast<std::int64_t>(d));
    }
  }
  if (value.is_string()) return Id(std::string(value.get_string()));
  throw bad_request("Invalid id " + to_json_text(value) + ": an id must be an integer or a string");
}

std::optional<std::int64_t> Id::as_integer_like() const {
  if (is_integer()) return integer();
  const std::string& text = string();
  // Only the canonical decimal form: "007" names a different record than 7, as it would as a
  // JavaScript property key.
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0') || text == "-0") return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t result = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return result;
}

std::string Id::to_string() const { return is_integer() ? std::to_string(integer()) : string(); }

Json Id::to_json() const {
  if (is_integer()) return Json(integer());
  return Json(string());
}

}  // namespace plume
