#include "transport/admin_access.hpp"

#include <plume/core/digest.hpp>
#include <plume/core/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>

namespace plume::transport {
namespace http = net::http;

bool is_admin_path(std::string_view path) noexcept {
  if (path == "/metrics") return true;
  constexpr std::string_view kNodes = "/mesh/nodes";
  return path.starts_with(kNodes) && (path.size() == kNodes.size() || path[kNodes.size()] == '/');
}

std::string_view address_of(std::string_view remote) noexcept {
  const auto colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

AdminAccess::AdminAccess(const AdminOptions& options)
    : token_sha256_(options.token_sha256), loopback_allowed_(!options.port) {}

bool AdminAccess::has_token(const net::Request& request) const {
  if (token_sha256_.empty()) return false;
  std::string_view header = request[http::field::authorization];
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() || !boost::beast::iequals(header.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  // Compared as hashes, in constant time: the token itself is never stored.
  const std::string presented = sha256_hex(header.substr(kScheme.size()));
  return equal_constant_time(presented, token_sha256_);
}

void AdminAccess::check(const net::Request& request, const net::ConnectionInfo& connection) const {
  if (has_token(request)) return;
  if (loopback_allowed_) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(address_of(connection.remote), ec);
    const bool loopback =
        !ec &&
        (address.is_loopback() ||
         (address.is_v6() && address.to_v6().is_v4_mapped() &&
          boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback()));
    const bool relayed = request.count("x-forwarded-for") > 0 || request.count(http::field::forwarded) > 0 ||
                         request.count("x-real-ip") > 0;
    if (loopback && !relayed) return;
  }
  throw forbidden(loopback_allowed_
                      ? "Served only to clients on this node, or with the admin token (see `admin`)"
                      : "Served on the admin listener, or here with the admin token (see `admin`)");
}

}  // namespace plume::transport
