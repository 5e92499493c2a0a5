// The App's channels and real-time connection lifecycle (Feathers' app.channel, and the
// 'connection', 'disconnect', 'login', 'logout' app events of the socket transport), and the
// ready-made publishers configuration uses.
#include "core/channel_registry.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>

namespace plume {

namespace {

std::string_view kind_name(ConnectionEventKind kind) {
  switch (kind) {
    case ConnectionEventKind::Connection:
      return "connection";
    case ConnectionEventKind::Disconnect:
      return "disconnect";
    case ConnectionEventKind::Login:
      return "login";
    case ConnectionEventKind::Logout:
      return "logout";
  }
  return "unknown";
}

}  // namespace

Channel App::channel(std::string_view name) {
  channels_->ensure(name);
  Channel::Part part;
  part.registry = channels_;
  part.name = std::string(name);
  return Channel({std::move(part)});
}

Channel App::channel(const std::vector<std::string>& names) {
  // Feathers' message (channels/mixins.ts).
  if (names.empty()) throw general_error("app.channel needs at least one channel name");
  std::vector<Channel::Part> parts;
  parts.reserve(names.size());
  for (const auto& name : names) {
    channels_->ensure(name);
    Channel::Part part;
    part.registry = channels_;
    part.name = name;
    parts.push_back(std::move(part));
  }
  return Channel(std::move(parts));
}

Channel App::channel(std::initializer_list<std::string_view> names) {
  return channel(std::vector<std::string>(names.begin(), names.end()));
}

std::vector<std::string> App::channel_names() const { return channels_->names(); }

Channel App::all_connections() {
  Channel::Part part;
  part.registry = channels_;
  return Channel({std::move(part)});
}

void App::on_connection_event(ConnectionEventKind kind, ConnectionListener listener) {
  connection_listeners_[static_cast<std::size_t>(kind)].push_back(std::move(listener));
}

void App::fire(ConnectionEventKind kind, const ConnectionPtr& connection, const Json& auth_result) {
  for (const auto& listener : connection_listeners_[static_cast<std::size_t>(kind)]) {
    try {
      listener(connection, auth_result);
    } catch (const std::exception& e) {
      spdlog::warn("connection listener failed event={} connection={} error=\"{}\"", kind_name(kind),
                   connection->id(), e.what());
    }
  }
}

void App::connect(ConnectionPtr connection) {
  if (connection == nullptr) return;
  channels_->connect(connection);
  fire(ConnectionEventKind::Connection, connection, nullptr);
}

void App::disconnect(const ConnectionPtr& connection) {
  if (connection == nullptr) return;
  // Feathers' socket transport leaves all channels in its own 'disconnect' listener, registered
  // before any of the app's (transport-commons/src/socket/index.ts).
  channels_->leave_all(connection.get(), true);
  fire(ConnectionEventKind::Disconnect, connection, nullptr);
}

void App::login(const ConnectionPtr& connection, const Json& auth_result) {
  if (connection == nullptr) return;
  fire(ConnectionEventKind::Login, connection, auth_result);
}

void App::logout(const ConnectionPtr& connection, const Json& auth_result) {
  if (connection == nullptr) return;
  channels_->leave_all(connection.get(), false);
  fire(ConnectionEventKind::Logout, connection, auth_result);
}

Publisher publish_to_channel(std::string name) {
  return [name = std::move(name)](const Json&, const HookContext& context) {
    return Channels{context.app.channel(name)};
  };
}

Publisher publish_to_everyone() {
  return [](const Json&, const HookContext& context) { return Channels{context.app.all_connections()}; };
}

void install_default_channels(App& app) {
  // packages/generators/src/app/templates/channels.tpl.ts
  app.on_connection_event(
      ConnectionEventKind::Connection,
      [&app](const ConnectionPtr& connection, const Json&) { app.channel("anonymous").join(connection); });
  app.on_connection_event(ConnectionEventKind::Login, [&app](const ConnectionPtr& connection, const Json&) {
    app.channel("anonymous").leave(connection);
    app.channel("authenticated").join(connection);
  });
  app.publish(publish_to_channel("authenticated"));
}

}  // namespace plume
