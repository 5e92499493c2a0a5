// Json is Plume's value type for records, queries and wire payloads: a boost::json::value,
// plus the few helpers every layer needs (parse with a Feathers error, compact serialisation,
// ISO-8601 timestamps).
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace plume {

using Json = boost::json::value;
using JsonObject = boost::json::object;
using JsonArray = boost::json::array;

// Parses JSON text; malformed text throws plume::Error (BadRequest) naming the problem.
Json parse_json(std::string_view text);

// Compact JSON text of a value, numbers written as JavaScript writes them (2.5, 3, 1e+21).
std::string to_json_text(const Json& value);
void append_json_text(std::string& out, const Json& value);

// The current UTC time as "2026-11-25T12:28:31.123Z", as JavaScript's Date#toISOString prints it.
std::string now_iso8601();

// Deep equality that treats 1 and 1.0 as equal (JSON numbers, as JavaScript sees them).
bool json_equal(const Json& a, const Json& b);

// Total order used by $sort and the comparison operators: numbers by value, strings
// lexicographically; values of different kinds order null < numbers < strings < booleans < others.
int json_compare(const Json& a, const Json& b);

}  // namespace plume
