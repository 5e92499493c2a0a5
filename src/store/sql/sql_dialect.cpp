#include "store/sql/sql_dialect.hpp"

#include <stdexcept>

namespace plume::store::sql {

const SqlDialect& SqlDialect::sqlite() {
  static const SqlDialect dialect(Kind::Sqlite);
  return dialect;
}

const SqlDialect& SqlDialect::postgres() {
  static const SqlDialect dialect(Kind::Postgres);
  return dialect;
}

std::string SqlDialect::placeholder(std::size_t index) const {
  if (kind_ == Kind::Postgres) return "$" + std::to_string(index);
  return "?";
}

std::string_view SqlDialect::null_safe_not_equal() const noexcept {
  return kind_ == Kind::Postgres ? "IS DISTINCT FROM" : "IS NOT";
}

std::string SqlDialect::like(std::string_view expression, std::string_view placeholder) const {
  return std::string(expression) + " LIKE " + std::string(placeholder);
}

std::string SqlDialect::ilike(std::string_view expression, std::string_view placeholder) const {
  if (kind_ == Kind::Postgres) return std::string(expression) + " ILIKE " + std::string(placeholder);
  return "lower(" + std::string(expression) + ") LIKE lower(" + std::string(placeholder) + ")";
}

// PostgreSQL: the path placeholder is cast to text, since `jsonb -> unknown` is ambiguous
// between the member (text) and the element (integer) operators.
std::string SqlDialect::json_field(std::string_view json_column, std::string_view placeholder) const {
  if (kind_ == Kind::Postgres) {
    return "nullif(" + std::string(json_column) + " -> " + std::string(placeholder) +
           "::text, 'null'::jsonb)";
  }
  return "json_extract(" + std::string(json_column) + ", " + std::string(placeholder) + ")";
}

std::string SqlDialect::json_text_field(std::string_view json_column, std::string_view placeholder) const {
  if (kind_ == Kind::Postgres)
    return "(" + std::string(json_column) + " ->> " + std::string(placeholder) + "::text)";
  return json_field(json_column, placeholder);
}

std::string SqlDialect::json_operand(std::string_view placeholder) const {
  if (kind_ == Kind::Postgres) return std::string(placeholder) + "::jsonb";
  return std::string(placeholder);
}

std::string SqlDialect::json_merge(std::string_view json_column, std::string_view placeholder) const {
  if (kind_ == Kind::Postgres) {
    return "coalesce(" + std::string(json_column) + ", '{}'::jsonb) || " + std::string(placeholder) +
           "::jsonb";
  }
  return "json_patch(coalesce(" + std::string(json_column) + ", '{}'), " + std::string(placeholder) + ")";
}

std::string SqlDialect::json_field_as(std::string_view json_column, std::string_view placeholder,
                                      FieldType type) const {
  if (kind_ != Kind::Postgres) return json_field(json_column, placeholder);
  switch (type) {
    case FieldType::Object:
    case FieldType::Array:
    case FieldType::Any:
      return json_field(json_column, placeholder);
    case FieldType::Integer:
      return json_text_field(json_column, placeholder) + "::BIGINT";
    case FieldType::Number:
      return json_text_field(json_column, placeholder) + "::DOUBLE PRECISION";
    case FieldType::Boolean:
      return json_text_field(json_column, placeholder) + "::BOOLEAN";
    case FieldType::String:
      break;
  }
  return json_text_field(json_column, placeholder);
}

std::string SqlDialect::json_without(std::string_view json_column, std::string_view placeholder) const {
  if (kind_ == Kind::Postgres)
    return "(" + std::string(json_column) + " - " + std::string(placeholder) + "::text)";
  return "json_remove(" + std::string(json_column) + ", " + std::string(placeholder) + ")";
}

std::string SqlDialect::json_path(std::string_view field) const {
  if (kind_ == Kind::Postgres) return std::string(field);
  return "$.\"" + std::string(field) + "\"";
}

std::string SqlDialect::order(int direction) const {
  // SQLite already sorts NULLs first ascending and last descending; PostgreSQL does the opposite.
  if (kind_ == Kind::Postgres) return direction < 0 ? "DESC NULLS LAST" : "ASC NULLS FIRST";
  return direction < 0 ? "DESC" : "ASC";
}

std::string SqlDialect::limit_offset(const std::string* limit_placeholder,
                                     const std::string* offset_placeholder) const {
  std::string text;
  if (limit_placeholder) {
    text += " LIMIT " + *limit_placeholder;
  } else if (offset_placeholder && kind_ == Kind::Sqlite) {
    text += " LIMIT -1";  // SQLite accepts OFFSET only after a LIMIT; -1 is "no limit".
  }
  if (offset_placeholder) text += " OFFSET " + *offset_placeholder;
  return text;
}

std::string SqlDialect::column_type(FieldType type) const {
  const bool postgres = kind_ == Kind::Postgres;
  switch (type) {
    case FieldType::Integer:
      return postgres ? "BIGINT" : "INTEGER";
    case FieldType::Number:
      return postgres ? "DOUBLE PRECISION" : "REAL";
    case FieldType::Boolean:
      return postgres ? "BOOLEAN" : "INTEGER";
    case FieldType::String:
      // Byte order, as SQLite's BINARY collation and JavaScript compare strings, whatever
      // locale the database was created with.
      return postgres ? "TEXT COLLATE \"C\"" : "TEXT";
    case FieldType::Object:
    case FieldType::Array:
    case FieldType::Any:
      return json_column_type();
  }
  return "TEXT";
}

std::string SqlDialect::id_column(IdType type) const {
  if (type == IdType::String)
    return kind_ == Kind::Postgres ? "TEXT COLLATE \"C\" PRIMARY KEY" : "TEXT PRIMARY KEY";
  if (kind_ == Kind::Postgres) return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
  // AUTOINCREMENT: ids of removed records are never reused.
  return "INTEGER PRIMARY KEY AUTOINCREMENT";
}

std::string SqlDialect::json_column_type() const { return kind_ == Kind::Postgres ? "JSONB" : "TEXT"; }

std::string SqlDialect::table_columns_query(std::string_view table) const {
  quote_identifier(table);  // validates the name written into the text below
  if (kind_ == Kind::Postgres) {
    return "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() "
           "AND table_name = '" +
           std::string(table) + "'";
  }
  return "PRAGMA table_info(" + quote_identifier(table) + ")";
}

bool is_valid_identifier(std::string_view identifier) noexcept {
  if (identifier.empty()) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!letter(identifier.front())) return false;
  for (char c : identifier) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string quote_identifier(std::string_view identifier) {
  if (!is_valid_identifier(identifier)) {
    throw std::invalid_argument(
        "'" + std::string(identifier) +
        "' is not a valid SQL name: use letters, digits and '_', not starting with a digit");
  }
  return "\"" + std::string(identifier) + "\"";
}

}  // namespace plume::store::sql
