// SqlDialect is every difference between the SQL databases Plume stores records in, kept in one
// place so that the compiler and the table layout stay the same for SQLite and PostgreSQL.
#pragma once

#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace plume::store::sql {

class SqlDialect {
 public:
  enum class Kind { Sqlite, Postgres };

  static const SqlDialect& sqlite();
  static const SqlDialect& postgres();

  Kind kind() const noexcept { return kind_; }

  // The placeholder for the n-th bound value (1-based): "?" or "$n".
  std::string placeholder(std::size_t index) const;

  // "field IS NOT value" with NULL compared as a value: a record without the field is not equal
  // to 5, as in the memory store.
  std::string_view null_safe_not_equal() const noexcept;

  // Case-sensitive $like. SQLite's LIKE folds ASCII case unless the connection runs
  // PRAGMA case_sensitive_like = ON, which Plume's SQLite connections do.
  std::string like(std::string_view expression, std::string_view placeholder) const;
  // Case-insensitive $ilike.
  std::string ilike(std::string_view expression, std::string_view placeholder) const;

  // A field kept in the JSON column: the expression reading it, the path bound as `placeholder`.
  // PostgreSQL reads it as jsonb (JSON null as SQL NULL), so that numbers compare as numbers
  // and strings as strings, as SQLite's json_extract does by returning SQL values.
  std::string json_field(std::string_view json_column, std::string_view placeholder) const;
  // The same field read as text, for $like/$ilike.
  std::string json_text_field(std::string_view json_column, std::string_view placeholder) const;
  // True when values compared with json_field must be bound as JSON text and written as
  // json_operand(placeholder) (PostgreSQL: "$n::jsonb"); SQLite compares plain values.
  bool compares_json_values() const noexcept { return kind_ == Kind::Postgres; }
  std::string json_operand(std::string_view placeholder) const;
  // The JSON column with the members of the object bound as `placeholder` set (PostgreSQL's
  // jsonb ||). SQLite's json_patch removes members set to null (RFC 7396), so the SQLite store
  // merges records in C++ instead.
  std::string json_merge(std::string_view json_column, std::string_view placeholder) const;
  // A field moved out of the JSON column into a column of `type`, converted to that type.
  std::string json_field_as(std::string_view json_column, std::string_view placeholder, FieldType type) const;
  // `json_column` without the member bound as `placeholder` (a json_path).
  std::string json_without(std::string_view json_column, std::string_view placeholder) const;
  // The bound value that selects `field` in json_field.
  std::string json_path(std::string_view field) const;

  // "ASC"/"DESC", with NULLs (absent fields) first when ascending, as the memory store sorts.
  std::string order(int direction) const;

  // LIMIT/OFFSET with placeholders for the given values (either may be absent).
  std::string limit_offset(const std::string* limit_placeholder, const std::string* offset_placeholder) const;

  // Column types of the table created from a schema.
  std::string column_type(FieldType type) const;
  std::string id_column(IdType type) const;
  std::string json_column_type() const;
  // A query whose rows have a "name" column listing the columns of `table` (a valid identifier).
  std::string table_columns_query(std::string_view table) const;

 private:
  explicit SqlDialect(Kind kind) : kind_(kind) {}
  Kind kind_;
};

// Double-quoted identifier. Identifiers come only from the schema, the id field and table
// names, and must match [A-Za-z_][A-Za-z0-9_]*; anything else throws std::invalid_argument.
std::string quote_identifier(std::string_view identifier);
bool is_valid_identifier(std::string_view identifier) noexcept;

}  // namespace plume::store::sql
