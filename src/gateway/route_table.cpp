#include "gateway/route_table.hpp"

#include <boost/beast/core/string.hpp>

namespace plume::gateway {

RouteKey parse_route_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(key), ""};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash))};
}

namespace {

bool host_matches(std::string_view key_host, std::string_view host_header) {
  if (boost::beast::iequals(key_host, host_header)) return true;
  // "example.com" also takes "example.com:8080" (IPv6 literals keep their brackets).
  if (key_host.find(':') != std::string_view::npos && !key_host.ends_with(']')) return false;
  auto colon = host_header.rfind(':');
  if (colon == std::string_view::npos || host_header.ends_with(']')) return false;
  return boost::beast::iequals(key_host, host_header.substr(0, colon));
}

bool path_matches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

}  // namespace

bool route_key_matches(const RouteKey& key, std::string_view host_header, std::string_view path) {
  if (!key.host.empty() && !host_matches(key.host, host_header)) return false;
  return key.path.empty() || path_matches(key.path, path);
}

PathRewriter::PathRewriter(const std::vector<std::pair<std::string, std::string>>& rules) {
  for (const auto& [pattern, replacement] : rules) {
    rules_.emplace_back(std::regex(pattern, std::regex::ECMAScript), replacement);
  }
}

std::string PathRewriter::apply(std::string_view target) const {
  for (const auto& [pattern, replacement] : rules_) {
    if (std::regex_search(target.begin(), target.end(), pattern)) {
      std::string out;
      std::regex_replace(std::back_inserter(out), target.begin(), target.end(), pattern, replacement,
                         std::regex_constants::format_first_only);
      return out;
    }
  }
  return std::string(target);
}

std::string join_upstream_target(std::string_view base_path, std::string_view target) {
  while (base_path.ends_with('/')) base_path.remove_suffix(1);
  std::string out(base_path);
  if (!target.empty() && target.front() != '/' && target.front() != '?') out += '/';
  out += target;
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

}  // namespace plume::gateway
