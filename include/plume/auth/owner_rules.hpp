// Owner rules: what a generated Feathers app does with a `userId` data resolver and a
// `userQueryResolver`, as hooks. For external calls (a provider is set), each record belongs to
// one user: create stamps the owner field from the authenticated user (a client value is
// overwritten), and find, get, update, patch and remove get the owner filter added to their
// query, so that another user's record answers 404 exactly as a missing one and a find lists only
// the caller's own. On the authentication service's entity service, `self` makes the record's id
// the owner: a user reads and changes only their own record. Internal calls are not restricted.
//
//   app.service("messages").hooks({.before = {{"all", {auth::authenticate()}}}});
//   app.service("messages").hooks(auth::owner_hooks({.field = "userId", .exempt = {"admin"}}));
#pragma once

#include <plume/core/channels.hpp>
#include <plume/core/hooks.hpp>

#include <string>
#include <utility>
#include <vector>

namespace plume::auth {

struct OwnerRule {
  // The record field holding its owner's id ("userId"). Ignored with `self`.
  std::string field;
  // The record is the user: its id field is the owner.
  bool self = false;
  // The record's id field (for `self`) and the user's id field (the authentication entityId).
  std::string id_field = "id";
  std::string user_id_field = "id";
  // Users holding one of these roles (the user's `roles` array or `role` string) are not
  // restricted; records they create keep an owner they give.
  std::vector<std::string> exempt;
  // More fields written from the user with the owner field: {record field, user field}, e.g.
  // {"author", "email"}.
  std::vector<std::pair<std::string, std::string>> stamp;
  // The methods that see only the caller's records. Leaving out find and get makes the records
  // readable by every authenticated user while only their owner changes or removes them (a
  // message board). Create always stamps.
  std::vector<std::string> restricted_methods = {"find", "get", "update", "patch", "remove"};
};

// The user fields that name roles. With `self`, only internal calls and exempt users may write
// them, so that nobody gives themselves a role at sign-up or later.
inline const std::vector<std::string>& role_fields() {
  static const std::vector<std::string> fields = {"roles", "role"};
  return fields;
}

// True when `user` holds one of `roles` in its `roles` array or its `role` string.
bool has_role(const Json& user, const std::vector<std::string>& roles);

// A publisher for a service whose reads are restricted (find or get in restricted_methods):
// each event goes only to the connections logged in as the record's owner and to exempt users,
// so that events do not show others what find would not.
Publisher owner_publisher(OwnerRule rule);

// A before hook for every method enforcing `rule` on external calls. A call without a user is
// 401 NotAuthenticated, except create with `self` (a sign-up, which authentication may leave
// open). Run it after authenticate(), which sets params.user.
Hooks owner_hooks(OwnerRule rule);

}  // namespace plume::auth
