#include "store/sql/sql_compiler.hpp"

#include <plume/core/error.hpp>

#include <stdexcept>

namespace plume::store::sql {

Condition id_condition(const std::string& id_field, const Json& id, const Condition& where) {
  Condition by_id;
  by_id.kind = Condition::Kind::Compare;
  by_id.field = id_field;
  by_id.op = QueryOp::Eq;
  by_id.value = id;
  Condition both;
  both.kind = Condition::Kind::And;
  both.children.push_back(std::move(by_id));
  both.children.push_back(where);
  return both;
}

std::string SqlCompiler::quoted_table() const { return quote_identifier(layout_.table()); }

std::string SqlCompiler::bind(Json value, std::vector<Json>& values) const {
  if (value.is_object() || value.is_array()) {
    values.emplace_back(to_json_text(value));
  } else {
    values.push_back(std::move(value));
  }
  return dialect_.placeholder(values.size());
}

std::string SqlCompiler::field_expression(const std::string& field, std::vector<Json>& values,
                                          bool as_text) const {
  if (!is_valid_identifier(field)) throw bad_request("Invalid query field '" + field + "'");
  if (!layout_.in_extra(field)) return quote_identifier(field);
  // Fields without a column (only possible without a schema, or typed `any`) are read from the
  // JSON column; the path is a bound value like any other.
  std::string path = bind(Json(dialect_.json_path(field)), values);
  const std::string extra = quote_identifier(TableLayout::kExtraColumn);
  return as_text ? dialect_.json_text_field(extra, path) : dialect_.json_field(extra, path);
}

std::string SqlCompiler::operand(const std::string& field, const Json& value,
                                 std::vector<Json>& values) const {
  if (dialect_.compares_json_values() && layout_.in_extra(field)) {
    return dialect_.json_operand(bind(Json(to_json_text(value)), values));
  }
  return bind(value, values);
}

namespace {

std::vector<Json> listed_values(const Json& value, bool& has_null) {
  std::vector<Json> listed;
  has_null = false;
  auto add = [&](const Json& item) {
    if (item.is_null()) {
      has_null = true;
    } else {
      listed.push_back(item);
    }
  };
  if (value.is_array()) {
    for (const Json& item : value.as_array()) add(item);
  } else {
    add(value);
  }
  return listed;
}

const char* comparison_operator(QueryOp op) {
  switch (op) {
    case QueryOp::Lt:
      return " < ";
    case QueryOp::Lte:
      return " <= ";
    case QueryOp::Gt:
      return " > ";
    case QueryOp::Gte:
      return " >= ";
    default:
      return " = ";
  }
}

}  // namespace

// An empty string means "true" (no restriction). A part that is dropped binds nothing: the
// callers truncate `values` back to where the part began.
std::string SqlCompiler::compare(const Condition& node, std::vector<Json>& values) const {
  if (node.op == QueryOp::In || node.op == QueryOp::Nin) return membership(node, values);
  if (node.op == QueryOp::Like || node.op == QueryOp::ILike) {
    std::string text = field_expression(node.field, values, true);
    if (node.op == QueryOp::Like) return dialect_.like(text, bind(node.value, values));
    return dialect_.ilike(text, bind(node.value, values));
  }
  std::string expression = field_expression(node.field, values);
  switch (node.op) {
    case QueryOp::Eq:
      if (node.value.is_null()) return expression + " IS NULL";
      return expression + " = " + operand(node.field, node.value, values);
    case QueryOp::Ne:
      // NULL-safe: records without the field are "not equal", as in the memory store.
      if (node.value.is_null()) return expression + " IS NOT NULL";
      return expression + " " + std::string(dialect_.null_safe_not_equal()) + " " +
             operand(node.field, node.value, values);
    default:
      return expression + comparison_operator(node.op) + operand(node.field, node.value, values);
  }
}

// $in/$nin: a bound list. The memory store treats an absent field as null, so null in the list
// matches absent fields, and an absent field is "not in" a list without null (where SQL's
// NOT IN alone would give NULL).
std::string SqlCompiler::membership(const Condition& node, std::vector<Json>& values) const {
  bool has_null = false;
  std::vector<Json> listed = listed_values(node.value, has_null);
  auto bind_list = [&] {
    std::string list;
    for (const Json& item : listed) {
      if (!list.empty()) list += ", ";
      list += operand(node.field, item, values);
    }
    return list;
  };
  if (node.op == QueryOp::In) {
    if (listed.empty()) return has_null ? field_expression(node.field, values) + " IS NULL" : "1 = 0";
    std::string text = field_expression(node.field, values);
    text += " IN (" + bind_list() + ")";
    if (!has_null) return text;
    // The expression is written again: a bound JSON path is bound again.
    std::string again = field_expression(node.field, values);
    return "(" + text + " OR " + again + " IS NULL)";
  }
  if (listed.empty()) return has_null ? field_expression(node.field, values) + " IS NOT NULL" : "";
  std::string expression = field_expression(node.field, values);
  std::string again = field_expression(node.field, values);
  std::string list = bind_list();
  if (has_null) return "(" + expression + " IS NOT NULL AND " + again + " NOT IN (" + list + "))";
  return "(" + expression + " IS NULL OR " + again + " NOT IN (" + list + "))";
}

std::string SqlCompiler::condition(const Condition& node, std::vector<Json>& values) const {
  if (node.kind == Condition::Kind::Compare) return compare(node, values);

  const std::size_t start = values.size();
  std::vector<std::string> parts;
  for (const Condition& child : node.children) {
    const std::size_t mark = values.size();
    std::string text = condition(child, values);
    if (!text.empty()) {
      parts.push_back(std::move(text));
      continue;
    }
    values.resize(mark);
    if (node.kind == Condition::Kind::Or) {
      values.resize(start);  // one branch is always true, so is the Or
      return "";
    }
  }
  if (parts.empty()) return node.kind == Condition::Kind::Or ? "1 = 0" : "";
  if (parts.size() == 1) return parts.front();
  const char* joiner = node.kind == Condition::Kind::Or ? " OR " : " AND ";
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += joiner;
    text += "(" + part + ")";
  }
  return text;
}

std::string SqlCompiler::where_clause(const Condition& where, std::vector<Json>& values) const {
  std::string text = condition(where, values);
  return text.empty() ? "" : " WHERE " + text;
}

Statement SqlCompiler::select(const Condition& where, const std::vector<SortKey>& sort,
                              std::optional<std::int64_t> limit, std::int64_t skip) const {
  Statement statement;
  statement.sql = "SELECT * FROM " + quoted_table() + where_clause(where, statement.values);
  std::string order;
  bool sorted_by_id = false;
  for (const SortKey& key : sort) {
    order += order.empty() ? " ORDER BY " : ", ";
    order += field_expression(key.field, statement.values) + " " + dialect_.order(key.direction);
    sorted_by_id = sorted_by_id || key.field == layout_.id_field();
  }
  if (!sorted_by_id) {
    order += order.empty() ? " ORDER BY " : ", ";
    order += quote_identifier(layout_.id_field()) + " " + dialect_.order(1);
  }
  statement.sql += order;
  std::optional<std::string> limit_placeholder, offset_placeholder;
  if (limit) limit_placeholder = bind(Json(std::max<std::int64_t>(*limit, 0)), statement.values);
  if (skip > 0) offset_placeholder = bind(Json(skip), statement.values);
  statement.sql += dialect_.limit_offset(limit_placeholder ? &*limit_placeholder : nullptr,
                                         offset_placeholder ? &*offset_placeholder : nullptr);
  return statement;
}

Statement SqlCompiler::count(const Condition& where) const {
  Statement statement;
  statement.sql = "SELECT count(*) FROM " + quoted_table() + where_clause(where, statement.values);
  return statement;
}

Statement SqlCompiler::insert(const JsonObject& record) const {
  Statement statement;
  std::string columns, placeholders;
  auto add = [&](std::string_view column, Json value) {
    if (!columns.empty()) {
      columns += ", ";
      placeholders += ", ";
    }
    columns += quote_identifier(column);
    placeholders += bind(std::move(value), statement.values);
  };
  if (const Json* id = record.if_contains(layout_.id_field())) add(layout_.id_field(), *id);
  std::vector<Json> encoded = layout_.encode(record);
  for (std::size_t i = 0; i < layout_.columns().size(); ++i)
    add(layout_.columns()[i].name, std::move(encoded[i]));
  add(TableLayout::kExtraColumn, std::move(encoded.back()));
  statement.sql =
      "INSERT INTO " + quoted_table() + " (" + columns + ") VALUES (" + placeholders + ") RETURNING *";
  return statement;
}

Statement SqlCompiler::replace(const Json& id, const JsonObject& record, const Condition& where) const {
  Statement statement;
  std::string assignments;
  std::vector<Json> encoded = layout_.encode(record);
  auto assign = [&](std::string_view column, Json value) {
    if (!assignments.empty()) assignments += ", ";
    assignments += quote_identifier(column) + " = ";
    assignments += bind(std::move(value), statement.values);
  };
  for (std::size_t i = 0; i < layout_.columns().size(); ++i)
    assign(layout_.columns()[i].name, std::move(encoded[i]));
  assign(TableLayout::kExtraColumn, std::move(encoded.back()));
  statement.sql = "UPDATE " + quoted_table() + " SET " + assignments +
                  where_clause(id_condition(layout_.id_field(), id, where), statement.values) +
                  " RETURNING *";
  return statement;
}

Statement SqlCompiler::merge(const JsonObject& changes, const Condition& where) const {
  Statement statement;
  std::string assignments;
  auto assign = [&](std::string_view column, std::string value) {
    if (!assignments.empty()) assignments += ", ";
    assignments += quote_identifier(column) + " = " + value;
  };
  JsonObject extra;
  for (const Column& column : layout_.columns()) {
    const Json* value = changes.if_contains(column.name);
    if (!value) continue;
    // Objects and arrays are bound as JSON text, as encode() writes them.
    assign(column.name, bind(*value, statement.values));
  }
  for (const auto& [field, value] : changes) {
    if (layout_.in_extra(field)) extra[field] = value;
  }
  const std::string extra_column = quote_identifier(TableLayout::kExtraColumn);
  if (!extra.empty()) {
    std::string placeholder = bind(Json(to_json_text(Json(std::move(extra)))), statement.values);
    assign(TableLayout::kExtraColumn, dialect_.json_merge(extra_column, placeholder));
  }
  if (assignments.empty()) assign(layout_.id_field(), quote_identifier(layout_.id_field()));
  statement.sql = "UPDATE " + quoted_table() + " SET " + assignments + where_clause(where, statement.values) +
                  " RETURNING *";
  return statement;
}

Statement SqlCompiler::remove(const Condition& where) const {
  Statement statement;
  statement.sql = "DELETE FROM " + quoted_table() + where_clause(where, statement.values) + " RETURNING *";
  return statement;
}

std::string SqlCompiler::create_table() const {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quoted_table() + " (" +
                    quote_identifier(layout_.id_field()) + " " + dialect_.id_column(layout_.id_type());
  for (const Column& column : layout_.columns()) {
    sql += ", " + quote_identifier(column.name) + " " + dialect_.column_type(column.type);
  }
  sql += ", " + quote_identifier(TableLayout::kExtraColumn) + " " + dialect_.json_column_type() + ")";
  return sql;
}

std::vector<std::string> SqlCompiler::create_unique_indexes() const {
  // Unique indexes rather than column constraints: SQLite cannot add a UNIQUE column later.
  std::vector<std::string> statements;
  for (const Column& column : layout_.columns()) {
    if (!column.unique) continue;
    statements.push_back("CREATE UNIQUE INDEX IF NOT EXISTS " +
                         quote_identifier(layout_.table() + "_" + column.name + "_unique") + " ON " +
                         quoted_table() + " (" + quote_identifier(column.name) + ")");
  }
  return statements;
}

std::string SqlCompiler::add_column(const Column& column) const {
  return "ALTER TABLE " + quoted_table() + " ADD COLUMN " + quote_identifier(column.name) + " " +
         dialect_.column_type(column.type);
}

Statement SqlCompiler::move_into_column(const Column& column) const {
  Statement statement;
  const std::string extra = quote_identifier(TableLayout::kExtraColumn);
  const std::string path = dialect_.json_path(column.name);
  std::string read = dialect_.json_field_as(extra, bind(Json(path), statement.values), column.type);
  std::string without = dialect_.json_without(extra, bind(Json(path), statement.values));
  std::string present = dialect_.json_field(extra, bind(Json(path), statement.values));
  statement.sql = "UPDATE " + quoted_table() + " SET " + quote_identifier(column.name) + " = " + read + ", " +
                  extra + " = " + without + " WHERE " + present + " IS NOT NULL";
  return statement;
}

}  // namespace plume::store::sql
