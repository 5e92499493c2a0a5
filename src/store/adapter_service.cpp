#include "store/adapter_service.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

namespace plume::store {

AdapterService::AdapterService(StoreOptions options) : options_(std::move(options)) {}

void AdapterService::setup(App& app, std::string_view path) {
  Service::setup(app, path);
  std::vector<FieldSpec> fields = options_.schema.fields();
  if (options_.schema.field(options_.id_field) == nullptr) {
    FieldSpec id;
    id.name = options_.id_field;
    id.type = options_.id_type == IdType::Integer ? FieldType::Integer : FieldType::String;
    fields.push_back(std::move(id));
  }
  query_schema_ = Schema(std::move(fields));
  if (ServiceEntry* entry = app.find_service(path)) entry->set_schema(&query_schema_);
}

Query AdapterService::parse(const Params& params) const {
  QueryOptions query_options;
  query_options.operators = options_.operators;
  query_options.schema = options_.schema.empty() ? nullptr : &options_.schema;
  query_options.id_field = options_.id_field;
  if (params.query.is_null()) return parse_query(Json(JsonObject{}), query_options);
  return parse_query(params.query, query_options);
}

bool AdapterService::allows_multi(std::string_view method) const {
  return std::find(options_.multi.begin(), options_.multi.end(), method) != options_.multi.end();
}

std::optional<Id> AdapterService::store_id(const Id& id) const {
  if (options_.id_type == IdType::String) {
    if (id.is_string()) return id;
    return Id(std::to_string(id.integer()));
  }
  if (auto number = id.as_integer_like()) return Id(*number);
  return std::nullopt;
}

Json AdapterService::selected(const Json& record, const Query& query) const {
  if (!query.select) return record;
  return select_fields(record, *query.select, options_.id_field);
}

JsonArray AdapterService::selected(std::vector<Json> records, const Query& query) const {
  JsonArray result;
  result.reserve(records.size());
  for (Json& record : records) {
    if (query.select) {
      result.push_back(select_fields(record, *query.select, options_.id_field));
    } else {
      result.push_back(std::move(record));
    }
  }
  return result;
}

namespace {

Error not_found_for(const Id& id) { return not_found("No record found for id '" + id.to_string() + "'"); }

JsonObject record_object(Json data) {
  if (!data.is_object()) throw bad_request("Data must be an object, got " + to_json_text(data));
  return std::move(data.as_object());
}

}  // namespace

JsonObject AdapterService::prepare_create(Json data) const {
  JsonObject record = record_object(std::move(data));
  Json given_id = nullptr;
  if (auto it = record.find(options_.id_field); it != record.end()) {
    given_id = it->value();
    record.erase(it);
  }
  if (!options_.schema.empty()) options_.schema.validate(record, Schema::Mode::Create);

  // As the memory adapter does (`data[id] || uid++`), a given id is kept, otherwise one is made.
  if (options_.id_type == IdType::Integer) {
    if (!given_id.is_null()) {
      auto number = Id::from_json(given_id).as_integer_like();
      if (!number)
        throw bad_request("Invalid id " + to_json_text(given_id) + ": this service's ids are integers");
      record[options_.id_field] = *number;
    }
  } else if (given_id.is_string() && !given_id.as_string().empty()) {
    record[options_.id_field] = given_id;
  } else if (!given_id.is_null() && !given_id.is_string()) {
    record[options_.id_field] = Id::from_json(given_id).to_string();
  } else {
    record[options_.id_field] = make_uuid_v4();
  }
  return record;
}

Task<Json> AdapterService::find(Params& params) {
  Query query = parse(params);
  std::optional<PaginateOptions> paginate = params.paginate ? params.paginate : options_.paginate;
  if (paginate && !paginate->enabled) paginate.reset();

  if (!paginate) {
    FoundRecords found = co_await find_records(query, query.limit, false);
    co_return Json(selected(std::move(found.records), query));
  }
  std::optional<std::int64_t> limit = effective_limit(query.limit, paginate);
  FoundRecords found = co_await find_records(query, limit, true);
  Json page =
      make_page(found.total, limit.value_or(0), query.skip, selected(std::move(found.records), query));
  // Feathers leaves `limit` undefined when pagination has neither a default nor a max.
  if (!limit) page.as_object().erase("limit");
  co_return page;
}

Task<Json> AdapterService::get(const Id& id, Params& params) {
  Query query = parse(params);
  if (std::optional<Id> key = store_id(id)) {
    std::optional<Json> record = co_await get_record(*key, query.where);
    if (record) co_return selected(*record, query);
  }
  throw not_found_for(id);
}

Task<Json> AdapterService::create(Json data, Params& params) {
  // create ignores the query except $select (memory adapter).
  Json select_only = JsonObject{};
  if (params.query.is_object()) {
    if (const Json* select = params.query.as_object().if_contains("$select")) {
      select_only.as_object()["$select"] = *select;
    }
  }
  Params select_params;
  select_params.query = std::move(select_only);
  Query query = parse(select_params);

  if (data.is_array()) {
    if (!allows_multi("create")) throw method_not_allowed("Can not create multiple entries");
    std::vector<JsonObject> records;
    records.reserve(data.as_array().size());
    for (Json& item : data.as_array()) records.push_back(prepare_create(std::move(item)));
    co_return Json(selected(co_await create_records(std::move(records)), query));
  }
  std::vector<JsonObject> records;
  records.push_back(prepare_create(std::move(data)));
  std::vector<Json> created = co_await create_records(std::move(records));
  co_return selected(created.at(0), query);
}

Task<Json> AdapterService::update(const NullableId& id, Json data, Params& params) {
  Query query = parse(params);
  if (!id || data.is_array())
    throw bad_request("You can not replace multiple instances. Did you mean 'patch'?");
  JsonObject record = record_object(std::move(data));
  record.erase(options_.id_field);
  if (!options_.schema.empty()) options_.schema.validate(record, Schema::Mode::Update);
  if (std::optional<Id> key = store_id(*id)) {
    std::optional<Json> updated = co_await update_record(*key, std::move(record), query.where);
    if (updated) co_return selected(*updated, query);
  }
  throw not_found_for(*id);
}

Task<Json> AdapterService::patch(const NullableId& id, Json data, Params& params) {
  // $limit, $skip and $sort do not narrow a multi patch: every match is patched.
  Query query = parse(params);
  if (!id && !allows_multi("patch")) throw method_not_allowed("Can not patch multiple entries");
  JsonObject changes = record_object(std::move(data));
  changes.erase(options_.id_field);
  if (!options_.schema.empty()) options_.schema.validate(changes, Schema::Mode::Patch);

  if (!id)
    co_return Json(selected(co_await patch_records(std::nullopt, std::move(changes), query.where), query));
  if (std::optional<Id> key = store_id(*id)) {
    std::vector<Json> patched = co_await patch_records(*key, std::move(changes), query.where);
    if (!patched.empty()) co_return selected(patched.front(), query);
  }
  throw not_found_for(*id);
}

Task<Json> AdapterService::remove(const NullableId& id, Params& params) {
  Query query = parse(params);
  if (!id && !allows_multi("remove")) throw method_not_allowed("Can not remove multiple entries");
  if (!id) co_return Json(selected(co_await remove_records(std::nullopt, query.where), query));
  if (std::optional<Id> key = store_id(*id)) {
    std::vector<Json> removed = co_await remove_records(*key, query.where);
    if (!removed.empty()) co_return selected(removed.front(), query);
  }
  throw not_found_for(*id);
}

Error unique_violation(std::string_view field) {
  JsonObject data;
  data["field"] = field;
  return conflict("Value for '" + std::string(field) + "' must be unique: it is already taken",
                  Json(std::move(data)));
}

std::string make_uuid_v4() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uint64_t high = generator();
  std::uint64_t low = generator();
  // RFC 4122: version 4 in the high nibble of byte 6, variant 10xx in byte 8.
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48), static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return text;
}

}  // namespace plume::store
