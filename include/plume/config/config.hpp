// Config is a node's configuration as `plume serve` and `plume check` load it: YAML or JSON files
// (a directory holds default.* then <PLUME_ENV>.*, deep-merged as node-config does), ${VAR} and
// ${VAR:-default} taken from the environment, PLUME_HOST and PLUME_PORT overrides, every key
// checked against the known sections. A bad key fails with its path, its file and what was expected.
//
// Relative paths in the configuration (sqlite://data/app.db, public: ./public) are resolved
// against the current working directory, as node-config apps resolve theirs.
#pragma once

#include <plume/auth/authentication.hpp>
#include <plume/auth/owner_rules.hpp>
#include <plume/core/json.hpp>
#include <plume/core/params.hpp>
#include <plume/mesh/mesh.hpp>
#include <plume/mesh/sync.hpp>
#include <plume/store/store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plume::config {

// A configuration that cannot be used: names the key path ("services.messages.paginate"), the
// file (and line) the key came from, and what was expected. `plume` exits with status 1 on it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, std::string origin, std::string problem);

  const std::string& key() const noexcept { return key_; }
  // "config/default.yaml:12", "environment variable PLUME_PORT", or empty when unknown.
  const std::string& origin() const noexcept { return origin_; }
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string key_;
  std::string origin_;
  std::string problem_;
};

// Reads an environment variable; the default reads the process environment. Tests pass their own.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

enum class DatabaseKind { Memory, Sqlite, Postgres };

struct DatabaseConfig {
  std::string name;
  std::string url;  // as written (postgres passwords are masked only when printed)
  DatabaseKind kind = DatabaseKind::Memory;
  std::string path;  // sqlite: the file, relative to the working directory unless absolute
};

struct ServiceConfig {
  std::string path;
  std::string database = "memory";   // "memory" or a key of `databases`
  std::string table;                 // default: the path, with '/' turned into '_'
  store::StoreOptions store;         // id, idType, paginate (resolved), multi, schema, operators
  std::vector<std::string> methods;  // empty: every method the service implements
  std::vector<std::string> events;
  std::optional<std::string> auth;       // "jwt": every call from outside needs a valid token; "none"
  std::vector<std::string> auth_except;  // methods open to anyone despite `auth: jwt`
  // `owner: userId`, `owner: self` or `{field, exempt, stamp}`: each user sees and changes only
  // their own records (id fields filled in from the store and the authentication section).
  std::optional<auth::OwnerRule> owner;
};

struct LoggingConfig {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  bool json = false;           // format: json (one object per line) or text (key=value)
  bool access = false;         // one line per HTTP request
};

struct LimitsConfig {
  std::size_t body_size = 1024 * 1024;
  std::size_t header_size = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::size_t max_connections = 10'000;
};

// The `realtime` section: Socket.io at /socket.io/ and what its connections receive.
struct RealtimeConfig {
  bool enabled = true;
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  std::size_t max_payload = 1'000'000;
  std::size_t max_sessions = 10'000;
  std::size_t max_unconnected = 1'000;
};

// The `admin` section: where /metrics and mesh/nodes are served (transport::AdminOptions).
struct AdminConfig {
  std::optional<std::uint16_t> port;  // a listener of their own; absent: loopback on the main port
  std::string host = "127.0.0.1";
  std::string token_sha256;  // lower-case hex; `token` is hashed when the configuration loads
};

// `queues.<name>`: workers that take jobs from the Redis list <name>.queue and call a service.
struct QueueConfig {
  std::string name;
  std::string redis;
  std::string service;
  std::string method = "create";
  std::size_t concurrency = 1;
  std::size_t max_attempts = 5;
  std::chrono::milliseconds backoff{1'000};
  std::chrono::milliseconds backoff_max{60'000};
  std::size_t done_length = 1'000;
};

struct Config {
  std::string name = "plume";
  std::string host = "127.0.0.1";
  std::uint16_t port = 3030;
  std::size_t threads = 0;  // I/O threads; 0 = one per core
  std::size_t workers = 0;  // threads for blocking work (SQLite); 0 = the App's default
  std::optional<std::string> public_dir;
  std::optional<PaginateOptions> paginate;  // the default for services without their own
  std::vector<DatabaseConfig> databases;
  std::vector<ServiceConfig> services;
  LoggingConfig logging;
  LimitsConfig limits;
  // The `authentication` section (Feathers' names and defaults); absent when not configured.
  // entity_id defaults to the id field of the entity service.
  std::optional<auth::AuthenticationOptions> authentication;
  // Which real-time connections receive service events (`realtime.publish`): "authenticated"
  // (the default when an authentication section exists, as in a generated Feathers app),
  // "everyone" (the default without one), or "none".
  std::string realtime_publish;
  RealtimeConfig realtime;
  AdminConfig admin;
  bool cors_enabled = true;
  std::vector<std::string> cors_origins = {"*"};
  // The mesh (services across nodes), replica sync and job queues; absent when not configured.
  std::optional<mesh::MeshOptions> mesh;
  std::optional<mesh::SyncOptions> sync;
  std::vector<QueueConfig> queues;

  // The merged configuration after substitution and overrides, as the files spell it.
  Json resolved;
  // The files read, in merge order.
  std::vector<std::filesystem::path> files;
  // Key path ("databases.main") -> where its value came from ("config/default.yaml:4").
  std::map<std::string, std::string, std::less<>> origins;

  // Where the value at `key` came from, for errors found after loading.
  std::string origin(std::string_view key) const;
};

// Loads `path`: a file (.yaml, .yml or .json) or a directory holding default.* and, when the
// environment sets PLUME_ENV, <PLUME_ENV>.*. Throws ConfigError.
Config load_config(const std::filesystem::path& path, const Environment& env = process_environment());

// Durations: "500ms", "10s", "1m", "2h", "1d" or a bare number of milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(const Json& value);
// Sizes: "512b", "16kb", "1mb", "1gb" (powers of 1024, case-insensitive) or a bare number of bytes.
std::optional<std::size_t> parse_size(const Json& value);

// A copy of `resolved` safe to print: values of keys named secret or password (any case, any
// prefix such as clientSecret) and the password of any URL with user:password@ become "****".
Json mask_secrets(const Json& resolved);
// YAML text of a configuration value; strings that YAML would read as another type are quoted.
std::string to_yaml(const Json& value);
// Indented JSON text of a configuration value.
std::string to_pretty_json(const Json& value);

}  // namespace plume::config
