#include "transport/rest/rest_request.hpp"

#include "transport/rest/query_string.hpp"

#include <boost/beast/core/string.hpp>

#include <cctype>

namespace plume::transport {
namespace http = net::http;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The media type of a Content-Type value, without parameters.
std::string_view media_type(std::string_view content_type) {
  return trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

JsonObject request_headers(const net::Request& request) {
  JsonObject headers;
  for (const auto& field : request) {
    std::string name = lower(field.name_string());
    std::string_view value = field.value();
    if (auto* existing = headers.if_contains(name)) {
      std::string joined(existing->as_string());
      joined += ", ";
      joined += value;
      *existing = joined;
    } else {
      headers.emplace(name, value);
    }
  }
  return headers;
}

Json parse_authorization(std::string_view header) {
  header = trim(header);
  if (header.empty()) return nullptr;
  auto space = header.find_first_of(" \t");
  std::string_view token = header;
  if (space != std::string_view::npos) {
    std::string_view scheme = header.substr(0, space);
    token = trim(header.substr(space));
    auto end = token.find_first_of(" \t");
    if (end != std::string_view::npos) token = token.substr(0, end);
    if (!boost::beast::iequals(scheme, "Bearer") && !boost::beast::iequals(scheme, "JWT")) return nullptr;
  }
  if (token.empty()) return nullptr;
  return JsonObject{{"strategy", "jwt"}, {"accessToken", token}};
}

Json request_body(const net::Request& request) {
  const std::string& body = request.body();
  std::string_view type = media_type(request[http::field::content_type]);
  if (boost::beast::iequals(type, "application/json") ||
      (type.size() > 5 && boost::beast::iequals(type.substr(type.size() - 5), "+json"))) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) return JsonObject{};
    return parse_json(body);
  }
  if (boost::beast::iequals(type, "application/x-www-form-urlencoded")) {
    return parse_query_string(body);
  }
  return JsonObject{};
}

}  // namespace plume::transport
