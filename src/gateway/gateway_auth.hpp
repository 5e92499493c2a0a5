// Per-route authentication: `jwt` (Feathers access tokens, verified with the authentication
// secret) and `apikey` (keys kept as SHA-256 digests). The identity reaches the upstream in
// Kong's X-Consumer-* headers.
//
// API keys are high-entropy random strings, so a fast digest is enough: nobody can search 2^128
// keys for one that hashes to a stolen digest, and a slow password hash (bcrypt) would add tens
// of milliseconds to every request for no gain. Passwords, being guessable, are bcrypt-hashed.
#pragma once

#include "gateway/gateway_state.hpp"

#include <string>
#include <utility>
#include <vector>

namespace plume::gateway {

struct Identity {
  std::string consumer;  // empty: anonymous
  std::vector<std::pair<std::string, std::string>> headers;
};

// Throws plume::Error NotAuthenticated when the route wants credentials that are missing or wrong.
Identity authenticate(const Gateway::State& state, const CompiledRoute& route,
                      const net::http::fields& request, std::string_view target);

}  // namespace plume::gateway
