// Shaping results: $sort, $select, Feathers' getLimit and the paginated page
// (packages/adapter-commons/src/{sort.ts,index.ts,query.ts}).
#include <plume/core/query.hpp>

#include <algorithm>
#include <limits>

namespace plume {

namespace {

const Json kNull = nullptr;

// The sort key's value: the field, or a dotted path into nested objects as the sorter's
// get(value, key.split('.')) reads it; missing is null.
const Json& sort_value(const Json& record, std::string_view field) {
  if (!record.is_object()) return kNull;
  if (const Json* value = record.get_object().if_contains(field)) return *value;
  const auto dot = field.find('.');
  if (dot == std::string_view::npos) return kNull;
  const Json* head = record.get_object().if_contains(field.substr(0, dot));
  return head != nullptr ? sort_value(*head, field.substr(dot + 1)) : kNull;
}

}  // namespace

void sort_records(std::vector<Json>& records, const std::vector<SortKey>& sort) {
  if (sort.empty()) return;
  // adapter-commons sorter: keys in the order given, the first difference decides; json_compare
  // ranks values as its compare() does (null/missing < numbers < strings < booleans < others).
  std::stable_sort(records.begin(), records.end(), [&sort](const Json& a, const Json& b) {
    for (const auto& key : sort) {
      const int c = json_compare(sort_value(a, key.field), sort_value(b, key.field));
      if (c != 0) return key.direction < 0 ? c > 0 : c < 0;
    }
    return false;
  });
}

Json select_fields(const Json& record, const std::vector<std::string>& select, std::string_view id_field) {
  if (!record.is_object()) return record;
  // commons select(): _.pick(result, ...$select, id): the selected fields in the order asked,
  // then the id; absent fields stay absent.
  const auto& source = record.get_object();
  JsonObject picked;
  auto pick = [&](std::string_view name) {
    if (picked.contains(name)) return;
    if (const Json* value = source.if_contains(name)) picked.emplace(name, *value);
  };
  for (const auto& name : select) pick(name);
  pick(id_field);
  return picked;
}

std::optional<std::int64_t> effective_limit(const std::optional<std::int64_t>& requested,
                                            const std::optional<PaginateOptions>& paginate) {
  // getLimit: `paginate && (paginate.default || paginate.max)`; 0 is falsy there.
  const bool has_default = paginate && paginate->default_limit && *paginate->default_limit != 0;
  const bool has_max = paginate && paginate->max_limit && *paginate->max_limit != 0;
  if (!paginate || !paginate->enabled || !(has_default || has_max)) {
    return requested;
  }
  const std::int64_t base = has_default ? *paginate->default_limit : 0;
  const std::int64_t lower = requested && *requested >= 0 ? *requested : base;
  const std::int64_t upper =
      paginate->max_limit ? *paginate->max_limit : std::numeric_limits<std::int64_t>::max();
  return std::min(lower, upper);
}

Json make_page(std::int64_t total, std::int64_t limit, std::int64_t skip, JsonArray data) {
  JsonObject page;
  page.emplace("total", total);
  page.emplace("limit", limit);
  page.emplace("skip", skip);
  page.emplace("data", std::move(data));
  return page;
}

}  // namespace plume
