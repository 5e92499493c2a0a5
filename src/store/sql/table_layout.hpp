// TableLayout maps records to the rows of a SQL table made from a schema: the id column, one
// typed column per schema field, and the `_extra` JSON column that keeps every other field (and
// fields typed `any`). It encodes records to column values and decodes stored values back.
#pragma once

#include <plume/core/schema.hpp>
#include <plume/store/store.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace plume::store::sql {

struct Column {
  std::string name;
  FieldType type = FieldType::String;
  bool unique = false;
};

class TableLayout {
 public:
  static constexpr std::string_view kExtraColumn = "_extra";

  // Throws std::invalid_argument when the table, the id field or a schema field is not a valid
  // SQL name, or a field is named `_extra`.
  TableLayout(std::string table, std::string id_field, IdType id_type, const Schema& schema);

  const std::string& table() const noexcept { return table_; }
  const std::string& id_field() const noexcept { return id_field_; }
  IdType id_type() const noexcept { return id_type_; }
  // The typed columns, in schema order (neither the id nor `_extra`).
  const std::vector<Column>& columns() const noexcept { return columns_; }
  const Column* column(std::string_view name) const noexcept;
  // True when the field lives in `_extra`.
  bool in_extra(std::string_view field) const noexcept { return field != id_field_ && !column(field); }

  // Values for columns() in order, then `_extra` (JSON text, or null when there is nothing to
  // keep). Objects and arrays become JSON text; booleans stay booleans for the driver to bind.
  std::vector<Json> encode(const JsonObject& record) const;

  // Adds one stored column value (null, integer, real or text as read) to `record`.
  void decode(std::string_view column, Json value, JsonObject& record) const;

 private:
  std::string table_;
  std::string id_field_;
  IdType id_type_;
  std::vector<Column> columns_;
};

}  // namespace plume::store::sql
