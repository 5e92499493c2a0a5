#include <plume/config/config.hpp>

#include "config/config_schema.hpp"
#include "config/config_tree.hpp"

#include <plume/core/digest.hpp>

#include <array>
#include <cctype>
#include <cstdlib>

namespace plume::config {
namespace {

constexpr std::array<std::string_view, 3> kExtensions = {".yaml", ".yml", ".json"};

std::optional<std::filesystem::path> find_named(const std::filesystem::path& dir, std::string_view stem) {
  std::optional<std::filesystem::path> found;
  for (auto extension : kExtensions) {
    std::filesystem::path candidate = dir / (std::string(stem) + std::string(extension));
    if (!std::filesystem::is_regular_file(candidate)) continue;
    if (found) {
      throw ConfigError("", dir.string(),
                        "both " + found->filename().string() + " and " + candidate.filename().string() +
                            " exist; keep one");
    }
    found = std::move(candidate);
  }
  return found;
}

std::vector<std::filesystem::path> files_to_read(const std::filesystem::path& path, const Environment& env) {
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error)) return {path};
  if (!std::filesystem::is_directory(path, error)) {
    throw ConfigError("", path.string(), "no such file or directory");
  }
  std::vector<std::filesystem::path> files;
  if (auto file = find_named(path, "default")) files.push_back(std::move(*file));
  const std::optional<std::string> deployment = env("PLUME_ENV");
  if (deployment && !deployment->empty()) {
    if (*deployment == "default")
      throw ConfigError("", "environment variable PLUME_ENV", "must not be \"default\"");
    if (auto file = find_named(path, *deployment)) files.push_back(std::move(*file));
  }
  if (files.empty()) {
    std::string expected = "default.yaml, default.yml or default.json";
    if (deployment && !deployment->empty()) expected += " (or " + *deployment + ".yaml)";
    throw ConfigError("", path.string(), "no configuration file; expected " + expected);
  }
  return files;
}

void apply_override(ConfigTree& tree, const Environment& env, std::string_view variable,
                    std::string_view key) {
  const std::optional<std::string> value = env(variable);
  if (!value || value->empty()) return;
  // Typed as a plain YAML scalar, so that PLUME_PORT=8080 is the integer 8080.
  tree.value.as_object()[key] = key == "host" ? Json(*value) : plain_scalar(*value);
  tree.origins[std::string(key)] = "environment variable " + std::string(variable);
}

const Json* member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.get_object().find(key);
  return found == object.get_object().end() ? nullptr : &found->value();
}

std::vector<std::string> strings(const Json* list) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  for (const auto& item : list->get_array()) out.emplace_back(item.get_string());
  return out;
}

// {default, max} -> pages; false -> pagination off for this service.
std::optional<PaginateOptions> paginate_options(const Json& value) {
  if (value.is_bool()) return std::nullopt;
  PaginateOptions options;
  if (const Json* limit = member(value, "default")) options.default_limit = limit->get_int64();
  if (const Json* max = member(value, "max")) options.max_limit = max->get_int64();
  return options;
}

DatabaseConfig database_config(std::string name, std::string url) {
  DatabaseConfig database;
  database.name = std::move(name);
  database.url = std::move(url);
  const std::string_view text = database.url;
  if (text.starts_with("memory://")) {
    database.kind = DatabaseKind::Memory;
  } else if (text.starts_with("sqlite://")) {
    database.kind = DatabaseKind::Sqlite;
    database.path = std::string(text.substr(std::string_view("sqlite://").size()));
  } else {
    database.kind = DatabaseKind::Postgres;
  }
  return database;
}

std::string default_table(std::string_view path) {
  std::string table;
  for (char c : path) {
    if (c == ':') continue;
    table += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return table;
}

// `owner: userId`, `owner: self`, or {field, exempt: [roles], stamp: {recordField: userField},
// restrict: [methods]}.
auth::OwnerRule owner_rule(const Json& value) {
  auth::OwnerRule rule;
  const Json* field = value.is_object() ? member(value, "field") : &value;
  if (field != nullptr) rule.field = field->get_string();
  rule.self = rule.field == "self";
  if (rule.self) rule.field.clear();
  rule.exempt = strings(member(value, "exempt"));
  if (const Json* methods = member(value, "restrict")) rule.restricted_methods = strings(methods);
  if (const Json* stamp = member(value, "stamp")) {
    for (const auto& [to, from] : stamp->get_object()) rule.stamp.emplace_back(to, from.get_string());
  }
  return rule;
}

// The id fields an owner rule compares, and the fields it writes added to a schema that would
// otherwise refuse them: the owner field typed as the users' ids, stamped fields as the users'
// fields they copy.
void complete_owner_rules(Config& config) {
  const ServiceConfig* users = nullptr;
  std::string user_id = "id";
  if (config.authentication) {
    user_id = config.authentication->entity_id;
    for (const auto& service : config.services) {
      if (service.path == config.authentication->service) users = &service;
    }
  }
  for (auto& service : config.services) {
    if (!service.owner) continue;
    auth::OwnerRule& rule = *service.owner;
    rule.id_field = service.store.id_field;
    rule.user_id_field = user_id;
    Schema& schema = service.store.schema;
    if (rule.self || schema.empty()) continue;
    FieldSpec owner;
    owner.name = rule.field;
    owner.type = users != nullptr && users->store.id_type == store::IdType::String ? FieldType::String
                                                                                   : FieldType::Integer;
    schema.add_field(std::move(owner));
    for (const auto& [to, from] : rule.stamp) {
      FieldSpec stamped;
      stamped.name = to;
      if (users != nullptr) {
        if (const FieldSpec* source = users->store.schema.field(from)) stamped.type = source->type;
      }
      schema.add_field(std::move(stamped));
    }
  }
}

ServiceConfig service_config(std::string path, const Json& value, const Config& config) {
  ServiceConfig service;
  service.path = std::move(path);
  service.table = default_table(service.path);
  if (const Json* database = member(value, "database")) service.database = database->get_string();
  if (const Json* table = member(value, "table")) service.table = table->get_string();
  if (const Json* id = member(value, "id")) service.store.id_field = id->get_string();
  if (const Json* id_type = member(value, "idType")) {
    service.store.id_type =
        id_type->get_string() == "string" ? store::IdType::String : store::IdType::Integer;
  }
  if (const Json* schema = member(value, "schema")) service.store.schema = Schema::from_json(*schema);
  if (const Json* additional = member(value, "additionalProperties")) {
    service.store.schema.set_additional_properties(additional->get_bool());
  }
  // The service's own pagination, else the node's default, else none.
  if (const Json* paginate = member(value, "paginate")) {
    service.store.paginate = paginate_options(*paginate);
  } else {
    service.store.paginate = config.paginate;
  }
  if (const Json* multi = member(value, "multi")) {
    if (multi->is_bool()) {
      if (multi->get_bool()) service.store.multi = {"create", "patch", "remove"};
    } else {
      service.store.multi = strings(multi);
    }
  }
  service.methods = strings(member(value, "methods"));
  service.events = strings(member(value, "events"));
  if (const Json* auth = member(value, "auth"); auth != nullptr && auth->is_object()) {
    // {strategy: jwt, except: [create]}: a users service whose sign-up is open.
    service.auth = "jwt";
    if (const Json* except = member(*auth, "except")) service.auth_except = strings(except);
  } else if (auth != nullptr && auth->is_string()) {
    service.auth = std::string(auth->get_string());
  }
  if (const Json* owner = member(value, "owner")) service.owner = owner_rule(*owner);
  for (const auto& database : config.databases) {
    if (database.name == service.database && database.kind != DatabaseKind::Memory) {
      service.store.operators = {"$like", "$ilike"};
    }
  }
  return service;
}

// The `authentication` section with Feathers' defaults for what it leaves out.
auth::AuthenticationOptions authentication_options(const Json& value, const Config& config) {
  auth::AuthenticationOptions options;
  if (const Json* secret = member(value, "secret")) options.secret = secret->get_string();
  if (const Json* service = member(value, "service")) options.service = service->get_string();
  if (const Json* entity = member(value, "entity")) {
    options.entity = entity->is_null() ? std::nullopt : std::optional<std::string>(entity->get_string());
  }
  // Feathers takes the entity id from the entity service's id when entityId is not set.
  for (const auto& service : config.services) {
    if (service.path == options.service) options.entity_id = service.store.id_field;
  }
  if (const Json* entity_id = member(value, "entityId")) options.entity_id = entity_id->get_string();
  if (const Json* strategies = member(value, "authStrategies")) options.strategies = strings(strategies);
  if (const Json* strategies = member(value, "strategies")) options.strategies = strings(strategies);
  if (const Json* jwt = member(value, "jwtOptions")) {
    if (const Json* header = member(*jwt, "header")) options.jwt.header = header->get_object();
    if (const Json* audience = member(*jwt, "audience")) options.jwt.audience = audience->get_string();
    if (const Json* issuer = member(*jwt, "issuer")) options.jwt.issuer = issuer->get_string();
    if (const Json* expires = member(*jwt, "expiresIn")) {
      options.jwt.expires_in = std::chrono::duration_cast<std::chrono::seconds>(*parse_duration(*expires));
    }
  }
  if (const Json* throttle = member(value, "throttle")) {
    auto& out = options.throttle;
    const auto limit = [](const Json& v, auth::ThrottleLimit& into) {
      if (const Json* n = member(v, "limit")) into.limit = static_cast<std::size_t>(n->get_int64());
      if (const Json* w = member(v, "window")) into.window = *parse_duration(*w);
    };
    if (throttle->is_bool()) {
      out.enabled = throttle->get_bool();
    } else {
      if (const Json* v = member(*throttle, "enabled")) out.enabled = v->get_bool();
      if (const Json* v = member(*throttle, "perAddress")) limit(*v, out.per_address);
      if (const Json* v = member(*throttle, "perAccount")) limit(*v, out.per_account);
    }
  }
  if (const Json* hashing = member(value, "hashing")) {
    if (const Json* v = member(*hashing, "threads"))
      options.hashing.threads = static_cast<std::size_t>(v->get_int64());
    if (const Json* v = member(*hashing, "maxWaiting"))
      options.hashing.max_waiting = static_cast<std::size_t>(v->get_int64());
  }
  if (const Json* local = member(value, "local")) {
    if (const Json* field = member(*local, "usernameField"))
      options.local.username_field = field->get_string();
    if (const Json* field = member(*local, "passwordField"))
      options.local.password_field = field->get_string();
    if (const Json* cost = member(*local, "hashSize"))
      options.local.hash_cost = static_cast<int>(cost->get_int64());
  }
  options.jwt.secret = options.secret;
  return options;
}

std::size_t count(const Json& value) { return static_cast<std::size_t>(value.get_int64()); }

std::string lower_hex(std::string_view hex) {
  std::string out(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

mesh::MeshOptions mesh_options(const Json& value, const Config& config) {
  mesh::MeshOptions options;
  options.name = config.name;
  if (const Json* v = member(value, "secret")) options.secret = v->get_string();
  if (const Json* v = member(value, "discovery")) options.discovery = v->get_string();
  if (const Json* v = member(value, "tls")) {
    if (v->is_object()) {
      options.tls.mode = mesh::MeshTlsMode::Certificates;
      if (const Json* f = member(*v, "cert")) options.tls.cert = f->get_string();
      if (const Json* f = member(*v, "key")) options.tls.key = f->get_string();
      if (const Json* f = member(*v, "ca")) options.tls.ca = f->get_string();
    } else if ((v->is_bool() && !v->get_bool()) || (v->is_string() && v->get_string() == "off")) {
      options.tls.mode = mesh::MeshTlsMode::Off;
    } else {
      options.tls.mode = mesh::MeshTlsMode::Psk;
    }
  }
  if (const Json* v = member(value, "peers")) options.peers = strings(v);
  if (const Json* v = member(value, "publish")) options.publish = strings(v);
  if (const Json* v = member(value, "consume")) options.consume = strings(v);
  if (const Json* v = member(value, "id")) options.node_id = v->get_string();
  if (const Json* v = member(value, "advertise")) options.advertise = v->get_string();
  if (const Json* multicast = member(value, "multicast")) {
    if (const Json* v = member(*multicast, "group")) options.multicast_group = v->get_string();
    if (const Json* v = member(*multicast, "port"))
      options.multicast_port = static_cast<std::uint16_t>(v->get_int64());
    if (const Json* v = member(*multicast, "interface")) options.multicast_interface = v->get_string();
    if (const Json* v = member(*multicast, "ttl"))
      options.multicast_ttl = static_cast<std::uint8_t>(v->get_int64());
  }
  if (const Json* v = member(value, "announceInterval")) options.announce_interval = *parse_duration(*v);
  if (const Json* v = member(value, "nodeTimeout")) options.node_timeout = *parse_duration(*v);
  if (const Json* v = member(value, "heartbeatInterval")) options.heartbeat_interval = *parse_duration(*v);
  if (const Json* v = member(value, "heartbeatTimeout")) options.heartbeat_timeout = *parse_duration(*v);
  if (const Json* v = member(value, "callTimeout")) options.call_timeout = *parse_duration(*v);
  if (const Json* v = member(value, "maxPending")) options.max_pending = count(*v);
  if (const Json* v = member(value, "retries")) options.retries = count(*v);
  if (const Json* v = member(value, "balance")) {
    options.balance =
        v->get_string() == "least-pending" ? mesh::Balance::LeastPending : mesh::Balance::RoundRobin;
  }
  if (const Json* breaker = member(value, "breaker")) {
    auto& out = options.breaker;
    if (const Json* v = member(*breaker, "enabled")) out.enabled = v->get_bool();
    if (const Json* v = member(*breaker, "threshold")) out.threshold = v->to_number<double>();
    if (const Json* v = member(*breaker, "minRequests")) out.min_requests = count(*v);
    if (const Json* v = member(*breaker, "window")) out.window = *parse_duration(*v);
    if (const Json* v = member(*breaker, "halfOpenAfter")) out.half_open_after = *parse_duration(*v);
  }
  if (const Json* v = member(value, "remoteAuth")) {
    options.remote_auth = v->get_string() == "none" ? std::string() : std::string(v->get_string());
  }
  return options;
}

mesh::SyncOptions sync_options(const Json& value) {
  mesh::SyncOptions options;
  if (const Json* v = member(value, "redis")) options.redis = v->get_string();
  if (const Json* v = member(value, "stream")) options.stream = v->get_string();
  if (const Json* v = member(value, "maxLength")) options.max_length = count(*v);
  return options;
}

QueueConfig queue_config(std::string name, const Json& value) {
  QueueConfig queue;
  queue.name = std::move(name);
  queue.service = queue.name;
  queue.redis = "redis://127.0.0.1:6379";
  if (const Json* v = member(value, "redis")) queue.redis = v->get_string();
  if (const Json* v = member(value, "service")) queue.service = v->get_string();
  if (const Json* v = member(value, "method")) queue.method = v->get_string();
  if (const Json* v = member(value, "concurrency")) queue.concurrency = count(*v);
  if (const Json* v = member(value, "maxAttempts")) queue.max_attempts = count(*v);
  if (const Json* v = member(value, "backoff")) queue.backoff = *parse_duration(*v);
  if (const Json* v = member(value, "backoffMax")) queue.backoff_max = *parse_duration(*v);
  if (const Json* v = member(value, "doneLength")) queue.done_length = count(*v);
  return queue;
}

Config typed_config(ConfigTree& tree) {
  Config config;
  const Json& root = tree.value;
  if (const Json* name = member(root, "name")) config.name = name->get_string();
  if (const Json* host = member(root, "host")) config.host = host->get_string();
  if (const Json* port = member(root, "port")) config.port = static_cast<std::uint16_t>(port->get_int64());
  if (const Json* threads = member(root, "threads"))
    config.threads = static_cast<std::size_t>(threads->get_int64());
  if (const Json* workers = member(root, "workers"))
    config.workers = static_cast<std::size_t>(workers->get_int64());
  if (const Json* dir = member(root, "public")) config.public_dir = std::string(dir->get_string());
  if (const Json* paginate = member(root, "paginate")) config.paginate = paginate_options(*paginate);

  if (const Json* databases = member(root, "databases")) {
    for (const auto& [name, url] : databases->get_object()) {
      config.databases.push_back(database_config(std::string(name), std::string(url.get_string())));
    }
  }
  if (const Json* services = member(root, "services")) {
    for (const auto& [path, value] : services->get_object()) {
      config.services.push_back(service_config(std::string(path), value, config));
    }
  }
  if (const Json* authentication = member(root, "authentication")) {
    config.authentication = authentication_options(*authentication, config);
  }
  complete_owner_rules(config);
  config.realtime_publish = config.authentication ? "authenticated" : "everyone";
  if (const Json* realtime = member(root, "realtime")) {
    if (const Json* publish = member(*realtime, "publish")) config.realtime_publish = publish->get_string();
    auto& out = config.realtime;
    if (const Json* v = member(*realtime, "enabled")) out.enabled = v->get_bool();
    if (const Json* v = member(*realtime, "pingInterval")) out.ping_interval = *parse_duration(*v);
    if (const Json* v = member(*realtime, "pingTimeout")) out.ping_timeout = *parse_duration(*v);
    if (const Json* v = member(*realtime, "maxPayload")) out.max_payload = *parse_size(*v);
    if (const Json* v = member(*realtime, "maxSessions")) out.max_sessions = count(*v);
    if (const Json* v = member(*realtime, "maxUnconnected")) out.max_unconnected = count(*v);
  }
  if (Json* admin = tree.value.as_object().if_contains("admin")) {
    auto& out = config.admin;
    if (const Json* v = member(*admin, "host")) out.host = v->get_string();
    if (const Json* v = member(*admin, "port")) out.port = static_cast<std::uint16_t>(v->get_int64());
    if (const Json* v = member(*admin, "tokenSha256")) out.token_sha256 = lower_hex(v->get_string());
    if (const Json* v = member(*admin, "token")) {
      // Kept only as its hash: the token itself leaves neither the settings nor `plume check`.
      out.token_sha256 = sha256_hex(v->get_string());
      admin->as_object().erase("token");
      admin->as_object()["tokenSha256"] = out.token_sha256;
    }
  }
  if (const Json* logging = member(root, "logging")) {
    if (const Json* level = member(*logging, "level")) config.logging.level = level->get_string();
    if (const Json* format = member(*logging, "format")) config.logging.json = format->get_string() == "json";
    if (const Json* access = member(*logging, "access")) config.logging.access = access->get_bool();
  }
  if (const Json* limits = member(root, "limits")) {
    auto& out = config.limits;
    if (const Json* v = member(*limits, "bodySize")) out.body_size = *parse_size(*v);
    if (const Json* v = member(*limits, "headerSize")) out.header_size = *parse_size(*v);
    if (const Json* v = member(*limits, "headerTimeout")) out.header_timeout = *parse_duration(*v);
    if (const Json* v = member(*limits, "bodyTimeout")) out.body_timeout = *parse_duration(*v);
    if (const Json* v = member(*limits, "idleTimeout")) out.idle_timeout = *parse_duration(*v);
    if (const Json* v = member(*limits, "shutdownTimeout")) out.shutdown_timeout = *parse_duration(*v);
    if (const Json* v = member(*limits, "maxConnections"))
      out.max_connections = static_cast<std::size_t>(v->get_int64());
  }
  if (const Json* cors = member(root, "cors")) {
    if (cors->is_bool()) {
      config.cors_enabled = cors->get_bool();
    } else if (const Json* origins = member(*cors, "origins")) {
      config.cors_origins = origins->is_string()
                                ? std::vector<std::string>{std::string(origins->get_string())}
                                : strings(origins);
    }
  }
  if (const Json* mesh = member(root, "mesh")) config.mesh = mesh_options(*mesh, config);
  if (const Json* sync = member(root, "sync")) config.sync = sync_options(*sync);
  if (const Json* queues = member(root, "queues")) {
    for (const auto& [name, value] : queues->get_object()) {
      config.queues.push_back(queue_config(std::string(name), value));
    }
  }
  config.resolved = std::move(tree.value);
  return config;
}

}  // namespace

ConfigError::ConfigError(std::string key, std::string origin, std::string problem)
    : std::runtime_error([&] {
        std::string message;
        if (!origin.empty()) message += origin + ": ";
        if (!key.empty()) message += key + ": ";
        return message + problem;
      }()),
      key_(std::move(key)),
      origin_(std::move(origin)),
      problem_(std::move(problem)) {}

std::string Config::origin(std::string_view key) const {
  const auto found = origins.find(key);
  if (found != origins.end()) return found->second;
  return files.empty() ? std::string() : files.back().string();
}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config load_config(const std::filesystem::path& path, const Environment& env) {
  const std::vector<std::filesystem::path> files = files_to_read(path, env);
  ConfigTree tree;
  tree.origins[""] = files.front().string();
  for (const auto& file : files) merge_into(tree, read_config_file(file, env));
  apply_override(tree, env, "PLUME_HOST", "host");
  apply_override(tree, env, "PLUME_PORT", "port");
  validate_config(tree);
  Config config = typed_config(tree);
  config.files = files;
  config.origins = std::move(tree.origins);
  return config;
}

}  // namespace plume::config
