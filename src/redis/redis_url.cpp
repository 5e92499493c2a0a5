#include <plume/redis/client.hpp>

#include <boost/url/parse.hpp>

#include <charconv>

namespace plume::redis {

RedisEndpoint parse_redis_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw std::invalid_argument("not a URL: \"" + std::string(url) + "\"");
  if (parsed->scheme() != "redis") {
    throw std::invalid_argument("expected a redis:// URL, got \"" + std::string(url) + "\"");
  }
  RedisEndpoint endpoint;
  endpoint.host = std::string(parsed->encoded_host_address());
  if (endpoint.host.empty())
    throw std::invalid_argument("the Redis URL has no host: \"" + std::string(url) + "\"");
  if (parsed->has_port()) {
    const auto port = parsed->port_number();
    if (port == 0) throw std::invalid_argument("bad port in \"" + std::string(url) + "\"");
    endpoint.port = port;
  }
  if (parsed->has_userinfo()) {
    endpoint.user = parsed->user();
    endpoint.password = parsed->password();
  }
  std::string_view path = parsed->encoded_path();
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty()) {
    const auto [end, error] = std::from_chars(path.data(), path.data() + path.size(), endpoint.db);
    if (error != std::errc{} || end != path.data() + path.size() || endpoint.db < 0) {
      throw std::invalid_argument("the database in \"" + std::string(url) +
                                  "\" must be a number (redis://host:6379/0)");
    }
  }
  return endpoint;
}

}  // namespace plume::redis
