// Password hashing with bcrypt, compatible with Feathers' local strategy (bcryptjs): new hashes
// are "$2b$" with cost 10 by default, and "$2a$", "$2b$" and "$2y$" hashes all verify. Hashing is
// deliberately slow, so the Task functions run it on the app's worker pool, never on an I/O
// thread; the blocking functions are for those workers (and tests).
#pragma once

#include <plume/core/task.hpp>

#include <string>
#include <string_view>

namespace plume {
class WorkerPool;
}

namespace plume::auth {

// bcryptjs' default cost.
inline constexpr int default_bcrypt_cost = 10;

// Blocking: a new "$2b$<cost>$..." hash of `password` with a random salt.
std::string hash_password_blocking(std::string_view password, int cost = default_bcrypt_cost);
// Blocking: true when `password` matches the bcrypt `hash` ($2a$, $2b$ or $2y$). A malformed
// hash never matches. The comparison is constant-time.
bool verify_password_blocking(std::string_view password, std::string_view hash);

// The same on `workers`; the caller resumes on its own executor.
Task<std::string> hash_password(WorkerPool& workers, std::string password, int cost = default_bcrypt_cost);
Task<bool> verify_password(WorkerPool& workers, std::string password, std::string hash);

// True when `value` has the shape of a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters).
bool is_bcrypt_hash(std::string_view value) noexcept;

}  // namespace plume::auth
