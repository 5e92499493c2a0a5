// The memory store: records in id order in one map, guarded by a shared mutex so that calls
// from several I/O threads read in parallel and write one at a time. Nothing blocks for long,
// so it runs on the calling thread.
#include "store/adapter_service.hpp"

#include <plume/core/error.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <variant>

namespace plume::store {
namespace {

// Integer ids order numerically, string ids lexicographically.
using Key = std::variant<std::int64_t, std::string>;

Key key_of(const Id& id) {
  if (id.is_integer()) return id.integer();
  return id.string();
}

Json id_json(const Key& key) {
  if (const auto* number = std::get_if<std::int64_t>(&key)) return Json(*number);
  return Json(std::get<std::string>(key));
}

class MemoryService final : public AdapterService {
 public:
  explicit MemoryService(StoreOptions options) : AdapterService(std::move(options)) {
    for (const FieldSpec& field : this->options().schema.fields()) {
      if (field.unique) unique_fields_.push_back(field.name);
    }
  }

 protected:
  Task<FoundRecords> find_records(const Query& query, std::optional<std::int64_t> limit,
                                  bool count_total) override {
    FoundRecords found;
    const std::int64_t skip = std::max<std::int64_t>(query.skip, 0);
    std::shared_lock lock(mutex_);
    if (query.sort.empty()) {
      // Already in id order: copy only the records of the page.
      std::int64_t index = 0;
      for (const auto& [key, record] : records_) {
        if (!query.where.matches(record)) continue;
        if (index >= skip && (!limit || index - skip < *limit)) found.records.push_back(record);
        ++index;
        if (!count_total && limit && index - skip >= *limit) break;
      }
      found.total = index;
      co_return found;
    }
    std::vector<Json> matches;
    for (const auto& [key, record] : records_) {
      if (query.where.matches(record)) matches.push_back(record);
    }
    lock.unlock();
    sort_records(matches, query.sort);
    found.total = static_cast<std::int64_t>(matches.size());
    auto first = std::min<std::size_t>(static_cast<std::size_t>(skip), matches.size());
    auto last = limit
                    ? std::min<std::size_t>(
                          first + static_cast<std::size_t>(std::max<std::int64_t>(*limit, 0)), matches.size())
                    : matches.size();
    found.records.assign(std::make_move_iterator(matches.begin() + first),
                         std::make_move_iterator(matches.begin() + last));
    co_return found;
  }

  Task<std::optional<Json>> get_record(const Id& id, const Condition& where) override {
    std::shared_lock lock(mutex_);
    auto it = records_.find(key_of(id));
    if (it == records_.end() || !where.matches(it->second)) co_return std::nullopt;
    co_return it->second;
  }

  Task<std::vector<Json>> create_records(std::vector<JsonObject> records) override {
    std::unique_lock lock(mutex_);
    std::int64_t next_id = next_id_;
    std::vector<Key> keys;
    std::vector<const JsonObject*> batch;
    for (JsonObject& record : records) {
      Key key;
      if (const Json* given = record.if_contains(id_field())) {
        key = key_of(Id::from_json(*given));
        if (records_.contains(key) || std::find(keys.begin(), keys.end(), key) != keys.end()) {
          throw unique_violation(id_field());
        }
        if (const auto* number = std::get_if<std::int64_t>(&key)) next_id = std::max(next_id, *number + 1);
      } else {
        key = next_id++;
        record[id_field()] = id_json(key);
      }
      check_unique(record, nullptr, batch);
      keys.push_back(key);
      batch.push_back(&record);
    }
    // Every record passed its checks: store them all.
    next_id_ = next_id;
    std::vector<Json> created;
    created.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      auto [it, inserted] = records_.emplace(keys[i], Json(std::move(records[i])));
      created.push_back(it->second);
    }
    co_return created;
  }

  Task<std::optional<Json>> update_record(const Id& id, JsonObject record, const Condition& where) override {
    std::unique_lock lock(mutex_);
    auto it = records_.find(key_of(id));
    if (it == records_.end() || !where.matches(it->second)) co_return std::nullopt;
    record[id_field()] = id_json(it->first);
    check_unique(record, &it->first, {});
    it->second = std::move(record);
    co_return it->second;
  }

  Task<std::vector<Json>> patch_records(const std::optional<Id>& id, JsonObject data,
                                        const Condition& where) override {
    std::unique_lock lock(mutex_);
    std::vector<std::map<Key, Json>::iterator> targets = matching(id, where);
    std::vector<JsonObject> merged;
    merged.reserve(targets.size());
    for (auto it : targets) {
      JsonObject record = it->second.as_object();
      for (const auto& [field, value] : data) record[field] = value;
      merged.push_back(std::move(record));
    }
    std::set<Key> replaced;
    for (auto it : targets) replaced.insert(it->first);
    std::vector<const JsonObject*> batch;
    for (std::size_t i = 0; i < merged.size(); ++i) {
      check_unique(merged[i], &targets[i]->first, batch, &replaced);
      batch.push_back(&merged[i]);
    }
    std::vector<Json> patched;
    patched.reserve(merged.size());
    for (std::size_t i = 0; i < merged.size(); ++i) {
      targets[i]->second = std::move(merged[i]);
      patched.push_back(targets[i]->second);
    }
    co_return patched;
  }

  Task<std::vector<Json>> remove_records(const std::optional<Id>& id, const Condition& where) override {
    std::unique_lock lock(mutex_);
    std::vector<Json> removed;
    for (auto it : matching(id, where)) {
      removed.push_back(std::move(it->second));
      records_.erase(it);
    }
    co_return removed;
  }

 private:
  const std::string& id_field() const { return options().id_field; }

  std::vector<std::map<Key, Json>::iterator> matching(const std::optional<Id>& id, const Condition& where) {
    std::vector<std::map<Key, Json>::iterator> found;
    if (id) {
      auto it = records_.find(key_of(*id));
      if (it != records_.end() && where.matches(it->second)) found.push_back(it);
      return found;
    }
    for (auto it = records_.begin(); it != records_.end(); ++it) {
      if (where.matches(it->second)) found.push_back(it);
    }
    return found;
  }

  // Throws Conflict when a unique field of `record` has a value another record holds: a stored
  // record other than `self` (and, when replacing several, other than those being replaced),
  // or a record of the same batch. Null and absent values are not compared, as in SQL.
  void check_unique(const JsonObject& record, const Key* self, const std::vector<const JsonObject*>& batch,
                    const std::set<Key>* replaced = nullptr) const {
    for (const std::string& field : unique_fields_) {
      const Json* value = record.if_contains(field);
      if (!value || value->is_null()) continue;
      auto holds = [&](const JsonObject& other) {
        const Json* taken = other.if_contains(field);
        return taken && json_equal(*taken, *value);
      };
      for (const JsonObject* other : batch) {
        if (holds(*other)) throw unique_violation(field);
      }
      for (const auto& [key, stored] : records_) {
        if (self && key == *self) continue;
        if (replaced && replaced->contains(key)) continue;
        if (holds(stored.as_object())) throw unique_violation(field);
      }
    }
  }

  std::vector<std::string> unique_fields_;
  std::map<Key, Json> records_;
  std::int64_t next_id_ = 1;
  mutable std::shared_mutex mutex_;
};

}  // namespace

std::unique_ptr<Service> make_memory_service(StoreOptions options) {
  return std::make_unique<MemoryService>(std::move(options));
}

}  // namespace plume::store
