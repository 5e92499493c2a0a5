// Printing a resolved configuration (`plume check`): secrets masked, YAML that reads back to
// the same types.
#include "config/config_tree.hpp"

#include <plume/config/config.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace plume::config {
namespace {

constexpr std::string_view kMask = "****";

bool is_secret_key(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("secret") != std::string::npos || lower.find("password") != std::string::npos ||
         lower.find("token") != std::string::npos;
}

// scheme://user:password@host... -> scheme://user:****@host...
std::string mask_url_password(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  const std::size_t authority = scheme_end + 3;
  const std::size_t at = text.find('@', authority);
  if (at == std::string_view::npos) return std::string(text);
  const std::size_t slash = text.find('/', authority);
  if (slash != std::string_view::npos && slash < at) return std::string(text);
  const std::size_t colon = text.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + std::string(kMask) + std::string(text.substr(at));
}

void mask(Json& value) {
  if (value.is_object()) {
    for (auto& [key, item] : value.as_object()) {
      if (is_secret_key(key) && !item.is_object() && !item.is_array() && !item.is_bool() && !item.is_null()) {
        item = kMask;
      } else {
        mask(item);
      }
    }
  } else if (value.is_array()) {
    for (auto& item : value.as_array()) mask(item);
  } else if (value.is_string()) {
    value = mask_url_password(value.get_string());
  }
}

void emit(YAML::Emitter& out, const Json& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out << YAML::Null;
      break;
    case boost::json::kind::bool_:
      out << value.get_bool();
      break;
    case boost::json::kind::int64:
      out << value.get_int64();
      break;
    case boost::json::kind::uint64:
      out << value.get_uint64();
      break;
    case boost::json::kind::double_: {
      const double number = value.get_double();
      if (std::isnan(number)) {
        out << ".nan";
      } else if (std::isinf(number)) {
        out << (number > 0 ? ".inf" : "-.inf");
      } else {
        out << number;
      }
      break;
    }
    case boost::json::kind::string: {
      const std::string text(value.get_string());
      // A string YAML would read as a number, boolean or null is quoted to stay a string.
      if (!plain_scalar(text).is_string() || text.find_first_of("${}") != std::string::npos) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      break;
    }
    case boost::json::kind::array:
      if (value.get_array().empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : value.get_array()) emit(out, item);
      out << YAML::EndSeq;
      break;
    case boost::json::kind::object:
      if (value.get_object().empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.get_object()) {
        out << YAML::Key << std::string(key) << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
  }
}

void pretty(std::string& out, const Json& value, int depth) {
  const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string closing(static_cast<std::size_t>(depth) * 2, ' ');
  if (value.is_object() && !value.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : value.get_object()) {
      if (!first) out += ",\n";
      first = false;
      out += indent + to_json_text(Json(key)) + ": ";
      pretty(out, item, depth + 1);
    }
    out += "\n" + closing + "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : value.get_array()) {
      if (!first) out += ",\n";
      first = false;
      out += indent;
      pretty(out, item, depth + 1);
    }
    out += "\n" + closing + "]";
  } else {
    out += to_json_text(value);
  }
}

}  // namespace

std::string to_pretty_json(const Json& value) {
  std::string out;
  pretty(out, value, 0);
  return out + "\n";
}

Json mask_secrets(const Json& resolved) {
  Json copy = resolved;
  mask(copy);
  return copy;
}

std::string to_yaml(const Json& value) {
  YAML::Emitter out;
  emit(out, value);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

}  // namespace plume::config
