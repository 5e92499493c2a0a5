// A configuration tree as read from one or more files: the values as Json, and for every key
// path the file and line it came from, so that errors found after merging still name their file.
#pragma once

#include <plume/config/config.hpp>
#include <plume/core/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace plume::config {

// Key path -> "file:line" of the value at that path.
using Origins = std::map<std::string, std::string, std::less<>>;

struct ConfigTree {
  Json value = JsonObject{};
  Origins origins;
};

// "services" + "messages" -> "services.messages"; keys that are not plain words are quoted:
// gateway.proxyTable["/api/service"].
std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// The origin recorded for `path`, else `fallback`.
std::string origin_of(const Origins& origins, std::string_view path, std::string_view fallback);

// Parses YAML or JSON text (JSON is YAML's flow style). Plain scalars take YAML 1.2 core types
// (null, booleans, integers, floats); quoted scalars stay strings. ${VAR} and ${VAR:-default}
// are substituted in every scalar; a plain scalar is typed after substitution, so that
// `port: ${PORT:-3030}` is an integer. `label` names the source in origins and errors.
ConfigTree parse_config_text(std::string_view text, const std::string& label, const Environment& env);
ConfigTree read_config_file(const std::filesystem::path& file, const Environment& env);

// The value a plain YAML scalar stands for under the core schema.
Json plain_scalar(std::string_view text);

// Deep merge as node-config does: maps merge key by key, anything else (arrays included) is
// replaced by the later value.
void merge_into(ConfigTree& base, ConfigTree overlay);

}  // namespace plume::config
