#include "config/config_schema.hpp"

#include "gateway/route_table.hpp"

#include <plume/core/error.hpp>
#include <plume/core/schema.hpp>

#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace plume::config {
namespace {

// Where a value sits: its key path and the file:line it came from.
struct Place {
  const Origins* origins;
  std::string path;
  std::string origin;

  Place child(std::string_view key) const {
    std::string child = child_path(path, key);
    std::string child_origin = origin_of(*origins, child, origin);
    return {origins, std::move(child), std::move(child_origin)};
  }
  Place at(std::size_t index) const {
    std::string child = index_path(path, index);
    std::string child_origin = origin_of(*origins, child, origin);
    return {origins, std::move(child), std::move(child_origin)};
  }
  [[noreturn]] void fail(std::string problem) const { throw ConfigError(path, origin, std::move(problem)); }
};

std::string describe(const Json& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "nothing (null)";
    case boost::json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case boost::json::kind::string:
      return "\"" + std::string(value.get_string()) + "\"";
    case boost::json::kind::object:
      return "a map";
    case boost::json::kind::array:
      return "a list";
    default:
      return to_json_text(value);
  }
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// A rule accepts values of some JSON kinds (`applies`) and then checks them further.
struct Rule {
  std::string expected;
  std::function<bool(const Json&)> applies;
  std::function<void(const Json&, const Place&)> check;

  void operator()(const Json& value, const Place& place) const {
    if (!applies(value)) place.fail("expected " + expected + ", got " + describe(value));
    if (check) check(value, place);
  }
};

bool is_string(const Json& v) { return v.is_string(); }
bool is_object(const Json& v) { return v.is_object(); }

Rule text() { return {"a string", is_string, nullptr}; }

Rule boolean() {
  return {"true or false", [](const Json& v) { return v.is_bool(); }, nullptr};
}

Rule literal_false() {
  return {"false", [](const Json& v) { return v.is_bool() && !v.get_bool(); }, nullptr};
}

Rule integer(std::int64_t min = std::numeric_limits<std::int64_t>::min(),
             std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
  std::string expected = "an integer";
  if (min != std::numeric_limits<std::int64_t>::min() && max != std::numeric_limits<std::int64_t>::max()) {
    expected += " from " + std::to_string(min) + " to " + std::to_string(max);
  } else if (min != std::numeric_limits<std::int64_t>::min()) {
    expected += min == 0 ? " (0 or more)" : " (" + std::to_string(min) + " or more)";
  }
  return {expected,
          [min, max](const Json& v) { return v.is_int64() && v.get_int64() >= min && v.get_int64() <= max; },
          nullptr};
}

Rule one_of(std::vector<std::string> names) {
  std::string expected = "one of: " + join(names);
  return {expected,
          [names = std::move(names)](const Json& v) {
            if (!v.is_string()) return false;
            for (const auto& name : names) {
              if (v.get_string() == name) return true;
            }
            return false;
          },
          nullptr};
}

Rule url(std::vector<std::string> schemes, std::string example) {
  return {"a URL like " + example,
          [schemes = std::move(schemes)](const Json& v) {
            if (!v.is_string()) return false;
            for (const auto& scheme : schemes) {
              if (std::string_view(v.get_string()).starts_with(scheme + "://")) return true;
            }
            return false;
          },
          nullptr};
}

Rule duration() {
  return {"a duration like 500ms, 10s, 1m or a number of milliseconds",
          [](const Json& v) { return parse_duration(v).has_value(); }, nullptr};
}

Rule size() {
  return {"a size like 512b, 16kb, 1mb or a number of bytes",
          [](const Json& v) { return parse_size(v).has_value(); }, nullptr};
}

Rule list(Rule item) {
  return {"a list of " + item.expected, [](const Json& v) { return v.is_array(); },
          [item](const Json& v, const Place& place) {
            for (std::size_t i = 0; i < v.get_array().size(); ++i) item(v.get_array()[i], place.at(i));
          }};
}

// A map whose keys are names chosen by the user (databases, services, queues...).
Rule map_of(Rule value, std::string expected = "a map") {
  return {std::move(expected), is_object, [value](const Json& v, const Place& place) {
            for (const auto& [key, item] : v.get_object()) value(item, place.child(key));
          }};
}

// A map with known keys only; a key outside them is a typo and fails naming the choices.
Rule object(std::vector<std::pair<std::string, Rule>> keys, std::string expected = "a map") {
  return {std::move(expected), is_object, [keys = std::move(keys)](const Json& v, const Place& place) {
            for (const auto& [key, item] : v.get_object()) {
              const Rule* rule = nullptr;
              for (const auto& [name, candidate] : keys) {
                if (name == key) rule = &candidate;
              }
              if (rule == nullptr) {
                std::vector<std::string> names;
                for (const auto& [name, candidate] : keys) names.push_back(name);
                place.child(key).fail("unknown key; expected one of: " + join(names));
              }
              (*rule)(item, place.child(key));
            }
          }};
}

// The first rule that applies to the value's kind checks it (so that errors inside a map are
// reported precisely); when none applies, the error lists every alternative.
Rule either(std::vector<Rule> rules) {
  std::string expected;
  for (const auto& rule : rules) expected += (expected.empty() ? "" : " or ") + rule.expected;
  return {expected,
          [rules](const Json& v) {
            for (const auto& rule : rules) {
              if (rule.applies(v)) return true;
            }
            return false;
          },
          [rules](const Json& v, const Place& place) {
            for (const auto& rule : rules) {
              if (rule.applies(v)) return rule(v, place);
            }
          }};
}

Rule with_check(Rule rule, std::function<void(const Json&, const Place&)> extra) {
  auto inner = rule.check;
  rule.check = [inner, extra](const Json& v, const Place& place) {
    if (inner) inner(v, place);
    extra(v, place);
  };
  return rule;
}

Rule paginate() {
  Rule pages = object({{"default", integer(1)}, {"max", integer(1)}}, "{default, max}");
  return either({with_check(pages,
                            [](const Json& v, const Place& place) {
                              const auto& o = v.get_object();
                              if (o.contains("default") && o.contains("max") &&
                                  o.at("default").get_int64() > o.at("max").get_int64()) {
                                place.child("default").fail("expected at most paginate.max (" +
                                                            to_json_text(o.at("max")) + "), got " +
                                                            to_json_text(o.at("default")));
                              }
                            }),
                 literal_false()});
}

// A service's schema is checked by the schema itself; its message is reported at the key.
Rule service_schema() {
  return {"a map of fields ({text: {type: string}})", is_object, [](const Json& v, const Place& place) {
            try {
              (void)Schema::from_json(v);
            } catch (const Error& error) {
              place.fail(error.message());
            }
          }};
}

Rule identifier() {
  return with_check(text(), [](const Json& v, const Place& place) {
    if (v.get_string().empty()) place.fail("expected a method name, got \"\"");
  });
}

// `owner: userId` (the field naming the record's owner), `owner: self` (the record is the user)
// or the full form {field, exempt: [roles], stamp: {recordField: userField}, restrict: [methods]}.
Rule owner() {
  Rule field = with_check(text(), [](const Json& v, const Place& place) {
    if (v.get_string().empty()) place.fail("expected the field naming the owner (userId) or self, got \"\"");
  });
  field.expected = "a field naming the owner (userId) or self";
  Rule full =
      with_check(object({{"field", field},
                         {"exempt", list(text())},
                         {"stamp", map_of(text(), "a map of record fields to the user fields they copy")},
                         {"restrict", list(one_of({"find", "get", "update", "patch", "remove"}))}},
                        "{field, exempt: [roles], stamp: {recordField: userField}, restrict: [methods]}"),
                 [](const Json& v, const Place& place) {
                   if (!v.get_object().contains("field")) {
                     place.child("field").fail("expected the field naming the owner (userId) or self");
                   }
                 });
  return either({field, full});
}

Rule service() {
  return object({
      {"database", text()},
      {"table", text()},
      {"id", text()},
      {"idType", one_of({"integer", "string"})},
      {"schema", service_schema()},
      {"paginate", paginate()},
      {"multi", either({boolean(), list(one_of({"create", "patch", "remove"}))})},
      {"methods", list(identifier())},
      {"events", list(identifier())},
      {"auth", either({one_of({"jwt", "none"}), literal_false(),
                       object({{"strategy", one_of({"jwt"})}, {"except", list(identifier())}},
                              "{strategy: jwt, except: [methods open to anyone]}")})},
      {"owner", owner()},
      {"additionalProperties", boolean()},
  });
}

// {limit, window}: a burst of `limit` failures, then one per window / limit; limit 0 turns it off.
Rule throttle_limit() { return object({{"limit", integer(0)}, {"window", duration()}}, "{limit, window}"); }

Rule authentication() {
  Rule strategies = list(one_of({"local", "jwt", "apikey"}));
  return object({
      {"secret", text()},
      {"service", text()},
      {"entity", either({text(), Rule{"null", [](const Json& v) { return v.is_null(); }, nullptr}})},
      {"entityId", text()},
      {"strategies", strategies},
      {"authStrategies", strategies},  // Feathers' spelling
      {"jwtOptions", object({{"header", map_of(text(), "a map of header names to values")},
                             {"audience", text()},
                             {"issuer", text()},
                             // HS256 only: tokens are checked with exactly this algorithm.
                             {"algorithm", one_of({"HS256"})},
                             {"expiresIn", duration()}})},
      {"local", object({{"usernameField", text()}, {"passwordField", text()}, {"hashSize", integer(4, 31)}})},
      {"throttle", either({boolean(), object({{"enabled", boolean()},
                                              {"perAddress", throttle_limit()},
                                              {"perAccount", throttle_limit()}})})},
      {"hashing", object({{"threads", integer(0, 1024)}, {"maxWaiting", integer(0)}})},
      {"apikey", object({{"header", text()}, {"keys", list(text())}})},
  });
}

Rule redis_url() { return url({"redis"}, "redis://127.0.0.1:6379"); }

Rule mesh() {
  Rule discovery = either({one_of({"udp", "static"}), redis_url()});
  discovery.expected = "udp, static or a redis:// URL";
  return object({
      {"secret", text()},
      {"discovery", discovery},
      {"peers", list(url({"ws", "wss"}, "ws://host:port"))},
      // psk (the default): TLS 1.3 keyed from the secret; {cert, key, ca}: certificates verified
      // both ways; off or false: plaintext links.
      {"tls",
       either({one_of({"psk", "off"}), literal_false(),
               with_check(object({{"cert", text()}, {"key", text()}, {"ca", text()}}, "{cert, key, ca}"),
                          [](const Json& v, const Place& place) {
                            for (const char* key : {"cert", "key", "ca"}) {
                              if (!v.get_object().contains(key)) {
                                place.child(key).fail(
                                    "expected a PEM file (cert, key and ca are all needed)");
                              }
                            }
                          })})},
      {"publish", list(text())},
      {"consume", list(text())},
      {"id", text()},
      {"advertise", text()},
      {"multicast", object({{"group", text()},
                            {"port", integer(1, 65535)},
                            {"interface", text()},
                            {"ttl", integer(0, 255)}})},
      {"announceInterval", duration()},
      {"nodeTimeout", duration()},
      {"heartbeatInterval", duration()},
      {"heartbeatTimeout", duration()},
      {"callTimeout", duration()},
      {"maxPending", integer(1)},
      {"retries", integer(0, 10)},
      {"balance", one_of({"round-robin", "least-pending"})},
      {"breaker", object({{"enabled", boolean()},
                          {"threshold", Rule{"a number between 0 and 1",
                                             [](const Json& v) {
                                               return v.is_number() && v.to_number<double>() > 0 &&
                                                      v.to_number<double>() <= 1;
                                             },
                                             nullptr}},
                          {"minRequests", integer(1)},
                          {"window", duration()},
                          {"halfOpenAfter", duration()}})},
      {"remoteAuth", one_of({"jwt", "none"})},
  });
}

Rule sync() { return object({{"redis", redis_url()}, {"stream", text()}, {"maxLength", integer(1)}}); }

Rule queue() {
  return object({{"redis", redis_url()},
                 {"service", text()},
                 {"method", identifier()},
                 {"concurrency", integer(0, 1024)},
                 {"maxAttempts", integer(1)},
                 {"backoff", duration()},
                 {"backoffMax", duration()},
                 {"doneLength", integer(1)}});
}

Rule gateway() {
  Rule rate_limit = with_check(
      object({{"second", integer(1)},
              {"minute", integer(1)},
              {"hour", integer(1)},
              {"limit", integer(1)},
              {"window", duration()},
              {"by", one_of({"consumer", "ip", "header"})},
              {"header", text()},
              {"store", one_of({"local", "redis"})},
              {"redis", redis_url()},
              {"faultTolerant", boolean()}}),
      [](const Json& v, const Place& place) {
        const auto& o = v.get_object();
        if (!o.contains("second") && !o.contains("minute") && !o.contains("hour") && !o.contains("limit")) {
          place.fail("expected at least one of second, minute, hour or limit");
        }
        if (o.contains("by") && o.at("by") == "header" && !o.contains("header")) {
          place.child("header").fail("expected the header that keys the limit (by: header)");
        }
        // Kong's rule: a longer period allows at least as many requests as a shorter one.
        const char* periods[] = {"second", "minute", "hour"};
        std::int64_t previous = 0;
        for (const char* period : periods) {
          if (!o.contains(period)) continue;
          std::int64_t limit = o.at(period).get_int64();
          if (limit < previous) place.child(period).fail("expected at least the limit of the shorter period");
          previous = limit;
        }
      });
  Rule health_check = object({{"path", text()},
                              {"interval", duration()},
                              {"timeout", duration()},
                              {"healthy", integer(1)},
                              {"unhealthy", integer(1)}});
  Rule target = url({"http"}, "http://127.0.0.1:4000");
  Rule route_object = with_check(
      object({{"target", target},
              {"targets", list(target)},
              {"changeOrigin", boolean()},
              {"pathRewrite", with_check(map_of(text(), "a map of patterns to replacements"),
                                         [](const Json& v, const Place& place) {
                                           for (const auto& [pattern, replacement] : v.get_object()) {
                                             if (auto why = gateway::pattern_error(pattern); !why.empty()) {
                                               place.child(pattern).fail(
                                                   "expected a regular expression (RE2 syntax): " + why);
                                             }
                                           }
                                         })},
              {"ws", boolean()},
              {"xfwd", boolean()},
              {"forwarded", one_of({"drop", "keep"})},
              {"headers", map_of(text(), "a map of header names to values")},
              {"timeout", duration()},
              {"proxyTimeout", duration()},
              {"retries", integer(0, 10)},
              {"auth", one_of({"jwt", "apikey", "none"})},
              {"stripAuthorization", boolean()},
              {"rateLimit", rate_limit},
              {"healthCheck", health_check},
              {"balance", one_of({"round-robin", "least-connections", "hash"})},
              {"hashOn", with_check(text(),
                                    [](const Json& v, const Place& place) {
                                      std::string_view on = v.get_string();
                                      if (on != "ip" && !(on.starts_with("header:") && on.size() > 7)) {
                                        place.fail("expected ip or header:<name>, got \"" + std::string(on) +
                                                   "\"");
                                      }
                                    })},
              {"cors", either({boolean(), object({{"origins", either({text(), list(text())})}})})},
              {"bodyLimit", size()}},
             "a target URL or a map {target, changeOrigin, pathRewrite, ...}"),
      [](const Json& v, const Place& place) {
        const auto& o = v.get_object();
        if (!o.contains("target") && !o.contains("targets")) place.fail("expected target or targets");
      });
  Rule route = either({target, route_object});
  Rule table = map_of(route, "a map of path prefixes, hosts or host/path to routes");
  Rule apikey = with_check(object({{"consumer", text()}, {"key", text()}, {"sha256", text()}},
                                  "{consumer, key} or {consumer, sha256}"),
                           [](const Json& v, const Place& place) {
                             const auto& o = v.get_object();
                             if (!o.contains("consumer"))
                               place.child("consumer").fail("expected the consumer's name");
                             if (o.contains("key") == o.contains("sha256")) {
                               place.fail("expected exactly one of key or sha256 (the key's SHA-256 in hex)");
                             }
                             if (auto hash = o.if_contains("sha256")) {
                               std::string_view hex = hash->get_string();
                               bool ok =
                                   hex.size() == 64 &&
                                   hex.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
                               if (!ok) place.child("sha256").fail("expected 64 hexadecimal digits");
                             }
                           });
  return object({{"proxyTable", table},
                 {"router", table},
                 {"apikeys", list(apikey)},
                 {"apikeyHeader", text()},
                 {"apikeyQuery", text()},
                 {"trustedProxies", list(text())},
                 {"keepAlive", object({{"maxIdle", integer(0, 100000)}, {"idleTimeout", duration()}})}});
}

Rule root_rule() {
  Rule cors = either({boolean(), object({{"origins", either({text(), list(text())})}})});
  return object({
      {"name", text()},
      {"host", text()},
      {"port", integer(0, 65535)},
      {"threads", integer(0, 1024)},
      {"workers", integer(0, 1024)},
      {"public", text()},
      {"paginate", paginate()},
      {"databases", map_of(url({"memory", "sqlite", "postgres", "postgresql"},
                               "memory://, sqlite://FILE or postgres://user:pw@host:5432/db"),
                           "a map of names to database URLs")},
      {"services", map_of(service(), "a map of paths to services")},
      {"authentication", authentication()},
      {"mesh", mesh()},
      {"sync", sync()},
      {"queues", map_of(queue(), "a map of queue names to queues")},
      {"gateway", gateway()},
      {"logging", object({{"level", one_of({"trace", "debug", "info", "warn", "error", "critical", "off"})},
                          {"format", one_of({"text", "json"})},
                          {"access", boolean()}})},
      {"limits", object({{"bodySize", size()},
                         {"headerSize", size()},
                         {"headerTimeout", duration()},
                         {"bodyTimeout", duration()},
                         {"idleTimeout", duration()},
                         {"shutdownTimeout", duration()},
                         {"maxConnections", integer(1)}})},
      {"cors", cors},
      {"realtime", object({{"enabled", boolean()},
                           {"publish", one_of({"authenticated", "everyone", "none"})},
                           {"pingInterval", duration()},
                           {"pingTimeout", duration()},
                           {"maxPayload", size()},
                           {"maxSessions", integer(1)},
                           {"maxUnconnected", integer(1)}})},
      {"admin",
       with_check(
           object(
               {{"host", text()}, {"port", integer(0, 65535)}, {"token", text()}, {"tokenSha256", text()}}),
           [](const Json& v, const Place& place) {
             const auto& o = v.get_object();
             if (o.contains("token") && o.contains("tokenSha256")) {
               place.fail("expected one of token or tokenSha256, not both");
             }
             if (const auto* token = o.if_contains("token"); token && token->get_string().empty()) {
               place.child("token").fail("expected a non-empty token, e.g. ${PLUME_ADMIN_TOKEN}");
             }
             if (const auto* hash = o.if_contains("tokenSha256")) {
               std::string_view hex = hash->get_string();
               if (hex.size() != 64 ||
                   hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
                 place.child("tokenSha256").fail("expected 64 hexadecimal digits");
               }
             }
           })},
  });
}

}  // namespace

void validate_config(const ConfigTree& tree) {
  static const Rule root = root_rule();
  const Place place{&tree.origins, "", origin_of(tree.origins, "", "")};
  root(tree.value, place);

  // Cross-references: a service's database is `memory` or a key of `databases`.
  const auto& object = tree.value.get_object();
  const auto services = object.find("services");
  if (services == object.end()) return;
  const auto databases = object.find("databases");
  for (const auto& [path, service] : services->value().get_object()) {
    const auto database = service.get_object().find("database");
    if (database == service.get_object().end()) continue;
    const std::string_view name = database->value().get_string();
    if (name == "memory") continue;
    if (databases != object.end() && databases->value().get_object().contains(name)) continue;
    std::vector<std::string> names = {"memory"};
    if (databases != object.end()) {
      for (const auto& [key, url] : databases->value().get_object()) names.emplace_back(key);
    }
    place.child("services")
        .child(path)
        .child("database")
        .fail("unknown database \"" + std::string(name) + "\"; expected one of: " + join(names));
  }
}

}  // namespace plume::config
