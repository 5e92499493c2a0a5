// The mesh over UDP multicast discovery on loopback: nodes find each other with no peer list,
// exactly one link forms per pair (the lower instance id dials), and a node's goodbye removes
// its services from the others at once.
#include "mesh/mesh_test_support.hpp"
#include "mesh/remote_service.hpp"

#include <boost/asio/ip/udp.hpp>

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

using namespace testing;

std::uint16_t free_udp_port() {
  boost::asio::io_context context;
  boost::asio::ip::udp::socket socket(
      context, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0));
  return socket.local_endpoint().port();
}

MeshOptions udp_options(std::string node, std::uint16_t port) {
  MeshOptions options = fast_options(std::move(node));
  options.discovery = "udp";
  options.multicast_port = port;
  options.multicast_interface = "127.0.0.1";
  return options;
}

bool has_proxy(App& app, std::string_view path) {
  auto entry = app.find_shared(path);
  return entry && dynamic_cast<RemoteService*>(&entry->service()) != nullptr;
}

int peers_up(Mesh& mesh) {
  const Json nodes = mesh.nodes();
  int up = 0;
  for (const auto& node : nodes.as_array()) {
    if (node.at("self") == false && node.at("state") == "up") ++up;
  }
  return up;
}

TEST(MeshUdp, ThreeNodesFindEachOtherWithoutAPeerListAndForgetOneThatLeaves) {
  const auto port = free_udp_port();
  auto owner = [](std::string path, std::string name) {
    return [path, name](App& app) {
      auto items = std::make_unique<Items>(name);
      items->put(1, JsonObject{{"name", "one"}});
      app.use(path, std::move(items));
    };
  };
  TestNode a(udp_options("a", port), owner("alpha", "a"));
  TestNode b(udp_options("b", port), owner("beta", "b"));
  TestNode c(udp_options("c", port));
  a.start();
  b.start();
  c.start();
  ASSERT_TRUE(wait_until([&] {
    return has_proxy(c.app, "alpha") && has_proxy(c.app, "beta") && has_proxy(a.app, "beta") &&
           has_proxy(b.app, "alpha");
  }));
  EXPECT_EQ(peers_up(*a.mesh), 2);
  EXPECT_EQ(peers_up(*b.mesh), 2);
  EXPECT_EQ(peers_up(*c.mesh), 2);
  EXPECT_EQ(run(c.app.get("alpha", Id(1))).at("servedBy"), "a");
  EXPECT_EQ(run(a.app.get("beta", Id(1))).at("servedBy"), "b");

  // b says goodbye: its service leaves the others, a's stays.
  b.stop();
  EXPECT_TRUE(wait_until([&] { return !has_proxy(a.app, "beta") && !has_proxy(c.app, "beta"); }));
  EXPECT_TRUE(has_proxy(c.app, "alpha"));
  EXPECT_EQ(run(c.app.get("alpha", Id(1))).at("servedBy"), "a");
}

}  // namespace
}  // namespace plume::mesh
