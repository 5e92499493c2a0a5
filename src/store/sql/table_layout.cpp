#include "store/sql/table_layout.hpp"

#include "store/sql/sql_dialect.hpp"

#include <boost/json/parse.hpp>

#include <cmath>
#include <stdexcept>

namespace plume::store::sql {

TableLayout::TableLayout(std::string table, std::string id_field, IdType id_type, const Schema& schema)
    : table_(std::move(table)), id_field_(std::move(id_field)), id_type_(id_type) {
  quote_identifier(table_);
  quote_identifier(id_field_);
  for (const FieldSpec& field : schema.fields()) {
    if (field.name == id_field_) continue;
    if (field.name == kExtraColumn) {
      throw std::invalid_argument("Field name '_extra' is reserved by SQL stores (table '" + table_ + "')");
    }
    quote_identifier(field.name);
    // Untyped fields keep their JSON type in `_extra` rather than in a column that would lose it.
    if (field.type == FieldType::Any) continue;
    columns_.push_back(Column{field.name, field.type, field.unique});
  }
}

const Column* TableLayout::column(std::string_view name) const noexcept {
  for (const Column& column : columns_) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

std::vector<Json> TableLayout::encode(const JsonObject& record) const {
  std::vector<Json> values;
  values.reserve(columns_.size() + 1);
  for (const Column& column : columns_) {
    const Json* value = record.if_contains(column.name);
    if (!value) {
      values.emplace_back(nullptr);
    } else if (value->is_object() || value->is_array()) {
      values.emplace_back(to_json_text(*value));
    } else {
      values.push_back(*value);
    }
  }
  JsonObject extra;
  for (const auto& [field, value] : record) {
    if (in_extra(field)) extra[field] = value;
  }
  if (extra.empty()) {
    values.emplace_back(nullptr);
  } else {
    values.emplace_back(to_json_text(Json(std::move(extra))));
  }
  return values;
}

namespace {

// JavaScript has one number type: a stored 2.0 reads back as 2.
Json number_value(const Json& value) {
  if (value.is_double()) {
    double number = value.as_double();
    if (std::trunc(number) == number && std::fabs(number) < 9007199254740992.0) {
      return Json(static_cast<std::int64_t>(number));
    }
  }
  return value;
}

Json parse_stored_json(const Json& value) {
  if (!value.is_string()) return value;
  boost::system::error_code error;
  Json parsed = boost::json::parse(value.as_string(), error);
  if (error) return value;
  return parsed;
}

}  // namespace

void TableLayout::decode(std::string_view column_name, Json value, JsonObject& record) const {
  if (value.is_null()) return;
  if (column_name == kExtraColumn) {
    Json extra = parse_stored_json(value);
    if (!extra.is_object()) return;
    for (auto& [field, field_value] : extra.as_object()) record[field] = std::move(field_value);
    return;
  }
  const Column* column = this->column(column_name);
  if (!column) {
    // The id, or a column a former schema had (columns are never dropped).
    record[column_name] = number_value(value);
    return;
  }
  switch (column->type) {
    case FieldType::Boolean:
      if (value.is_int64()) {
        record[column_name] = value.as_int64() != 0;
      } else {
        record[column_name] = std::move(value);
      }
      return;
    case FieldType::Object:
    case FieldType::Array:
    case FieldType::Any:
      record[column_name] = parse_stored_json(value);
      return;
    case FieldType::Integer:
    case FieldType::Number:
      record[column_name] = number_value(value);
      return;
    case FieldType::String:
      record[column_name] = std::move(value);
      return;
  }
}

}  // namespace plume::store::sql
