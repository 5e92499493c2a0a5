// The App's named channels and connected connections, under one lock. Publishing takes
// copy-on-write snapshots (a pointer copy under the lock) and sends without the lock; joins and
// leaves copy a channel's list only while a snapshot of it is still out.
#pragma once

#include <plume/core/channels.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plume::detail {

// The connections of one channel: a copy-on-write list that publishers snapshot, and an index
// for O(1) membership and removal (removal moves the last connection into the hole).
class ChannelMembers {
 public:
  ChannelMembers();
  // False when the connection was already there.
  bool add(ConnectionPtr connection);
  // The removed connection, null when it was not there.
  ConnectionPtr remove(const Connection* connection);
  bool contains(const Connection* connection) const { return index_.contains(connection); }
  std::size_t size() const noexcept { return list_->size(); }
  bool empty() const noexcept { return list_->empty(); }
  std::shared_ptr<const ConnectionList> snapshot() const { return list_; }

 private:
  ConnectionList& writable();

  std::shared_ptr<ConnectionList> list_;
  std::unordered_map<const Connection*, std::size_t> index_;
};

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
};

class ChannelRegistry {
 public:
  // Creates the named channel if absent (Feathers' app.channel(name) does).
  void ensure(std::string_view name);
  // Adds a connected connection to the named channel (created if absent); a connection that is
  // not connected is ignored.
  void join(std::string_view name, const ConnectionPtr& connection);
  // Removes the connection; a channel left empty is deleted.
  void leave(std::string_view name, const Connection* connection);
  // Removes the connections matching `predicate`, which runs without the lock held.
  void leave_if(std::string_view name, const ConnectionPredicate& predicate);
  // The named channel's connections (empty when it does not exist); an empty name gives every
  // connected connection.
  std::shared_ptr<const ConnectionList> snapshot(std::string_view name) const;
  std::vector<std::string> names() const;

  void connect(const ConnectionPtr& connection);
  // Leaves every channel; with `disconnecting` it also stops counting as connected.
  void leave_all(const Connection* connection, bool disconnecting);

 private:
  // Removed connections go to `released`, to be dropped after unlocking: a connection's
  // destructor never runs under the lock.
  void leave_locked(std::string_view name, const Connection* connection, ConnectionList& released);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, ChannelMembers, NameHash, std::equal_to<>> channels_;
  ChannelMembers connected_;
  // The channels each connection is in, so that leaving them all does not scan every channel.
  std::unordered_map<const Connection*, std::vector<std::string>> memberships_;
};

}  // namespace plume::detail
