#include "config/gateway_config.hpp"

#include <plume/auth/authentication.hpp>
#include <plume/auth/owner_rules.hpp>
#include <plume/auth/secret_fields.hpp>
#include <plume/config/logging.hpp>
#include <plume/config/node.hpp>
#include <plume/core/channels.hpp>
#include <plume/core/error.hpp>
#include <plume/store/store.hpp>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

namespace plume::config {

// Opened databases; they outlive the services using them.
struct Node::Stores {
  std::map<std::string, std::shared_ptr<store::SqliteDatabase>, std::less<>> sqlite;
  std::map<std::string, std::shared_ptr<store::PostgresDatabase>, std::less<>> postgres;
};

namespace {

std::shared_ptr<store::SqliteDatabase> open_database(const DatabaseConfig& database, const Config& config,
                                                     WorkerPool& workers) {
  const std::string key = "databases." + database.name;
  if (database.path.empty()) {
    throw ConfigError(key, config.origin(key), "expected sqlite://FILE, got \"" + database.url + "\"");
  }
  if (database.path != ":memory:") {
    const std::filesystem::path parent = std::filesystem::path(database.path).parent_path();
    std::error_code error;
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      throw ConfigError(key, config.origin(key),
                        "cannot create the directory " + parent.string() + ": " + error.message());
    }
  }
  try {
    return store::open_sqlite(database.path, workers);
  } catch (const std::exception& error) {
    throw ConfigError(key, config.origin(key), error.what());
  }
}

// The mesh is secure by default: no secret, no mesh.
void check_cluster(const Config& config) {
  if (!config.mesh) return;
  const mesh::MeshOptions& options = *config.mesh;
  if (options.secret.empty()) {
    throw ConfigError("mesh.secret", config.origin("mesh"),
                      "the mesh admits only nodes that prove the cluster secret; set one, e.g. "
                      "secret: ${PLUME_MESH_SECRET}");
  }
  if (options.discovery == "static" && options.peers.empty()) {
    throw ConfigError("mesh.peers", config.origin("mesh"),
                      "static discovery needs the peers to dial (peers: [ws://host:port])");
  }
  if (options.tls.mode == mesh::MeshTlsMode::Off) {
    for (std::size_t i = 0; i < options.peers.size(); ++i) {
      if (options.peers[i].starts_with("wss://")) {
        const std::string key = "mesh.peers[" + std::to_string(i) + "]";
        throw ConfigError(
            key, config.origin(key),
            "a wss:// peer needs TLS, and mesh.tls is off; write ws:// or remove mesh.tls: off");
      }
    }
  }
  if (options.remote_auth == "jwt" && (!config.authentication || config.authentication->secret.empty())) {
    throw ConfigError("mesh.remoteAuth", config.origin("mesh.remoteAuth"),
                      "remoteAuth: jwt needs the authentication section with a secret");
  }
}

// Parses the URL without connecting: a node starts while its database is down, and its
// services create their tables once a connection succeeds.
std::shared_ptr<store::PostgresDatabase> open_postgres_database(const DatabaseConfig& database,
                                                                const Config& config) {
  const std::string key = "databases." + database.name;
  try {
    return store::open_postgres(database.url);
  } catch (const std::exception& error) {
    throw ConfigError(key, config.origin(key), error.what());
  }
}

// Secrets shorter than this still work (Feathers accepts any), but are easier to guess.
constexpr std::size_t kRecommendedSecretBytes = 32;

// Owner rules compare records with the authenticated user: they need the authentication
// section, `self` names the users themselves, and a stamp never copies a secret (the user a hook
// sees is the stored entity, password hash included).
void check_owner_rule(const Config& config, const ServiceConfig& service) {
  const std::string key = "services." + service.path + ".owner";
  const auto& authentication = config.authentication;
  if (!authentication || authentication->secret.empty() || !authentication->entity) {
    throw ConfigError(key, config.origin(key),
                      "owner rules need the authentication section with a secret and an entity service "
                      "(authentication: { secret: ${PLUME_AUTH_SECRET}, service: users })");
  }
  const auth::OwnerRule& rule = *service.owner;
  if (rule.self && service.path != authentication->service) {
    throw ConfigError(key, config.origin(key),
                      "owner: self applies only on the authentication service (" + authentication->service +
                          "), whose records are the users");
  }
  const auto users = std::find_if(config.services.begin(), config.services.end(),
                                  [&](const ServiceConfig& s) { return s.path == authentication->service; });
  for (const auto& [to, from] : rule.stamp) {
    if (users == config.services.end()) break;
    if (const FieldSpec* field = users->store.schema.field(from); field != nullptr && field->secret) {
      const std::string stamp_key = key + ".stamp." + to;
      throw ConfigError(
          stamp_key, config.origin(stamp_key),
          "'" + from + "' is a secret field of " + authentication->service + " and is never copied");
    }
  }
}

// A service that asks for authentication must never be served open: without a usable
// `authentication` section the node refuses to start.
void check_authentication(const Config& config) {
  const auto& authentication = config.authentication;
  for (const auto& service : config.services) {
    if (service.auth && *service.auth == "jwt" && (!authentication || authentication->secret.empty())) {
      const std::string key = "services." + service.path + ".auth";
      throw ConfigError(key, config.origin(key),
                        "auth: jwt needs the authentication section with a secret "
                        "(authentication: { secret: ${PLUME_AUTH_SECRET} })");
    }
    if (service.owner) check_owner_rule(config, service);
  }
  if (!authentication) return;
  if (authentication->secret.empty()) {
    throw ConfigError("authentication.secret", config.origin("authentication.secret"),
                      "a non-empty secret is required, e.g. secret: ${PLUME_AUTH_SECRET}");
  }
  for (const auto& strategy : authentication->strategies) {
    if (strategy != "local" && strategy != "jwt") {
      const std::string key =
          config.resolved.as_object().contains("authentication") &&
                  config.resolved.at("authentication").as_object().contains("authStrategies")
              ? "authentication.authStrategies"
              : "authentication.strategies";
      throw ConfigError(key, config.origin(key),
                        "the " + strategy + " strategy is not available in this build");
    }
  }
  if (authentication->entity) {
    const bool found =
        std::any_of(config.services.begin(), config.services.end(),
                    [&](const ServiceConfig& service) { return service.path == authentication->service; });
    if (!found) {
      const std::string key = "authentication.service";
      throw ConfigError(
          key, config.origin(key),
          "the entity service \"" + authentication->service + "\" is not configured under services");
    }
  }
}

}  // namespace

transport::ServerOptions server_options(const Config& config) {
  transport::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  options.body_limit = config.limits.body_size;
  options.header_limit = config.limits.header_size;
  options.header_timeout = config.limits.header_timeout;
  options.body_timeout = config.limits.body_timeout;
  options.idle_timeout = config.limits.idle_timeout;
  options.shutdown_grace = config.limits.shutdown_timeout;
  options.max_connections = config.limits.max_connections;
  options.cors.enabled = config.cors_enabled;
  options.cors.origins = config.cors_origins;
  options.public_dir = config.public_dir;
  options.access_log = config.logging.access;
  options.socketio.enabled = config.realtime.enabled;
  options.socketio.ping_interval = config.realtime.ping_interval;
  options.socketio.ping_timeout = config.realtime.ping_timeout;
  options.socketio.max_payload = config.realtime.max_payload;
  options.socketio.max_sessions = config.realtime.max_sessions;
  options.socketio.max_unconnected = config.realtime.max_unconnected;
  options.admin.port = config.admin.port;
  options.admin.host = config.admin.host;
  options.admin.token_sha256 = config.admin.token_sha256;
  return options;
}

void check_supported(const Config& config) {
  check_authentication(config);
  check_cluster(config);
}

Node::Node(Config config) : config_(std::move(config)), stores_(std::make_unique<Stores>()) {
  check_supported(config_);

  app_ = std::make_unique<App>(AppOptions{.worker_threads = config_.workers});
  app_->settings() = config_.resolved;

  for (const auto& database : config_.databases) {
    if (database.kind == DatabaseKind::Postgres) {
      stores_->postgres[database.name] = open_postgres_database(database, config_);
      spdlog::info("database opened name={} url={}", database.name,
                   log_value(mask_secrets(JsonObject{{"url", database.url}}).at("url").as_string()));
      continue;
    }
    if (database.kind != DatabaseKind::Sqlite) continue;
    stores_->sqlite[database.name] = open_database(database, config_, app_->workers());
    spdlog::info("database opened name={} url={} path={}", database.name, log_value(database.url),
                 log_value(database.path));
  }

  for (const auto& service : config_.services) {
    store::StoreOptions options = service.store;
    std::unique_ptr<Service> implementation;
    std::string kind = "memory";
    if (auto sqlite = stores_->sqlite.find(service.database); sqlite != stores_->sqlite.end()) {
      implementation = store::make_sqlite_service(sqlite->second, service.table, std::move(options));
      kind = "sqlite";
    } else if (auto postgres = stores_->postgres.find(service.database);
               postgres != stores_->postgres.end()) {
      implementation = store::make_postgres_service(postgres->second, service.table, std::move(options));
      kind = "postgres";
    } else {
      implementation = store::make_memory_service(std::move(options));
    }
    ServiceEntry& entry = app_->use(service.path, std::move(implementation),
                                    ServiceOptions{.methods = service.methods, .events = service.events});
    // Authentication first, so that a caller without a token gets 401 before anything else.
    if (service.auth && *service.auth == "jwt") {
      Hooks hooks;
      if (service.auth_except.empty()) {
        hooks.before["all"].push_back(auth::authenticate());
      } else {
        for (const std::string& method : entry.methods()) {
          if (std::find(service.auth_except.begin(), service.auth_except.end(), method) ==
              service.auth_except.end()) {
            hooks.before[method].push_back(auth::authenticate());
          }
        }
      }
      entry.hooks(hooks);
    }
    if (service.owner) {
      // Owner rules need the caller's user, so every method they restrict is authenticated
      // whatever auth.except says; only a sign-up (create on `self`) stays as `auth` leaves it.
      const bool sign_up_open = service.owner->self && service.auth && *service.auth == "jwt" &&
                                std::find(service.auth_except.begin(), service.auth_except.end(), "create") !=
                                    service.auth_except.end();
      Hooks authenticated;
      for (const char* method : {"find", "get", "create", "update", "patch", "remove"}) {
        if (sign_up_open && std::string_view(method) == "create") continue;
        authenticated.before[method].push_back(auth::authenticate());
      }
      entry.hooks(authenticated);
      entry.hooks(auth::owner_hooks(*service.owner));
      // Where find is restricted, events are too; `realtime.publish: none` still sends nothing.
      const auto& restricted = service.owner->restricted_methods;
      const bool reads_restricted =
          std::find(restricted.begin(), restricted.end(), "find") != restricted.end() ||
          std::find(restricted.begin(), restricted.end(), "get") != restricted.end();
      if (reads_restricted && config_.realtime_publish != "none") {
        entry.publish(auth::owner_publisher(*service.owner));
      }
    }
    if (const std::vector<std::string> secrets = auth::secret_fields(service.store.schema);
        !secrets.empty()) {
      const int cost =
          config_.authentication ? config_.authentication->local.hash_cost : auth::default_bcrypt_cost;
      entry.hooks(auth::secret_field_hooks(secrets, cost));
    }
    spdlog::info("service path={} database={} store={} table={}", service.path, service.database, kind,
                 kind == "memory" ? "-" : service.table);
  }

  if (config_.authentication) {
    const auto& authentication = *config_.authentication;
    if (authentication.secret.size() < kRecommendedSecretBytes) {
      spdlog::warn("authentication secret is short bytes={} recommended={} file={}",
                   authentication.secret.size(), kRecommendedSecretBytes,
                   log_value(config_.origin("authentication.secret")));
    }
    auth::use_authentication(*app_, authentication);
    spdlog::info("authentication path=authentication service={} strategies={}", authentication.service,
                 fmt::format("{}", fmt::join(authentication.strategies, ",")));
  }

  // Real-time publishing without code: Feathers' generated channels (connections join
  // "anonymous", and "authenticated" once logged in) with every event sent to the audience
  // `realtime.publish` names. Code may add service publishers, which take precedence.
  if (config_.realtime_publish == "authenticated") {
    install_default_channels(*app_);
  } else if (config_.realtime_publish == "everyone") {
    app_->publish(publish_to_everyone());
  }
  spdlog::info("realtime publish={}", config_.realtime_publish);

  transport::ServerOptions options = server_options(config_);
  if (config_.authentication) {
    // A socket that brings `Authorization: Bearer <jwt>` to the handshake is logged in before
    // the server confirms it; a bad token refuses it with Feathers' CONNECT_ERROR.
    options.socketio.on_connect = [app = app_.get()](std::shared_ptr<Connection> connection) -> Task<void> {
      auto login = auth::authenticate_handshake(*app, std::move(connection));
      co_await std::move(login);
    };
  }
  server_ = std::make_unique<transport::Server>(*app_, std::move(options));
  for (const auto& database : config_.databases) {
    if (database.kind == DatabaseKind::Sqlite && database.path != ":memory:") {
      // The file going away (a deleted volume) makes the node not ready.
      server_->add_readiness_check("database:" + database.name, [path = database.path]() -> std::string {
        std::error_code error;
        if (std::filesystem::exists(path, error)) return {};
        return "database file " + path + " is missing";
      });
    } else if (auto postgres = stores_->postgres.find(database.name); postgres != stores_->postgres.end()) {
      // Down: why, from the pool's last attempt (never a blocking check on an I/O thread).
      server_->add_readiness_check("database:" + database.name, [postgres = postgres->second] {
        return store::postgres_readiness(*postgres);
      });
    } else {
      server_->add_readiness_check("database:" + database.name, [] { return std::string(); });
    }
  }
  assemble_cluster();
}

// The parts that connect this node to others: replica sync and the mesh.
void Node::assemble_cluster() {
  if (config_.sync) {
    sync_ = std::make_unique<mesh::ReplicaSync>(*app_, *config_.sync);
    server_->add_readiness_check("sync", [sync = sync_.get()] { return sync->readiness(); });
    spdlog::info("sync redis={} stream={}", log_value(config_.sync->redis), config_.sync->stream);
  }
  if (config_.mesh) {
    mesh::MeshOptions options = *config_.mesh;
    options.bind_host = config_.host;
    // A fixed port gives the node a stable id (<name>-<host:port>) across restarts.
    if (options.advertise.empty() && config_.port != 0 && config_.host != "0.0.0.0" && config_.host != "::") {
      options.advertise = config_.host + ":" + std::to_string(config_.port);
    }
    try {
      mesh_ = std::make_unique<mesh::Mesh>(*app_, *server_, std::move(options));
    } catch (const std::invalid_argument& error) {
      // A certificate, key or CA of mesh.tls that does not load.
      throw ConfigError("mesh.tls", config_.origin("mesh.tls"), error.what());
    }
    server_->add_readiness_check("mesh", [mesh = mesh_.get()] { return mesh->readiness(); });
  }
  for (const QueueConfig& queue : config_.queues) {
    queue::QueueOptions options;
    options.name = queue.name;
    options.redis = queue.redis;
    options.service = queue.service;
    options.method = queue.method;
    options.concurrency = queue.concurrency;
    options.max_attempts = static_cast<int>(queue.max_attempts);
    options.backoff = queue.backoff;
    options.backoff_max = queue.backoff_max;
    options.done_length = queue.done_length;
    try {
      queues_.push_back(std::make_unique<queue::Queue>(*app_, std::move(options)));
    } catch (const Error& error) {
      const std::string key = "queues." + queue.name;
      throw ConfigError(key, config_.origin(key), error.message());
    }
    server_->add_readiness_check("queue:" + queue.name,
                                 [q = queues_.back().get()] { return q->readiness(); });
    spdlog::info("queue name={} redis={} service={} method={} concurrency={}", queue.name,
                 log_value(queue.redis), queue.service, queue.method, queue.concurrency);
  }
  // After the mesh, so that /_mesh is matched before any proxy route; the gateway adds its own
  // readiness check.
  if (auto options = gateway_options(config_.resolved)) {
    const std::size_t routes = options->routes.size();
    gateway_ =
        std::make_unique<gateway::Gateway>(*app_, *server_, std::move(*options), config_.authentication);
    spdlog::info("gateway routes={}", routes);
  }
}

Node::~Node() = default;

std::uint16_t Node::start() {
  // Sync listens to the App's events: it starts before any call can run.
  if (sync_) sync_->start();
  const std::uint16_t port = server_->start();
  spdlog::info("listening name={} host={} port={} services={} databases={}", log_value(config_.name),
               config_.host, port, config_.services.size(), config_.databases.size());
  if (config_.admin.port) {
    spdlog::info("admin listening host={} port={} serves=/metrics,/mesh/nodes,/healthz,/readyz",
                 config_.admin.host, server_->admin_port());
  }
  // The mesh announces the bound port, so it starts once the server listens.
  if (mesh_) mesh_->start();
  if (gateway_) gateway_->start();
  for (auto& queue : queues_) queue->start();
  return port;
}

void Node::stop() {
  spdlog::info("stopping grace={}ms", config_.limits.shutdown_timeout.count());
  // Workers first (their jobs may still call through the mesh), then goodbye to the mesh so that
  // peers stop routing here before the server drains its in-flight calls.
  for (auto& queue : queues_) queue->stop();
  if (mesh_) mesh_->stop();
  if (gateway_) gateway_->stop();
  server_->stop();
  if (sync_) sync_->stop();
  spdlog::info("stopped");
}

}  // namespace plume::config
