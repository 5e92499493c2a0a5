// Matching records against a condition tree in memory, as Feathers' memory adapter does with sift:
// a missing field is null, equality with a scalar also matches an array that contains it, and
// ordered comparisons only hold between values of the same type (sift's numericalOperation).
#include <plume/core/query.hpp>

namespace plume {

namespace {

const Json kMissing = nullptr;

// The field's value, or null when it is absent. A dotted path reaches into nested objects when
// the record has no field of that exact name ("address.city").
const Json& field_value(const Json& record, std::string_view field) {
  if (!record.is_object()) return kMissing;
  const auto& object = record.get_object();
  if (const Json* direct = object.if_contains(field)) return *direct;
  const Json* current = &record;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = field.find('.', start);
    if (dot == std::string_view::npos && start == 0) return kMissing;
    if (!current->is_object()) return kMissing;
    const auto part =
        field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    current = current->get_object().if_contains(part);
    if (current == nullptr) return kMissing;
    if (dot == std::string_view::npos) return *current;
    start = dot + 1;
  }
}

bool equals(const Json& actual, const Json& expected) {
  if (json_equal(actual, expected)) return true;
  if (actual.is_array()) {
    for (const auto& element : actual.get_array()) {
      if (json_equal(element, expected)) return true;
    }
  }
  return false;
}

// sift: only values of one type compare; null (or a missing field) against null is equal, so
// $gte/$lte null match it and $gt/$lt null do not.
bool comparable(const Json& a, const Json& b) {
  return (a.is_number() && b.is_number()) || (a.is_string() && b.is_string()) || (a.is_null() && b.is_null());
}

bool ordered(const Json& actual, QueryOp op, const Json& expected) {
  if (!comparable(actual, expected)) return false;
  const int c = json_compare(actual, expected);
  switch (op) {
    case QueryOp::Lt:
      return c < 0;
    case QueryOp::Lte:
      return c <= 0;
    case QueryOp::Gt:
      return c > 0;
    case QueryOp::Gte:
      return c >= 0;
    default:
      return false;
  }
}

unsigned char fold_ascii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

// Length of the UTF-8 sequence starting at s[i] (1 for a stray byte), so that `_` stands for one
// character as in SQL.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t n = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 1;
  std::size_t len = 1;
  while (len < n && i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
  return len;
}

// SQL LIKE: `%` is any run of characters, `_` exactly one; no escape character (SQLite's default).
// $ilike folds ASCII letters only. Greedy matching with one backtrack point: O(text * pattern).
bool like(std::string_view text, std::string_view pattern, bool fold) {
  auto same = [fold](char a, char b) {
    return fold ? fold_ascii(static_cast<unsigned char>(a)) == fold_ascii(static_cast<unsigned char>(b))
                : a == b;
  };
  std::size_t t = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      t += utf8_length(text, t);
      ++p;
    } else if (p < pattern.size() && same(pattern[p], text[t])) {
      ++t;
      ++p;
    } else if (star_p != std::string_view::npos) {
      star_t += utf8_length(text, star_t);
      t = star_t;
      p = star_p;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

bool compare_one(const Json& actual, QueryOp op, const Json& expected) {
  switch (op) {
    case QueryOp::Lt:
    case QueryOp::Lte:
    case QueryOp::Gt:
    case QueryOp::Gte:
      return ordered(actual, op, expected);
    case QueryOp::Like:
    case QueryOp::ILike:
      return actual.is_string() && expected.is_string() &&
             like(actual.get_string(), expected.get_string(), op == QueryOp::ILike);
    default:
      return false;
  }
}

// Ordered comparisons and LIKE hold for an array field when one of its elements satisfies them.
bool compare_any(const Json& actual, QueryOp op, const Json& expected) {
  if (actual.is_array()) {
    for (const auto& element : actual.get_array()) {
      if (compare_one(element, op, expected)) return true;
    }
    return false;
  }
  return compare_one(actual, op, expected);
}

bool in_list(const Json& actual, const Json& list) {
  if (!list.is_array()) return equals(actual, list);
  for (const auto& candidate : list.get_array()) {
    if (equals(actual, candidate)) return true;
  }
  return false;
}

}  // namespace

bool Condition::matches(const Json& record) const {
  switch (kind) {
    case Kind::And:
      for (const auto& child : children) {
        if (!child.matches(record)) return false;
      }
      return true;
    case Kind::Or:
      for (const auto& child : children) {
        if (child.matches(record)) return true;
      }
      return false;
    case Kind::Compare:
      break;
  }
  const Json& actual = field_value(record, field);
  switch (op) {
    case QueryOp::Eq:
      return equals(actual, value);
    case QueryOp::Ne:
      return !equals(actual, value);
    case QueryOp::In:
      return in_list(actual, value);
    case QueryOp::Nin:
      return !in_list(actual, value);
    default:
      return compare_any(actual, op, value);
  }
}

bool Query::matches(std::string_view json_text) const { return matches(parse_json(json_text)); }

}  // namespace plume
