#include "transport/admin_access.hpp"

#include <plume/core/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw general_error("SHA-256 is not available");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 15]);
  }
  return hex;
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
  return presented.size() == token_sha256_.size() &&
         CRYPTO_memcmp(presented.data(), token_sha256_.data(), presented.size()) == 0;
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
