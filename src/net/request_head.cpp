#include "net/request_head.hpp"

#include "net/request_target.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <string>

namespace plume::net {
namespace {

namespace beast = boost::beast;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<Error> check_framing(const Request& head) {
  if (head.find(http::field::transfer_encoding) == head.end()) return std::nullopt;
  // A sender that puts both lets each hop pick one; a proxy and its upstream that pick
  // differently see different requests (RFC 9112 6.1 allows treating it as an error).
  if (head.find(http::field::content_length) != head.end()) {
    return Error(ErrorCode::BadRequest, "A request may not have both Content-Length and Transfer-Encoding");
  }
  if (head.version() < 11) {
    return Error(ErrorCode::BadRequest, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
  }
  const auto codings = transfer_codings(head);
  if (codings.empty()) return Error(ErrorCode::BadRequest, "Transfer-Encoding is empty");
  for (std::size_t i = 0; i < codings.size(); ++i) {
    if (beast::iequals(codings[i], "chunked") && i + 1 != codings.size()) {
      return Error(ErrorCode::BadRequest,
                   "Transfer-Encoding must end with chunked, once: the length of this body cannot be "
                   "determined");
    }
  }
  for (auto coding : codings) {
    if (!beast::iequals(coding, "chunked")) {
      return Error(ErrorCode::NotImplemented, "Transfer coding \"" + std::string(coding) +
                                                  "\" is not supported: send the body chunked or with "
                                                  "Content-Length");
    }
  }
  return std::nullopt;
}

Error bad_host(std::string_view why) { return Error(ErrorCode::BadRequest, std::string(why)); }

std::optional<Error> check_host(const Request& head) {
  const auto count = head.count(http::field::host);
  if (count > 1) return bad_host("A request has one Host header, this one has " + std::to_string(count));
  if (count == 0) {
    if (head.version() >= 11) return bad_host("An HTTP/1.1 request needs a Host header");
    return std::nullopt;
  }
  std::string_view host = head[http::field::host];
  auto authority = boost::urls::parse_authority(host);
  if (!authority || authority->has_userinfo()) {
    return bad_host("Host \"" + std::string(host) + "\" is not a host name or address with an optional port");
  }
  return std::nullopt;
}

// "api.example.com." names the same host as "api.example.com" (an absolute DNS name); routes
// are written without the dot. A name with an empty label ("a..b", ".a", "a..") names no host:
// refused, as nginx refuses it, so that the dot is dropped once and the result is final.
std::optional<Error> canonicalize_host(Request& head) {
  auto found = head.find(http::field::host);
  if (found == head.end()) return std::nullopt;
  std::string_view value = found->value();
  if (value.empty() || value.front() == '[') return std::nullopt;
  auto colon = value.rfind(':');
  std::string_view name = value.substr(0, colon);
  if (name.starts_with('.') || name.find("..") != std::string_view::npos) {
    return bad_host("Host \"" + std::string(value) + "\" has an empty label");
  }
  if (name.size() < 2 || name.back() != '.') return std::nullopt;
  std::string host(name.substr(0, name.size() - 1));
  if (colon != std::string_view::npos) host += value.substr(colon);
  head.set(http::field::host, host);
  return std::nullopt;
}

Error bad_target(std::string_view target, std::string why) {
  return Error(ErrorCode::BadRequest, std::move(why), JsonObject{{"url", std::string(target)}});
}

std::optional<Error> canonicalize_target(Request& head) {
  // Views into the head stay valid until head.target() is replaced, the last step.
  const std::string_view target = head.target();
  if (target == "*") {
    if (head.method() == http::verb::options) return std::nullopt;
    return bad_target(target, "The request target * is only for OPTIONS");
  }
  std::string_view path;
  std::string_view query;
  bool has_query = false;
  std::string authority;
  boost::urls::url_view absolute;
  if (target.empty()) return bad_target(target, "The request target is empty");
  if (target.front() == '/') {
    auto question = target.find('?');
    path = target.substr(0, question);
    if (question != std::string_view::npos) {
      query = target.substr(question + 1);
      has_query = true;
    }
  } else {
    // Absolute form (RFC 9112 3.2.2): the authority is the host, whatever Host says.
    auto parsed = boost::urls::parse_absolute_uri(target);
    if (!parsed) return bad_target(target, "The request target is neither a path nor an absolute URL");
    absolute = *parsed;
    if (absolute.scheme_id() != boost::urls::scheme::http &&
        absolute.scheme_id() != boost::urls::scheme::https) {
      return bad_target(target, "An absolute request target must be an http or https URL");
    }
    if (!absolute.has_authority() || absolute.encoded_host().empty() || absolute.has_userinfo()) {
      return bad_target(target, "An absolute request target needs a host and no user information");
    }
    authority = std::string(absolute.encoded_host_and_port());
    path = absolute.encoded_path();
    if (path.empty()) path = "/";
    if (absolute.has_query()) {
      query = absolute.encoded_query();
      has_query = true;
    }
  }
  auto normal = normalize_path(path);
  if (!normal) {
    return bad_target(target,
                      "The request path is malformed (a bad or NUL %-escape) or leaves the root with "
                      "'..', also behind an encoded slash");
  }
  if (!authority.empty()) head.set(http::field::host, authority);
  if (*normal != path || !authority.empty()) {
    if (has_query) {
      normal->push_back('?');
      normal->append(query);
    }
    head.target(*normal);
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string_view> transfer_codings(const http::fields& fields) {
  std::vector<std::string_view> codings;
  for (auto [it, end] = fields.equal_range(http::field::transfer_encoding); it != end; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      auto comma = list.find(',');
      auto element = trim(list.substr(0, comma));
      // RFC 9110 5.6.1: empty list elements do not count.
      if (!element.empty()) codings.push_back(element);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return codings;
}

std::optional<Error> admit_request_head(Request& head) {
  if (auto error = check_framing(head)) return error;
  if (auto error = check_host(head)) return error;
  if (auto error = canonicalize_target(head)) return error;
  return canonicalize_host(head);
}

}  // namespace plume::net
