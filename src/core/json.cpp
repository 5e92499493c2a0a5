#include <plume/core/error.hpp>
#include <plume/core/json.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace plume {

namespace {

// Nesting limit for untrusted text: deep enough for any record or query, shallow enough that a
// hostile body cannot exhaust the stack.
constexpr std::size_t kMaxJsonDepth = 64;

// Messages in the form JavaScript's JSON.parse gives them, which is what Feathers users see for a
// malformed body ("Unexpected token } in JSON at position 7").
std::string describe_parse_failure(std::string_view text, std::size_t position, bool at_end) {
  if (at_end || position >= text.size()) {
    return "Unexpected end of JSON input";
  }
  std::string message = "Unexpected token ";
  const char c = text[position];
  if (static_cast<unsigned char>(c) < 0x20) {
    char code[8];
    std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    message += code;
  } else {
    message += c;
  }
  message += " in JSON at position ";
  message += std::to_string(position);
  return message;
}

enum class NumberKind { Signed, Unsigned, Double };

NumberKind number_kind(const Json& v) {
  if (v.is_int64()) return NumberKind::Signed;
  if (v.is_uint64()) return NumberKind::Unsigned;
  return NumberKind::Double;
}

// Compares two JSON numbers by value, exactly for integers of any sign and width.
int compare_numbers(const Json& a, const Json& b) {
  const NumberKind ka = number_kind(a);
  const NumberKind kb = number_kind(b);
  if (ka == NumberKind::Double || kb == NumberKind::Double) {
    const double x = a.to_number<double>();
    const double y = b.to_number<double>();
    if (x < y) return -1;
    if (x > y) return 1;
    return 0;
  }
  if (ka == NumberKind::Signed && kb == NumberKind::Signed) {
    const auto x = a.get_int64(), y = b.get_int64();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ka == NumberKind::Unsigned && kb == NumberKind::Unsigned) {
    const auto x = a.get_uint64(), y = b.get_uint64();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  // One signed, one unsigned.
  if (ka == NumberKind::Signed) {
    const auto x = a.get_int64();
    if (x < 0) return -1;
    const auto ux = static_cast<std::uint64_t>(x), y = b.get_uint64();
    return ux < y ? -1 : (ux > y ? 1 : 0);
  }
  return -compare_numbers(b, a);
}

// Rank of a value's kind in json_compare's order: null < numbers < strings < booleans < others.
int kind_rank(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return 0;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return 1;
    case boost::json::kind::string:
      return 2;
    case boost::json::kind::bool_:
      return 3;
    case boost::json::kind::array:
      return 4;
    case boost::json::kind::object:
      return 5;
  }
  return 6;
}

// Builds values as boost::json::parse does, except for doubles: Boost 1.81's conversion can be
// one unit in the last place off (it reads "5.333333333333333e+38", which JavaScript prints for
// 533333333333333333333333333333333333333, as 5.3333333333333325e+38), so a number a client sends
// would come back changed. The number's text is converted again with std::from_chars, which
// rounds correctly.
class PreciseHandler {
 public:
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  PreciseHandler() { stack_.reset(); }
  Json release() { return stack_.release(); }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    stack_.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, boost::system::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, boost::system::error_code&) {
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, boost::system::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::system::error_code&) {
    stack_.push_string(s);
    return true;
  }
  bool on_number_part(std::string_view s, boost::system::error_code&) {
    number_.append(s);
    return true;
  }
  bool on_int64(std::int64_t i, std::string_view, boost::system::error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, boost::system::error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, std::string_view s, boost::system::error_code&) {
    number_.append(s);
    double exact = 0;
    auto [end, ec] = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    // Out of range (1e400) keeps Boost's value.
    if (ec == std::errc{} && end == number_.data() + number_.size()) d = exact;
    number_.clear();
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

 private:
  boost::json::value_stack stack_;
  std::string number_;
};

}  // namespace

Json parse_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<PreciseHandler> parser(options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write_some(true, text.data(), text.size(), ec);
  if (ec) {
    throw bad_request(describe_parse_failure(text, consumed, false));
  }
  // A complete value may be followed by whitespace only ("{} x" is malformed).
  if (parser.done()) {
    const std::size_t rest = text.find_first_not_of(" \t\r\n", consumed);
    if (rest != std::string_view::npos) {
      throw bad_request(describe_parse_failure(text, rest, false));
    }
  } else {
    parser.write_some(false, nullptr, 0, ec);
    if (ec) {
      throw bad_request(describe_parse_failure(text, text.size(), true));
    }
  }
  return parser.handler().release();
}

namespace {

void append_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out.push_back('"');
}

// Numbers as JavaScript's JSON.stringify writes them, so that clients and people see 2.5 and 3,
// not Boost's 2.5E0 and 3E0: the shortest text that reads back to the same double, fixed notation
// for magnitudes in [1e-6, 1e21), else "1.5e+21" / "1e-7"; NaN and infinities become null.
void append_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {
    out.push_back('0');
    return;
  }
  char buffer[64];
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-6 && magnitude < 1e21) {
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
    out.append(buffer, result.ptr);
    return;
  }
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  const std::size_t e = text.find('e');
  out.append(text.substr(0, e + 1));
  std::size_t digits = e + 1;
  if (text[digits] == '-' || text[digits] == '+') out.push_back(text[digits++]);
  while (digits + 1 < text.size() && text[digits] == '0') ++digits;
  out.append(text.substr(digits));
}

void append_value(std::string& out, const Json& value) {
  char buffer[32];
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64: {
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, value.get_int64());
      out.append(buffer, result.ptr);
      return;
    }
    case boost::json::kind::uint64: {
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, value.get_uint64());
      out.append(buffer, result.ptr);
      return;
    }
    case boost::json::kind::double_:
      append_double(out, value.get_double());
      return;
    case boost::json::kind::string:
      append_string(out, value.get_string());
      return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, item);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, member.key());
        out.push_back(':');
        append_value(out, member.value());
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

void append_json_text(std::string& out, const Json& value) { append_value(out, value); }

std::string to_json_text(const Json& value) {
  std::string out;
  out.reserve(64);
  append_value(out, value);
  return out;
}

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  long fraction = static_cast<long>(millis % 1000);
  if (fraction < 0) {
    fraction += 1000;
    seconds -= 1;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
  return buffer;
}

bool json_equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    return compare_numbers(a, b) == 0;
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  switch (a.kind()) {
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!json_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      // Key order does not matter, as for lodash isEqual.
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& member : x) {
        const auto* other = y.if_contains(member.key());
        if (other == nullptr || !json_equal(member.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

int json_compare(const Json& a, const Json& b) {
  const int ra = kind_rank(a);
  const int rb = kind_rank(b);
  if (ra != rb) {
    return ra < rb ? -1 : 1;
  }
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return compare_numbers(a, b);
    case 2: {
      const int c = std::string_view(a.get_string()).compare(std::string_view(b.get_string()));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 3:
      return a.get_bool() == b.get_bool() ? 0 : (a.get_bool() ? 1 : -1);
    case 4: {
      // Arrays element by element, then the shorter first.
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      const std::size_t n = std::min(x.size(), y.size());
      for (std::size_t i = 0; i < n; ++i) {
        if (const int c = json_compare(x[i], y[i]); c != 0) return c;
      }
      return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    default: {
      // Objects: equal ones compare equal; others by their text, which is at least a stable order.
      if (json_equal(a, b)) return 0;
      const int c = to_json_text(a).compare(to_json_text(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

}  // namespace plume
