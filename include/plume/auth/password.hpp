// Password hashing with bcrypt, compatible with Feathers' local strategy (bcryptjs): new hashes
// are "$2b$" with cost 10 by default, and "$2a$", "$2b$" and "$2y$" hashes all verify. Hashing is
// deliberately slow, so it runs on PasswordHashing's own bounded pool, never on an I/O thread nor
// on the worker pool the stores use; the blocking functions are for those threads (and tests).
#pragma once

#include <plume/core/task.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

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

struct PasswordHashingOptions {
  std::size_t threads = 0;       // 0 = half the hardware threads, at least one
  std::size_t max_waiting = 32;  // hashes queued behind the running ones
};

// bcrypt on threads of its own: a login flood keeps them busy but cannot delay the store calls
// on the app's worker pool, and once `max_waiting` hashes wait, the next call fails at once with
// 503 Unavailable (data.retryAfter: 1) instead of queueing without bound.
class PasswordHashing {
 public:
  explicit PasswordHashing(PasswordHashingOptions options = {});
  ~PasswordHashing();
  PasswordHashing(const PasswordHashing&) = delete;
  PasswordHashing& operator=(const PasswordHashing&) = delete;

  // Runs blocking bcrypt work on the hashing threads; the caller resumes on its own executor.
  Task<void> run(std::function<void()> work);
  Task<std::string> hash(std::string password, int cost = default_bcrypt_cost);
  Task<bool> verify(std::string password, std::string hash);

  std::size_t threads() const noexcept { return pool_.size(); }

 private:
  WorkerPool pool_;
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};  // running and waiting
};

// True when `value` has the shape of a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters).
bool is_bcrypt_hash(std::string_view value) noexcept;

}  // namespace plume::auth
