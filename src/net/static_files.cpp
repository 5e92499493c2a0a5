#include "net/static_files.hpp"

#include <plume/core/digest.hpp>

#include <boost/beast/core/file_base.hpp>
#include <boost/beast/core/string.hpp>

#include <array>
#include <stdexcept>
#include <utility>

namespace plume::net {
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kContentTypes{{
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "application/javascript; charset=utf-8"},
    {".mjs", "application/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".xml", "application/xml"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".wasm", "application/wasm"},
    {".pdf", "application/pdf"},
    {".mp4", "video/mp4"},
    {".webm", "video/webm"},
    {".csv", "text/csv; charset=utf-8"},
}};

}  // namespace

std::string_view content_type_for(std::string_view extension) noexcept {
  for (const auto& [ext, type] : kContentTypes) {
    if (boost::beast::iequals(ext, extension)) return type;
  }
  return "application/octet-stream";
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_digit_value(text[i + 1]);
      int low = hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

StaticFiles::StaticFiles(const fs::path& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_)) {
    throw std::runtime_error("public directory " + root.string() + " is not a directory");
  }
  root_prefix_ = root_.string();
  if (root_prefix_.back() != '/') root_prefix_.push_back('/');
}

std::optional<fs::path> StaticFiles::resolve(std::string_view url_path) const {
  auto decoded = percent_decode(url_path);
  if (!decoded) throw Error(ErrorCode::BadRequest, "Malformed URL path");
  // serve-static's rules: a ".." segment is refused outright, before touching the file system;
  // any other segment starting with a dot (.env, .git/config) is not served, as with its
  // default `dotfiles: "ignore"`: such files hold secrets and tool state, not pages.
  std::string_view rest = *decoded;
  bool dotfile = false;
  for (std::size_t start = 0; start <= rest.size();) {
    auto end = rest.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = rest.size();
    auto segment = rest.substr(start, end - start);
    if (segment == "..") throw Error(ErrorCode::Forbidden, "Forbidden");
    if (segment.starts_with('.') && segment != ".") dotfile = true;
    start = end + 1;
  }
  if (dotfile) return std::nullopt;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);

  std::error_code ec;
  fs::path candidate = fs::weakly_canonical(root_ / fs::path(rest), ec);
  if (ec) return std::nullopt;
  // Symbolic links may still point elsewhere: the resolved path must stay under the root.
  const std::string& text = candidate.native();
  if (text != root_.native() && text.compare(0, root_prefix_.size(), root_prefix_) != 0) {
    throw Error(ErrorCode::Forbidden, "Forbidden");
  }
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  if (!fs::is_regular_file(candidate, ec)) return std::nullopt;
  return candidate;
}

std::optional<Response> StaticFiles::serve(const Request& request, std::string_view url_path) const {
  auto file_path = resolve(url_path);
  if (!file_path) return std::nullopt;
  auto content_type = content_type_for(file_path->extension().native());

  boost::beast::error_code ec;
  http::file_body::value_type body;
  body.open(file_path->c_str(), boost::beast::file_mode::scan, ec);
  if (ec) return std::nullopt;
  auto size = body.size();

  if (request.method() == http::verb::head) {
    StringResponse response{http::status::ok, request.version()};
    response.set(http::field::content_type, content_type);
    response.content_length(size);
    response.keep_alive(request.keep_alive());
    return Response(std::move(response));
  }
  FileResponse response{std::piecewise_construct, std::make_tuple(std::move(body)),
                        std::make_tuple(http::status::ok, request.version())};
  response.set(http::field::content_type, content_type);
  response.content_length(size);
  response.keep_alive(request.keep_alive());
  return Response(std::move(response));
}

}  // namespace plume::net
