#include "core/channel_registry.hpp"

#include <algorithm>
#include <atomic>

namespace plume::detail {

ChannelMembers::ChannelMembers() : list_(std::make_shared<ConnectionList>()) {}

ConnectionList& ChannelMembers::writable() {
  // Snapshots are only taken under the registry lock, which the caller holds: a count of one
  // means no publisher holds this list and none can take it now. The fence pairs with the
  // release of the last snapshot (shared_ptr's decrement) so its reads happen before our writes.
  if (list_.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
  } else {
    list_ = std::make_shared<ConnectionList>(*list_);
  }
  return *list_;
}

bool ChannelMembers::add(ConnectionPtr connection) {
  const Connection* key = connection.get();
  if (key == nullptr || index_.contains(key)) return false;
  ConnectionList& list = writable();
  index_.emplace(key, list.size());
  list.push_back(std::move(connection));
  return true;
}

ConnectionPtr ChannelMembers::remove(const Connection* connection) {
  const auto found = index_.find(connection);
  if (found == index_.end()) return nullptr;
  const std::size_t position = found->second;
  index_.erase(found);
  ConnectionList& list = writable();
  ConnectionPtr removed = std::move(list[position]);
  if (position + 1 != list.size()) {
    list[position] = std::move(list.back());
    index_[list[position].get()] = position;
  }
  list.pop_back();
  return removed;
}

void ChannelRegistry::ensure(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (!channels_.contains(name)) channels_.emplace(std::string(name), ChannelMembers{});
}

void ChannelRegistry::join(std::string_view name, const ConnectionPtr& connection) {
  if (connection == nullptr) return;
  std::lock_guard lock(mutex_);
  if (!connected_.contains(connection.get())) return;
  auto found = channels_.find(name);
  if (found == channels_.end()) found = channels_.emplace(std::string(name), ChannelMembers{}).first;
  if (found->second.add(connection)) memberships_[connection.get()].push_back(found->first);
}

void ChannelRegistry::leave_locked(std::string_view name, const Connection* connection,
                                   ConnectionList& released) {
  const auto found = channels_.find(name);
  if (found == channels_.end()) return;
  ConnectionPtr removed = found->second.remove(connection);
  if (removed == nullptr) return;
  released.push_back(std::move(removed));
  if (const auto member = memberships_.find(connection); member != memberships_.end()) {
    auto& names = member->second;
    if (const auto at = std::find(names.begin(), names.end(), name); at != names.end()) names.erase(at);
    if (names.empty()) memberships_.erase(member);
  }
  // Feathers deletes a channel when a leave empties it (channels/mixins.ts, 'empty' event).
  if (found->second.empty()) channels_.erase(found);
}

void ChannelRegistry::leave(std::string_view name, const Connection* connection) {
  ConnectionList released;
  std::lock_guard lock(mutex_);
  leave_locked(name, connection, released);
}

void ChannelRegistry::leave_if(std::string_view name, const ConnectionPredicate& predicate) {
  // The predicate is user code: run it on a snapshot, without the lock.
  ConnectionList matching;
  {
    const auto members = snapshot(name);
    for (const auto& connection : *members) {
      if (predicate(*connection)) matching.push_back(connection);
    }
  }
  if (matching.empty()) return;
  ConnectionList released;
  std::lock_guard lock(mutex_);
  for (const auto& connection : matching) leave_locked(name, connection.get(), released);
}

std::shared_ptr<const ConnectionList> ChannelRegistry::snapshot(std::string_view name) const {
  static const auto kNone = std::make_shared<const ConnectionList>();
  std::lock_guard lock(mutex_);
  if (name.empty()) return connected_.snapshot();
  const auto found = channels_.find(name);
  return found == channels_.end() ? kNone : found->second.snapshot();
}

std::vector<std::string> ChannelRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  names.reserve(channels_.size());
  for (const auto& [name, members] : channels_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

void ChannelRegistry::connect(const ConnectionPtr& connection) {
  if (connection == nullptr) return;
  std::lock_guard lock(mutex_);
  connected_.add(connection);
}

void ChannelRegistry::leave_all(const Connection* connection, bool disconnecting) {
  ConnectionList released;
  std::lock_guard lock(mutex_);
  const auto member = memberships_.find(connection);
  if (member != memberships_.end()) {
    const std::vector<std::string> names = std::move(member->second);
    memberships_.erase(member);
    for (const auto& name : names) {
      const auto found = channels_.find(name);
      if (found == channels_.end()) continue;
      if (ConnectionPtr removed = found->second.remove(connection)) released.push_back(std::move(removed));
      if (found->second.empty()) channels_.erase(found);
    }
  }
  if (disconnecting) {
    if (ConnectionPtr removed = connected_.remove(connection)) released.push_back(std::move(removed));
  }
}

}  // namespace plume::detail
