// Secret fields (schema fields with `secret: true`, typically the password): what Feathers apps
// get from the local strategy's passwordHash resolver and a dispatch resolver or protect():
// values written by create, update and patch are stored as bcrypt hashes, and results keep them
// for internal callers (login reads the hash) while what external callers and event listeners
// receive (context.dispatch) leaves them out, for single records, arrays and pages alike.
// External queries may not name a secret field, so a hash cannot be probed with $lt/$gt.
#pragma once

#include <plume/auth/password.hpp>
#include <plume/core/hooks.hpp>
#include <plume/core/schema.hpp>

#include <string>
#include <vector>

namespace plume::auth {

// The names of the schema's secret fields.
std::vector<std::string> secret_fields(const Schema& schema);

// Hooks for a service holding `fields`: before create/update/patch, hash them (on the
// authentication service's hashing pool, else on the app's workers); before every external call, refuse
// queries on them; after every call, set dispatch without them.
Hooks secret_field_hooks(std::vector<std::string> fields, int cost = default_bcrypt_cost);

// `value` (a record, an array of records or a page {total, limit, skip, data}) without `fields`.
Json without_fields(const Json& value, const std::vector<std::string>& fields);

}  // namespace plume::auth
