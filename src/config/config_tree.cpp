#include "config/config_tree.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace plume::config {
namespace {

bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '$') return false;
  }
  return true;
}

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string origin_label(const std::string& label, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return label;
  return label + ":" + std::to_string(mark.line + 1);
}

// Replaces ${VAR} and ${VAR:-default}. As in the shell, ":-" also applies when VAR is empty.
std::string substitute(std::string_view text, const Environment& env, const std::string& path,
                       const std::string& origin) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw ConfigError(path, origin, "unterminated ${ in \"" + std::string(text) + "\"");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    std::size_t name_end = 0;
    while (name_end < inner.size() && is_name_char(inner[name_end])) ++name_end;
    const std::string_view name = inner.substr(0, name_end);
    const std::string_view rest = inner.substr(name_end);
    if (name.empty() || !is_name_start(name[0]) || (!rest.empty() && !rest.starts_with(":-"))) {
      throw ConfigError(path, origin,
                        "expected ${NAME} or ${NAME:-default}, got \"${" + std::string(inner) + "}\"");
    }
    const std::optional<std::string> value = env(name);
    if (!rest.empty()) {
      out += (value && !value->empty()) ? *value : std::string(rest.substr(2));
    } else if (value) {
      out += *value;
    } else {
      throw ConfigError(path, origin,
                        "environment variable " + std::string(name) + " is not set (set it, or write ${" +
                            std::string(name) + ":-default})");
    }
    i = close + 1;
  }
  return out;
}

Json convert(const YAML::Node& node, const std::string& path, const std::string& label,
             const Environment& env, Origins& origins) {
  const std::string origin = origin_label(label, node);
  origins[path] = origin;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string text = substitute(node.Scalar(), env, path, origin);
      const std::string& tag = node.Tag();
      // "!" marks a quoted scalar, "?" a plain one; explicit tags other than !!str are typed.
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return Json(text);
      return plain_scalar(text);
    }
    case YAML::NodeType::Sequence: {
      JsonArray array;
      std::size_t index = 0;
      for (const YAML::Node& item : node) {
        array.push_back(convert(item, index_path(path, index), label, env, origins));
        ++index;
      }
      return array;
    }
    case YAML::NodeType::Map: {
      JsonObject object;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw ConfigError(path, origin_label(label, entry.first), "expected a map with text keys");
        }
        const std::string key = entry.first.Scalar();
        const std::string child = child_path(path, key);
        if (object.contains(key)) {
          throw ConfigError(child, origin_label(label, entry.first), "key appears twice");
        }
        object[key] = convert(entry.second, child, label, env, origins);
      }
      return object;
    }
  }
  return nullptr;
}

bool all_of(std::string_view text, int (*predicate)(int)) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!predicate(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int is_octal(int c) { return c >= '0' && c <= '7'; }

std::optional<Json> parse_integer(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.starts_with("0x") && all_of(digits.substr(2), isxdigit)) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.starts_with("0o") && all_of(digits.substr(2), is_octal)) {
    base = 8;
    digits.remove_prefix(2);
  } else if (!all_of(digits, isdigit)) {
    return std::nullopt;
  }
  if (base != 10 && text.size() != digits.size() + 2) return std::nullopt;  // no sign on 0x/0o
  std::uint64_t magnitude = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > kMax + 1) return std::nullopt;
    return Json(static_cast<std::int64_t>(0 - magnitude));
  }
  if (magnitude > kMax) return Json(magnitude);
  return Json(static_cast<std::int64_t>(magnitude));
}

std::optional<Json> parse_float(std::string_view text) {
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf" || text == "+.Inf" ||
      text == "+.INF") {
    return Json(std::numeric_limits<double>::infinity());
  }
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF")
    return Json(-std::numeric_limits<double>::infinity());
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return Json(std::nan(""));
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  const std::size_t int_start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  const bool int_digits = i > int_start;
  bool frac_digits = false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    frac_digits = i > frac_start;
  }
  if (!int_digits && !frac_digits) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    const std::size_t exp_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == exp_start) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  // strtod, not stod: a float past the double range (1e999, 1e-400) is ±Infinity or 0, as in
  // JavaScript and js-yaml; stod threw std::out_of_range, which escaped load_config.
  return Json(std::strtod(std::string(text).c_str(), nullptr));
}

}  // namespace

std::string child_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (is_plain_key(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += "[\"";
    out += key;
    out += "\"]";
  }
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string origin_of(const Origins& origins, std::string_view path, std::string_view fallback) {
  const auto found = origins.find(path);
  return found != origins.end() ? found->second : std::string(fallback);
}

Json plain_scalar(std::string_view text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (auto integer = parse_integer(text)) return *integer;
  if (auto number = parse_float(text)) return *number;
  return Json(text);
}

namespace {

// The offset of the first byte that does not belong to a well-formed UTF-8 sequence (shortest
// form, no surrogates, at most U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = (lead & 0xE0) == 0xC0   ? 2
                               : (lead & 0xF0) == 0xE0 ? 3
                               : (lead & 0xF8) == 0xF0 ? 4
                                                       : 0;
    if (length == 0 || i + length > text.size()) return i;
    std::uint32_t code_point = lead & (0xFF >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr std::uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kShortest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace

ConfigTree parse_config_text(std::string_view text, const std::string& label, const Environment& env) {
  // YAML and JSON text is Unicode; yaml-cpp reads other bytes as they are, and a value holding
  // them cannot be printed back (plume check) as the same text.
  if (const std::size_t at = invalid_utf8_at(text); at != std::string_view::npos) {
    const auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 1;
    throw ConfigError("", label + ":" + std::to_string(line),
                      "not UTF-8 text (byte " + std::to_string(at) + ")");
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    const std::string where =
        error.mark.is_null() ? label : label + ":" + std::to_string(error.mark.line + 1);
    throw ConfigError("", where, "not valid YAML or JSON: " + error.msg);
  }
  ConfigTree tree;
  tree.value = convert(root, "", label, env, tree.origins);
  if (tree.value.is_null()) tree.value = JsonObject{};  // an empty file
  if (!tree.value.is_object()) {
    throw ConfigError("", label, "expected a map of settings at the top of the file");
  }
  return tree;
}

ConfigTree read_config_file(const std::filesystem::path& file, const Environment& env) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("", file.string(), "cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), file.string(), env);
}

void merge_into(ConfigTree& base, ConfigTree overlay) {
  struct Merger {
    static void merge(Json& into, Json&& from) {
      if (into.is_object() && from.is_object()) {
        for (auto& [key, value] : from.as_object()) {
          auto found = into.as_object().find(key);
          if (found == into.as_object().end()) {
            into.as_object()[key] = std::move(value);
          } else {
            merge(found->value(), std::move(value));
          }
        }
      } else {
        into = std::move(from);
      }
    }
  };
  Merger::merge(base.value, std::move(overlay.value));
  // Paths of the overlay now hold the overlay's values; paths only the base had keep theirs.
  for (auto& [path, origin] : overlay.origins) base.origins[path] = std::move(origin);
}

}  // namespace plume::config
