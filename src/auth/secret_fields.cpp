// Secret fields: hashed before they are stored, hidden from what external callers and event
// listeners receive, and never usable in an external query.
#include <plume/auth/secret_fields.hpp>

#include <plume/auth/authentication.hpp>
#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <algorithm>
#include <memory>

namespace plume::auth {
namespace {

using FieldList = std::shared_ptr<const std::vector<std::string>>;

bool is_secret(const FieldList& fields, std::string_view key) {
  return std::find(fields->begin(), fields->end(), key) != fields->end();
}

// Collects pointers to the secret values of one record (or of each record of an array) that
// need hashing. Null stays null (a nullable field being cleared); other non-strings are refused
// rather than stored as they are.
void collect(Json& data, const FieldList& fields, std::vector<Json*>& out) {
  if (data.is_array()) {
    for (Json& record : data.get_array()) collect(record, fields, out);
    return;
  }
  if (!data.is_object()) return;
  for (const std::string& field : *fields) {
    auto found = data.get_object().find(field);
    if (found == data.get_object().end() || found->value().is_null()) continue;
    if (!found->value().is_string()) {
      throw bad_request("Invalid value for secret field '" + field + "': expected a string");
    }
    out.push_back(&found->value());
  }
}

// A query naming a secret field (directly, in $or/$and, or in $sort) would let a caller probe
// the stored hash one comparison at a time.
void check_query(const Json& query, const FieldList& fields) {
  if (!query.is_object()) return;
  for (const auto& [key, value] : query.get_object()) {
    if (is_secret(fields, key)) throw bad_request("Cannot query secret field '" + std::string(key) + "'");
    if ((key == "$or" || key == "$and") && value.is_array()) {
      for (const Json& branch : value.get_array()) check_query(branch, fields);
    } else if (key == "$sort") {
      check_query(value, fields);
    }
  }
}

void strip_record(Json& record, const std::vector<std::string>& fields) {
  if (!record.is_object()) return;
  for (const std::string& field : fields) record.get_object().erase(field);
}

}  // namespace

std::vector<std::string> secret_fields(const Schema& schema) {
  std::vector<std::string> names;
  for (const FieldSpec& field : schema.fields()) {
    if (field.secret) names.push_back(field.name);
  }
  return names;
}

Json without_fields(const Json& value, const std::vector<std::string>& fields) {
  Json copy = value;
  if (copy.is_array()) {
    for (Json& record : copy.get_array()) strip_record(record, fields);
  } else if (copy.is_object() && copy.get_object().contains("data") && copy.get_object().contains("total") &&
             copy.at("data").is_array()) {
    // A page: {total, limit, skip, data}.
    for (Json& record : copy.at("data").get_array()) strip_record(record, fields);
  } else {
    strip_record(copy, fields);
  }
  return copy;
}

Hooks secret_field_hooks(std::vector<std::string> names, int cost) {
  const FieldList fields = std::make_shared<const std::vector<std::string>>(std::move(names));
  Hook hash = [fields, cost](HookContext& context) -> Task<void> {
    std::vector<Json*> values;
    collect(context.data, fields, values);
    if (values.empty()) co_return;
    // bcrypt is slow by design: never on an I/O thread, and on the authentication service's
    // hashing pool when there is one, so that sign-ups cannot starve the stores either.
    auto hash_all = [&values, cost] {
      for (Json* value : values) *value = hash_password_blocking(value->get_string(), cost);
    };
    if (AuthenticationService* authentication = find_authentication(context.app)) {
      co_await authentication->hashing().run(hash_all);
    } else {
      co_await context.app.workers().run(hash_all);
    }
  };
  Hook guard_query = [fields](HookContext& context) -> Task<void> {
    if (context.params.is_external()) check_query(context.params.query, fields);
    co_return;
  };
  // Dispatch is what transports send and what events publish; result keeps the secret values for
  // internal callers such as the local strategy.
  Hook hide = [fields](HookContext& context) -> Task<void> {
    context.dispatch = without_fields(context.reply(), *fields);
    co_return;
  };
  Hooks hooks;
  hooks.before["all"].push_back(guard_query);
  hooks.before["create"].push_back(hash);
  hooks.before["update"].push_back(hash);
  hooks.before["patch"].push_back(hash);
  hooks.after["all"].push_back(hide);
  return hooks;
}

}  // namespace plume::auth
