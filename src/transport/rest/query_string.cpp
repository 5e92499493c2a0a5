// qs.parse (ljharb/qs 6.16 lib/parse.js and lib/utils.js), step by step: split into at most
// parameterLimit pairs, decode keys and values, combine repeated keys, split each key into at most
// `depth` bracket groups, build a small object per key, deep-merge them in JavaScript's key order,
// and compact sparse arrays. Work and nesting are bounded by those limits.
#include "transport/rest/query_string.hpp"

#include <plume/core/digest.hpp>
#include <plume/core/error.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace plume::transport {

namespace {

// ---- decoding (utils.decode: '+' is a space, then decodeURIComponent; if that throws, the
// text is kept as it is) ----

std::optional<unsigned> percent_byte(std::string_view text, std::size_t i) {
  if (i + 2 >= text.size() || text[i] != '%') return std::nullopt;
  const int high = hex_digit_value(text[i + 1]);
  const int low = hex_digit_value(text[i + 2]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<unsigned>(high * 16 + low);
}

// ECMAScript decodeURIComponent: escapes must form whole, shortest-form UTF-8 sequences of
// code points that are not surrogates, or the call throws URIError (nullopt here).
std::optional<std::string> decode_uri_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '%') {
      out += text[i++];
      continue;
    }
    const auto lead = percent_byte(text, i);
    if (!lead) return std::nullopt;
    i += 3;
    if (*lead < 0x80) {
      out += static_cast<char>(*lead);
      continue;
    }
    const int length = (*lead & 0xE0) == 0xC0   ? 2
                       : (*lead & 0xF0) == 0xE0 ? 3
                       : (*lead & 0xF8) == 0xF0 ? 4
                                                : 0;
    if (length == 0) return std::nullopt;
    std::uint32_t code_point = *lead & (0xFF >> (length + 1));
    std::string bytes(1, static_cast<char>(*lead));
    for (int k = 1; k < length; ++k) {
      const auto next = percent_byte(text, i);
      if (!next || (*next & 0xC0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (*next & 0x3F);
      bytes += static_cast<char>(*next);
      i += 3;
    }
    static constexpr std::uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kShortest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return std::nullopt;
    }
    out += bytes;
  }
  return out;
}

std::string decode(std::string_view text) {
  std::string spaced(text);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  auto decoded = decode_uri_component(spaced);
  return decoded ? std::move(*decoded) : spaced;
}

// ---- JavaScript values as qs builds them ----

// A string, a possibly sparse array, or an object. qs marks some objects (utils.js side channels):
// an "overflow" object stands in for an array that outgrew arrayLimit and remembers its highest
// index; a "conflict" container holds values that met at one key (strictMerge) and its last index.
struct Node {
  enum class Kind { String, Array, Object };
  Kind kind = Kind::String;
  std::string text;                    // String
  std::vector<std::string> keys;       // Object: member names in insertion order
  std::vector<std::uint64_t> indices;  // Array: indices of the items present, ascending
  std::uint64_t length = 0;            // Array: JavaScript's length (holes included)
  std::vector<Node> children;          // Object members or Array items, parallel to keys/indices
  std::optional<std::int64_t> overflow;
  std::optional<std::int64_t> conflict;

  static Node string(std::string value) {
    Node node;
    node.text = std::move(value);
    return node;
  }
  static Node array() {
    Node node;
    node.kind = Kind::Array;
    return node;
  }
  static Node object() {
    Node node;
    node.kind = Kind::Object;
    return node;
  }

  bool is_composite() const { return kind != Kind::String; }
  // JavaScript truthiness: only the empty string is falsy among the values qs makes.
  bool truthy() const { return kind != Kind::String || !text.empty(); }

  Node* member(std::string_view name) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == name) return &children[i];
    }
    return nullptr;
  }
  void set_member(std::string name, Node value) {
    if (Node* existing = member(name)) {
      *existing = std::move(value);
      return;
    }
    keys.push_back(std::move(name));
    children.push_back(std::move(value));
  }

  Node* item(std::uint64_t index) {
    const auto it = std::lower_bound(indices.begin(), indices.end(), index);
    return it != indices.end() && *it == index ? &children[it - indices.begin()] : nullptr;
  }
  void set_item(std::uint64_t index, Node value) {
    const auto it = std::lower_bound(indices.begin(), indices.end(), index);
    const auto position = it - indices.begin();
    if (it != indices.end() && *it == index) {
      children[position] = std::move(value);
      return;
    }
    indices.insert(it, index);
    children.insert(children.begin() + position, std::move(value));
    length = std::max(length, index + 1);
  }
  void push(Node value) { set_item(length, std::move(value)); }
};

// Integer-like property names ("0", "17"; not "01" or "-1") are array indices, which JavaScript
// objects list first, in numeric order, before the other keys in insertion order.
std::optional<std::uint64_t> array_index(std::string_view key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key.front() == '0')) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > 4294967294ULL) return std::nullopt;
  return value;
}

// parseInt(text, 10); nullopt is NaN. Digits past what a double holds exactly are not needed here.
std::optional<std::int64_t> js_parse_int(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  const std::size_t start = i;
  std::int64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 18; ++i)
    value = value * 10 + (text[i] - '0');
  if (i == start) return std::nullopt;
  return negative ? -value : value;
}

// String(parseInt(key, 10)) === key: a canonical decimal integer, sign allowed.
std::optional<std::int64_t> canonical_integer(std::string_view key) {
  const auto value = js_parse_int(key);
  if (!value || key.size() > 17 || std::to_string(*value) != key) return std::nullopt;
  return value;
}

// Member positions of an object in JavaScript's property order.
std::vector<std::size_t> js_key_order(const std::vector<std::string>& keys) {
  std::vector<std::size_t> order(keys.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&keys](std::size_t a, std::size_t b) {
    const auto ia = array_index(keys[a]);
    const auto ib = array_index(keys[b]);
    if (ia && ib) return *ia < *ib;
    return ia.has_value() && !ib.has_value();
  });
  return order;
}

// Object.keys(node) for an object or an array, in JavaScript's order, with the children.
std::vector<std::pair<std::string, Node>> take_entries(Node&& node) {
  std::vector<std::pair<std::string, Node>> entries;
  entries.reserve(node.children.size());
  if (node.kind == Node::Kind::Array) {
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      entries.emplace_back(std::to_string(node.indices[i]), std::move(node.children[i]));
    }
  } else {
    for (std::size_t i : js_key_order(node.keys))
      entries.emplace_back(node.keys[i], std::move(node.children[i]));
  }
  return entries;
}

// utils.arrayToObject: the items present, keyed by their index.
Node array_to_object(Node&& array) {
  Node object = Node::object();
  for (std::size_t i = 0; i < array.indices.size(); ++i) {
    object.keys.push_back(std::to_string(array.indices[i]));
    object.children.push_back(std::move(array.children[i]));
  }
  return object;
}

Node overflowed(Node&& array, std::int64_t max_index) {
  Node object = array_to_object(std::move(array));
  object.overflow = max_index;
  return object;
}

// utils.merge, utils.combine and friends under the options Express passes (strictMerge on by
// default, allowPrototypes, arrayLimit).
class Merger {
 public:
  explicit Merger(std::uint64_t array_limit) : limit_(array_limit) {}

  // [first, second], or an overflow object if even two values exceed arrayLimit.
  Node limited_pair(Node&& first, Node&& second) const {
    Node pair = Node::array();
    pair.push(std::move(first));
    pair.push(std::move(second));
    return pair.length > limit_ ? overflowed(std::move(pair), 1) : std::move(pair);
  }

  // [].concat(a, b) for the values of one key (b is a string), or appended to an overflow object.
  Node combine(Node&& a, Node&& b) const {
    if (a.overflow) {
      const std::int64_t index = *a.overflow + 1;
      a.set_member(std::to_string(index), std::move(b));
      a.overflow = index;
      return std::move(a);
    }
    // Appending to `a` itself is the same as concat here, since the old array is dropped, and
    // keeps a run of repeated keys linear.
    Node result;
    if (a.kind == Node::Kind::Array) {
      result = std::move(a);
      result.conflict.reset();  // concat makes a new, unmarked array
    } else {
      result = Node::array();
      result.push(std::move(a));
    }
    append_spread(result, std::move(b));
    return result.length > limit_
               ? overflowed(std::move(result), static_cast<std::int64_t>(result.length) - 1)
               : std::move(result);
  }

  Node merge(Node target, Node source) const {
    if (!source.truthy()) return target;
    if (!source.is_composite()) return merge_primitive(std::move(target), std::move(source));
    if (!target.is_composite()) return merge_into_primitive(std::move(target), std::move(source));
    if (target.kind == Node::Kind::Array && source.kind == Node::Kind::Array) {
      return merge_arrays(std::move(target), std::move(source));
    }
    Node acc;
    if (target.kind == Node::Kind::Array) {
      const auto conflict = target.conflict;
      const auto length = static_cast<std::int64_t>(target.length);
      acc = array_to_object(std::move(target));
      if (conflict) acc.conflict = length - 1;
    } else {
      acc = std::move(target);
    }
    const auto source_overflow = source.overflow;
    for (auto& [key, value] : take_entries(std::move(source))) {
      if (Node* existing = acc.member(key)) {
        *existing = merge(std::move(*existing), std::move(value));
      } else {
        acc.set_member(key, std::move(value));
      }
      if (source_overflow && !acc.overflow) acc.overflow = max_numeric_index(acc, *source_overflow);
      const auto number = canonical_integer(key);
      if (acc.overflow && number && *number >= 0 && *number > *acc.overflow) acc.overflow = number;
      if (acc.conflict && number && *number > *acc.conflict) acc.conflict = number;
    }
    return acc;
  }

 private:
  static void append_spread(Node& result, Node&& value) {
    if (value.kind == Node::Kind::Array) {
      const std::uint64_t base = result.length;
      for (std::size_t i = 0; i < value.indices.size(); ++i) {
        result.set_item(base + value.indices[i], std::move(value.children[i]));
      }
      result.length = base + value.length;
    } else {
      result.push(std::move(value));
    }
  }

  static std::int64_t max_numeric_index(const Node& object, std::int64_t minimum) {
    std::int64_t max = minimum;
    for (const auto& key : object.keys) {
      if (const auto number = canonical_integer(key); number && *number > max) max = *number;
    }
    return max;
  }

  Node merge_primitive(Node&& target, Node&& source) const {
    if (target.kind == Node::Kind::Array) {
      const std::uint64_t next = target.length;
      if (next >= limit_) {
        target.push(std::move(source));
        return overflowed(std::move(target), static_cast<std::int64_t>(next));
      }
      target.push(std::move(source));
      return std::move(target);
    }
    if (target.kind == Node::Kind::Object) {
      if (target.overflow) {
        const std::int64_t index = *target.overflow + 1;
        target.set_member(std::to_string(index), std::move(source));
        target.overflow = index;
      } else if (target.conflict) {
        const std::int64_t index = *target.conflict + 1;
        target.set_member(std::to_string(index), std::move(source));
        target.conflict = index;
      } else {
        // strictMerge: an object and a value at one key become [object, value].
        Node pair = limited_pair(std::move(target), std::move(source));
        if (pair.kind == Node::Kind::Array) pair.conflict = 1;
        return pair;
      }
      return std::move(target);
    }
    return limited_pair(std::move(target), std::move(source));
  }

  Node merge_into_primitive(Node&& target, Node&& source) const {
    if (source.overflow) {
      // The value goes first and the overflow object's indices move up by one.
      Node result = Node::object();
      result.set_member("0", std::move(target));
      const std::int64_t max = *source.overflow + 1;
      for (auto& [key, value] : take_entries(std::move(source))) {
        const auto number = js_parse_int(key);
        result.set_member(number ? std::to_string(*number + 1) : "NaN", std::move(value));
      }
      result.overflow = max;
      return result;
    }
    Node combined = Node::array();
    combined.push(std::move(target));
    append_spread(combined, std::move(source));
    return combined.length > limit_
               ? overflowed(std::move(combined), static_cast<std::int64_t>(combined.length) - 1)
               : std::move(combined);
  }

  Node merge_arrays(Node&& target, Node&& source) const {
    for (std::size_t i = 0; i < source.indices.size(); ++i) {
      const std::uint64_t index = source.indices[i];
      Node& item = source.children[i];
      Node* existing = target.item(index);
      if (existing == nullptr) {
        target.set_item(index, std::move(item));
      } else if (existing->is_composite() && item.is_composite()) {
        *existing = merge(std::move(*existing), std::move(item));
      } else {
        target.push(std::move(item));
      }
    }
    if (target.length > limit_) {
      return overflowed(std::move(target), static_cast<std::int64_t>(target.length) - 1);
    }
    return std::move(target);
  }

  std::uint64_t limit_;
};

// ---- keys ----

// splitKeyIntoSegments: the parent before the first '[', then up to `depth` balanced bracket
// groups (text between groups is dropped), then the rest, from the next '[', as one literal
// segment; an unterminated group also becomes such a literal segment.
std::vector<std::string> split_key(std::string_view key, std::size_t depth, bool strict_depth) {
  std::vector<std::string> chain;
  if (depth == 0) {
    chain.emplace_back(key);
    return chain;
  }
  std::size_t open = key.find('[');
  const std::string_view parent = key.substr(0, open);
  if (!parent.empty()) chain.emplace_back(parent);
  std::size_t collected = 0;
  while (open != std::string_view::npos && collected < depth) {
    std::size_t level = 1;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = open + 1; i < key.size(); ++i) {
      if (key[i] == '[') {
        ++level;
      } else if (key[i] == ']' && --level == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) {
      chain.push_back("[" + std::string(key.substr(open)) + "]");
      return chain;
    }
    chain.emplace_back(key.substr(open, close + 1 - open));
    ++collected;
    open = key.find('[', close + 1);
  }
  if (open != std::string_view::npos) {
    if (strict_depth) throw bad_request("The input exceeded the depth");
    chain.push_back("[" + std::string(key.substr(open)) + "]");
  }
  return chain;
}

// parseObject: the value wrapped in one object or array per segment, innermost first.
Node build_from_chain(const std::vector<std::string>& chain, Node leaf, const Merger& merger,
                      std::uint64_t array_limit) {
  for (std::size_t i = chain.size(); i-- > 0;) {
    const std::string& root = chain[i];
    Node wrapped;
    if (root == "[]") {
      wrapped = leaf.overflow ? std::move(leaf) : merger.combine(Node::array(), std::move(leaf));
    } else {
      const bool bracketed = root.size() >= 2 && root.front() == '[' && root.back() == ']';
      std::string clean = bracketed ? root.substr(1, root.size() - 2) : root;
      const auto index = bracketed ? canonical_integer(clean) : std::nullopt;
      if (index && *index >= 0 && static_cast<std::uint64_t>(*index) < array_limit) {
        wrapped = Node::array();
        wrapped.set_item(static_cast<std::uint64_t>(*index), std::move(leaf));
      } else if (index && *index >= 0) {
        wrapped = Node::object();
        wrapped.set_member(std::move(clean), std::move(leaf));
        wrapped.overflow = *index;
      } else {
        wrapped = Node::object();
        if (clean != "__proto__") wrapped.set_member(std::move(clean), std::move(leaf));
      }
    }
    leaf = std::move(wrapped);
  }
  return leaf;
}

// ---- back to JSON (utils.compact drops the holes of sparse arrays) ----

boost::json::value to_json(Node&& node) {
  switch (node.kind) {
    case Node::Kind::String:
      return boost::json::string(node.text);
    case Node::Kind::Array: {
      boost::json::array array;
      array.reserve(node.children.size());
      for (auto& child : node.children) array.push_back(to_json(std::move(child)));
      return array;
    }
    case Node::Kind::Object: {
      boost::json::object object;
      object.reserve(node.children.size());
      for (std::size_t i : js_key_order(node.keys)) {
        object.emplace(node.keys[i], to_json(std::move(node.children[i])));
      }
      return object;
    }
  }
  return nullptr;
}

// ---- parseValues ----

struct FlatPair {
  std::string key;
  Node value;  // a String, or an Array of them for a repeated key
};

std::vector<FlatPair> parse_values(std::string_view raw, const QueryStringOptions& options,
                                   const Merger& merger) {
  // %5B and %5D become brackets before anything else, so encoded brackets in keys nest.
  std::string clean;
  clean.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && raw[i + 1] == '5' &&
        (raw[i + 2] == 'B' || raw[i + 2] == 'b' || raw[i + 2] == 'D' || raw[i + 2] == 'd')) {
      clean += (raw[i + 2] == 'B' || raw[i + 2] == 'b') ? '[' : ']';
      i += 2;
    } else {
      clean += raw[i];
    }
  }

  std::vector<FlatPair> pairs;
  std::unordered_map<std::string, std::size_t> positions;
  std::string_view rest = clean;
  for (std::size_t count = 0; count < options.parameter_limit; ++count) {
    const std::size_t amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);

    // `a[b=c]=d`: an '=' right after a ']' ends the key, so keys may hold '=' inside brackets.
    const std::size_t bracket_equals = part.find("]=");
    const std::size_t equals = bracket_equals == std::string_view::npos ? part.find('=') : bracket_equals + 1;
    std::string key;
    std::string value;
    if (equals == std::string_view::npos) {
      key = decode(part);
    } else {
      key = decode(part.substr(0, equals));
      value = decode(part.substr(equals + 1));
    }

    if (const auto found = positions.find(key); found == positions.end()) {
      positions.emplace(key, pairs.size());
      pairs.push_back({std::move(key), Node::string(std::move(value))});
    } else {
      Node& existing = pairs[found->second].value;
      existing = merger.combine(std::move(existing), Node::string(std::move(value)));
    }

    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return pairs;
}

}  // namespace

boost::json::object parse_query_string(std::string_view raw, const QueryStringOptions& options) {
  if (raw.empty()) return {};
  const Merger merger(options.array_limit);
  std::vector<FlatPair> pairs = parse_values(raw, options, merger);

  // Object.keys(tempObj): integer-like keys first.
  std::vector<std::string> keys;
  keys.reserve(pairs.size());
  for (const auto& pair : pairs) keys.push_back(pair.key);

  Node root = Node::object();
  for (std::size_t i : js_key_order(keys)) {
    FlatPair& pair = pairs[i];
    if (pair.key.empty()) continue;  // `=x` or `&&`: qs skips an empty key
    const auto chain = split_key(pair.key, options.depth, options.strict_depth);
    root = merger.merge(std::move(root),
                        build_from_chain(chain, std::move(pair.value), merger, options.array_limit));
  }
  auto json = to_json(std::move(root));
  return std::move(json.as_object());
}

}  // namespace plume::transport
