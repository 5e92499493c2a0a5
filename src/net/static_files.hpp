// StaticFiles serves a public directory at "/": GET and HEAD, index.html for directories,
// Content-Type by extension, no dotfiles (a segment starting with '.' is not found), and no way
// out of the directory (".." after percent-decoding is refused, and the resolved path must stay
// under the canonical root).
#pragma once

#include "net/http_types.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace plume::net {

class StaticFiles {
 public:
  // Throws std::runtime_error when `root` is not a directory.
  explicit StaticFiles(const std::filesystem::path& root);

  // The file's response, or nullopt when no file matches (the caller answers 404). A path that
  // tries to leave the directory throws plume::Error (Forbidden).
  std::optional<Response> serve(const Request& request, std::string_view url_path) const;

  // The file a URL path names, if it exists under the root (exposed for tests).
  std::optional<std::filesystem::path> resolve(std::string_view url_path) const;

  const std::filesystem::path& root() const noexcept { return root_; }

 private:
  std::filesystem::path root_;
  std::string root_prefix_;  // canonical root with a trailing separator
};

std::string_view content_type_for(std::string_view extension) noexcept;

// Percent-decodes a URL path; nullopt when an escape is malformed or decodes to NUL.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace plume::net
