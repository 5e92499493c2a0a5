// libFuzzer target for HTTP/1.1 requests as the server reads them (net/http_session.cpp): Beast's
// request parser with the server's limits, fed from one growing buffer, one request after the
// other on one connection, until a request is rejected or the bytes run out. The same bytes are
// then read again in 7-byte pieces, as a slow client sends them: the requests seen, their heads
// and bodies, and where reading stopped must be the same (a parser that frames a request
// differently by chunk boundary is a smuggling primitive; one may only wait where the other
// rejects). Every accepted head has a token
// method and field names, a target and values without CR, LF or NUL, and a body of its
// Content-Length.
//
// head_verdict() asks Plume's own checks of a head (Transfer-Encoding, Host, the target); the
// RFC 9112 properties below then hold for every head accepted by the parser and by Plume.
#include "net/http_types.hpp"
#include "net/request_head.hpp"
#include "testing/fuzz_support.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using plume::testing::fuzz_check;

// HttpServerOptions' defaults (net/http_server.hpp).
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kBodyLimit = 1024 * 1024;
constexpr std::size_t kMaxRequests = 16;

// Plume's own verdict on a head the parser accepted, as the session asks for it
// (net/request_head.hpp): nullopt to accept. Every head it accepts must then satisfy RFC 9112's
// framing and Host rules below, and what it rewrote must be admitted again unchanged.
constexpr bool kStrictHead = true;
std::optional<std::string> head_verdict(const plume::net::Request& request) {
  plume::net::Request admitted = request;
  if (auto refused = plume::net::admit_request_head(admitted)) return refused->message();
  plume::net::Request again = admitted;
  fuzz_check(!plume::net::admit_request_head(again), "an admitted head is admitted again");
  fuzz_check(again.target() == admitted.target(), "admission is idempotent on the target");
  fuzz_check(again[http::field::host] == admitted[http::field::host], "admission is idempotent on Host");
  return std::nullopt;
}

struct Seen {
  std::string method, target, head, body;
  unsigned version = 0;
  bool operator==(const Seen&) const = default;
};

struct Reading {
  std::vector<Seen> requests;
  std::string stopped;   // why reading stopped: the parser's error, Plume's verdict, or the end
  std::size_t left = 0;  // bytes not consumed
  bool operator==(const Reading&) const = default;
};

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

void check_head(const plume::net::Request& request) {
  fuzz_check(is_token(request.method_string()), "the method is a token");
  const std::string_view target = request.target();
  fuzz_check(!target.empty(), "the target is not empty");
  for (char c : target)
    fuzz_check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "the target has no space or control");
  std::size_t hosts = 0;
  for (const auto& field : request) {
    fuzz_check(is_token(field.name_string()), "a field name is a token");
    fuzz_check(!has_line_break(field.value()), "a field value has no CR, LF or NUL");
    if (field.name() == http::field::host) ++hosts;
  }
  if (!kStrictHead) return;
  // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0.
  fuzz_check(hosts == 1 || (hosts == 0 && request.version() == 10), "one Host");
  // RFC 9112 6.1 and 6.3: chunked is the final coding, never beside Content-Length.
  const auto codings = request[http::field::transfer_encoding];
  if (!codings.empty()) {
    std::string_view last =
        codings.substr(codings.rfind(',') == std::string_view::npos ? 0 : codings.rfind(',') + 1);
    while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
    while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
    fuzz_check(beast::iequals(last, "chunked"), "chunked is the final transfer coding");
    fuzz_check(request.count(http::field::content_length) == 0, "no Content-Length beside Transfer-Encoding");
  }
}

// Reads requests from `bytes` as a session does, `piece` bytes arriving at a time.
Reading read_requests(std::string_view bytes, std::size_t piece) {
  Reading reading;
  std::string buffer;
  std::size_t sent = 0;
  auto more = [&] {
    if (sent == bytes.size()) return false;
    const std::size_t n = std::min(piece, bytes.size() - sent);
    buffer.append(bytes.substr(sent, n));
    sent += n;
    return true;
  };
  while (reading.requests.size() < kMaxRequests) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    parser.body_limit(kBodyLimit);
    bool verdict_taken = false;
    while (!parser.is_done()) {
      if (buffer.empty() && !more()) {
        reading.stopped = buffer.empty() && !parser.got_some() ? "end" : "partial message";
        reading.left = buffer.size();
        return reading;
      }
      beast::error_code ec;
      const std::size_t used = parser.put(boost::asio::buffer(buffer), ec);
      buffer.erase(0, used);
      if (ec == http::error::need_more) {
        if (!more()) {
          reading.stopped = "partial message";
          reading.left = buffer.size();
          return reading;
        }
        continue;
      }
      if (ec) {
        reading.stopped = ec.message();
        reading.left = buffer.size() + (bytes.size() - sent);
        return reading;
      }
      if (parser.is_header_done() && !verdict_taken) {
        verdict_taken = true;
        if (auto refused = head_verdict(parser.get())) {
          reading.stopped = *refused;
          reading.left = buffer.size() + (bytes.size() - sent);
          return reading;
        }
        check_head(parser.get());
      }
    }
    const auto& request = parser.get();
    // The length as the parser read it ("4, 4" is one length, RFC 9110 8.6).
    if (const auto length = parser.content_length()) {
      fuzz_check(request.body().size() == *length, "a body is as long as its Content-Length");
    }
    Seen seen{std::string(request.method_string()),
              std::string(request.target()),
              {},
              request.body(),
              request.version()};
    for (const auto& field : request) {
      seen.head += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
    }
    reading.requests.push_back(std::move(seen));
    if (!request.keep_alive()) {
      reading.stopped = "close";
      break;
    }
  }
  reading.left = buffer.size() + (bytes.size() - sent);
  return reading;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Reading whole = read_requests(bytes, bytes.size() + 1);
  const Reading pieces = read_requests(bytes, 7);
  std::size_t body_bytes = 0;
  for (const auto& seen : whole.requests) body_bytes += seen.body.size();
  fuzz_check(body_bytes <= bytes.size(), "bodies come from the bytes sent");
  // Beast checks line endings as it parses a head it has whole, but waits for CRLF CRLF once it
  // has seen part of one: a head with bare LFs is a 400 in one piece and a wait until the
  // header timeout in many. Either way nothing is accepted, so that difference is allowed.
  const bool same_requests = whole.requests == pieces.requests;
  const bool same_stop = whole.stopped == pieces.stopped || whole.stopped == "partial message" ||
                         pieces.stopped == "partial message";
  if (!same_requests || !same_stop) {
    std::fprintf(stderr, "whole: %zu requests, stopped: %s\npieces: %zu requests, stopped: %s\n",
                 whole.requests.size(), whole.stopped.c_str(), pieces.requests.size(),
                 pieces.stopped.c_str());
  }
  fuzz_check(same_requests, "the same requests whatever the pieces");
  fuzz_check(same_stop, "reading stops for the same reason whatever the pieces");
  return 0;
}
