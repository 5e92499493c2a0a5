// TLS for mesh links (OpenSSL through Asio's ssl::context): TLS 1.3 keyed from the cluster secret
// as an external pre-shared key (RFC 8446 4.2.11; the PSK is HKDF-SHA256 of mesh.secret, RFC
// 5869), or certificates with mutual verification; and the exported keying material (RFC 5705 /
// RFC 8446 7.5) that binds the link's challenge handshake to its TLS session.
#pragma once

#include <plume/mesh/mesh.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plume::mesh {

// One TLS configuration shared by every link of a node, listener and dialer alike (OpenSSL's
// contexts are safe to share between threads once set up).
struct LinkTls {
  MeshTlsMode mode = MeshTlsMode::Psk;
  boost::asio::ssl::context server{boost::asio::ssl::context::tls_server};
  boost::asio::ssl::context client{boost::asio::ssl::context::tls_client};
  std::array<unsigned char, 32> psk{};  // Psk mode
};

// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF.
std::vector<unsigned char> hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info,
                                       std::size_t length);
// The links' pre-shared key: HKDF-SHA256(mesh.secret, salt "plume-mesh", info "plume mesh link psk v1").
std::array<unsigned char, 32> mesh_psk(std::string_view secret);
// The PSK identity every node offers and accepts.
inline constexpr std::string_view kPskIdentity = "plume-mesh-psk-v1";

// The TLS configuration for `options` and the cluster secret; nullptr when TLS is off. Throws
// std::invalid_argument naming the file when a certificate, key or CA cannot be loaded.
std::shared_ptr<LinkTls> make_link_tls(const MeshTlsOptions& options, std::string_view secret);

using TlsSocketStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
// After a completed handshake: empty when the session is what `tls` demands (the PSK was used
// in Psk mode; a verified peer certificate in Certificates mode), else why not.
std::string check_session(const LinkTls& tls, TlsSocketStream& stream);
// 32 bytes of keying material exported from the session (label "EXPORTER-plume-mesh-link"), as
// hex: both ends of one TLS session compute the same value, two different sessions never do.
std::string channel_binding(TlsSocketStream& stream);

}  // namespace plume::mesh
