// libFuzzer target for JSON bodies as a REST or Socket.io call's data reaches a service:
// plume::parse_json, then a schema's validation and query coercion. Properties: malformed text
// is a BadRequest and nothing else; a parsed value is at most 64 containers deep; its text
// parses back to an equal value that prints the same; the schema steps fail only with
// plume::Error. An input {"schema": {...}, "record": ...} fuzzes the schema's config form too.
#include "testing/fuzz_support.hpp"

#include <plume/core/error.hpp>
#include <plume/core/json.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using plume::testing::fuzz_check;

const plume::Schema& messages_schema() {
  static const plume::Schema schema = plume::Schema::from_json(plume::parse_json(R"({
    "text": {"type": "string", "required": true, "minLength": 1, "maxLength": 400},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "score": "number",
    "active": {"type": "boolean", "default": true},
    "email": {"type": "string", "format": "email", "unique": true},
    "createdAt": {"type": "string", "format": "date-time", "default": "now"},
    "role": {"type": "string", "enum": ["user", "admin"], "nullable": false},
    "tags": "array",
    "meta": "object",
    "extra": "any"
  })"));
  return schema;
}

// Validation and coercion fail only with a Feathers error.
void check_schema_steps(const plume::Schema& schema, const plume::Json& record) {
  if (record.is_object()) {
    for (auto mode : {plume::Schema::Mode::Create, plume::Schema::Mode::Update, plume::Schema::Mode::Patch}) {
      plume::JsonObject copy = record.get_object();
      try {
        schema.validate(copy, mode);
      } catch (const plume::Error& error) {
        fuzz_check(error.code() == plume::ErrorCode::BadRequest, "validation fails with BadRequest");
      }
    }
  }
  plume::Json query = record;
  try {
    schema.coerce_query(query);
    plume::QueryOptions options;
    options.operators = {"$like", "$ilike"};
    options.schema = &schema;
    plume::parse_query(query, options);
  } catch (const plume::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  plume::Json value;
  try {
    value = plume::parse_json(text);
  } catch (const plume::Error& error) {
    fuzz_check(error.code() == plume::ErrorCode::BadRequest, "malformed JSON is a BadRequest");
    return 0;
  }
  fuzz_check(plume::testing::json_depth(value) <= 64, "parsed JSON is at most 64 containers deep");

  const std::string printed = plume::to_json_text(value);
  if (!plume::testing::has_non_finite(value)) {
    plume::Json again;
    try {
      again = plume::parse_json(printed);
    } catch (const plume::Error&) {
      fuzz_check(false, "printed JSON parses again");
    }
    fuzz_check(plume::json_equal(value, again), "printed JSON parses to an equal value");
    fuzz_check(plume::to_json_text(again) == printed, "printed JSON prints the same again");
  }

  const auto* object = value.if_object();
  const auto* schema_config = object != nullptr ? object->if_contains("schema") : nullptr;
  const auto* record = object != nullptr ? object->if_contains("record") : nullptr;
  if (schema_config != nullptr && record != nullptr) {
    plume::Schema schema;
    try {
      schema = plume::Schema::from_json(*schema_config);
    } catch (const plume::Error& error) {
      fuzz_check(error.code() == plume::ErrorCode::BadRequest, "a bad schema is a BadRequest");
      return 0;
    }
    check_schema_steps(schema, *record);
  } else {
    check_schema_steps(messages_schema(), value);
  }
  return 0;
}
