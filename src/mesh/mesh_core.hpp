// The mesh's state and rules behind plume::mesh::Mesh: the peers (one per instance, one live
// link each), what they offer and what this node consumes from them, the proxies, the remote
// calls in flight and the event subscriptions. Shared by the mesh's own thread (discovery,
// dialing, timers), the links' executors (frames) and the server's I/O threads (calls through
// proxies, events of local services): every member below the mutex is guarded by it.
#pragma once

#include "mesh/announcement.hpp"
#include "mesh/breaker.hpp"
#include "mesh/discovery.hpp"
#include "mesh/link.hpp"
#include "mesh/protocol.hpp"

#include <plume/core/app.hpp>
#include <plume/mesh/mesh.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace plume::mesh {

class RemoteService;

// How a remote call ended, as the waiting caller learns it.
struct CallOutcome {
  enum class Kind { Result, Error, NodeLost, Timeout } kind = Kind::NodeLost;
  Json result = nullptr;
  std::optional<Error> error;  // Kind::Error: the owner's error, as it sent it
  std::string reason;          // Kind::NodeLost: why the link went

  static CallOutcome lost(std::string why) {
    CallOutcome outcome;
    outcome.reason = std::move(why);
    return outcome;
  }
  static CallOutcome timed_out() {
    CallOutcome outcome;
    outcome.kind = Kind::Timeout;
    return outcome;
  }
  static CallOutcome failed(Error error) {
    CallOutcome outcome;
    outcome.kind = Kind::Error;
    outcome.error = std::move(error);
    return outcome;
  }
};

// A call sent to one node and not answered yet. Completed once, by whichever comes first: the
// reply, the deadline, or the loss of its node.
class MeshCore;

// The waiting caller's completion handler, type-erased (move-only).
struct CallHandler {
  virtual ~CallHandler() = default;
  virtual void invoke(CallOutcome outcome) = 0;
};

template <class Handler>
struct CallHandlerOf final : CallHandler {
  explicit CallHandlerOf(Handler h) : handler(std::move(h)) {}
  void invoke(CallOutcome outcome) override { std::move(handler)(std::move(outcome)); }
  Handler handler;
};

struct PendingCall {
  std::uint64_t id = 0;
  std::weak_ptr<MeshCore> core;
  const Link* link = nullptr;  // the link it went out on: its loss fails the call
  std::string instance;
  std::string node;
  std::string path;
  std::string method;
  std::chrono::milliseconds timeout{0};
  SteadyTime deadline;
  std::multimap<SteadyTime, std::uint64_t>::iterator deadline_entry;

  std::mutex mutex;
  bool done = false;
  boost::asio::any_io_executor executor;  // the caller's: it resumes there
  std::optional<CallOutcome> early;       // completed before the caller started waiting
  std::unique_ptr<CallHandler> handler;
};

struct Peer {
  std::string node;
  std::string instance;
  std::string address;
  std::shared_ptr<Link> link;  // the one live link, or null
  bool dialing = false;
  bool dial_attempted = false;  // tried at least once (readiness)
  SteadyTime next_dial{};
  std::chrono::milliseconds backoff{0};
  SteadyTime last_heard{};  // last announcement or link activity change
  SteadyTime down_since{};
  // What it offers (its last services frame), what we asked it for, and what it confirmed.
  std::map<std::string, ServiceDescriptor, std::less<>> services;
  std::set<std::string, std::less<>> consumed;
  std::set<std::string, std::less<>> ready;
  std::size_t pending = 0;
  std::map<std::string, CircuitBreaker, std::less<>> breakers;

  const char* state() const noexcept;
};

// A static peer address before its first link tells who listens there.
struct StaticTarget {
  bool dialing = false;
  bool dial_attempted = false;
  SteadyTime next_dial{};
  std::chrono::milliseconds backoff{0};
  std::string instance;  // the instance found there last time
};

// The nodes offering one consumed path, and whether its proxy is registered.
struct Route {
  ServiceDescriptor descriptor;
  std::vector<std::string> providers;  // instances
  std::uint64_t counter = 0;
  bool registered = false;
};

class MeshCore : public std::enable_shared_from_this<MeshCore> {
 public:
  MeshCore(App& app, MeshOptions options);
  ~MeshCore();

  // Constructor-time wiring (before server.start()): /_mesh, mesh/nodes, the event listener.
  void attach(transport::Server& server);
  void start(transport::Server& server);
  void stop();

  std::string readiness() const;
  Json nodes() const;
  const std::string& node_id() const noexcept { return node_id_; }
  const MeshOptions& options() const noexcept { return options_; }
  App& app() noexcept { return app_; }

  // A call through a proxy (mesh_calls.cpp): balanced, bounded, retried or failed fast.
  Task<Json> call(std::string path, std::string method, bool has_record_id, NullableId id, Json data,
                  Params& params);

 private:
  friend class MeshCoreTest;

  // Links (mesh_core.cpp).
  LinkHandlers handlers();
  LinkSettings link_settings() const;
  void on_established(const std::shared_ptr<Link>& link);
  void on_frame(const std::shared_ptr<Link>& link, std::string_view text);
  void on_closed(const std::shared_ptr<Link>& link, const std::string& reason);
  void on_seen(const Announcement& announcement);
  void on_gone(const std::string& instance);
  void dial(std::string address, std::string instance);
  void dial_finished(const std::string& address, const std::string& instance, const std::string& found,
                     bool ok);
  Task<void> maintain();
  void tick(SteadyTime now);

  // Service state (mesh_state.cpp).
  std::vector<ServiceDescriptor> published_services() const;
  bool is_local(std::string_view path) const;
  void on_services(const std::shared_ptr<Link>& link, const Json& frame);
  void on_subscribe(const std::shared_ptr<Link>& link, const Json& frame);
  void on_subscribed(const std::shared_ptr<Link>& link, const Json& frame);
  // With mutex_ held: the peer stops offering `path` / everything.
  void withdraw_locked(Peer& peer, const std::string& path);
  void withdraw_all_locked(Peer& peer);
  void drop_peer_locked(const std::string& instance, std::string_view reason);
  void register_proxy_locked(Route& route, const std::string& path);
  void unsubscribe_link_locked(const std::shared_ptr<Link>& link);
  void broadcast_services();

  // Calls (mesh_calls.cpp).
  Task<CallOutcome> wait_outcome(std::shared_ptr<PendingCall> call, std::shared_ptr<Link> link,
                                 std::string frame);
  void complete(const std::shared_ptr<PendingCall>& call, CallOutcome outcome);
  void fail_pending_locked(const std::shared_ptr<Link>& link,
                           std::vector<std::shared_ptr<PendingCall>>& failed);
  std::shared_ptr<PendingCall> take_pending_locked(std::uint64_t id);
  void take_and_fail(std::uint64_t id, const std::string& reason);
  void on_reply(const Json& frame);
  Task<void> sweep_deadlines();
  void record_outcome(const std::string& instance, const std::string& path, bool failed);

  // Serving peers (mesh_serve.cpp).
  void serve_call(const std::shared_ptr<Link>& link, const Json& frame);
  void on_event_frame(const Json& frame);
  void on_local_event(const ServiceEvent& event);

  App& app_;
  MeshOptions options_;
  std::string node_id_;
  std::string instance_;
  std::string address_;
  std::shared_ptr<LinkTls> tls_;  // null: plaintext links (mesh.tls: off)
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);

  boost::asio::io_context ctx_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::unique_ptr<Discovery> discovery_;
  boost::asio::steady_timer sweep_timer_{ctx_};
  boost::asio::steady_timer tick_timer_{ctx_};

  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  SteadyTime started_at_{};

  mutable std::mutex mutex_;
  std::condition_variable links_closed_;
  std::set<const Link*> live_links_;                // established and not closed yet (stop waits for them)
  std::map<std::string, Peer, std::less<>> peers_;  // by instance
  std::map<std::string, StaticTarget, std::less<>> static_targets_;  // by address
  std::map<std::string, Route, std::less<>> routes_;                 // consumed paths
  // Owner side: the links subscribed to each published path.
  std::map<std::string, std::vector<std::shared_ptr<Link>>, std::less<>> subscribers_;
  std::vector<ServiceDescriptor> last_published_;
  std::shared_ptr<const App::ServiceList> last_snapshot_;
  // Calls in flight, by request id, and their deadlines.
  std::map<std::uint64_t, std::shared_ptr<PendingCall>> pending_;
  std::multimap<SteadyTime, std::uint64_t> deadlines_;
  SteadyTime sweep_at_ = SteadyTime::max();
  std::uint64_t next_call_id_ = 1;
};

// Whether a registered service is a mesh proxy (never published, never re-announced).
bool is_proxy(const ServiceEntry& entry) noexcept;

}  // namespace plume::mesh
