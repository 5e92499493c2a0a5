#include "net/request_target.hpp"

#include <plume/core/digest.hpp>

namespace plume::net {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 pchar, less pct-encoded: what may stand raw in a path segment.
bool is_raw_pchar(unsigned char c) {
  if (is_unreserved(c)) return true;
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
      return true;
    default:
      return false;
  }
}

// A segment such as "..%2Fadmin" is one segment here, but two, the first "..", to a server that
// decodes an encoded slash (or backslash) before it resolves dot segments.
bool hides_dot_dot(std::string_view segment) {
  std::size_t start = 0;
  for (;;) {
    std::size_t end = segment.size();
    for (std::size_t i = start; i + 2 < segment.size(); ++i) {
      if (segment[i] == '%' && ((segment[i + 1] == '2' && segment[i + 2] == 'F') ||
                                (segment[i + 1] == '5' && segment[i + 2] == 'C'))) {
        end = i;
        break;
      }
    }
    if (segment.substr(start, end - start) == "..") return true;
    if (end == segment.size()) return false;
    start = end + 3;
  }
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  // Segments are written to `out` as "/segment" in canonical form, so that ".." removes the
  // last one by cutting at the last '/' (a canonical segment holds no raw '/').
  std::string out;
  out.reserve(path.size());
  bool trailing_slash = false;
  std::size_t at = 1;
  for (;;) {
    std::size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    const std::size_t start = out.size();
    out.push_back('/');
    bool escaped = false;
    for (std::size_t i = at; i < end; ++i) {
      const auto c = static_cast<unsigned char>(path[i]);
      if (c == '%') {
        if (i + 2 >= path.size()) return std::nullopt;
        const int high = hex_digit_value(path[i + 1]);
        const int low = hex_digit_value(path[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        const auto decoded = static_cast<unsigned char>(high * 16 + low);
        if (decoded == 0) return std::nullopt;
        if (is_unreserved(decoded)) {
          out.push_back(static_cast<char>(decoded));
        } else {
          out += {'%', kHex[high], kHex[low]};
          escaped = true;
        }
        i += 2;
      } else if (is_raw_pchar(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        if (c == 0) return std::nullopt;
        out += {'%', kHex[c >> 4], kHex[c & 15]};
        escaped = true;
      }
    }
    std::string_view segment = std::string_view(out).substr(start + 1);
    if (segment.empty() || segment == ".") {
      out.resize(start);
      trailing_slash = true;
    } else if (segment == "..") {
      out.resize(start);
      if (out.empty()) return std::nullopt;
      out.resize(out.rfind('/'));
      trailing_slash = true;
    } else {
      if (escaped && hides_dot_dot(segment)) return std::nullopt;
      trailing_slash = false;
    }
    if (end == path.size()) break;
    at = end + 1;
  }
  if (out.empty()) return std::string("/");
  if (trailing_slash) out.push_back('/');
  return out;
}

}  // namespace plume::net
