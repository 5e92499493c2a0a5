// Schema describes a service's fields: their types (which SQL stores map to columns and the
// REST transport uses to coerce query strings), validation rules, defaults, and which fields are
// unique or secret. A record may carry no field outside the schema (400, as a generated Feathers
// app's `additionalProperties: false` schemas answer) unless the schema allows additional
// properties; queries may not name fields outside it either way (parse_query answers 400, as
// Feathers' querySyntax does).
#pragma once

#include <plume/core/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plume {

enum class FieldType { String, Integer, Number, Boolean, Object, Array, Any };

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::Any;
  bool required = false;
  bool unique = false;
  bool secret = false;                // hashed on write, never returned to external callers (auth layer)
  bool nullable = true;               // null is accepted for a field that is not required
  std::optional<std::string> format;  // "date-time", "email"
  Json default_value = nullptr;       // "now" for a date-time field means the time of creation
  bool has_default = false;
  std::optional<std::int64_t> min_length, max_length;
  std::optional<double> minimum, maximum;
  std::vector<Json> enum_values;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<FieldSpec> fields) : fields_(std::move(fields)) {}

  // Builds a schema from its config form: {text: {type: string, required: true, maxLength: 2000}}
  // (or the shorthand `age: integer`). Keywords: type, required, unique, secret, nullable, format
  // (date-time, email), default, minLength, maxLength, minimum, maximum, enum. Unknown keywords or
  // types throw plume::Error (BadRequest) naming the field and keyword.
  static Schema from_json(const Json& config);

  const std::vector<FieldSpec>& fields() const noexcept { return fields_; }
  const FieldSpec* field(std::string_view name) const noexcept;
  bool empty() const noexcept { return fields_.empty(); }
  // Adds a field (the owner field an owner rule stamps); a field of that name stays as it is.
  void add_field(FieldSpec field);

  // JSON Schema's additionalProperties: false (the default) refuses records with fields outside
  // the schema; true keeps them as they are (SQL stores put them in their `_extra` column).
  bool additional_properties() const noexcept { return additional_properties_; }
  void set_additional_properties(bool allowed) noexcept { additional_properties_ = allowed; }

  enum class Mode { Create, Update, Patch };
  // Validates a record before it is stored (without its id, which the store handles). A field
  // outside the schema, unless additional properties are allowed, fails first as Feathers'
  // validateData hook fails on Ajv's error: BadRequest("validation failed") whose `data` lists
  // {instancePath: "", schemaPath: "#/additionalProperties", keyword: "additionalProperties",
  // params: {additionalProperty}, message: "must NOT have additional properties"} per field.
  // Then Create and Update apply defaults to absent fields and require `required` ones; Patch
  // checks only the fields it carries. Null is accepted where the field is nullable (by default,
  // fields that are not required). Every problem is collected: BadRequest("Validation failed")
  // whose `errors` lists {field, message} for each.
  void validate(JsonObject& record, Mode mode) const;

  // Coerces a REST query (all values strings) by field type: "21" -> 21 for integer fields, "2.5"
  // for numbers, "true"/"false" for booleans, "" -> null where an integer, number or boolean field
  // is nullable (string fields keep ""). Recurses into operators ($gt, $in, ...; not the $like
  // patterns) and $or/$and; $limit/$skip/$sort/$select are left to parse_query. Fields not in the
  // schema keep their string values (stores add their id field, typed, to the schema they register
  // for coercion). An unparsable value
  // throws BadRequest("Invalid value 'abc' for integer field 'age'").
  void coerce_query(Json& query) const;

 private:
  std::vector<FieldSpec> fields_;
  bool additional_properties_ = false;
};

}  // namespace plume
