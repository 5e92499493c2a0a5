// Parsing a Feathers query into filters and a condition tree, following adapter-commons
// (packages/adapter-commons/src/query.ts: FILTERS, OPERATORS, getQuery, validateQueryProperty).
#include <plume/core/error.hpp>
#include <plume/core/query.hpp>
#include <plume/core/schema.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace plume {

namespace {

// Property operators every store accepts (adapter-commons OPERATORS; "$or" is allowed inside a
// property sub-query there too, and "$and" nests here as well).
constexpr std::string_view kDefaultOperators[] = {"$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$ne"};

bool is_js_whitespace_byte(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// JavaScript's String(value), as far as parseInt can see it: only the leading characters matter.
std::optional<std::string> js_string_for_parse_int(const Json& value) {
  switch (value.kind()) {
    case boost::json::kind::string:
      return std::string(value.get_string());
    case boost::json::kind::int64:
      return std::to_string(value.get_int64());
    case boost::json::kind::uint64:
      return std::to_string(value.get_uint64());
    case boost::json::kind::double_: {
      const double number = value.get_double();
      if (!std::isfinite(number)) return std::nullopt;  // "Infinity", "NaN"
      const double magnitude = std::fabs(number);
      if (magnitude >= 1e21 || (magnitude != 0 && magnitude < 1e-6)) {
        // Number#toString prints these in exponent form, so parseInt sees only the digits before
        // the point or exponent (parseInt(1e21) === 1); to_chars gives the same leading digits.
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
        if (ec != std::errc{}) return std::nullopt;
        return std::string(buffer, end);
      }
      // Plain decimal form: parseInt keeps the integer part.
      char buffer[64];
      auto [end, ec] =
          std::to_chars(buffer, buffer + sizeof buffer, std::trunc(number), std::chars_format::fixed);
      if (ec != std::errc{}) return std::nullopt;
      return std::string(buffer, end);
    }
    case boost::json::kind::array: {
      // Array#toString joins the elements with commas; parseInt stops at the first comma.
      const auto& array = value.get_array();
      if (array.empty() || array.front().is_null()) return std::string();
      return js_string_for_parse_int(array.front());
    }
    default:
      return std::nullopt;  // "null", "true", "[object Object]": NaN
  }
}

// parseInt(value, 10): leading whitespace, an optional sign, then as many decimal digits as there
// are. nullopt stands for NaN. Values beyond int64 saturate.
std::optional<std::int64_t> parse_int(const Json& value) {
  const auto text = js_string_for_parse_int(value);
  if (!text) return std::nullopt;
  std::size_t i = 0;
  while (i < text->size() && is_js_whitespace_byte(static_cast<unsigned char>((*text)[i]))) ++i;
  bool negative = false;
  if (i < text->size() && ((*text)[i] == '+' || (*text)[i] == '-')) {
    negative = (*text)[i] == '-';
    ++i;
  }
  const std::size_t digits_start = i;
  std::int64_t result = 0;
  bool saturated = false;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    const int digit = (*text)[i] - '0';
    if (!saturated) {
      if (result > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
        saturated = true;
        result = std::numeric_limits<std::int64_t>::max();
      } else {
        result = result * 10 + digit;
      }
    }
  }
  if (i == digits_start) return std::nullopt;
  return negative ? -result : result;
}

class QueryParser {
 public:
  explicit QueryParser(const QueryOptions& options) : options_(options) {}

  Query parse(const Json& json) {
    Query query;
    if (json.is_null()) return query;
    if (!json.is_object()) throw bad_request("A query must be an object");
    const auto& object = json.get_object();
    for (const auto& member : object) {
      const std::string_view key = member.key();
      const Json& value = member.value();
      if (!key.starts_with('$')) {
        parse_property(key, value, query.where);
      } else if (key == "$limit") {
        // Feathers keeps NaN out of the limit; a negative limit is no valid number either.
        if (auto limit = parse_int(value); limit && *limit >= 0) query.limit = limit;
      } else if (key == "$skip") {
        if (auto skip = parse_int(value); skip && *skip >= 0) query.skip = *skip;
      } else if (key == "$sort") {
        query.sort = parse_sort(value);
      } else if (key == "$select") {
        query.select = parse_select(value);
      } else if (key == "$or" || key == "$and") {
        query.where.children.push_back(parse_group(key, value));
      } else {
        throw bad_request("Invalid filter value " + std::string(key));
      }
    }
    return query;
  }

 private:
  bool is_allowed_operator(std::string_view name) const {
    return std::find(std::begin(kDefaultOperators), std::end(kDefaultOperators), name) !=
               std::end(kDefaultOperators) ||
           std::find(options_.operators.begin(), options_.operators.end(), name) != options_.operators.end();
  }

  void check_field(std::string_view field) const {
    const Schema* schema = options_.schema;
    if (schema == nullptr || schema->empty() || field == options_.id_field) return;
    if (schema->field(field) != nullptr) return;
    // A dotted path reaches into an object field ("address.city").
    if (const auto dot = field.find('.'); dot != std::string_view::npos) {
      const FieldSpec* root = schema->field(field.substr(0, dot));
      if (root != nullptr && (root->type == FieldType::Object || root->type == FieldType::Any)) return;
    }
    throw bad_request("Invalid query field '" + std::string(field) + "'");
  }

  // validateQueryProperty: a "$" key anywhere inside a property's value must be a known operator;
  // the error carries the sub-query it was found in.
  void check_nested_operators(const JsonObject& object) const {
    for (const auto& member : object) {
      const std::string_view key = member.key();
      if (key.starts_with('$') && !is_allowed_operator(key) && key != "$or") {
        throw bad_request("Invalid query parameter " + std::string(key), Json(object));
      }
      if (member.value().is_object()) check_nested_operators(member.value().get_object());
    }
  }

  static Condition compare(std::string_view field, QueryOp op, Json value) {
    Condition condition;
    condition.kind = Condition::Kind::Compare;
    condition.field = std::string(field);
    condition.op = op;
    condition.value = std::move(value);
    return condition;
  }

  std::optional<QueryOp> operator_for(std::string_view name) const {
    if (name == "$in") return QueryOp::In;
    if (name == "$nin") return QueryOp::Nin;
    if (name == "$lt") return QueryOp::Lt;
    if (name == "$lte") return QueryOp::Lte;
    if (name == "$gt") return QueryOp::Gt;
    if (name == "$gte") return QueryOp::Gte;
    if (name == "$ne") return QueryOp::Ne;
    if (name == "$like" && is_allowed_operator(name)) return QueryOp::Like;
    if (name == "$ilike" && is_allowed_operator(name)) return QueryOp::ILike;
    return std::nullopt;
  }

  void parse_property(std::string_view field, const Json& value, Condition& into) {
    check_field(field);
    if (!value.is_object()) {
      into.children.push_back(compare(field, QueryOp::Eq, value));
      return;
    }
    const auto& object = value.get_object();
    const bool has_operators =
        std::any_of(object.begin(), object.end(), [](const auto& m) { return m.key().starts_with('$'); });
    if (!has_operators) {
      // Equality with an object value ({address: {city: "Paris"}}).
      check_nested_operators(object);
      into.children.push_back(compare(field, QueryOp::Eq, value));
      return;
    }
    for (const auto& member : object) {
      const std::string_view name = member.key();
      const auto op = operator_for(name);
      // Mixing operators and plain keys in one sub-query has no meaning we could give it.
      if (!op) throw bad_request("Invalid query parameter " + std::string(name), value);
      Json operand = member.value();
      if (operand.is_object()) check_nested_operators(operand.get_object());
      if ((*op == QueryOp::In || *op == QueryOp::Nin) && !operand.is_array()) {
        // qs turns `id[$in]=1` into {$in: "1"}: one value is a list of one.
        JsonArray one;
        one.push_back(std::move(operand));
        operand = std::move(one);
      }
      into.children.push_back(compare(field, *op, std::move(operand)));
    }
  }

  // One element of $or/$and: a query of properties, possibly with $or/$and of its own.
  Condition parse_subquery(const Json& item) {
    if (!item.is_object()) throw bad_request("Invalid query parameter: $or and $and take a list of queries");
    Condition node;
    node.kind = Condition::Kind::And;
    for (const auto& member : item.get_object()) {
      const std::string_view key = member.key();
      if (key == "$or" || key == "$and") {
        node.children.push_back(parse_group(key, member.value()));
      } else if (key.starts_with('$')) {
        throw bad_request("Invalid query parameter " + std::string(key), item);
      } else {
        parse_property(key, member.value(), node);
      }
    }
    return node;
  }

  Condition parse_group(std::string_view name, const Json& value) {
    if (!value.is_array()) throw bad_request(std::string(name) + " must be an array of queries");
    // sift's own check, which Feathers' memory adapter answers with (as a 500 there).
    if (value.get_array().empty()) throw bad_request("$and/$or/$nor must be a nonempty array");
    if (++depth_ > kMaxGroupDepth) throw bad_request("The query is nested too deeply");
    Condition group;
    group.kind = name == "$or" ? Condition::Kind::Or : Condition::Kind::And;
    for (const auto& item : value.get_array()) group.children.push_back(parse_subquery(item));
    --depth_;
    return group;
  }

  std::vector<SortKey> parse_sort(const Json& value) {
    if (!value.is_object()) throw bad_request("$sort must be an object of field names and 1 or -1");
    std::vector<SortKey> keys;
    for (const auto& member : value.get_object()) {
      check_field(member.key());
      // FILTERS.$sort: each direction goes through parseInt, so "-1" from a query string is -1.
      const auto direction = member.value().is_object() ? std::nullopt : parse_int(member.value());
      if (!direction || *direction == 0) {
        throw bad_request("Invalid $sort direction for '" + std::string(member.key()) + "': use 1 or -1");
      }
      keys.push_back({std::string(member.key()), *direction > 0 ? 1 : -1});
    }
    return keys;
  }

  std::vector<std::string> parse_select(const Json& value) {
    std::vector<std::string> fields;
    auto add = [&](const Json& item) {
      // FILTERS.$select: `${current}` turns every item into a string.
      if (item.is_string()) {
        fields.emplace_back(item.get_string());
      } else if (item.is_number()) {
        fields.push_back(to_json_text(item));
      } else {
        throw bad_request("$select must be a list of field names");
      }
      check_field(fields.back());
    };
    if (value.is_array()) {
      for (const auto& item : value.get_array()) add(item);
    } else {
      add(value);  // `$select=name` from a query string
    }
    return fields;
  }

  // $or/$and nest; the bound keeps a hostile query from exhausting the stack.
  static constexpr int kMaxGroupDepth = 32;
  const QueryOptions& options_;
  int depth_ = 0;
};

}  // namespace

Query parse_query(const Json& query, const QueryOptions& options) {
  return QueryParser(options).parse(query);
}

Query parse_query(std::string_view json_text, const QueryOptions& options) {
  return parse_query(parse_json(json_text), options);
}

}  // namespace plume
