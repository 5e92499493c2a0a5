// What the fuzz targets share: a property check that names the broken property before aborting
// (libFuzzer then saves the input; the corpus replay test fails), and measures of JSON values.
#pragma once

#include <plume/core/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace plume::testing {

inline void fuzz_check(bool holds, std::string_view property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(property.size()), property.data());
  std::abort();
}

// Containers from the root to the deepest value: 0 for a scalar, 1 for [] or [1].
inline std::size_t json_depth(const Json& value) {
  std::size_t deepest = 0;
  if (const auto* array = value.if_array()) {
    for (const auto& item : *array) deepest = std::max(deepest, json_depth(item));
    return deepest + 1;
  }
  if (const auto* object = value.if_object()) {
    for (const auto& member : *object) deepest = std::max(deepest, json_depth(member.value()));
    return deepest + 1;
  }
  return 0;
}

// 1e400 parses to Infinity, as in JavaScript, and is written as null, as JSON.stringify does: a
// value holding one does not come back the same.
inline bool has_non_finite(const Json& value) {
  if (value.is_double()) return !std::isfinite(value.get_double());
  if (const auto* array = value.if_array()) {
    for (const auto& item : *array) {
      if (has_non_finite(item)) return true;
    }
  }
  if (const auto* object = value.if_object()) {
    for (const auto& member : *object) {
      if (has_non_finite(member.value())) return true;
    }
  }
  return false;
}

}  // namespace plume::testing
