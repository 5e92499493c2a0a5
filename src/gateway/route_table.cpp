#include "gateway/route_table.hpp"

#include <re2/re2.h>
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

namespace {

re2::RE2::Options pattern_options() {
  re2::RE2::Options options;
  options.set_log_errors(false);  // a bad pattern is reported once, as a configuration error
  return options;
}

// Appends `replacement` with String.prototype.replace's substitutions: $$, $&, $`, $' and $n or
// $nn for a group that exists (the longer number when both would); anything else is literal.
void expand(std::string& out, std::string_view replacement, std::string_view target,
            const std::vector<re2::StringPiece>& groups) {
  const re2::StringPiece whole = groups[0];
  const std::size_t begin = static_cast<std::size_t>(whole.data() - target.data());
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    const char c = replacement[i];
    if (c != '$' || i + 1 == replacement.size()) {
      out.push_back(c);
      continue;
    }
    const char next = replacement[i + 1];
    if (next == '$') {
      out.push_back('$');
    } else if (next == '&') {
      out.append(whole.data(), whole.size());
    } else if (next == '`') {
      out.append(target.substr(0, begin));
    } else if (next == '\'') {
      out.append(target.substr(begin + whole.size()));
    } else if (next >= '0' && next <= '9') {
      std::size_t number = static_cast<std::size_t>(next - '0');
      std::size_t used = 1;
      if (i + 2 < replacement.size() && replacement[i + 2] >= '0' && replacement[i + 2] <= '9') {
        const std::size_t two = number * 10 + static_cast<std::size_t>(replacement[i + 2] - '0');
        if (two >= 1 && two < groups.size()) {
          number = two;
          used = 2;
        }
      }
      if (number < 1 || number >= groups.size()) {
        out.push_back(c);
        continue;
      }
      out.append(groups[number].data(), groups[number].size());
      i += used;
      continue;
    } else {
      out.push_back(c);
      continue;
    }
    ++i;
  }
}

}  // namespace

std::string pattern_error(std::string_view pattern) {
  re2::RE2 compiled(re2::StringPiece(pattern.data(), pattern.size()), pattern_options());
  return compiled.ok() ? std::string() : compiled.error();
}

PathRewriter::PathRewriter() = default;
PathRewriter::PathRewriter(PathRewriter&&) noexcept = default;
PathRewriter& PathRewriter::operator=(PathRewriter&&) noexcept = default;
PathRewriter::~PathRewriter() = default;

PathRewriter::PathRewriter(const std::vector<std::pair<std::string, std::string>>& rules) {
  for (const auto& [pattern, replacement] : rules) {
    auto compiled = std::make_unique<re2::RE2>(pattern, pattern_options());
    if (!compiled->ok()) throw std::invalid_argument(compiled->error());
    rules_.push_back({std::move(compiled), replacement});
  }
}

std::string PathRewriter::apply(std::string_view target) const {
  const re2::StringPiece text(target.data(), target.size());
  for (const auto& rule : rules_) {
    std::vector<re2::StringPiece> groups(static_cast<std::size_t>(rule.pattern->NumberOfCapturingGroups()) +
                                         1);
    if (!rule.pattern->Match(text, 0, text.size(), re2::RE2::UNANCHORED, groups.data(),
                             static_cast<int>(groups.size()))) {
      continue;
    }
    const std::size_t begin = static_cast<std::size_t>(groups[0].data() - target.data());
    std::string out(target.substr(0, begin));
    expand(out, rule.replacement, target, groups);
    out.append(target.substr(begin + groups[0].size()));
    return out;
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
