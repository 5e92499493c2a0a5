// libFuzzer target for the query-string parser (qs.parse as Express runs it for Feathers) and
// what a REST query goes through after it: a schema's coercion and parse_query. Properties:
// parsing never throws; the result holds only strings, arrays and objects, nested boundedly, no
// more strings than the string had pairs, no "__proto__" key; a result without a literal
// bracket key survives qs.stringify and a second parse unchanged; coercion and parse_query fail
// only with plume::Error.
#include "testing/fuzz_support.hpp"
#include "transport/rest/query_string.hpp"

#include <plume/core/error.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using plume::Json;
using plume::testing::fuzz_check;

struct Shape {
  std::size_t strings = 0;
  std::size_t string_bytes = 0;
  bool has_proto_key = false;
  bool has_other_kind = false;
};

void measure(const Json& value, Shape& shape) {
  if (const auto* text = value.if_string()) {
    ++shape.strings;
    shape.string_bytes += text->size();
  } else if (const auto* array = value.if_array()) {
    for (const auto& item : *array) measure(item, shape);
  } else if (const auto* object = value.if_object()) {
    for (const auto& member : *object) {
      shape.has_proto_key = shape.has_proto_key || member.key() == "__proto__";
      measure(member.value(), shape);
    }
  } else {
    shape.has_other_kind = true;
  }
}

// The characters the parser reads as syntax, escaped; everything else as it is (bytes that are
// not UTF-8 included: only escapes are decoded).
void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    if (c == '%' || c == '&' || c == '=' || c == '+' || c == '[' || c == ']') {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
}

// "0".."999": such a key in a nested object reads back as an array index (a[__proto__]&a[]
// gives {a: {"0": ""}}, which qs.stringify writes as a[0]=, which parses to {a: [""]}).
bool is_small_index(std::string_view key) {
  if (key.empty() || key.size() > 3 || (key.size() > 1 && key.front() == '0')) return false;
  return key.find_first_not_of("0123456789") == std::string_view::npos;
}

// qs.stringify with indices: a[0]=x&a[b][c]=y. False when the value cannot come back the same:
// an empty container (qs writes nothing for it), an object key that reads as an index, or a
// key with a bracket in it (%5B is a bracket to the parser, and literal remainders of too deep
// keys keep theirs).
bool stringify(const Json& value, const std::string& prefix, std::string& out) {
  if (const auto* text = value.if_string()) {
    if (!out.empty()) out += '&';
    out += prefix;
    out += '=';
    append_escaped(out, *text);
    return true;
  }
  if (const auto* array = value.if_array()) {
    if (array->empty()) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (!stringify((*array)[i], prefix + "[" + std::to_string(i) + "]", out)) return false;
    }
    return true;
  }
  const auto& object = value.get_object();
  if (object.empty()) return false;
  for (const auto& member : object) {
    const std::string_view key = member.key();
    if (key.empty() || key.find_first_of("[]") != std::string_view::npos) return false;
    if (!prefix.empty() && is_small_index(key)) return false;
    std::string name;
    append_escaped(name, key);
    if (!stringify(member.value(), prefix.empty() ? name : prefix + "[" + name + "]", out)) return false;
  }
  return true;
}

const plume::Schema& people_schema() {
  static const plume::Schema schema = plume::Schema::from_json(plume::parse_json(R"({
    "name": "string", "age": "integer", "score": "number", "active": "boolean",
    "tags": "array", "meta": "object", "anything": "any", "id": "integer"
  })"));
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const plume::transport::QueryStringOptions options;
  const Json parsed = plume::transport::parse_query_string(raw, options);

  Shape shape;
  measure(parsed, shape);
  const std::size_t pairs = std::count(raw.begin(), raw.end(), '&') + 1;
  fuzz_check(!shape.has_other_kind, "qs values are strings, arrays and objects");
  fuzz_check(shape.strings <= std::min(pairs, options.parameter_limit), "at most one string per pair");
  fuzz_check(shape.string_bytes <= raw.size(), "decoding does not grow the values");
  fuzz_check(!shape.has_proto_key, "no __proto__ key");
  const std::size_t depth = plume::testing::json_depth(parsed);
  // The root, one container per bracket level and the literal remainder: depth + 2; each level
  // may also become qs's [object, value] pair where a key was given both ways (a[b]=1&a=2).
  fuzz_check(depth <= 2 * (options.depth + 2), "at most 2 * (depth + 2) containers deep");

  std::string again_text;
  if (depth <= options.depth + 1 && !parsed.get_object().empty() && stringify(parsed, "", again_text)) {
    const Json again = plume::transport::parse_query_string(again_text, options);
    fuzz_check(plume::json_equal(parsed, again), "qs.stringify then parse gives the same value");
  }

  // The REST transport's next steps for a find: coercion by the service's schema, then the query.
  Json query = parsed;
  try {
    people_schema().coerce_query(query);
    plume::QueryOptions query_options;
    query_options.operators = {"$like", "$ilike"};
    query_options.schema = &people_schema();
    plume::parse_query(query, query_options);
  } catch (const plume::Error&) {
  }
  return 0;
}
