// Id is a record identifier, a number or a string as in Feathers. Ids that arrive in URLs are
// always strings; a store converts them to its id type (Id::as_integer_like).
#pragma once

#include <plume/core/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace plume {

class Id {
 public:
  Id(std::int64_t value) : value_(value) {}
  Id(int value) : value_(static_cast<std::int64_t>(value)) {}
  Id(std::string value) : value_(std::move(value)) {}
  Id(const char* value) : value_(std::string(value)) {}

  // A JSON number (integral) or string; anything else throws BadRequest.
  static Id from_json(const Json& value);

  bool is_integer() const noexcept { return std::holds_alternative<std::int64_t>(value_); }
  bool is_string() const noexcept { return !is_integer(); }
  std::int64_t integer() const { return std::get<std::int64_t>(value_); }
  const std::string& string() const { return std::get<std::string>(value_); }

  // The id as an integer when it is one or is a string of decimal digits ("42"), else nullopt.
  std::optional<std::int64_t> as_integer_like() const;
  // "42" or "abc": the form used in messages ("No record found for id '42'").
  std::string to_string() const;
  Json to_json() const;

  friend bool operator==(const Id&, const Id&) = default;

 private:
  std::variant<std::int64_t, std::string> value_;
};

// update/patch/remove take a NullableId: nullopt means "many records, chosen by params.query".
using NullableId = std::optional<Id>;

}  // namespace plume
