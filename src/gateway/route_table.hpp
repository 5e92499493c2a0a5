// The proxy table's matching and rewriting rules, as http-proxy-middleware applies them: keys
// are a path prefix ("/api"), a host ("example.com") or both ("example.com/api"), tried in table
// order (the first match wins); pathRewrite rules are regexes tried in order, only the first
// matching one applies (src/path-rewriter.ts breaks after the first match), with JavaScript's
// String.replace semantics ($1, $&, $`, $', $$, first occurrence only). Patterns are RE2's: matching
// takes time linear in the target whatever the pattern (no backtracking, so no pattern can be
// made to take exponential time or exhaust the stack on a long request target); backreferences
// and lookaround are refused when the pattern is compiled.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace re2 {
class RE2;
}

namespace plume::gateway {

struct RouteKey {
  std::string host;  // empty: any host
  std::string path;  // empty: any path
};

// "/api" -> {"", "/api"}; "example.com" -> {"example.com", ""}; "example.com/api" -> both.
RouteKey parse_route_key(std::string_view key);

// `host_header` is the request's Host ("example.com:8080"): a key host without a port matches
// any port, one with a port only that port; case-insensitive. A path prefix matches at a '/'
// boundary ("/api" takes "/api" and "/api/x", not "/apix"), as an Express mount path does.
bool route_key_matches(const RouteKey& key, std::string_view host_header, std::string_view path);

class PathRewriter {
 public:
  PathRewriter();
  // Throws std::invalid_argument, saying why, for a pattern that does not compile.
  explicit PathRewriter(const std::vector<std::pair<std::string, std::string>>& rules);
  PathRewriter(PathRewriter&&) noexcept;
  PathRewriter& operator=(PathRewriter&&) noexcept;
  ~PathRewriter();

  bool empty() const noexcept { return rules_.empty(); }
  // The target (path and query) after the first rule whose pattern matches it.
  std::string apply(std::string_view target) const;

 private:
  struct Rule {
    std::unique_ptr<re2::RE2> pattern;
    std::string replacement;
  };
  std::vector<Rule> rules_;
};

// The upstream request target: the target URL's base path joined with the (rewritten) request
// target with one '/' between them, as http-proxy's urlJoin does; "/" when both are empty.
// Why `pattern` is not a regular expression the rewriter accepts, or empty when it is.
std::string pattern_error(std::string_view pattern);

std::string join_upstream_target(std::string_view base_path, std::string_view target);

}  // namespace plume::gateway
