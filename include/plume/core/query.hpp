// The query language, one implementation for every store: parse a Feathers query into a Query
// (filters and a condition tree), then match, sort, select and paginate in memory, or hand the
// tree to the SQL compiler. Messages follow Feathers' adapter-commons exactly.
#pragma once

#include <plume/core/json.hpp>
#include <plume/core/params.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume {

class Schema;

enum class QueryOp { Eq, Ne, Lt, Lte, Gt, Gte, In, Nin, Like, ILike };

// A node of the condition tree: an And/Or of children, or one comparison of a field. An empty And
// matches everything, an empty Or nothing. Fields may be dotted paths into nested objects.
//
// Matching in memory follows sift, as Feathers' memory adapter does: a missing field is null;
// Eq/Ne/In/Nin compare with json_equal (1 == 1.0), and an array field equals a scalar it contains;
// Lt/Lte/Gt/Gte hold only between two numbers or two strings (for an array field, any element);
// Like/ILike are SQL LIKE (`%` any run, `_` one character, no escape character; ILike folds ASCII).
struct Condition {
  enum class Kind { And, Or, Compare };
  Kind kind = Kind::And;
  std::vector<Condition> children;  // And, Or
  std::string field;                // Compare
  QueryOp op = QueryOp::Eq;         // Compare
  Json value;                       // Compare: a scalar, or an array for In/Nin

  bool matches(const Json& record) const;
};

struct SortKey {
  std::string field;
  int direction = 1;  // 1 ascending, -1 descending
};

struct QueryOptions {
  // Extra property operators this store accepts beyond Feathers' defaults ("$like", "$ilike").
  std::vector<std::string> operators;
  // When set (and not empty), every field named in conditions, $sort and $select must be the id
  // field or in the schema (a dotted path: its first part an object or any field); others are
  // rejected with BadRequest.
  const Schema* schema = nullptr;
  std::string id_field = "id";
};

class Query {
 public:
  std::optional<std::int64_t> limit;  // $limit as given (before pagination rules); NaN or < 0: none
  std::int64_t skip = 0;              // $skip; NaN or < 0 count as 0
  std::vector<SortKey> sort;          // in the order the keys were given
  std::optional<std::vector<std::string>> select;
  Condition where;  // an And node; empty means everything matches

  bool matches(const Json& record) const { return where.matches(record); }
  bool matches(std::string_view json_text) const;
  bool matches(const char* json_text) const { return matches(std::string_view(json_text)); }
};

// Parses a query object (null is the empty query). Unknown top-level filters throw
// BadRequest("Invalid filter value $x"), unknown operators BadRequest("Invalid query parameter $op")
// with the sub-query as data; $limit/$skip/$sort values are parsed as integers as Feathers does
// (parseInt semantics, so "-1" sorts descending); a $sort direction that is not a non-zero number
// is a BadRequest. $select is a list of names or one name. $in/$nin take a list or one value
// (qs gives `id[$in]=1` as "1"). $or/$and take lists of queries and nest (up to 32 levels).
// With options.schema set and not empty, unknown fields throw BadRequest("Invalid query field 'x'").
Query parse_query(const Json& query, const QueryOptions& options = {});
Query parse_query(std::string_view json_text, const QueryOptions& options = {});
// A string literal is JSON text (Json is constructible from one too, hence this overload).
inline Query parse_query(const char* json_text, const QueryOptions& options = {}) {
  return parse_query(std::string_view(json_text), options);
}

// Sorts records in place by the sort keys (stable; missing fields sort first).
void sort_records(std::vector<Json>& records, const std::vector<SortKey>& sort);

// A copy of `record` with only the selected fields, in the order selected, then the id field.
Json select_fields(const Json& record, const std::vector<std::string>& select, std::string_view id_field);

// Feathers' getLimit: the effective $limit under a pagination setting; nullopt means no limit.
std::optional<std::int64_t> effective_limit(const std::optional<std::int64_t>& requested,
                                            const std::optional<PaginateOptions>& paginate);

// {total, limit, skip, data}
Json make_page(std::int64_t total, std::int64_t limit, std::int64_t skip, JsonArray data);

}  // namespace plume
