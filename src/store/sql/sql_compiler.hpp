// SqlCompiler turns the query language (the Condition tree, $sort, $limit, $skip) and records
// into SQL statements with bound values, for any SqlDialect. Values are never written into the
// SQL text; identifiers come only from the table layout and are validated and quoted.
#pragma once

#include "store/sql/sql_dialect.hpp"
#include "store/sql/table_layout.hpp"

#include <plume/core/query.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plume::store::sql {

// SQL text and its bound values, in placeholder order. Values are JSON scalars (null, boolean,
// integer, real, text); the driver binds booleans as its dialect stores them.
struct Statement {
  std::string sql;
  std::vector<Json> values;
};

class SqlCompiler {
 public:
  SqlCompiler(const SqlDialect& dialect, const TableLayout& layout) : dialect_(dialect), layout_(layout) {}

  // SELECT * ... WHERE ... ORDER BY <sort>, <id> LIMIT/OFFSET. The id breaks ties so that pages
  // are stable and match the memory store's id order.
  Statement select(const Condition& where, const std::vector<SortKey>& sort,
                   std::optional<std::int64_t> limit, std::int64_t skip) const;
  Statement count(const Condition& where) const;
  // INSERT ... RETURNING *. An id is inserted only when the record has one.
  Statement insert(const JsonObject& record) const;
  // UPDATE ... SET every column ... WHERE id = ? AND where RETURNING *: a full replacement.
  Statement replace(const Json& id, const JsonObject& record, const Condition& where) const;
  // UPDATE ... SET the changed columns, the JSON column merged with the changed fields outside
  // the columns, WHERE where RETURNING *: a patch of every match in one statement (PostgreSQL;
  // see SqlDialect::json_merge).
  Statement merge(const JsonObject& changes, const Condition& where) const;
  // DELETE ... WHERE where RETURNING *.
  Statement remove(const Condition& where) const;

  // Schema DDL: the table when absent, and a unique index per unique field (created after any
  // column a newer schema adds).
  std::string create_table() const;
  std::vector<std::string> create_unique_indexes() const;
  // ALTER TABLE ... ADD COLUMN for a column a newer schema adds.
  std::string add_column(const Column& column) const;
  // Moves a new column's values out of the JSON column, where records written before the column
  // existed keep them.
  Statement move_into_column(const Column& column) const;

  // The WHERE condition text alone (empty for "everything"), appending its values.
  std::string condition(const Condition& where, std::vector<Json>& values) const;

 private:
  std::string bind(Json value, std::vector<Json>& values) const;
  // A field's expression; `as_text` reads a field of the JSON column as text (for LIKE).
  std::string field_expression(const std::string& field, std::vector<Json>& values,
                               bool as_text = false) const;
  // The bound value compared with `field`: as JSON where the dialect compares JSON values.
  std::string operand(const std::string& field, const Json& value, std::vector<Json>& values) const;
  std::string compare(const Condition& node, std::vector<Json>& values) const;
  std::string membership(const Condition& node, std::vector<Json>& values) const;
  std::string where_clause(const Condition& where, std::vector<Json>& values) const;
  std::string quoted_table() const;

  const SqlDialect& dialect_;
  const TableLayout& layout_;
};

// id = value AND where: the condition that selects one record.
Condition id_condition(const std::string& id_field, const Json& id, const Condition& where);

}  // namespace plume::store::sql
