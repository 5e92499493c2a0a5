// Owner rules as before hooks: the owner filter joins the query (so the stores answer NotFound
// for others' records exactly as for missing ones, and find lists only the caller's own), and
// create, update and patch get the owner field written from the user.
#include <plume/auth/owner_rules.hpp>

#include <plume/core/app.hpp>
#include <plume/core/connection.hpp>
#include <plume/core/error.hpp>

#include <algorithm>
#include <array>
#include <memory>

namespace plume::auth {
namespace {

using Rule = std::shared_ptr<const OwnerRule>;

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Calls `apply` on each record of `data`: one object, or each object of an array (multi create).
template <class Apply>
void each_record(Json& data, Apply apply) {
  if (data.is_object()) {
    apply(data.get_object());
  } else if (data.is_array()) {
    for (Json& item : data.get_array()) {
      if (item.is_object()) apply(item.get_object());
    }
  }
}

// Writes the owner field and the stamped fields from the user. An exempt user's own values are
// kept; anyone else's are overwritten.
void stamp(const OwnerRule& rule, Json& data, const Json& owner, const JsonObject& user, bool exempt) {
  each_record(data, [&](JsonObject& record) {
    if (!exempt || !record.contains(rule.field)) record[rule.field] = owner;
    for (const auto& [field, from] : rule.stamp) {
      if (exempt && record.contains(field)) continue;
      const Json* value = user.if_contains(from);
      record[field] = value != nullptr ? *value : Json(nullptr);
    }
  });
}

void refuse_role_fields(Json& data) {
  each_record(data, [](JsonObject& record) {
    for (const std::string& field : role_fields()) {
      if (record.contains(field)) throw forbidden("Only an exempt user may set '" + field + "'");
    }
  });
}

void restrict_query(Params& params, const std::string& key, const Json& owner) {
  if (!params.query.is_object()) params.query = JsonObject{};
  // Replaces whatever the caller asked of this field, as a query resolver does.
  params.query.get_object()[key] = owner;
}

Task<void> enforce(Rule rule, HookContext& context) {
  Params& params = context.params;
  if (!params.is_external()) co_return;
  const std::string& method = context.method;
  const bool exempt = params.user.is_object() && has_role(params.user, rule->exempt);
  if (rule->self && !exempt && method != "find" && method != "get" && method != "remove") {
    refuse_role_fields(context.data);
  }
  if (!params.user.is_object()) {
    if (rule->self && method == "create") co_return;  // a sign-up
    throw not_authenticated("Not authenticated");
  }
  const Json* owner = params.user.get_object().if_contains(rule->user_id_field);
  if (owner == nullptr || owner->is_null()) throw not_authenticated("Not authenticated");
  if (exempt) {
    if (method == "create" && !rule->self) stamp(*rule, context.data, *owner, params.user.get_object(), true);
    co_return;
  }
  const bool restricted = listed(rule->restricted_methods, method);
  if (rule->self) {
    if (restricted) restrict_query(params, rule->id_field, *owner);
    co_return;
  }
  if (restricted) restrict_query(params, rule->field, *owner);
  // Update and patch cannot give a record to another user.
  if (method == "create" || method == "update" || method == "patch") {
    stamp(*rule, context.data, *owner, params.user.get_object(), false);
  }
}

}  // namespace

bool has_role(const Json& user, const std::vector<std::string>& roles) {
  if (roles.empty() || !user.is_object()) return false;
  const JsonObject& fields = user.get_object();
  if (const Json* list = fields.if_contains("roles"); list != nullptr && list->is_array()) {
    for (const Json& role : list->get_array()) {
      if (role.is_string() && listed(roles, role.get_string())) return true;
    }
  }
  if (const Json* role = fields.if_contains("role"); role != nullptr && role->is_string()) {
    return listed(roles, role->get_string());
  }
  return false;
}

Publisher owner_publisher(OwnerRule rule) {
  const Rule shared = std::make_shared<const OwnerRule>(std::move(rule));
  return [shared](const Json& data, const HookContext& context) -> Channels {
    const JsonObject* record = data.if_object();
    const Json* owner =
        record == nullptr ? nullptr : record->if_contains(shared->self ? shared->id_field : shared->field);
    if (owner == nullptr || owner->is_null()) return Channels{};
    const Json owner_id = *owner;
    return Channels{context.app.all_connections().filter([shared, owner_id](const Connection& connection) {
      const Json user = connection.user();
      if (!user.is_object()) return false;
      if (has_role(user, shared->exempt)) return true;
      const Json* id = user.get_object().if_contains(shared->user_id_field);
      return id != nullptr && json_equal(*id, owner_id);
    })};
  };
}

Hooks owner_hooks(OwnerRule rule) {
  const Rule shared = std::make_shared<const OwnerRule>(std::move(rule));
  Hook hook = [shared](HookContext& context) -> Task<void> { return enforce(shared, context); };
  Hooks hooks;
  // The standard methods only: a custom method has no record to own.
  for (const char* method : {"find", "get", "create", "update", "patch", "remove"}) {
    hooks.before[method].push_back(hook);
  }
  return hooks;
}

}  // namespace plume::auth
