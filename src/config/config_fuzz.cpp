// libFuzzer target for configuration loading as `plume serve` and `plume check` do it: the text
// as a file (YAML, or JSON as YAML's flow style), ${VAR} substitution from a fixed environment,
// validation against the schema of every section, then the typed Config.
// Properties: a bad configuration is a ConfigError and nothing else (a plume::Error, a Boost.JSON exception
// or a failed assertion means validation let a value through that the typed step cannot read); the typed
// values are the validated ones (the port is the port written); the resolved tree printed as YAML reads back
// equal; masking secrets keeps the tree's shape.
#include "config/config_tree.hpp"
#include "testing/fuzz_support.hpp"

#include <plume/config/config.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace {

using plume::Json;
using plume::testing::fuzz_check;
namespace config = plume::config;

std::optional<std::string> fixed_environment(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> variables = {
      {"PORT", "8080"},
      {"HOST", "0.0.0.0"},
      {"SECRET", "s3cr3t"},
      {"EMPTY", ""},
      {"NESTED", "${SECRET}"},
      {"DATABASE_URL", "sqlite://data/app.db"},
      {"REDIS_URL", "redis://127.0.0.1:6379/0"},
      {"THREADS", "2"}};
  const auto found = variables.find(name);
  if (found == variables.end()) return std::nullopt;
  return found->second;
}

const std::filesystem::path& config_file() {
  static const std::filesystem::path file = [] {
    const auto dir =
        std::filesystem::temp_directory_path() / ("plume-config-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    return dir / "default.yaml";
  }();
  return file;
}

bool mentions_variable(const Json& value) {
  if (const auto* text = value.if_string())
    return std::string_view(*text).find("${") != std::string_view::npos;
  if (const auto* array = value.if_array()) {
    for (const auto& item : *array) {
      if (mentions_variable(item)) return true;
    }
  }
  if (const auto* object = value.if_object()) {
    for (const auto& member : *object) {
      if (mentions_variable(member.value()) || member.key().find("${") != std::string_view::npos) return true;
    }
  }
  return false;
}

bool same_shape(const Json& a, const Json& b) {
  if (a.kind() != b.kind()) return a.is_string() || b.is_string();  // a masked value is a string
  if (a.is_object()) {
    if (a.get_object().size() != b.get_object().size()) return false;
    for (const auto& member : a.get_object()) {
      const Json* other = b.get_object().if_contains(member.key());
      if (other == nullptr || !same_shape(member.value(), *other)) return false;
    }
  }
  if (a.is_array()) {
    if (a.get_array().size() != b.get_array().size()) return false;
    for (std::size_t i = 0; i < a.get_array().size(); ++i) {
      if (!same_shape(a.get_array()[i], b.get_array()[i])) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(config_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  config::Config loaded;
  try {
    loaded = config::load_config(config_file(), fixed_environment);
  } catch (const config::ConfigError&) {
    return 0;
  }

  const Json& resolved = loaded.resolved;
  if (const auto* port = resolved.get_object().if_contains("port")) {
    fuzz_check(port->is_int64() && port->get_int64() == loaded.port, "the port is the port written");
  }
  fuzz_check(same_shape(resolved, config::mask_secrets(resolved)), "masking keeps the tree's shape");

  const std::string yaml = config::to_yaml(resolved);
  if (!mentions_variable(resolved) && !plume::testing::has_non_finite(resolved)) {
    try {
      const config::ConfigTree again =
          config::parse_config_text(yaml, "printed", [](std::string_view) { return std::nullopt; });
      fuzz_check(plume::json_equal(again.value, resolved),
                 "the resolved tree printed as YAML reads back equal");
    } catch (const config::ConfigError& error) {
      std::fprintf(stderr, "%s\n---\n%s\n", error.what(), yaml.c_str());
      fuzz_check(false, "the resolved tree printed as YAML reads back");
    }
  }
  return 0;
}
