// libFuzzer target for the SQL compiler: a query (JSON text, as a Socket.io or mesh call gives
// it) parsed with parse_query, then compiled to SELECT, COUNT, DELETE, INSERT and UPDATE for
// SQLite and PostgreSQL, over a table with typed columns and over one with only the JSON
// column. Properties: every failure is a plume::Error; the SQL holds no value, only identifiers
// that are quoted and valid, no quote, comment or statement separator of its own; placeholders
// and bound values agree (SQLite: one ? per value; PostgreSQL: $1..$n, each once); bound values
// are scalars.
#include "store/sql/sql_compiler.hpp"
#include "testing/fuzz_support.hpp"

#include <plume/core/error.hpp>
#include <plume/core/query.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using plume::Json;
using plume::testing::fuzz_check;
namespace sql = plume::store::sql;

struct Table {
  plume::Schema schema;
  sql::TableLayout layout;
};

Table& typed_table() {
  static Table table = [] {
    plume::Schema schema = plume::Schema::from_json(plume::parse_json(R"({
      "name": "string", "age": "integer", "score": "number", "active": "boolean",
      "email": {"type": "string", "unique": true}, "tags": "array", "meta": "object", "anything": "any"
    })"));
    sql::TableLayout layout("people", "id", plume::store::IdType::Integer, schema);
    return Table{std::move(schema), std::move(layout)};
  }();
  return table;
}

Table& json_only_table() {
  static Table table{plume::Schema{},
                     sql::TableLayout("notes", "_id", plume::store::IdType::String, plume::Schema{})};
  return table;
}

// The SQL's own string literals: the JSON defaults the dialects write.
void erase_known_literals(std::string& text) {
  for (std::string_view literal : {std::string_view("'null'"), std::string_view("'{}'")}) {
    for (std::size_t at; (at = text.find(literal)) != std::string::npos;) text.erase(at, literal.size());
  }
}

void check_statement(const sql::Statement& statement, const sql::SqlDialect& dialect) {
  std::string text = statement.sql;
  erase_known_literals(text);
  fuzz_check(text.find('\'') == std::string::npos, "no string literal but the dialect's own");
  fuzz_check(text.find(';') == std::string::npos, "no statement separator");
  fuzz_check(text.find("--") == std::string::npos && text.find("/*") == std::string::npos, "no comment");
  fuzz_check(text.find('\0') == std::string::npos, "no NUL");

  // Quoted identifiers: [A-Za-z_][A-Za-z0-9_]*.
  for (std::size_t open = text.find('"'); open != std::string::npos; open = text.find('"', open + 1)) {
    const std::size_t close = text.find('"', open + 1);
    fuzz_check(close != std::string::npos, "quotes are balanced");
    fuzz_check(sql::is_valid_identifier(std::string_view(text).substr(open + 1, close - open - 1)),
               "a quoted identifier is a valid SQL name");
    open = close;
  }

  if (dialect.kind() == sql::SqlDialect::Kind::Sqlite) {
    fuzz_check(static_cast<std::size_t>(std::count(text.begin(), text.end(), '?')) == statement.values.size(),
               "one ? per bound value");
  } else {
    std::vector<std::size_t> numbers;
    for (std::size_t at = text.find('$'); at != std::string::npos; at = text.find('$', at + 1)) {
      std::size_t end = at + 1;
      std::size_t number = 0;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
        number = number * 10 + static_cast<std::size_t>(text[end++] - '0');
      fuzz_check(end > at + 1, "a $ is a placeholder");
      numbers.push_back(number);
    }
    std::sort(numbers.begin(), numbers.end());
    bool sequence = numbers.size() == statement.values.size();
    for (std::size_t i = 0; sequence && i < numbers.size(); ++i) sequence = numbers[i] == i + 1;
    fuzz_check(sequence, "placeholders are $1..$n, each once, n the number of values");
  }
  for (const Json& value : statement.values) {
    fuzz_check(!value.is_object() && !value.is_array(), "bound values are scalars");
  }
}

void compile_all(const Json& input, Table& table, const sql::SqlDialect& dialect) {
  plume::QueryOptions options;
  options.operators = {"$like", "$ilike"};
  options.schema = table.schema.empty() ? nullptr : &table.schema;
  options.id_field = table.layout.id_field();
  const sql::SqlCompiler compiler(dialect, table.layout);
  try {
    const plume::Query query = plume::parse_query(input, options);
    check_statement(compiler.select(query.where, query.sort, query.limit, query.skip), dialect);
    check_statement(compiler.count(query.where), dialect);
    check_statement(compiler.remove(query.where), dialect);
  } catch (const plume::Error&) {
  }
  // The same object as a record: INSERT and a patch of every match.
  if (const auto* record = input.if_object()) {
    try {
      check_statement(compiler.insert(*record), dialect);
      check_statement(compiler.merge(*record, plume::Condition{}), dialect);
      check_statement(compiler.replace(Json(1), *record, plume::Condition{}), dialect);
    } catch (const plume::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Json input;
  try {
    input = plume::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const plume::Error&) {
    return 0;
  }
  for (const sql::SqlDialect* dialect : {&sql::SqlDialect::sqlite(), &sql::SqlDialect::postgres()}) {
    compile_all(input, typed_table(), *dialect);
    compile_all(input, json_only_table(), *dialect);
  }
  return 0;
}
