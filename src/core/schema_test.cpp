#include <plume/core/error.hpp>
#include <plume/core/schema.hpp>

#include <gtest/gtest.h>

#include <functional>

namespace {

using plume::Json;
using plume::JsonObject;
using plume::parse_json;
using plume::Schema;

plume::Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const plume::Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected a plume::Error";
  return plume::general_error("no error");
}

const char* kMessages = R"({
  "text": {"type": "string", "required": true, "maxLength": 5},
  "userId": {"type": "integer"},
  "createdAt": {"type": "string", "format": "date-time", "default": "now"},
  "email": {"type": "string", "format": "email", "unique": true},
  "password": {"type": "string", "secret": true},
  "score": {"type": "number", "minimum": 0, "maximum": 10},
  "done": {"type": "boolean", "default": false},
  "color": {"enum": ["red", "green"]},
  "name": {"type": "string", "minLength": 2}
})";

Schema messages() { return Schema::from_json(parse_json(kMessages)); }

JsonObject object(const char* json) { return parse_json(json).as_object(); }

TEST(Schema, FromJsonReadsEveryKeyword) {
  const auto schema = messages();
  ASSERT_EQ(schema.fields().size(), 9u);
  const auto* text = schema.field("text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->type, plume::FieldType::String);
  EXPECT_TRUE(text->required);
  EXPECT_FALSE(text->nullable);
  EXPECT_EQ(text->max_length, 5);
  EXPECT_TRUE(schema.field("email")->unique);
  EXPECT_EQ(schema.field("email")->format, "email");
  EXPECT_TRUE(schema.field("password")->secret);
  EXPECT_TRUE(schema.field("createdAt")->has_default);
  EXPECT_EQ(schema.field("score")->maximum, 10.0);
  EXPECT_EQ(schema.field("color")->type, plume::FieldType::Any);
  EXPECT_EQ(schema.field("color")->enum_values.size(), 2u);
  EXPECT_TRUE(schema.field("userId")->nullable);
  EXPECT_EQ(schema.field("nope"), nullptr);
}

TEST(Schema, UnknownKeywordOrTypeNamesTheFieldAndKeyword) {
  auto error =
      error_of([] { Schema::from_json(parse_json(R"({"text": {"type": "string", "maxLen": 3}})")); });
  EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Invalid schema for field 'text': unknown keyword 'maxLen'");
  error = error_of([] { Schema::from_json(parse_json(R"({"age": {"type": "int"}})")); });
  EXPECT_EQ(error.message(), "Invalid schema for field 'age': unknown type \"int\"");
  error = error_of([] { Schema::from_json(parse_json(R"({"at": {"format": "uuid"}})")); });
  EXPECT_EQ(error.message(), "Invalid schema for field 'at': unknown format \"uuid\" (date-time or email)");
  error = error_of([] { Schema::from_json(parse_json(R"({"t": {"required": 3}})")); });
  EXPECT_EQ(error.message(), "Invalid schema for field 't': 'required' must be true or false");
}

TEST(Schema, CreateAppliesDefaultsIncludingNow) {
  auto record = object(R"({"text": "hi"})");
  messages().validate(record, Schema::Mode::Create);
  ASSERT_TRUE(record.contains("createdAt"));
  const std::string created(record["createdAt"].as_string());
  EXPECT_EQ(created.size(), 24u);
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(record["done"], Json(false));
  EXPECT_FALSE(record.contains("userId"));
}

TEST(Schema, CreateKeepsGivenValuesOverDefaults) {
  auto record = object(R"({"text": "hi", "createdAt": "2024-01-31T12:00:00.000Z"})");
  messages().validate(record, Schema::Mode::Update);
  EXPECT_EQ(record["createdAt"], Json("2024-01-31T12:00:00.000Z"));
}

// A generated Feathers app's schemas say additionalProperties: false, and its validateData hook
// answers Ajv's error: BadRequest("validation failed", [{instancePath, schemaPath, keyword,
// params: {additionalProperty}, message}]).
TEST(Schema, RefusesFieldsOutsideItAsFeathersValidationDoes) {
  for (const auto mode : {Schema::Mode::Create, Schema::Mode::Update, Schema::Mode::Patch}) {
    auto record = object(R"({"text": "hi", "isAdmin": true, "__proto__": {"role": "admin"}})");
    const auto error = error_of([&] { messages().validate(record, mode); });
    EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
    EXPECT_EQ(error.message(), "validation failed");
    EXPECT_EQ(
        plume::to_json_text(error.to_json()),
        R"({"name":"BadRequest","message":"validation failed","code":400,"className":"bad-request",)"
        R"("data":[{"instancePath":"","schemaPath":"#/additionalProperties","keyword":"additionalProperties",)"
        R"("params":{"additionalProperty":"isAdmin"},"message":"must NOT have additional properties"},)"
        R"({"instancePath":"","schemaPath":"#/additionalProperties","keyword":"additionalProperties",)"
        R"("params":{"additionalProperty":"__proto__"},"message":"must NOT have additional properties"}]})");
  }
}

TEST(Schema, CollectsEveryProblem) {
  auto record = object(
      R"({"userId": 5.5, "createdAt": "yesterday", "email": "nope", "score": 11, "done": "yes",
          "color": "blue", "name": "x"})");
  const auto error = error_of([&] { messages().validate(record, Schema::Mode::Create); });
  EXPECT_EQ(error.code(), plume::ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Validation failed");
  EXPECT_EQ(
      plume::to_json_text(error.errors()),
      R"([{"field":"text","message":"'text' is required"},)"
      R"({"field":"userId","message":"'userId' must be an integer"},)"
      R"({"field":"createdAt","message":"'createdAt' must be a date-time such as 2024-01-31T12:00:00.000Z"},)"
      R"({"field":"email","message":"'email' must be an email address"},)"
      R"({"field":"score","message":"'score' must be <= 10"},)"
      R"({"field":"done","message":"'done' must be a boolean"},)"
      R"({"field":"color","message":"'color' must be one of \"red\", \"green\""},)"
      R"({"field":"name","message":"'name' must be at least 2 characters"}])");
}

TEST(Schema, TypeChecks) {
  const auto schema = messages();
  struct Case {
    const char* record;
    bool valid;
  };
  const Case cases[] = {
      {R"({"text": "a", "userId": 5})", true},
      {R"({"text": "a", "userId": 5.0})", true},
      {R"({"text": "a", "userId": 5.5})", false},
      {R"({"text": "a", "userId": "5"})", false},
      {R"({"text": "a", "userId": null})", true},
      {R"({"text": null})", false},
      {R"({"text": 5})", false},
      {R"({"text": "héllo"})", true},
      {R"({"text": "toolong"})", false},
      {R"({"text": "a", "score": 0})", true},
      {R"({"text": "a", "score": -0.5})", false},
      {R"({"text": "a", "score": 2.5})", true},
      {R"({"text": "a", "done": true})", true},
      {R"({"text": "a", "color": "red"})", true},
      {R"({"text": "a", "email": "a.b+c@example.co.uk"})", true},
      {R"({"text": "a", "email": "a@b"})", false},
      {R"({"text": "a", "email": "a b@example.com"})", false},
      {R"({"text": "a", "email": "a@-x.com"})", false},
      {R"({"text": "a", "createdAt": "2024-02-29T23:59:60.5+01:00"})", true},
      {R"({"text": "a", "createdAt": "2023-02-29T10:00:00Z"})", false},
      {R"({"text": "a", "createdAt": "2024-01-31T12:00:00"})", false},
      {R"({"text": "a", "createdAt": "2024-01-31 12:00:00z"})", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.record);
    auto record = object(c.record);
    if (c.valid) {
      EXPECT_NO_THROW(schema.validate(record, Schema::Mode::Create));
    } else {
      EXPECT_THROW(schema.validate(record, Schema::Mode::Create), plume::Error);
    }
  }
}

TEST(Schema, PatchChecksOnlyGivenFields) {
  auto record = object(R"({"userId": 3})");
  EXPECT_NO_THROW(messages().validate(record, Schema::Mode::Patch));
  EXPECT_FALSE(record.contains("createdAt"));
  auto bad = object(R"({"text": "far too long"})");
  const auto error = error_of([&] { messages().validate(bad, Schema::Mode::Patch); });
  EXPECT_EQ(plume::to_json_text(error.errors()),
            R"([{"field":"text","message":"'text' must be at most 5 characters"}])");
}

TEST(Schema, ShorthandTypeAndExplicitNullable) {
  const auto schema = Schema::from_json(
      parse_json(R"({"age": "integer", "nick": {"type": "string", "required": true, "nullable": true}})"));
  EXPECT_EQ(schema.field("age")->type, plume::FieldType::Integer);
  auto record = object(R"({"nick": null})");
  EXPECT_NO_THROW(schema.validate(record, Schema::Mode::Create));
  auto missing = object(R"({})");
  EXPECT_THROW(schema.validate(missing, Schema::Mode::Create), plume::Error);
}

// ---- query coercion ----

const char* kPeople = R"({
  "age": {"type": "integer"},
  "score": {"type": "number"},
  "active": {"type": "boolean"},
  "name": {"type": "string"},
  "rank": {"type": "integer", "required": true}
})";

Json coerced(const char* query) {
  auto value = parse_json(query);
  Schema::from_json(parse_json(kPeople)).coerce_query(value);
  return value;
}

TEST(SchemaCoerce, ConvertsStringsByFieldType) {
  struct Case {
    const char* query;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"age": "21"})", R"({"age":21})"},
      {R"({"age": "-3"})", R"({"age":-3})"},
      {R"({"age": "5.0"})", R"({"age":5})"},
      {R"({"score": "2.5"})", R"({"score":2.5})"},
      {R"({"score": "7"})", R"({"score":7})"},
      {R"({"active": "true", "name": "true"})", R"({"active":true,"name":"true"})"},
      {R"({"active": "false"})", R"({"active":false})"},
      {R"({"age": "", "active": "", "name": ""})", R"({"age":null,"active":null,"name":""})"},
      {R"({"age": {"$gt": "20", "$lte": "30"}})", R"({"age":{"$gt":20,"$lte":30}})"},
      {R"({"age": {"$in": ["1", "2"], "$nin": "3"}})", R"({"age":{"$in":[1,2],"$nin":3}})"},
      {R"({"age": ["1", "2"]})", R"({"age":[1,2]})"},
      {R"({"$or": [{"age": "1"}, {"$and": [{"active": "true"}]}]})",
       R"({"$or":[{"age":1},{"$and":[{"active":true}]}]})"},
      {R"({"other": "21", "id": "3"})", R"({"other":"21","id":"3"})"},
      {R"({"$limit": "2", "$sort": {"age": "-1"}, "$select": ["age"]})",
       R"({"$limit":"2","$sort":{"age":"-1"},"$select":["age"]})"},
      {R"({"age": 21})", R"({"age":21})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    EXPECT_EQ(plume::to_json_text(coerced(c.query)), c.expected);
  }
}

TEST(SchemaCoerce, UnparsableValueNamesTheField) {
  EXPECT_EQ(error_of([] { coerced(R"({"age": "abc"})"); }).message(),
            "Invalid value 'abc' for integer field 'age'");
  EXPECT_EQ(error_of([] { coerced(R"({"age": "2.5"})"); }).message(),
            "Invalid value '2.5' for integer field 'age'");
  EXPECT_EQ(error_of([] { coerced(R"({"age": {"$gt": "x"}})"); }).message(),
            "Invalid value 'x' for integer field 'age'");
  EXPECT_EQ(error_of([] { coerced(R"({"score": "1,5"})"); }).message(),
            "Invalid value '1,5' for number field 'score'");
  EXPECT_EQ(error_of([] { coerced(R"({"active": "yes"})"); }).message(),
            "Invalid value 'yes' for boolean field 'active'");
  // A required field is not nullable: "" is no value for it.
  EXPECT_EQ(error_of([] { coerced(R"({"rank": ""})"); }).message(),
            "Invalid value '' for integer field 'rank'");
  EXPECT_EQ(error_of([] { coerced(R"({"age": "+-5"})"); }).code(), plume::ErrorCode::BadRequest);
}

}  // namespace
