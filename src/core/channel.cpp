// Channel handles: live parts go to the App's registry, snapshot parts are values.
#include "core/channel_registry.hpp"

#include <plume/core/channels.hpp>

#include <algorithm>
#include <unordered_set>

namespace plume {

namespace {

std::shared_ptr<const ConnectionList> resolve(const std::shared_ptr<detail::ChannelRegistry>& registry,
                                              const std::string& name,
                                              const std::shared_ptr<const ConnectionList>& snapshot) {
  if (registry != nullptr) return registry->snapshot(name);
  return snapshot;
}

bool holds(const ConnectionList& list, const Connection* connection) {
  return std::any_of(list.begin(), list.end(),
                     [&](const ConnectionPtr& held) { return held.get() == connection; });
}

}  // namespace

Channel::Part Channel::snapshot_part(ConnectionList connections, std::shared_ptr<const Json> data) {
  Part part;
  part.snapshot = std::make_shared<const ConnectionList>(std::move(connections));
  part.data = std::move(data);
  return part;
}

Channel& Channel::join(ConnectionPtr connection) {
  if (connection == nullptr) return *this;
  // Feathers' `new Channel().join(c)` works: an empty channel becomes a snapshot holding c.
  if (parts_.empty()) parts_.push_back(snapshot_part({}));
  for (Part& part : parts_) {
    if (part.registry != nullptr) {
      if (!part.name.empty()) part.registry->join(part.name, connection);
    } else if (!holds(*part.snapshot, connection.get())) {
      auto list = std::make_shared<ConnectionList>(*part.snapshot);
      list->push_back(connection);
      part.snapshot = std::move(list);
    }
  }
  return *this;
}

Channel& Channel::join(const ConnectionList& connections) {
  for (const auto& connection : connections) join(connection);
  return *this;
}

Channel& Channel::leave(const ConnectionPtr& connection) {
  if (connection == nullptr) return *this;
  for (Part& part : parts_) {
    if (part.registry != nullptr) {
      if (!part.name.empty()) part.registry->leave(part.name, connection.get());
    } else if (holds(*part.snapshot, connection.get())) {
      auto list = std::make_shared<ConnectionList>(*part.snapshot);
      std::erase(*list, connection);
      part.snapshot = std::move(list);
    }
  }
  return *this;
}

Channel& Channel::leave(const ConnectionPredicate& predicate) {
  for (Part& part : parts_) {
    if (part.registry != nullptr) {
      if (!part.name.empty()) part.registry->leave_if(part.name, predicate);
    } else {
      auto list = std::make_shared<ConnectionList>(*part.snapshot);
      std::erase_if(*list, [&](const ConnectionPtr& connection) { return predicate(*connection); });
      part.snapshot = std::move(list);
    }
  }
  return *this;
}

ConnectionList Channel::connections() const {
  if (parts_.size() == 1) {
    const Part& part = parts_.front();
    return *resolve(part.registry, part.name, part.snapshot);
  }
  ConnectionList result;
  std::unordered_set<const Connection*> seen;
  for (const Part& part : parts_) {
    const auto list = resolve(part.registry, part.name, part.snapshot);  // held for the loop
    for (const auto& connection : *list) {
      if (seen.insert(connection.get()).second) result.push_back(connection);
    }
  }
  return result;
}

std::size_t Channel::size() const {
  if (parts_.empty()) return 0;
  if (parts_.size() == 1) {
    const Part& part = parts_.front();
    return resolve(part.registry, part.name, part.snapshot)->size();
  }
  return connections().size();
}

const Json* Channel::data() const noexcept {
  return parts_.size() == 1 && parts_.front().data != nullptr ? parts_.front().data.get() : nullptr;
}

Channel Channel::filter(const ConnectionPredicate& predicate) const {
  ConnectionList list = connections();
  std::erase_if(list, [&](const ConnectionPtr& connection) { return !predicate(*connection); });
  // As Feathers' Channel.filter: the new channel keeps this channel's payload (a combined
  // channel has none of its own).
  return Channel({snapshot_part(std::move(list), parts_.size() == 1 ? parts_.front().data : nullptr)});
}

Channel Channel::send(Json data) const {
  return Channel({snapshot_part(connections(), std::make_shared<const Json>(std::move(data)))});
}

}  // namespace plume
