// Publishing service events to channels (Feathers' transport-commons channels/index.ts and the
// socket dispatcher in socket/utils.ts): find the publisher, collect the connections of the
// channels it returns, and hand each connection the event once.
#include "core/channel_registry.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_set>

namespace plume {

namespace {

// The item of an array dispatch that belongs to `item`, one record of an array result: the
// dispatch entry at the record's index (found by address, as App::run passes the record itself,
// else by equality). Feathers looks for a dispatch entry equal to the record, which misses when
// dispatch holds "safe" copies; failing both, nothing rather than the unsafe record.
const Json& dispatch_item(const JsonArray& dispatch, const JsonArray& result, const Json& item) {
  static const Json kNull = nullptr;
  std::size_t index = result.size();
  const std::less<const Json*> before;
  if (!result.empty() && !before(&item, &result.front()) && !before(&result.back(), &item)) {
    index = static_cast<std::size_t>(&item - &result.front());
  } else {
    const auto same = [&](const Json& other) { return json_equal(other, item); };
    index = static_cast<std::size_t>(std::find_if(result.begin(), result.end(), same) - result.begin());
  }
  if (index < dispatch.size()) return dispatch[index];
  const auto equal = std::find_if(dispatch.begin(), dispatch.end(),
                                  [&](const Json& other) { return json_equal(other, item); });
  return equal != dispatch.end() ? *equal : kNull;
}

// The payload for connections whose channel has no send() data: context.dispatch if set (the
// record's own entry for array results), else the event data.
const Json& default_payload(const Json& data, const HookContext& context) {
  if (!context.dispatch) return data;
  const Json& dispatch = *context.dispatch;
  if (!data.is_array() && context.result && context.result->is_array() && dispatch.is_array()) {
    return dispatch_item(dispatch.get_array(), context.result->get_array(), data);
  }
  return dispatch;
}

void deliver(Connection& connection, const PublishedEvent& event) {
  try {
    connection.send_published(event);
  } catch (const std::exception& e) {
    // One failing connection (closing as we publish) must not keep the event from the others.
    spdlog::warn("publishing failed connection={} path={} event={} error=\"{}\"", connection.id(),
                 event.path(), event.event(), e.what());
  }
}

}  // namespace

ServiceEntry& ServiceEntry::publish(Publisher publisher) {
  publish_all_ = std::move(publisher);
  return *this;
}

ServiceEntry& ServiceEntry::publish(std::string_view event, Publisher publisher) {
  // Feathers' registerPublisher (channels/mixins.ts) accepts only the service's events.
  if (std::find(events_.begin(), events_.end(), event) == events_.end()) {
    throw general_error("'" + std::string(event) + "' is not a valid service event");
  }
  publishers_.insert_or_assign(std::string(event), std::move(publisher));
  return *this;
}

const Publisher* ServiceEntry::publisher_for(std::string_view event) const noexcept {
  if (const auto found = publishers_.find(event); found != publishers_.end()) return &found->second;
  return publish_all_ ? &publish_all_ : nullptr;
}

App& App::publish(Publisher publisher) {
  publish_all_ = std::move(publisher);
  return *this;
}

App& App::publish(std::string_view event, Publisher publisher) {
  publishers_.insert_or_assign(std::string(event), std::move(publisher));
  return *this;
}

void App::publish_event(std::string_view path, std::string_view event, const Json& data,
                        const HookContext* context) {
  ServiceEntry* entry = find_service(path);
  if (entry == nullptr) return;
  // Only the service's events are published (Feathers subscribes to serviceEvents alone).
  const auto& events = entry->events();
  if (std::find(events.begin(), events.end(), event) == events.end()) return;

  // Precedence (channels/index.ts): service publisher for the event, service catch-all, app
  // publisher for the event, app catch-all.
  const Publisher* publisher = entry->publisher_for(event);
  if (publisher == nullptr) {
    if (const auto found = publishers_.find(event); found != publishers_.end()) {
      publisher = &found->second;
    } else if (publish_all_) {
      publisher = &publish_all_;
    } else {
      return;
    }
  }

  try {
    if (context != nullptr) {
      dispatch((*publisher)(data, *context), path, event, data, *context);
      return;
    }
    // A custom event has no call behind it: Feathers makes up {path, service, app, result: data}.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
    HookContext made_up{.app = *this, .entry = *entry, .service = entry->service(), .path = entry->path()};
#pragma GCC diagnostic pop
    made_up.event = std::string(event);
    made_up.result = data;
    dispatch((*publisher)(data, made_up), path, event, data, made_up);
  } catch (const std::exception& e) {
    // The call already succeeded; a failing publisher must not undo it.
    spdlog::warn("publisher failed path={} event={} error=\"{}\"", path, event, e.what());
  }
}

void App::dispatch(const Channels& channels, std::string_view path, std::string_view event, const Json& data,
                   const HookContext& context) {
  const PublishedEvent shared(path, event, default_payload(data, context));
  const auto resolve = [](const Channel::Part& part) {
    return part.registry != nullptr ? part.registry->snapshot(part.name) : part.snapshot;
  };

  // The common case, one channel of one part: no de-duplication needed (a channel's connections
  // are distinct).
  const Channel* single = nullptr;
  std::size_t part_count = 0;
  for (const Channel& channel : channels) {
    part_count += channel.parts_.size();
    if (!channel.parts_.empty()) single = &channel;
  }
  if (part_count == 0) return;
  if (part_count == 1) {
    const Channel::Part& part = single->parts_.front();
    const auto connections = resolve(part);
    if (part.data != nullptr) {
      const PublishedEvent own(path, event, *part.data);
      for (const auto& connection : *connections) deliver(*connection, own);
    } else {
      for (const auto& connection : *connections) deliver(*connection, shared);
    }
    return;
  }

  // Several parts: a connection in more than one gets the event once, with the payload of the
  // first part holding it (Feathers' CombinedChannel keeps the first channel's data).
  std::vector<std::shared_ptr<const ConnectionList>> lists;
  lists.reserve(part_count);
  std::size_t total = 0;
  for (const Channel& channel : channels) {
    for (const Channel::Part& part : channel.parts_) {
      lists.push_back(resolve(part));
      total += lists.back()->size();
    }
  }
  std::unordered_set<const Connection*> seen;
  seen.reserve(total);
  std::size_t at = 0;
  for (const Channel& channel : channels) {
    for (const Channel::Part& part : channel.parts_) {
      const ConnectionList& connections = *lists[at++];
      std::optional<PublishedEvent> own;
      if (part.data != nullptr) own.emplace(path, event, *part.data);
      const PublishedEvent& chosen = own ? *own : shared;
      for (const auto& connection : connections) {
        if (seen.insert(connection.get()).second) deliver(*connection, chosen);
      }
    }
  }
}

}  // namespace plume
