// libFuzzer target for the gateway's path normaliser (net/request_target.hpp), which decides
// which route a request matches, so a path must not mean one thing to the route table and
// another to the upstream. Properties of a normalised path: it starts with '/', holds no empty
// segment ("//"), no "." or ".." segment, no %2e escape of a dot; normalising it again changes
// nothing; it grows only by the escapes of raw characters a path may not hold. A path that is
// already normal (and holds only characters a path may hold raw) comes back as it is.
#include "net/request_target.hpp"
#include "testing/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using plume::testing::fuzz_check;

bool has_segment(std::string_view path, std::string_view segment) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (start > 0 && path.substr(start, end - start) == segment) return true;
    start = end + 1;
  }
  return false;
}

bool has_dot_escape(std::string_view path) {
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] == '%' && path[i + 1] == '2' && (path[i + 2] == 'e' || path[i + 2] == 'E')) return true;
  }
  return false;
}

// RFC 3986 pchar without escapes, and the '/' between segments.
bool is_raw_path_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_normal(std::string_view path) {
  for (char c : path) {
    if (!is_raw_path_char(static_cast<unsigned char>(c))) return false;
  }
  return path.starts_with('/') && path.find("//") == std::string_view::npos && !has_segment(path, ".") &&
         !has_segment(path, "..") && !has_dot_escape(path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view path(reinterpret_cast<const char*>(data), size);
  const std::optional<std::string> normal = plume::net::normalize_path(path);
  if (!normal) return 0;
  fuzz_check(normal->starts_with('/'), "a normalised path starts with '/'");
  fuzz_check(normal->find("//") == std::string::npos, "a normalised path has no empty segment");
  fuzz_check(!has_segment(*normal, ".") && !has_segment(*normal, ".."),
             "a normalised path has no dot segment");
  fuzz_check(!has_dot_escape(*normal), "a normalised path has no %2e escape");
  // Raw characters a path may not hold are percent-encoded, three bytes for one.
  fuzz_check(normal->size() <= 3 * path.size() + 1, "normalising grows a path only by escapes");
  const std::optional<std::string> again = plume::net::normalize_path(*normal);
  fuzz_check(again && *again == *normal, "normalising is idempotent");
  if (is_normal(path) && path.find('%') == std::string_view::npos) {
    fuzz_check(*normal == path, "a normal path comes back as it is");
  }
  return 0;
}
