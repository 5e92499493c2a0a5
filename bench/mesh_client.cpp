// The consuming node of bench/mesh.sh, with the measuring loop inside it (as feathers-
// distributed's bench measures inside its client app): it joins the mesh, waits for the remote
// `items` service, and times `get` through the proxy, sequentially (p50/p99) and with
// --concurrency calls in flight, and the same calls on a local memory service as the baseline.
// Then it prints READY_FOR_KILL and, given the kill time (epoch ms) on stdin, reports how long
// the mesh took to notice the owner was gone. One JSON line per result, prefixed "RESULT ".
//
//   mesh_client --secret S [--discovery udp --multicast-port P | --peer ws://127.0.0.1:3030]
//               [--n 2000] [--concurrency 50]
#include <plume/mesh/mesh.hpp>
#include <plume/plume.hpp>
#include <plume/store/store.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void result(const std::string& what, plume::JsonObject values) {
  values["what"] = what;
  std::cout << "RESULT " << plume::to_json_text(plume::Json(std::move(values))) << std::endl;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

double since_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The ids of the records a service holds (the first 100).
plume::Task<std::vector<plume::Id>> ids_of(plume::App& app, std::string path) {
  auto call = app.find(path, plume::Params{.query = plume::JsonObject{{"$limit", 100}}});
  plume::Json found = co_await std::move(call);
  const plume::Json& records = found.is_object() ? found.at("data") : found;
  std::vector<plume::Id> ids;
  for (const auto& record : records.as_array()) ids.push_back(plume::Id(record.at("id").as_int64()));
  co_return ids;
}

// Sequential gets: per-call latencies in ms.
plume::Task<std::vector<double>> sequential(plume::App& app, std::string path,
                                            const std::vector<plume::Id>& ids, int n) {
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    auto call = app.get(path, ids[static_cast<std::size_t>(i) % ids.size()]);
    co_await std::move(call);
    latencies.push_back(since_ms(start));
  }
  co_return latencies;
}

plume::Task<void> worker(plume::App& app, std::string path, const std::vector<plume::Id>& ids, int& next,
                         int total) {
  while (next < total) {
    const int i = next++;
    auto call = app.get(path, ids[static_cast<std::size_t>(i) % ids.size()]);
    co_await std::move(call);
  }
}

// `concurrency` loops sharing one counter, all on one thread: calls per second.
double concurrent(boost::asio::io_context& io, plume::App& app, const std::string& path,
                  const std::vector<plume::Id>& ids, int total, int concurrency) {
  int next = 0;
  std::vector<std::future<void>> done;
  const auto start = Clock::now();
  for (int i = 0; i < concurrency; ++i) {
    done.push_back(boost::asio::co_spawn(io, worker(app, path, ids, next, total), boost::asio::use_future));
  }
  io.restart();
  io.run();
  for (auto& f : done) f.get();
  return total / (since_ms(start) / 1000.0);
}

template <class T>
T run(boost::asio::io_context& io, plume::Task<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

}  // namespace

int main(int argc, char** argv) {
  plume::mesh::MeshOptions options;
  options.name = "bench-client";
  int n = 2000;
  int concurrency = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--secret")
      options.secret = value;
    else if (flag == "--discovery")
      options.discovery = value;
    else if (flag == "--multicast-port")
      options.multicast_port = static_cast<std::uint16_t>(std::stoi(value));
    else if (flag == "--peer")
      options.discovery = "static", options.peers.push_back(value);
    else if (flag == "--n")
      n = std::stoi(value);
    else if (flag == "--concurrency")
      concurrency = std::stoi(value);
  }
  options.multicast_interface = "127.0.0.1";

  plume::App app(plume::AppOptions{.worker_threads = 1});
  plume::store::StoreOptions local;
  local.id_type = plume::store::IdType::Integer;
  app.use("local-items", plume::store::make_memory_service(local));
  plume::transport::ServerOptions server_options;
  server_options.port = 0;
  server_options.threads = 1;
  plume::transport::Server server(app, server_options);
  plume::mesh::Mesh mesh(app, server, options);
  server.start();

  boost::asio::io_context io;
  const auto joined = Clock::now();
  mesh.start();
  while (app.find_service("items") == nullptr) {
    if (since_ms(joined) > 60'000) {
      std::cerr << "no node offered items within 60 s\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  result("discovery", {{"ms", since_ms(joined)}});

  // The local baseline holds what bench/mesh.sh seeded on the owner: 100 items of ~150 bytes.
  const std::string payload(100, 'x');
  run(io, [&]() -> plume::Task<void> {
    for (int i = 0; i < 100; ++i) {
      auto create = app.create(
          "local-items", plume::JsonObject{{"name", "item " + std::to_string(i)}, {"payload", payload}});
      co_await std::move(create);
    }
  }());
  for (const std::string path : {"items", "local-items"}) {
    const std::string label = path == "items" ? "remote" : "local";
    const std::vector<plume::Id> ids = run(io, ids_of(app, path));
    if (ids.empty()) {
      std::cerr << path << " holds no records\n";
      return 1;
    }
    run(io, sequential(app, path, ids, 200));  // warm-up
    const auto start = Clock::now();
    const std::vector<double> latencies = run(io, sequential(app, path, ids, n));
    const double elapsed = since_ms(start);
    result(label + " sequential", {{"n", n},
                                   {"rate", n / (elapsed / 1000.0)},
                                   {"p50", percentile(latencies, 0.5)},
                                   {"p99", percentile(latencies, 0.99)}});
    const int total = n * 5;
    result(label + " concurrent", {{"n", total},
                                   {"concurrency", concurrency},
                                   {"rate", concurrent(io, app, path, ids, total, concurrency)}});
  }

  std::cout << "READY_FOR_KILL" << std::endl;
  std::int64_t killed_at = 0;
  std::cin >> killed_at;
  while (app.find_service("items") != nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  result("detection", {{"ms", static_cast<double>(epoch_ms() - killed_at)}});
  mesh.stop();
  server.stop();
  return 0;
}
