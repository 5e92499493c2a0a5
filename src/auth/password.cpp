// bcrypt through libxcrypt: crypt_gensalt_rn makes the "$2b$" setting from OpenSSL random
// bytes, crypt_r hashes. Verification re-hashes with the stored hash as setting and compares
// the outputs in constant time (CRYPTO_memcmp).
#include <plume/auth/password.hpp>

#include <plume/core/error.hpp>

#include <algorithm>
#include <thread>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>

namespace plume::auth {
namespace {

// crypt_r takes a C string, so a password with a NUL byte would be cut short there (bcryptjs
// hashes such bytes); refuse it rather than hash less than was given.
std::string password_cstring(std::string_view password) {
  if (password.find('\0') != std::string_view::npos) {
    throw bad_request("Password must not contain NUL characters");
  }
  return std::string(password);
}

// crypt_r returns "*0"/"*1" or null on failure, depending on the build; normalise to null.
const char* checked(const char* result) {
  if (result == nullptr || result[0] == '*') return nullptr;
  return result;
}

}  // namespace

bool is_bcrypt_hash(std::string_view value) noexcept {
  // "$2a$10$" + 53 characters of salt and hash: 60 in all.
  if (value.size() != 60 || value[0] != '$' || value[1] != '2' || value[3] != '$' || value[6] != '$') {
    return false;
  }
  return value[2] == 'a' || value[2] == 'b' || value[2] == 'y';
}

std::string hash_password_blocking(std::string_view password, int cost) {
  if (cost < 4 || cost > 31) throw general_error("bcrypt cost must be between 4 and 31");
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw general_error("Could not generate a password salt");
  }
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(random.data()),
                       static_cast<int>(random.size()), setting.data(),
                       static_cast<int>(setting.size())) == nullptr) {
    throw general_error("Could not generate a password salt");
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string plain = password_cstring(password);
  const char* hashed = checked(crypt_r(plain.c_str(), setting.data(), data.get()));
  if (hashed == nullptr) throw general_error("Could not hash the password");
  return std::string(hashed);
}

bool verify_password_blocking(std::string_view password, std::string_view hash) {
  if (!is_bcrypt_hash(hash) || password.find('\0') != std::string_view::npos) return false;
  const std::string setting(hash);
  const std::string plain(password);
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* hashed = checked(crypt_r(plain.c_str(), setting.c_str(), data.get()));
  if (hashed == nullptr) return false;
  const std::size_t length = std::strlen(hashed);
  // $2y$ and $2a$ hashes come back with their own prefix, so the strings compare as they are.
  return length == hash.size() && CRYPTO_memcmp(hashed, hash.data(), length) == 0;
}

namespace {

std::size_t hashing_threads(std::size_t configured) {
  if (configured != 0) return configured;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2);
}

}  // namespace

PasswordHashing::PasswordHashing(PasswordHashingOptions options)
    : pool_(hashing_threads(options.threads)), max_pending_(pool_.size() + options.max_waiting) {}

PasswordHashing::~PasswordHashing() { pool_.stop(); }

Task<void> PasswordHashing::run(std::function<void()> work) {
  if (pending_.fetch_add(1) >= max_pending_) {
    pending_.fetch_sub(1);
    throw unavailable("Too many password checks are waiting; try again shortly",
                      JsonObject{{"retryAfter", 1}});
  }
  struct Release {
    std::atomic<std::size_t>& pending;
    ~Release() { pending.fetch_sub(1); }
  } release{pending_};
  co_await pool_.run(std::move(work));
}

Task<std::string> PasswordHashing::hash(std::string password, int cost) {
  std::string result;
  co_await run([&] { result = hash_password_blocking(password, cost); });
  co_return result;
}

Task<bool> PasswordHashing::verify(std::string password, std::string hash) {
  bool result = false;
  co_await run([&] { result = verify_password_blocking(password, hash); });
  co_return result;
}

Task<std::string> hash_password(WorkerPool& workers, std::string password, int cost) {
  std::string result;
  co_await workers.run([&] { result = hash_password_blocking(password, cost); });
  co_return result;
}

Task<bool> verify_password(WorkerPool& workers, std::string password, std::string hash) {
  bool result = false;
  co_await workers.run([&] { result = verify_password_blocking(password, hash); });
  co_return result;
}

}  // namespace plume::auth
