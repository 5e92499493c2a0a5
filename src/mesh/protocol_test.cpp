#include "mesh/protocol.hpp"

#include <plume/core/app.hpp>

#include <gtest/gtest.h>

#include <limits>

namespace plume::mesh {
namespace {

TEST(GlobMatch, StarMatchesAnyRunIncludingSlashes) {
  EXPECT_TRUE(glob_match("*", "users"));
  EXPECT_TRUE(glob_match("*", "api/v1/users"));
  EXPECT_TRUE(glob_match("api/*", "api/v1/users"));
  EXPECT_TRUE(glob_match("*ers", "users"));
  EXPECT_TRUE(glob_match("u?ers", "users"));
  EXPECT_FALSE(glob_match("api/*", "users"));
  EXPECT_FALSE(glob_match("user", "users"));
  EXPECT_FALSE(glob_match("users", "user"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
}

TEST(MatchesAny, EmptyListMatchesNothing) {
  EXPECT_FALSE(matches_any({}, "users"));
  EXPECT_TRUE(matches_any({"messages", "us*"}, "users"));
}

TEST(Protocol, ServicesFrameRoundTrips) {
  const std::vector<ServiceDescriptor> services = {
      {.path = "items", .methods = {"find", "get", "archive"}, .events = {"created", "archived"}}};
  const Json frame = parse_json(encode_services(services));
  EXPECT_EQ(frame_type(frame), "services");
  EXPECT_EQ(decode_services(frame), services);
}

TEST(Protocol, CallCarriesOnlyWhitelistedParams) {
  CallFrame call{.id = 42, .path = "items", .method = "patch", .has_record_id = true, .record_id = Id(7)};
  call.data = JsonObject{{"name", "x"}};
  call.params.query = JsonObject{{"a", 1}};
  call.params.provider = "rest";
  call.params.user = JsonObject{{"id", 3}};
  call.params.authentication = JsonObject{{"strategy", "jwt"}, {"accessToken", "t"}};
  call.params.authenticated = true;
  call.params.headers = JsonObject{{"authorization", "Bearer t"}, {"cookie", "secret"}, {"host", "h"}};
  call.params.extra["internal"] = true;
  call.timeout_ms = 900;

  const Json frame = parse_json(encode_call(call));
  EXPECT_EQ(frame_type(frame), "call");
  const CallFrame back = decode_call(frame);
  EXPECT_EQ(back.id, 42u);
  EXPECT_EQ(back.method, "patch");
  ASSERT_TRUE(back.record_id.has_value());
  EXPECT_EQ(*back.record_id, Id(7));
  EXPECT_EQ(back.data, call.data);
  EXPECT_EQ(back.params.query, call.params.query);
  EXPECT_EQ(back.params.provider, "rest");
  EXPECT_EQ(back.params.user, call.params.user);
  EXPECT_EQ(back.params.authentication, call.params.authentication);
  // The owner verifies again: "authenticated" never travels, nor do cookies or free-form extras.
  EXPECT_FALSE(back.params.authenticated);
  EXPECT_EQ(back.params.headers, (JsonObject{{"authorization", "Bearer t"}}));
  EXPECT_TRUE(back.params.extra.empty());
  EXPECT_EQ(back.timeout_ms, 900);
}

TEST(Protocol, MultiPatchSendsANullRecordId) {
  CallFrame call{.id = 1, .path = "items", .method = "patch", .has_record_id = true};
  const CallFrame back = decode_call(parse_json(encode_call(call)));
  EXPECT_TRUE(back.has_record_id);
  EXPECT_FALSE(back.record_id.has_value());
  const CallFrame find =
      decode_call(parse_json(encode_call(CallFrame{.id = 2, .path = "items", .method = "find"})));
  EXPECT_FALSE(find.has_record_id);
}

TEST(Protocol, ReceiverDropsHeadersOutsideTheWhitelist) {
  const Params params = decode_params(parse_json(R"({"headers":{"cookie":"x","authorization":"y"}})"));
  EXPECT_EQ(params.headers, (JsonObject{{"authorization", "y"}}));
}

TEST(Protocol, ErrorReplyKeepsClassMessageCodeAndData) {
  const Json frame =
      parse_json(encode_error_reply(9, unprocessable("bad name", JsonObject{{"field", "name"}})));
  const Error error = Error::from_json(frame.at("error"));
  EXPECT_EQ(error.code(), ErrorCode::Unprocessable);
  EXPECT_EQ(error.message(), "bad name");
  EXPECT_EQ(error.data(), (JsonObject{{"field", "name"}}));
}

TEST(Protocol, EventEnvelopeNeverMixesRoutingIntoTheRecord) {
  App app;
  class Items : public Service {};
  ServiceEntry& entry = app.use("items", std::make_unique<Items>());
  HookContext context = app.context_for(entry, "patch");
  context.id = Id(5);
  context.params.provider = "socketio";
  context.params.user = JsonObject{{"id", 1}};
  // A record with fields named like the envelope's travels untouched.
  const Json record = JsonObject{{"path", "somewhere/else"}, {"context", "mine"}, {"event", "x"}};
  const EventFrame event = decode_event(parse_json(encode_event("items", "patched", record, &context)));
  EXPECT_EQ(event.path, "items");
  EXPECT_EQ(event.event, "patched");
  EXPECT_EQ(event.data, record);
  EXPECT_EQ(event.method, "patch");
  ASSERT_TRUE(event.id.has_value());
  EXPECT_EQ(*event.id, Id(5));
  EXPECT_EQ(event.params.provider, "socketio");
  EXPECT_EQ(event.params.user, (JsonObject{{"id", 1}}));
}

TEST(Protocol, MalformedCallIsABadRequest) {
  EXPECT_THROW(decode_call(parse_json(R"({"t":"call","path":"items"})")), Error);
}

TEST(Protocol, CallIdBeyondUint64IsABadRequest) {
  // Found by mesh_protocol_fuzz: a double id past 2^64 was converted to uint64 (undefined).
  EXPECT_THROW(decode_call(parse_json(R"({"t":"call","id":1e300,"path":"a","method":"find","timeoutMs":5})")),
               Error);
  EXPECT_THROW(decode_call(parse_json(R"({"t":"call","id":1,"path":"a","method":"find","timeoutMs":1e20})")),
               Error);
  EXPECT_EQ(decode_call(parse_json(R"({"t":"call","id":7.0,"path":"a","method":"find","timeoutMs":5})")).id,
            7u);
}

TEST(Protocol, CallTimeoutPastInt64IsCappedNotNegative) {
  const CallFrame call = decode_call(
      parse_json(R"({"t":"call","id":1,"path":"a","method":"find","timeoutMs":18446744073709551615})"));
  EXPECT_EQ(call.timeout_ms, std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace plume::mesh
