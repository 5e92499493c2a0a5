// Schema: the config form, record validation and REST query coercion. Validation collects every
// problem before failing, as Ajv does with allErrors; coercion follows Ajv's coerceTypes, which
// Feathers v5 apps use to turn query-string text into typed values.
#include <plume/core/error.hpp>
#include <plume/core/schema.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace plume {

namespace {

[[noreturn]] void schema_error(std::string_view field, const std::string& problem) {
  throw bad_request("Invalid schema for field '" + std::string(field) + "': " + problem);
}

std::optional<FieldType> type_named(std::string_view name) {
  if (name == "string") return FieldType::String;
  if (name == "integer") return FieldType::Integer;
  if (name == "number") return FieldType::Number;
  if (name == "boolean") return FieldType::Boolean;
  if (name == "object") return FieldType::Object;
  if (name == "array") return FieldType::Array;
  if (name == "any") return FieldType::Any;
  return std::nullopt;
}

std::string_view type_name(FieldType type) {
  switch (type) {
    case FieldType::String:
      return "string";
    case FieldType::Integer:
      return "integer";
    case FieldType::Number:
      return "number";
    case FieldType::Boolean:
      return "boolean";
    case FieldType::Object:
      return "object";
    case FieldType::Array:
      return "array";
    case FieldType::Any:
      return "any";
  }
  return "any";
}

// Strict decimal number text: optional sign, digits, optional fraction and exponent (what JSON
// and JavaScript's Number() agree on, minus hex and Infinity).
std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view digits = text;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() ||
      !(std::isdigit(static_cast<unsigned char>(digits.front())) || digits.front() == '.')) {
    return std::nullopt;
  }
  // from_chars reads the sign itself but not '+'.
  if (text.front() == '-') digits = text;
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer_text(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (!digits.empty() && digits.front() == '+') return std::nullopt;
  if (digits.size() > 1 && digits.front() == '-' && text.front() == '+') return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc{} && end == digits.data() + digits.size() && !digits.empty()) return value;
  // "5.0" and "1e3" are integers too, as long as they are whole.
  const auto number = parse_decimal(text);
  if (!number || std::trunc(*number) != *number || std::fabs(*number) >= 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(*number);
}

bool read_bool(std::string_view field, std::string_view keyword, const Json& value) {
  if (value.is_bool()) return value.get_bool();
  // Scalars from configuration files may arrive as text.
  if (value.is_string() && value.get_string() == "true") return true;
  if (value.is_string() && value.get_string() == "false") return false;
  schema_error(field, "'" + std::string(keyword) + "' must be true or false");
}

double read_number(std::string_view field, std::string_view keyword, const Json& value) {
  if (value.is_number()) return value.to_number<double>();
  if (value.is_string()) {
    if (auto number = parse_decimal(value.get_string())) return *number;
  }
  schema_error(field, "'" + std::string(keyword) + "' must be a number");
}

std::int64_t read_length(std::string_view field, std::string_view keyword, const Json& value) {
  const double number = read_number(field, keyword, value);
  if (number < 0 || std::trunc(number) != number || number > 9.2e18) {
    schema_error(field, "'" + std::string(keyword) + "' must be a whole number >= 0");
  }
  return static_cast<std::int64_t>(number);
}

FieldSpec field_from_json(std::string_view name, const Json& config) {
  FieldSpec spec;
  spec.name = std::string(name);
  if (config.is_string()) {
    // Shorthand: `age: integer`.
    const auto type = type_named(config.get_string());
    if (!type) schema_error(name, "unknown type '" + std::string(config.get_string()) + "'");
    spec.type = *type;
    return spec;
  }
  if (!config.is_object()) schema_error(name, "expected an object such as {type: string}");
  std::optional<bool> nullable;
  for (const auto& member : config.get_object()) {
    const std::string_view keyword = member.key();
    const Json& value = member.value();
    if (keyword == "type") {
      const auto type = value.is_string() ? type_named(value.get_string()) : std::nullopt;
      if (!type) schema_error(name, "unknown type " + to_json_text(value));
      spec.type = *type;
    } else if (keyword == "required") {
      spec.required = read_bool(name, keyword, value);
    } else if (keyword == "unique") {
      spec.unique = read_bool(name, keyword, value);
    } else if (keyword == "secret") {
      spec.secret = read_bool(name, keyword, value);
    } else if (keyword == "nullable") {
      nullable = read_bool(name, keyword, value);
    } else if (keyword == "format") {
      if (!value.is_string() || (value.get_string() != "date-time" && value.get_string() != "email")) {
        schema_error(name, "unknown format " + to_json_text(value) + " (date-time or email)");
      }
      spec.format = std::string(value.get_string());
    } else if (keyword == "default") {
      spec.default_value = value;
      spec.has_default = true;
    } else if (keyword == "minLength") {
      spec.min_length = read_length(name, keyword, value);
    } else if (keyword == "maxLength") {
      spec.max_length = read_length(name, keyword, value);
    } else if (keyword == "minimum") {
      spec.minimum = read_number(name, keyword, value);
    } else if (keyword == "maximum") {
      spec.maximum = read_number(name, keyword, value);
    } else if (keyword == "enum") {
      if (!value.is_array() || value.get_array().empty())
        schema_error(name, "'enum' must be a non-empty list");
      spec.enum_values.assign(value.get_array().begin(), value.get_array().end());
    } else {
      schema_error(name, "unknown keyword '" + std::string(keyword) + "'");
    }
  }
  // A required field must hold a value unless it says otherwise.
  spec.nullable = nullable.value_or(!spec.required);
  return spec;
}

// ---- validation ----

std::size_t utf8_characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_whole_number(const Json& value) {
  if (value.is_int64() || value.is_uint64()) return true;
  if (!value.is_double()) return false;
  const double d = value.get_double();
  return std::isfinite(d) && std::trunc(d) == d;
}

// ajv-formats "email" (fast mode): local part of atext and dots, @, dot-separated labels of
// letters, digits and inner hyphens (at most 63 characters each).
bool is_email(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos)
    return false;
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  constexpr std::string_view kAtextSymbols = "!#$%&'*+/=?^_`{|}~-";
  bool previous_dot = true;
  for (char c : local) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
    } else if (std::isalnum(static_cast<unsigned char>(c)) ||
               kAtextSymbols.find(c) != std::string_view::npos) {
      previous_dot = false;
    } else {
      return false;
    }
  }
  if (previous_dot) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const auto label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

bool digits_at(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// RFC 3339 date-time, as ajv-formats checks it: YYYY-MM-DD, T (or t or space), HH:MM:SS with an
// optional fraction, then Z or an offset; the calendar day must exist.
bool is_date_time(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!digits_at(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !digits_at(text, 5, 2, month) ||
      text[7] != '-' || !digits_at(text, 8, 2, day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return false;
  if (!digits_at(text, 11, 2, hour) || text[13] != ':' || !digits_at(text, 14, 2, minute) ||
      text[16] != ':' || !digits_at(text, 17, 2, second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == start) return false;
  }
  if (pos >= text.size()) return false;
  if (text[pos] == 'Z' || text[pos] == 'z') return pos + 1 == text.size();
  int offset_hour, offset_minute;
  return (text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
         digits_at(text, pos + 1, 2, offset_hour) && text[pos + 3] == ':' &&
         digits_at(text, pos + 4, 2, offset_minute) && offset_hour <= 23 && offset_minute <= 59;
}

std::string number_text(double value) {
  if (std::trunc(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  return to_json_text(Json(value));
}

class Problems {
 public:
  void add(std::string_view field, std::string message) {
    JsonObject problem;
    problem.emplace("field", field);
    problem.emplace("message", std::move(message));
    list_.push_back(std::move(problem));
  }
  bool empty() const { return list_.empty(); }
  JsonArray take() { return std::move(list_); }

 private:
  JsonArray list_;
};

void check_value(const FieldSpec& spec, const Json& value, Problems& problems) {
  const std::string& name = spec.name;
  if (value.is_null()) {
    if (!spec.nullable) problems.add(name, "'" + name + "' must not be null");
    return;
  }
  bool type_ok = true;
  switch (spec.type) {
    case FieldType::String:
      type_ok = value.is_string();
      break;
    case FieldType::Integer:
      type_ok = is_whole_number(value);
      break;
    case FieldType::Number:
      type_ok = value.is_number();
      break;
    case FieldType::Boolean:
      type_ok = value.is_bool();
      break;
    case FieldType::Object:
      type_ok = value.is_object();
      break;
    case FieldType::Array:
      type_ok = value.is_array();
      break;
    case FieldType::Any:
      break;
  }
  if (!type_ok) {
    const std::string_view type = type_name(spec.type);
    const bool vowel = type == "integer" || type == "object" || type == "array";
    problems.add(name, "'" + name + "' must be " + (vowel ? "an " : "a ") + std::string(type));
    return;
  }
  if (value.is_string()) {
    const std::string_view text = value.get_string();
    const auto length = static_cast<std::int64_t>(utf8_characters(text));
    if (spec.min_length && length < *spec.min_length) {
      problems.add(name,
                   "'" + name + "' must be at least " + std::to_string(*spec.min_length) + " characters");
    }
    if (spec.max_length && length > *spec.max_length) {
      problems.add(name,
                   "'" + name + "' must be at most " + std::to_string(*spec.max_length) + " characters");
    }
    if (spec.format == "email" && !is_email(text)) {
      problems.add(name, "'" + name + "' must be an email address");
    }
    if (spec.format == "date-time" && !is_date_time(text)) {
      problems.add(name, "'" + name + "' must be a date-time such as 2024-01-31T12:00:00.000Z");
    }
  }
  if (value.is_number()) {
    const double number = value.to_number<double>();
    if (spec.minimum && number < *spec.minimum) {
      problems.add(name, "'" + name + "' must be >= " + number_text(*spec.minimum));
    }
    if (spec.maximum && number > *spec.maximum) {
      problems.add(name, "'" + name + "' must be <= " + number_text(*spec.maximum));
    }
  }
  if (!spec.enum_values.empty() &&
      std::none_of(spec.enum_values.begin(), spec.enum_values.end(),
                   [&value](const Json& allowed) { return json_equal(allowed, value); })) {
    std::string allowed;
    for (const auto& option : spec.enum_values) {
      if (!allowed.empty()) allowed += ", ";
      allowed += to_json_text(option);
    }
    problems.add(name, "'" + name + "' must be one of " + allowed);
  }
}

// ---- query coercion ----

[[noreturn]] void invalid_value(const FieldSpec& spec, std::string_view text) {
  throw bad_request("Invalid value '" + std::string(text) + "' for " + std::string(type_name(spec.type)) +
                    " field '" + spec.name + "'");
}

void coerce_scalar(const FieldSpec& spec, Json& value) {
  if (!value.is_string()) return;  // already typed (non-REST callers), or an object for equality
  const std::string_view text = value.get_string();
  const bool text_type =
      spec.type == FieldType::Integer || spec.type == FieldType::Number || spec.type == FieldType::Boolean;
  if (!text_type) return;  // strings stay strings; objects, arrays and any are left as sent
  if (text.empty()) {
    // rest-client sends null as `key=`, which arrives as "".
    if (spec.nullable) {
      value = nullptr;
      return;
    }
    invalid_value(spec, text);
  }
  switch (spec.type) {
    case FieldType::Integer:
      if (auto integer = parse_integer_text(text)) {
        value = *integer;
        return;
      }
      break;
    case FieldType::Number:
      if (auto integer = parse_integer_text(text)) {
        value = *integer;
        return;
      }
      if (auto number = parse_decimal(text)) {
        value = *number;
        return;
      }
      break;
    case FieldType::Boolean:
      if (text == "true" || text == "false") {
        value = text == "true";
        return;
      }
      break;
    default:
      return;
  }
  invalid_value(spec, text);
}

void coerce_condition(const FieldSpec& spec, Json& value) {
  if (value.is_array()) {
    // `a=1&a=2` arrives as ["1", "2"].
    for (auto& item : value.get_array()) coerce_scalar(spec, item);
    return;
  }
  if (!value.is_object()) {
    coerce_scalar(spec, value);
    return;
  }
  for (auto& member : value.get_object()) {
    const std::string_view op = member.key();
    // Patterns are text whatever the field's type; plain keys mean equality with an object.
    if (!op.starts_with('$') || op == "$like" || op == "$ilike") continue;
    if (member.value().is_array()) {
      for (auto& item : member.value().get_array()) coerce_scalar(spec, item);
    } else {
      coerce_scalar(spec, member.value());
    }
  }
}

}  // namespace

Schema Schema::from_json(const Json& config) {
  if (config.is_null()) return Schema();
  if (!config.is_object()) throw bad_request("A schema must be an object of field names and their rules");
  std::vector<FieldSpec> fields;
  for (const auto& member : config.get_object()) {
    fields.push_back(field_from_json(member.key(), member.value()));
  }
  return Schema(std::move(fields));
}

const FieldSpec* Schema::field(std::string_view name) const noexcept {
  for (const auto& spec : fields_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

void Schema::add_field(FieldSpec spec) {
  if (field(spec.name) == nullptr) fields_.push_back(std::move(spec));
}

void Schema::validate(JsonObject& record, Mode mode) const {
  if (!additional_properties_) {
    JsonArray unknown;
    for (const auto& member : record) {
      if (field(member.key()) != nullptr) continue;
      unknown.push_back(JsonObject{{"instancePath", ""},
                                   {"schemaPath", "#/additionalProperties"},
                                   {"keyword", "additionalProperties"},
                                   {"params", JsonObject{{"additionalProperty", member.key()}}},
                                   {"message", "must NOT have additional properties"}});
    }
    if (!unknown.empty()) throw bad_request("validation failed", Json(std::move(unknown)));
  }
  Problems problems;
  for (const auto& spec : fields_) {
    Json* value = record.if_contains(spec.name);
    if (value == nullptr) {
      if (mode == Mode::Patch) continue;
      if (spec.has_default) {
        const bool now = spec.format == "date-time" && spec.default_value.is_string() &&
                         spec.default_value.get_string() == "now";
        record[spec.name] = now ? Json(now_iso8601()) : spec.default_value;
        continue;
      }
      if (spec.required) problems.add(spec.name, "'" + spec.name + "' is required");
      continue;
    }
    check_value(spec, *value, problems);
  }
  if (!problems.empty()) {
    throw bad_request("Validation failed").with_errors(problems.take());
  }
}

void Schema::coerce_query(Json& query) const {
  if (!query.is_object()) return;
  for (auto& member : query.get_object()) {
    const std::string_view key = member.key();
    if (key == "$or" || key == "$and") {
      if (member.value().is_array()) {
        for (auto& subquery : member.value().get_array()) coerce_query(subquery);
      }
      continue;
    }
    if (key.starts_with('$')) continue;  // $limit, $skip, $sort, $select: parse_query reads them
    if (const FieldSpec* spec = field(key)) coerce_condition(*spec, member.value());
  }
}

}  // namespace plume
