// Channels decide which real-time connections receive which service events, as Feathers'
// channels do (transport-commons/src/channels): named groups of connections kept by the App,
// publishers that map an event to channels, and ready-made publishers for configuration.
//
//   app.on_connection_event(ConnectionEventKind::Connection,
//                           [&](const ConnectionPtr& c, const Json&) { app.channel("anonymous").join(c); });
//   app.publish([&](const Json&, const HookContext&) { return Channels{app.channel("authenticated")}; });
//   app.service("messages").publish("created", [&](const Json& data, const HookContext&) {
//     return Channels{app.channel("rooms/" + room_of(data)).send(summary_of(data))};
//   });
//
// Thread safety: connections join and leave named channels from any thread while events are
// published from others. Named channels live in the App under one lock; a publish takes a
// copy-on-write snapshot of each target channel (one pointer copy under the lock) and calls
// Connection::send_published without any lock held. Register publishers and connection listeners
// before the app serves (like hooks): they are read without a lock.
#pragma once

#include <plume/core/connection.hpp>
#include <plume/core/json.hpp>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plume {

class App;
struct HookContext;

using ConnectionPtr = std::shared_ptr<Connection>;
using ConnectionList = std::vector<ConnectionPtr>;
using ConnectionPredicate = std::function<bool(const Connection&)>;

namespace detail {
class ChannelRegistry;
}

// A set of connections, with an optional payload that replaces the event data for them.
//
// A channel from App::channel(name) is a live handle on the named channel: join/leave change the
// App's channel, visible to every handle and to publishing; a named channel that becomes empty
// through leave() is deleted (it disappears from App::channel_names()) and the next join creates
// it again. App::channel({a, b}) combines named channels: connections de-duplicated, join/leave
// apply to each of them. Only connections that are connected (App::connect called, App::disconnect
// not yet) can join a named channel, so a late join racing a disconnect cannot leak a connection.
//
// App::all_connections() is live too; join/leave on it do nothing (connect/disconnect decide).
//
// filter() and send() return a snapshot: a plain value with the connections of that moment, not
// named; join/leave on it change only that value.
class Channel {
 public:
  // A channel without connections (a publisher returning it sends nothing).
  Channel() = default;

  Channel& join(ConnectionPtr connection);
  Channel& join(const ConnectionList& connections);
  Channel& leave(const ConnectionPtr& connection);
  // Removes every connection for which `predicate` is true.
  Channel& leave(const ConnectionPredicate& predicate);

  // A new channel with the connections for which `predicate` is true (and this channel's payload).
  Channel filter(const ConnectionPredicate& predicate) const;
  // A new channel with the same connections that receive `data` instead of the event's data.
  Channel send(Json data) const;

  // The connections, de-duplicated; order is unspecified.
  ConnectionList connections() const;
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  // The payload set by send(), or null.
  const Json* data() const noexcept;

 private:
  friend class App;
  // One source of connections: a named channel of an App (live), all connected connections
  // (live), or a snapshot. The dispatcher resolves them in order; the first part holding a
  // connection gives its payload, as Feathers' CombinedChannel does.
  struct Part {
    std::shared_ptr<detail::ChannelRegistry> registry;  // set for live parts
    std::string name;                                   // live: the channel name; empty = all connected
    std::shared_ptr<const ConnectionList> snapshot;     // snapshot parts (never null for them)
    std::shared_ptr<const Json> data;                   // send() payload
  };
  explicit Channel(std::vector<Part> parts) : parts_(std::move(parts)) {}
  static Part snapshot_part(ConnectionList connections, std::shared_ptr<const Json> data = nullptr);
  std::vector<Part> parts_;
};

// What a publisher returns: one channel, several (connections de-duplicated, the first channel
// holding a connection gives its payload), or none.
using Channels = std::vector<Channel>;
// Feathers' publisher (data, context) => channels. For a custom event emitted by the service
// (Service::emit) the context is made up as Feathers does: path, service, method empty,
// result = data.
using Publisher = std::function<Channels(const Json& data, const HookContext& context)>;

// Connection lifecycle events on the App (Feathers' app events 'connection', 'disconnect',
// 'login', 'logout').
enum class ConnectionEventKind { Connection, Disconnect, Login, Logout };
// auth_result: the authentication result for Login and Logout, null for the others.
using ConnectionListener = std::function<void(const ConnectionPtr& connection, const Json& auth_result)>;

// Ready-made publishers, for configuration (the common cases without code); they reach the App
// through the context. Every event to the named channel:
Publisher publish_to_channel(std::string name);
// Every event to every connected connection:
Publisher publish_to_everyone();
// Feathers' generated channels setup: a new connection joins "anonymous"; on login it leaves
// "anonymous" and joins "authenticated"; every event is published to "authenticated" (as the
// app catch-all publisher, so service publishers still take precedence).
void install_default_channels(App& app);

}  // namespace plume
