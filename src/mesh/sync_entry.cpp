#include "mesh/sync_entry.hpp"

#include <charconv>

namespace plume::mesh {

namespace {

// What the origin's channels send for this record (channel_publish.cpp's default payload): the
// dispatch when a hook set one, for array results the dispatch entry of this record.
const Json* dispatch_of(const Json& data, const HookContext& context) {
  if (!context.dispatch) return nullptr;
  const Json& dispatch = *context.dispatch;
  if (data.is_array() || !context.result || !context.result->is_array() || !dispatch.is_array())
    return &dispatch;
  const JsonArray& result = context.result->get_array();
  const JsonArray& items = dispatch.get_array();
  for (std::size_t i = 0; i < result.size() && i < items.size(); ++i) {
    if (&result[i] == &data) return &items[i];
  }
  for (std::size_t i = 0; i < result.size() && i < items.size(); ++i) {
    if (result[i] == data) return &items[i];
  }
  static const Json kNull = nullptr;
  return &kNull;  // no entry for this record: nothing rather than the unsafe record
}

const std::string* field(const std::vector<redis::Reply>& fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str == name) return &fields[i + 1].str;
  }
  return nullptr;
}

}  // namespace

SyncEntry sync_entry_from_event(const ServiceEvent& event, const std::string& origin) {
  SyncEntry entry;
  entry.origin = origin;
  entry.path = std::string(event.path);
  entry.event = std::string(event.event);
  entry.data = to_json_text(event.data);
  JsonObject context;
  if (const HookContext* call = event.context) {
    if (const Json* dispatch = dispatch_of(event.data, *call);
        dispatch != nullptr && *dispatch != event.data) {
      entry.dispatch = to_json_text(*dispatch);
    }
    context["provider"] = call->params.provider;
    context["user"] = call->params.user;
    context["query"] = call->params.query;
    context["route"] = call->params.route;
    context["id"] = call->id ? call->id->to_json() : Json(nullptr);
    context["method"] = call->method;
  }
  entry.context = to_json_text(Json(std::move(context)));
  return entry;
}

std::vector<std::string> xadd_command(const SyncEntry& entry, const std::string& stream,
                                      std::size_t max_length) {
  std::vector<std::string> command{
      "XADD",     stream,     "MAXLEN",     "~",         std::to_string(max_length),
      "*",        "origin",   entry.origin, "seq",       std::to_string(entry.seq),
      "path",     entry.path, "event",      entry.event, "data",
      entry.data, "context",  entry.context};
  if (entry.dispatch) {
    command.push_back("dispatch");
    command.push_back(*entry.dispatch);
  }
  return command;
}

std::optional<SyncEntry> parse_sync_entry(const redis::Reply& fields) {
  const auto& items = fields.elements;
  const std::string* origin = field(items, "origin");
  const std::string* seq = field(items, "seq");
  const std::string* path = field(items, "path");
  const std::string* event = field(items, "event");
  const std::string* data = field(items, "data");
  const std::string* context = field(items, "context");
  if (!origin || !seq || !path || !event || !data || !context) return std::nullopt;
  SyncEntry entry;
  const auto [end, ec] = std::from_chars(seq->data(), seq->data() + seq->size(), entry.seq);
  if (ec != std::errc() || end != seq->data() + seq->size()) return std::nullopt;
  entry.origin = *origin;
  entry.path = *path;
  entry.event = *event;
  entry.data = *data;
  entry.context = *context;
  if (const std::string* dispatch = field(items, "dispatch")) entry.dispatch = *dispatch;
  return entry;
}

bool is_synced(const HookContext* context) noexcept {
  if (context == nullptr) return false;
  const Json* synced = context->params.extra.if_contains("synced");
  return synced != nullptr && synced->is_bool() && synced->get_bool();
}

bool is_remote(const HookContext* context) noexcept {
  if (context == nullptr) return false;
  const Json* remote = context->params.extra.if_contains("remote");
  return remote != nullptr && remote->is_bool() && remote->get_bool();
}

bool reemit_sync_entry(App& app, const SyncEntry& entry) {
  const auto service = app.find_shared(entry.path);
  if (!service) return false;
  const Json data = parse_json(entry.data);
  const Json context = parse_json(entry.context);
  const JsonObject* call = context.if_object();

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  HookContext made_up{.app = app, .entry = *service, .service = service->service(), .path = service->path()};
#pragma GCC diagnostic pop
  made_up.type = HookType::After;
  made_up.event = entry.event;
  made_up.data = data;
  made_up.result = data;
  if (entry.dispatch) made_up.dispatch = parse_json(*entry.dispatch);
  if (call != nullptr) {
    auto text = [&](std::string_view key) {
      const Json* value = call->if_contains(key);
      return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
    };
    made_up.method = text("method");
    made_up.params.provider = text("provider");
    if (const Json* user = call->if_contains("user")) made_up.params.user = *user;
    if (const Json* query = call->if_contains("query"); query != nullptr && query->is_object()) {
      made_up.params.query = *query;
    }
    if (const Json* route = call->if_contains("route"); route != nullptr && route->is_object()) {
      made_up.params.route = route->get_object();
    }
    if (const Json* id = call->if_contains("id"); id != nullptr && (id->is_string() || id->is_int64())) {
      made_up.id = Id::from_json(*id);
    }
  }
  made_up.params.extra["synced"] = true;
  made_up.params.extra["origin"] = entry.origin;
  app.emit_event(service->path(), entry.event, data, &made_up);
  return true;
}

}  // namespace plume::mesh
