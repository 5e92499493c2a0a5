// The canonical form of a request path, computed once per request before any route is chosen,
// so that a route's prefix, its authentication and the path an upstream receives all agree on
// what the path names (nginx and Kong normalise the same way before matching a location).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plume::net {

// `path` is the path of an origin-form request target (no query). The result:
// - escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded ("%2e" -> ".",
//   "%41" -> "A"); every other escape stays encoded with uppercase hex ("%2f" -> "%2F"), so an
//   encoded slash never splits a segment;
// - bytes that may not appear raw in a path (RFC 3986 pchar) are percent-encoded ("\" -> "%5C");
// - "." and ".." segments are resolved and empty segments ("//") merged, as RFC 3986 5.2.4
//   removes dot segments; a trailing slash is kept.
// nullopt (the caller answers 400) when the path does not start with '/', when an escape is
// malformed or encodes NUL, when ".." would climb above the root, or when a segment hides a
// ".." behind an encoded slash or backslash ("..%2F"): an upstream that decodes those before
// resolving dots (Express's serve-static does) would otherwise climb out of the route.
std::optional<std::string> normalize_path(std::string_view path);

}  // namespace plume::net
