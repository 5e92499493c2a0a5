// A Plume application written in C++: a `notes` service defined in code (find, get, create and a
// custom method `shout`), a before-create hook that stamps createdAt, and the REST server.
//
//   hooks_example [--port N]    serves http://127.0.0.1:3031 until Ctrl-C
//   hooks_example --self-test   starts the server on a free port, calls the service through the
//                               App and over HTTP, and exits 0 when every answer is right
#include <plume/plume.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Notes kept in memory. Services are called from several I/O threads at once, hence the mutex.
class Notes final : public plume::Service {
 public:
  plume::Task<plume::Json> find(plume::Params& params) override {
    std::lock_guard lock(mutex_);
    co_return plume::Json(notes_);
  }

  plume::Task<plume::Json> get(const plume::Id& id, plume::Params& params) override {
    // Ids arrive from URLs as strings ("7"); this service's ids are integers.
    const auto wanted = id.as_integer_like();
    std::lock_guard lock(mutex_);
    for (const auto& note : notes_) {
      if (wanted && note.at("id").as_int64() == *wanted) {
        co_return note;
      }
    }
    throw plume::not_found("No record found for id '" + id.to_string() + "'");
  }

  plume::Task<plume::Json> create(plume::Json data, plume::Params& params) override {
    if (!data.is_object() || !data.as_object().contains("text")) {
      throw plume::bad_request("A note needs a `text`");
    }
    std::lock_guard lock(mutex_);
    data.as_object()["id"] = next_id_++;
    notes_.push_back(data);
    co_return data;
  }

  // A custom method: called as (data, params), over REST by POST /notes with
  // the header X-Service-Method: shout.
  plume::Task<plume::Json> call_custom(std::string_view method, plume::Json data,
                                       plume::Params& params) override {
    if (method != "shout") {
      co_return co_await plume::Service::call_custom(method, std::move(data), params);
    }
    if (!data.is_object() || !data.as_object().contains("text") || !data.at("text").is_string()) {
      throw plume::bad_request("shout needs a `text` string");
    }
    std::string text(data.at("text").as_string());
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    co_return plume::JsonObject{{"text", text}};
  }

 private:
  std::mutex mutex_;
  boost::json::array notes_;
  std::int64_t next_id_ = 1;
};

// A hook is a coroutine over the hook context; this one runs before create.
plume::Task<void> stamp_created_at(plume::HookContext& context) {
  if (context.data.is_object()) {
    context.data.as_object()["createdAt"] = plume::now_iso8601();
  }
  co_return;
}

// Runs an App call to completion from plain (non-coroutine) code.
plume::Json run(plume::Task<plume::Json> call) {
  boost::asio::io_context context;
  auto result = boost::asio::co_spawn(context, std::move(call), boost::asio::use_future);
  context.run();
  return result.get();
}

// One HTTP/1.1 request over a plain socket; returns the status line and body.
std::string http(std::uint16_t port, std::string_view request) {
  boost::asio::ip::tcp::iostream stream("127.0.0.1", std::to_string(port));
  stream << request << std::flush;
  std::string reply((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  return reply;
}

bool check(bool ok, std::string_view what) {
  std::cout << (ok ? "ok   " : "FAIL ") << what << '\n';
  return ok;
}

int self_test(plume::App& app, std::uint16_t port) {
  bool ok = true;

  auto created = run(app.create("notes", plume::JsonObject{{"text", "hello hooks"}}));
  ok &= check(created.as_object().contains("createdAt") && created.at("createdAt").is_string(),
              "the before-create hook stamped createdAt");
  auto fetched = run(app.get("notes", created.at("id").as_int64()));
  ok &= check(plume::json_equal(fetched, created), "get returns the created note");
  auto shouted = run(app.call("notes", "shout", plume::JsonObject{{"text", "quiet"}}));
  ok &= check(shouted.at("text") == "QUIET", "the custom method runs through the App");
  try {
    run(app.get("notes", 999));
    ok &= check(false, "a missing note is NotFound");
  } catch (const plume::Error& error) {
    ok &= check(error.code() == plume::ErrorCode::NotFound, "a missing note is NotFound");
  }

  auto reply = http(port,
                    "POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nX-Service-Method: shout\r\n"
                    "Content-Length: 15\r\n\r\n{\"text\":\"rest\"}");
  ok &= check(reply.starts_with("HTTP/1.1 200") && reply.find("\"REST\"") != std::string::npos,
              "POST /notes with X-Service-Method: shout answers over HTTP");
  reply = http(port, "GET /notes/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  ok &= check(reply.starts_with("HTTP/1.1 200") && reply.find("hello hooks") != std::string::npos,
              "GET /notes/1 returns the note over HTTP");

  std::cout << (ok ? "self-test passed" : "self-test failed") << '\n';
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  bool test = false;
  std::uint16_t port = 3031;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") {
      test = true;
    } else if (arg == "--port" && i + 1 < argc) {
      port = static_cast<std::uint16_t>(std::stoi(argv[++i]));
    } else {
      std::cerr << "usage: hooks_example [--port N] [--self-test]\n";
      return EXIT_FAILURE;
    }
  }

  plume::App app;
  app.use("notes", std::make_unique<Notes>(), {.methods = {"find", "get", "create", "shout"}});
  app.service("notes").hooks({.before = {{"create", {stamp_created_at}}}});

  // Block SIGINT and SIGTERM before the server starts its threads, so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  plume::transport::Server server(app, {.host = "127.0.0.1", .port = test ? std::uint16_t{0} : port});
  const auto bound = server.start();

  int status = EXIT_SUCCESS;
  if (test) {
    status = self_test(app, bound);
  } else {
    std::cout << "notes on http://127.0.0.1:" << bound << "/notes (Ctrl-C stops)\n";
    int received = 0;
    sigwait(&signals, &received);
  }
  server.stop();
  server.wait();
  return status;
}
