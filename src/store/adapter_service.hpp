// AdapterService holds the semantics every store shares, as Feathers' adapter-commons and memory
// adapter define them: query parsing, pagination, `multi`, $select, id conversion, schema
// validation and the exact error messages. A store implements only the storage primitives.
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/query.hpp>
#include <plume/store/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume::store {

// What a store's find returns: the page of records, and the number of matches before
// $skip/$limit when it was asked for.
struct FoundRecords {
  std::vector<Json> records;
  std::int64_t total = 0;
};

class AdapterService : public Service {
 public:
  explicit AdapterService(StoreOptions options);

  Task<Json> find(Params& params) override;
  Task<Json> get(const Id& id, Params& params) override;
  Task<Json> create(Json data, Params& params) override;
  Task<Json> update(const NullableId& id, Json data, Params& params) override;
  Task<Json> patch(const NullableId& id, Json data, Params& params) override;
  Task<Json> remove(const NullableId& id, Params& params) override;

  // Registers the query schema on the service entry so that REST coerces query strings by it.
  void setup(App& app, std::string_view path) override;

  const StoreOptions& options() const noexcept { return options_; }

 protected:
  // Storage primitives. Ids given to them are already of the store's id type; records given to
  // them are validated, carry no id field unless the caller chose one (create), and results are
  // complete records (the adapter applies $select).

  // Records matching query.where, ordered by query.sort then id, after query.skip and `limit`
  // (nullopt: no limit). `total` is filled when `count_total` is set.
  virtual Task<FoundRecords> find_records(const Query& query, std::optional<std::int64_t> limit,
                                          bool count_total) = 0;
  // The record with this id if it also matches `where`.
  virtual Task<std::optional<Json>> get_record(const Id& id, const Condition& where) = 0;
  // Stores new records (all or none), assigning integer ids where absent; returns them stored.
  virtual Task<std::vector<Json>> create_records(std::vector<JsonObject> records) = 0;
  // Replaces the record with this id if it matches `where`; nullopt when it does not.
  virtual Task<std::optional<Json>> update_record(const Id& id, JsonObject record,
                                                  const Condition& where) = 0;
  // Merges `data` into the record with this id (or, with no id, every record) matching `where`.
  virtual Task<std::vector<Json>> patch_records(const std::optional<Id>& id, JsonObject data,
                                                const Condition& where) = 0;
  // Deletes the record with this id (or, with no id, every record) matching `where`.
  virtual Task<std::vector<Json>> remove_records(const std::optional<Id>& id, const Condition& where) = 0;

  // The id in the store's type: "7" -> 7 for integer ids; nullopt when it cannot be one (such an
  // id names no record).
  std::optional<Id> store_id(const Id& id) const;

 private:
  Query parse(const Params& params) const;
  bool allows_multi(std::string_view method) const;
  JsonObject prepare_create(Json data) const;
  Json selected(const Json& record, const Query& query) const;
  JsonArray selected(std::vector<Json> records, const Query& query) const;

  StoreOptions options_;
  // The record schema plus the id field typed as this store keeps ids, so that REST coerces
  // `?id=1` and `?id[$in][]=1` to numbers for an integer-id store.
  Schema query_schema_;
};

// The Conflict error both stores raise when a unique field's value is taken.
Error unique_violation(std::string_view field);

// A random (version 4) UUID in its canonical text form, for string ids.
std::string make_uuid_v4();

}  // namespace plume::store
