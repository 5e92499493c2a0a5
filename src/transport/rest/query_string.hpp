// The REST transport's query-string parser: the `qs` library's parse (qs 6.16, which Express
// 4.22 runs for Feathers as `qs.parse(str, {allowPrototypes: true, arrayLimit: 1000})`), so
// `age[$gt]=20`, `$sort[name]=1` and `$or[0][a]=1` arrive as the nested objects Feathers sees.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace plume::transport {

struct QueryStringOptions {
  // An index at or above this becomes an object key instead (`a[1000]=x` -> {a: {"1000": "x"}}),
  // and an array that would grow past it turns into an object keyed by index.
  std::size_t array_limit = 1000;
  // Bracket levels parsed; the rest of a deeper key is kept literally as one key.
  std::size_t depth = 5;
  // Pairs read; the rest of the string is ignored.
  std::size_t parameter_limit = 1000;
  // qs strictDepth: a key deeper than `depth` is an error instead of a literal remainder.
  // body-parser's extended urlencoded bodies use {depth: 32, strict_depth: true,
  // array_limit: max(100, number of pairs)} and answer 400 "The input exceeded the depth".
  bool strict_depth = false;
};

// Parses the text after `?` (without it); with strict_depth, a too deep key throws plume::Error
// BadRequest("The input exceeded the depth"). Values are always strings. Keys keep qs's order, which
// is JavaScript's: integer-like keys first in numeric order, then the others as they came.
boost::json::object parse_query_string(std::string_view raw, const QueryStringOptions& options = {});

}  // namespace plume::transport
