#include "mesh/sync_entry.hpp"

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

class Items final : public Service {};

redis::Reply as_fields(const std::vector<std::string>& command) {
  // XADD stream MAXLEN ~ N * field value ...: the fields start after "*".
  redis::Reply reply;
  reply.type = redis::Reply::Type::Array;
  for (std::size_t i = 6; i < command.size(); ++i) {
    redis::Reply item;
    item.type = redis::Reply::Type::String;
    item.str = command[i];
    reply.elements.push_back(item);
  }
  return reply;
}

TEST(SyncEntry, CarriesTheCallThatPublishersNeedAndTheSafeDispatch) {
  App app;
  auto& entry = app.use("items", std::make_unique<Items>());
  HookContext context = app.context_for(entry, "patch");
  context.id = Id(5);
  context.params.provider = "socketio";
  context.params.user = JsonObject{{"id", 1}};
  context.params.query = JsonObject{{"room", "a"}};
  context.result = JsonArray{JsonObject{{"id", 5}, {"secret", "x"}}, JsonObject{{"id", 6}, {"secret", "y"}}};
  context.dispatch = JsonArray{JsonObject{{"id", 5}}, JsonObject{{"id", 6}}};
  const Json& second = context.result->as_array()[1];

  const SyncEntry made =
      sync_entry_from_event(ServiceEvent{"items", "patched", second, &context}, "origin-1");
  EXPECT_EQ(parse_json(made.data), second);
  ASSERT_TRUE(made.dispatch.has_value());
  EXPECT_EQ(parse_json(*made.dispatch), (JsonObject{{"id", 6}}));  // this record's safe entry

  auto command = xadd_command(made, "plume:sync", 1000);
  EXPECT_EQ((std::vector<std::string>(command.begin(), command.begin() + 6)),
            (std::vector<std::string>{"XADD", "plume:sync", "MAXLEN", "~", "1000", "*"}));
  auto parsed = parse_sync_entry(as_fields(command));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->origin, "origin-1");
  EXPECT_EQ(parsed->path, "items");
  EXPECT_EQ(parsed->event, "patched");
  const Json call = parse_json(parsed->context);
  EXPECT_EQ(call.at("provider"), Json("socketio"));
  EXPECT_EQ(call.at("user"), (JsonObject{{"id", 1}}));
  EXPECT_EQ(call.at("query"), (JsonObject{{"room", "a"}}));
  EXPECT_EQ(call.at("id"), Json(5));
  EXPECT_EQ(call.at("method"), Json("patch"));
}

TEST(SyncEntry, ReemittedEventsAreMarkedSyncedWithTheirOrigin) {
  App app;
  app.use("items", std::make_unique<Items>());
  std::vector<std::pair<std::string, Json>> seen;
  app.on_event([&](const ServiceEvent& event) {
    ASSERT_NE(event.context, nullptr);
    EXPECT_TRUE(is_synced(event.context));
    seen.emplace_back(std::string(event.context->params.extra.at("origin").as_string()), event.data);
    EXPECT_EQ(event.context->params.user, (JsonObject{{"id", 1}}));
    EXPECT_EQ(event.context->method, "create");
  });
  SyncEntry entry{
      .origin = "origin-1",
      .seq = 1,
      .path = "items",
      .event = "created",
      .data = R"({"id":1})",
      .dispatch = std::nullopt,
      .context = R"({"provider":"rest","user":{"id":1},"query":{},"route":{},"id":null,"method":"create"})"};
  EXPECT_TRUE(reemit_sync_entry(app, entry));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "origin-1");
  EXPECT_EQ(seen[0].second, (JsonObject{{"id", 1}}));
  entry.path = "not-here";
  EXPECT_FALSE(reemit_sync_entry(app, entry));
}

TEST(SyncEntry, EntriesMissingAFieldOrWithABadSeqAreRejected) {
  SyncEntry entry{
      .origin = "o", .seq = 3, .path = "items", .event = "created", .data = "{}", .context = "{}"};
  auto command = xadd_command(entry, "s", 10);
  ASSERT_TRUE(parse_sync_entry(as_fields(command)).has_value());
  auto without_origin = command;
  without_origin.erase(without_origin.begin() + 6, without_origin.begin() + 8);
  EXPECT_FALSE(parse_sync_entry(as_fields(without_origin)).has_value());
  auto bad_seq = command;
  bad_seq[9] = "3x";
  EXPECT_FALSE(parse_sync_entry(as_fields(bad_seq)).has_value());
}

}  // namespace
}  // namespace plume::mesh
