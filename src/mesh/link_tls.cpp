#include "mesh/link_tls.hpp"

#include "mesh/announcement.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace plume::mesh {
namespace {

namespace ssl = boost::asio::ssl;

// TLS_AES_128_GCM_SHA256 (RFC 8446 B.4): the suite of the PSK's session, whose hash (SHA-256)
// the PSK is bound to.
constexpr unsigned char kPskSuite[] = {0x13, 0x01};
constexpr const char* kSuites = "TLS_AES_128_GCM_SHA256";
constexpr std::string_view kExporterLabel = "EXPORTER-plume-mesh-link";

// Where an SSL_CTX keeps its LinkTls (Asio keeps its verify callback in the context's app data,
// so this is an ex_data slot of our own).
int link_tls_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const LinkTls* tls_of(SSL* ssl) {
  return static_cast<const LinkTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), link_tls_index()));
}

// An SSL_SESSION that carries the external PSK, as OpenSSL's PSK callbacks expect it.
SSL_SESSION* psk_session(SSL* ssl, const LinkTls& tls) {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kPskSuite);
  if (cipher == nullptr) return nullptr;
  SSL_SESSION* session = SSL_SESSION_new();
  if (session == nullptr) return nullptr;
  if (SSL_SESSION_set1_master_key(session, tls.psk.data(), tls.psk.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

// The dialer offers the PSK (SSL_CTX_set_psk_use_session_callback). After a HelloRetryRequest
// OpenSSL asks again with the hash of the chosen suite; the PSK only fits SHA-256.
int use_psk(SSL* ssl, const EVP_MD* md, const unsigned char** id, std::size_t* id_length,
            SSL_SESSION** session) {
  *session = nullptr;
  *id = nullptr;
  *id_length = 0;
  const LinkTls* tls = tls_of(ssl);
  if (tls == nullptr) return 0;
  SSL_SESSION* offered = psk_session(ssl, *tls);
  if (offered == nullptr) return 0;
  if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(offered))) {
    SSL_SESSION_free(offered);
    return 1;
  }
  *session = offered;
  *id = reinterpret_cast<const unsigned char*>(kPskIdentity.data());
  *id_length = kPskIdentity.size();
  return 1;
}

// The listener accepts it (SSL_CTX_set_psk_find_session_callback). An unknown identity finds
// nothing, and with no certificate to fall back on the handshake fails.
int find_psk(SSL* ssl, const unsigned char* identity, std::size_t identity_length, SSL_SESSION** session) {
  *session = nullptr;
  const LinkTls* tls = tls_of(ssl);
  if (tls == nullptr) return 0;
  if (std::string_view(reinterpret_cast<const char*>(identity), identity_length) != kPskIdentity) return 1;
  *session = psk_session(ssl, *tls);
  return *session != nullptr ? 1 : 0;
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Only TLS 1.3, only an AEAD suite, no session tickets (links are long-lived and every dial
// makes a fresh handshake with forward secrecy: psk_dhe_ke, the default mode).
void restrict(ssl::context& context) {
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kSuites) != 1) {
    throw std::runtime_error("mesh TLS setup failed: " + openssl_error());
  }
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

void load(ssl::context& context, const MeshTlsOptions& options) {
  auto attempt = [](std::string_view key, const std::string& file, auto&& step) {
    boost::system::error_code ec;
    step(ec);
    if (ec) {
      throw std::invalid_argument("mesh.tls." + std::string(key) + ": cannot load '" + file +
                                  "': " + ec.message());
    }
  };
  attempt("cert", options.cert, [&](auto& ec) { context.use_certificate_chain_file(options.cert, ec); });
  attempt("key", options.key,
          [&](auto& ec) { context.use_private_key_file(options.key, ssl::context::pem, ec); });
  attempt("ca", options.ca, [&](auto& ec) { context.load_verify_file(options.ca, ec); });
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("mesh.tls.key: '" + options.key + "' is not the key of '" + options.cert +
                                "'");
  }
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
}

}  // namespace

std::vector<unsigned char> hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info,
                                       std::size_t length) {
  std::vector<unsigned char> out(length);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) throw std::runtime_error("HKDF is not available: " + openssl_error());
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(key.data()), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) throw std::runtime_error("HKDF failed: " + openssl_error());
  return out;
}

std::array<unsigned char, 32> mesh_psk(std::string_view secret) {
  const auto bytes = hkdf_sha256(secret, "plume-mesh", "plume mesh link psk v1", 32);
  std::array<unsigned char, 32> psk{};
  std::copy(bytes.begin(), bytes.end(), psk.begin());
  return psk;
}

std::shared_ptr<LinkTls> make_link_tls(const MeshTlsOptions& options, std::string_view secret) {
  if (options.mode == MeshTlsMode::Off) return nullptr;
  auto tls = std::make_shared<LinkTls>();
  tls->mode = options.mode;
  restrict(tls->server);
  restrict(tls->client);
  if (options.mode == MeshTlsMode::Psk) {
    tls->psk = mesh_psk(secret);
    if (SSL_CTX_set_ex_data(tls->server.native_handle(), link_tls_index(), tls.get()) != 1 ||
        SSL_CTX_set_ex_data(tls->client.native_handle(), link_tls_index(), tls.get()) != 1) {
      throw std::runtime_error("mesh TLS setup failed: " + openssl_error());
    }
    SSL_CTX_set_psk_find_session_callback(tls->server.native_handle(), find_psk);
    SSL_CTX_set_psk_use_session_callback(tls->client.native_handle(), use_psk);
    // No trust anchors: a listener that skipped the PSK for a certificate fails verification.
    tls->client.set_verify_mode(ssl::verify_peer);
  } else {
    load(tls->server, options);
    load(tls->client, options);
  }
  return tls;
}

std::string check_session(const LinkTls& tls, TlsSocketStream& stream) {
  SSL* ssl = stream.native_handle();
  if (SSL_version(ssl) != TLS1_3_VERSION) return "the TLS session is not TLS 1.3";
  if (tls.mode == MeshTlsMode::Psk) {
    // OpenSSL reports an accepted external PSK as a resumed session.
    if (SSL_session_reused(ssl) != 1) return "the TLS session did not use the cluster's pre-shared key";
    return {};
  }
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK)
    return "the peer's certificate is not verified";
  return {};
}

std::string channel_binding(TlsSocketStream& stream) {
  std::array<unsigned char, 32> material{};
  if (SSL_export_keying_material(stream.native_handle(), material.data(), material.size(),
                                 kExporterLabel.data(), kExporterLabel.size(), nullptr, 0, 0) != 1) {
    throw std::runtime_error("TLS keying material export failed: " + openssl_error());
  }
  return to_hex(material.data(), material.size());
}

}  // namespace plume::mesh
