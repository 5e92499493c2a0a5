#include "mesh/protocol.hpp"

#include <plume/core/hooks.hpp>

#include <algorithm>
#include <limits>

namespace plume::mesh {

namespace {

const Json& field(const Json& frame, std::string_view name) {
  static const Json kNull = nullptr;
  const auto* object = frame.if_object();
  if (object == nullptr) return kNull;
  const auto* value = object->if_contains(name);
  return value != nullptr ? *value : kNull;
}

std::string string_field(const Json& frame, std::string_view name) {
  const Json& value = field(frame, name);
  if (const auto* text = value.if_string()) return std::string(*text);
  throw bad_request("mesh frame field '" + std::string(name) + "' must be a string");
}

std::vector<std::string> strings(const Json& value, std::string_view name) {
  std::vector<std::string> out;
  const auto* array = value.if_array();
  if (array == nullptr) {
    throw bad_request("mesh frame field '" + std::string(name) + "' must be an array of strings");
  }
  out.reserve(array->size());
  for (const auto& item : *array) {
    if (const auto* text = item.if_string()) out.emplace_back(*text);
  }
  return out;
}

JsonArray to_array(const std::vector<std::string>& values) {
  JsonArray array;
  array.reserve(values.size());
  for (const auto& value : values) array.emplace_back(value);
  return array;
}

std::uint64_t uint_field(const Json& frame, std::string_view name) {
  const Json& value = field(frame, name);
  if (const auto* n = value.if_uint64()) return *n;
  if (const auto* n = value.if_int64(); n != nullptr && *n >= 0) return static_cast<std::uint64_t>(*n);
  // A double past 2^64 (1e300) has no uint64 value: converting it would be undefined behaviour.
  if (const auto* n = value.if_double(); n != nullptr && *n >= 0 && *n < 18446744073709551616.0) {
    return static_cast<std::uint64_t>(*n);
  }
  throw bad_request("mesh frame field '" + std::string(name) + "' must be a non-negative number");
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool matches_any(const std::vector<std::string>& patterns, std::string_view text) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return glob_match(pattern, text); });
}

std::string_view frame_type(const Json& frame) noexcept {
  const Json& type = field(frame, "t");
  if (const auto* text = type.if_string()) return std::string_view(*text);
  return {};
}

std::string encode_services(const std::vector<ServiceDescriptor>& services) {
  JsonArray list;
  list.reserve(services.size());
  for (const auto& service : services) {
    list.emplace_back(JsonObject{{"path", service.path},
                                 {"methods", to_array(service.methods)},
                                 {"events", to_array(service.events)}});
  }
  return to_json_text(JsonObject{{"t", "services"}, {"services", std::move(list)}});
}

std::vector<ServiceDescriptor> decode_services(const Json& frame) {
  const auto* list = field(frame, "services").if_array();
  if (list == nullptr) throw bad_request("mesh services frame needs a 'services' array");
  std::vector<ServiceDescriptor> services;
  services.reserve(list->size());
  for (const auto& item : *list) {
    services.push_back(ServiceDescriptor{.path = string_field(item, "path"),
                                         .methods = strings(field(item, "methods"), "methods"),
                                         .events = strings(field(item, "events"), "events")});
  }
  return services;
}

std::string encode_paths(std::string_view type, const std::vector<std::string>& paths) {
  return to_json_text(JsonObject{{"t", type}, {"paths", to_array(paths)}});
}

std::vector<std::string> decode_paths(const Json& frame) { return strings(field(frame, "paths"), "paths"); }

Json encode_params(const Params& params) {
  JsonObject out;
  out["query"] = params.query;
  if (!params.provider.empty()) out["provider"] = params.provider;
  if (!params.user.is_null()) out["user"] = params.user;
  if (!params.authentication.is_null()) out["authentication"] = params.authentication;
  if (!params.route.empty()) out["route"] = params.route;
  JsonObject headers;
  for (const std::string_view name : kForwardedHeaders) {
    if (const auto* value = params.headers.if_contains(name)) headers[name] = *value;
  }
  if (!headers.empty()) out["headers"] = std::move(headers);
  if (params.paginate) {
    // An internal caller's paginate override changes the shape of the result, so it travels.
    JsonObject paginate{{"enabled", params.paginate->enabled}};
    if (params.paginate->default_limit) paginate["default"] = *params.paginate->default_limit;
    if (params.paginate->max_limit) paginate["max"] = *params.paginate->max_limit;
    out["paginate"] = std::move(paginate);
  }
  return out;
}

Params decode_params(const Json& params) {
  Params out;
  const auto* object = params.if_object();
  if (object == nullptr) return out;
  if (const auto* query = object->if_contains("query"); query != nullptr && query->is_object())
    out.query = *query;
  if (const auto* provider = object->if_contains("provider"); provider != nullptr && provider->is_string()) {
    out.provider = std::string(provider->get_string());
  }
  if (const auto* user = object->if_contains("user")) out.user = *user;
  if (const auto* authentication = object->if_contains("authentication"))
    out.authentication = *authentication;
  if (const auto* route = object->if_contains("route"); route != nullptr && route->is_object()) {
    out.route = route->get_object();
  }
  if (const auto* headers = object->if_contains("headers"); headers != nullptr && headers->is_object()) {
    // The receiving side applies the whitelist too: a peer cannot inject other headers.
    for (const std::string_view name : kForwardedHeaders) {
      if (const auto* value = headers->get_object().if_contains(name)) out.headers[name] = *value;
    }
  }
  if (const auto* paginate = object->if_contains("paginate"); paginate != nullptr && paginate->is_object()) {
    PaginateOptions options;
    const auto& p = paginate->get_object();
    if (const auto* enabled = p.if_contains("enabled"); enabled != nullptr && enabled->is_bool()) {
      options.enabled = enabled->get_bool();
    }
    if (const auto* limit = p.if_contains("default"); limit != nullptr && limit->is_int64()) {
      options.default_limit = limit->get_int64();
    }
    if (const auto* limit = p.if_contains("max"); limit != nullptr && limit->is_int64()) {
      options.max_limit = limit->get_int64();
    }
    out.paginate = options;
  }
  return out;
}

std::string encode_call(const CallFrame& call) { return encode_call(call, call.params); }

std::string encode_call(const CallFrame& call, const Params& params) {
  JsonObject frame{{"t", "call"}, {"id", call.id}, {"path", call.path}, {"method", call.method}};
  if (call.has_record_id) frame["recordId"] = call.record_id ? call.record_id->to_json() : Json(nullptr);
  if (!call.data.is_null()) frame["data"] = call.data;
  frame["params"] = encode_params(params);
  frame["timeoutMs"] = call.timeout_ms;
  return to_json_text(frame);
}

CallFrame decode_call(const Json& frame) {
  CallFrame call;
  call.id = uint_field(frame, "id");
  call.path = string_field(frame, "path");
  call.method = string_field(frame, "method");
  if (const auto* object = frame.if_object()) {
    if (const auto* record = object->if_contains("recordId")) {
      call.has_record_id = true;
      if (!record->is_null()) call.record_id = Id::from_json(*record);
    }
    if (const auto* data = object->if_contains("data")) call.data = *data;
    if (const auto* params = object->if_contains("params")) call.params = decode_params(*params);
  }
  // At most INT64_MAX: a larger value would wrap to a negative deadline.
  call.timeout_ms = static_cast<std::int64_t>(
      std::min<std::uint64_t>(uint_field(frame, "timeoutMs"), std::numeric_limits<std::int64_t>::max()));
  return call;
}

std::string encode_reply(std::uint64_t id, const Json& result) {
  std::string out = R"({"t":"reply","id":)";
  out += std::to_string(id);
  out += R"(,"result":)";
  append_json_text(out, result);
  out += '}';
  return out;
}

std::string encode_error_reply(std::uint64_t id, const Error& error) {
  return to_json_text(JsonObject{{"t", "reply"}, {"id", id}, {"error", error.to_json()}});
}

std::string encode_event(std::string_view path, std::string_view event, const Json& data,
                         const HookContext* context) {
  JsonObject envelope{{"t", "event"}, {"path", path}, {"event", event}, {"data", data}};
  if (context != nullptr) {
    JsonObject params{{"query", context->params.query}};
    if (!context->params.provider.empty()) params["provider"] = context->params.provider;
    if (!context->params.user.is_null()) params["user"] = context->params.user;
    JsonObject ctx{{"method", context->method}, {"params", std::move(params)}};
    if (context->id) ctx["id"] = context->id->to_json();
    envelope["context"] = std::move(ctx);
  }
  return to_json_text(envelope);
}

EventFrame decode_event(const Json& frame) {
  EventFrame event;
  event.path = string_field(frame, "path");
  event.event = string_field(frame, "event");
  event.data = field(frame, "data");
  const Json& context = field(frame, "context");
  if (const auto* object = context.if_object()) {
    if (const auto* method = object->if_contains("method"); method != nullptr && method->is_string()) {
      event.method = std::string(method->get_string());
    }
    if (const auto* id = object->if_contains("id"); id != nullptr && !id->is_null()) {
      event.id = Id::from_json(*id);
    }
    if (const auto* params = object->if_contains("params")) {
      Params decoded = decode_params(*params);
      event.params.provider = std::move(decoded.provider);
      event.params.user = std::move(decoded.user);
      event.params.query = std::move(decoded.query);
    }
  }
  return event;
}

}  // namespace plume::mesh
