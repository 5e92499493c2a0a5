// The SQL the compiler writes for representative queries: text and bound values. Values never
// appear in the text; identifiers are validated and quoted.
#include "store/sql/sql_compiler.hpp"

#include <plume/core/error.hpp>
#include <plume/core/query.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace plume::store::sql {
namespace {

Json j(std::string_view text) { return parse_json(text); }

Schema people_schema() {
  return Schema::from_json(j(R"({
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "active": {"type": "boolean"},
    "email": {"type": "string", "unique": true},
    "tags": {"type": "array"},
    "anything": {"type": "any"}
  })"));
}

class SqlCompilerTest : public ::testing::Test {
 protected:
  Query parse(std::string_view query) {
    QueryOptions options;
    options.operators = {"$like", "$ilike"};
    options.schema = schema_.empty() ? nullptr : &schema_;
    return parse_query(j(query), options);
  }

  Statement select(std::string_view text, std::optional<std::int64_t> limit = std::nullopt) {
    Query query = parse(text);
    return compiler_.select(query.where, query.sort, limit ? limit : query.limit, query.skip);
  }

  Schema schema_ = people_schema();
  TableLayout layout_{"people", "id", IdType::Integer, schema_};
  SqlCompiler compiler_{SqlDialect::sqlite(), layout_};
};

std::vector<Json> values(std::string_view array) {
  std::vector<Json> list;
  const Json parsed = j(array);
  for (const Json& value : parsed.as_array()) list.push_back(value);
  return list;
}

TEST_F(SqlCompilerTest, EmptyQuerySelectsAllInIdOrder) {
  Statement statement = select("{}");
  EXPECT_EQ(statement.sql, R"(SELECT * FROM "people" ORDER BY "id" ASC)");
  EXPECT_TRUE(statement.values.empty());
}

TEST_F(SqlCompilerTest, EqualityAndComparisonsBindTheirValues) {
  Statement statement = select(R"({"name": "Bob", "age": {"$gt": 20, "$lte": 40}})");
  EXPECT_EQ(
      statement.sql,
      R"(SELECT * FROM "people" WHERE ("name" = ?) AND ("age" > ?) AND ("age" <= ?) ORDER BY "id" ASC)");
  EXPECT_EQ(statement.values, values(R"(["Bob", 20, 40])"));
}

TEST_F(SqlCompilerTest, NullEqualityIsIsNullAndNotEqualIsNullSafe) {
  EXPECT_EQ(select(R"({"age": null})").sql,
            R"(SELECT * FROM "people" WHERE "age" IS NULL ORDER BY "id" ASC)");
  EXPECT_EQ(select(R"({"age": {"$ne": null}})").sql,
            R"(SELECT * FROM "people" WHERE "age" IS NOT NULL ORDER BY "id" ASC)");
  Statement ne = select(R"({"age": {"$ne": 5}})");
  EXPECT_EQ(ne.sql, R"(SELECT * FROM "people" WHERE "age" IS NOT ? ORDER BY "id" ASC)");
  EXPECT_EQ(ne.values, values("[5]"));
}

TEST_F(SqlCompilerTest, InAndNotInBindEveryListItem) {
  Statement in = select(R"({"age": {"$in": [1, 2, 3]}})");
  EXPECT_EQ(in.sql, R"(SELECT * FROM "people" WHERE "age" IN (?, ?, ?) ORDER BY "id" ASC)");
  EXPECT_EQ(in.values, values("[1, 2, 3]"));
  // Absent fields are "not in" the list, as in the memory store.
  Statement nin = select(R"({"age": {"$nin": [1, 2]}})");
  EXPECT_EQ(nin.sql,
            R"(SELECT * FROM "people" WHERE ("age" IS NULL OR "age" NOT IN (?, ?)) ORDER BY "id" ASC)");
  EXPECT_EQ(nin.values, values("[1, 2]"));
}

TEST_F(SqlCompilerTest, NullInsideInListsMeansAbsent) {
  Statement in = select(R"({"age": {"$in": [1, null]}})");
  EXPECT_EQ(in.sql, R"(SELECT * FROM "people" WHERE ("age" IN (?) OR "age" IS NULL) ORDER BY "id" ASC)");
  EXPECT_EQ(in.values, values("[1]"));
  Statement nin = select(R"({"age": {"$nin": [1, null]}})");
  EXPECT_EQ(nin.sql,
            R"(SELECT * FROM "people" WHERE ("age" IS NOT NULL AND "age" NOT IN (?)) ORDER BY "id" ASC)");
}

TEST_F(SqlCompilerTest, EmptyListsAreConstantConditions) {
  EXPECT_EQ(select(R"({"age": {"$in": []}})").sql, R"(SELECT * FROM "people" WHERE 1 = 0 ORDER BY "id" ASC)");
  EXPECT_EQ(select(R"({"age": {"$nin": []}})").sql, R"(SELECT * FROM "people" ORDER BY "id" ASC)");
}

TEST_F(SqlCompilerTest, LikeIsPlainAndILikeLowersBothSidesOnSqlite) {
  Statement like = select(R"({"name": {"$like": "A%"}})");
  EXPECT_EQ(like.sql, R"(SELECT * FROM "people" WHERE "name" LIKE ? ORDER BY "id" ASC)");
  EXPECT_EQ(like.values, values(R"(["A%"])"));
  EXPECT_EQ(select(R"({"name": {"$ilike": "a%"}})").sql,
            R"(SELECT * FROM "people" WHERE lower("name") LIKE lower(?) ORDER BY "id" ASC)");
}

TEST_F(SqlCompilerTest, OrAndAndNestWithParentheses) {
  Statement statement =
      select(R"({"$or": [{"name": "A"}, {"age": 3, "active": true}], "score": {"$lt": 2}})");
  EXPECT_EQ(
      statement.sql,
      R"(SELECT * FROM "people" WHERE (("name" = ?) OR (("age" = ?) AND ("active" = ?))) AND ("score" < ?) )"
      R"(ORDER BY "id" ASC)");
  EXPECT_EQ(statement.values, values(R"(["A", 3, true, 2])"));
}

TEST_F(SqlCompilerTest, SortLimitAndSkipAreBoundAndIdBreaksTies) {
  Statement statement = select(R"({"$sort": {"age": -1, "name": 1}, "$limit": 10, "$skip": 20})");
  EXPECT_EQ(statement.sql,
            R"(SELECT * FROM "people" ORDER BY "age" DESC, "name" ASC, "id" ASC LIMIT ? OFFSET ?)");
  EXPECT_EQ(statement.values, values("[10, 20]"));
  EXPECT_EQ(select(R"({"$sort": {"id": -1}})").sql, R"(SELECT * FROM "people" ORDER BY "id" DESC)");
}

TEST_F(SqlCompilerTest, SkipWithoutLimitNeedsLimitMinusOneOnSqlite) {
  Statement statement = select(R"({"$skip": 5})");
  EXPECT_EQ(statement.sql, R"(SELECT * FROM "people" ORDER BY "id" ASC LIMIT -1 OFFSET ?)");
  EXPECT_EQ(statement.values, values("[5]"));
}

TEST_F(SqlCompilerTest, CountUsesTheSameCondition) {
  Statement statement = compiler_.count(parse(R"({"age": 25})").where);
  EXPECT_EQ(statement.sql, R"(SELECT count(*) FROM "people" WHERE "age" = ?)");
  EXPECT_EQ(statement.values, values("[25]"));
}

TEST_F(SqlCompilerTest, FieldsWithoutAColumnAreReadFromTheJsonColumn) {
  Statement statement = select(R"({"anything": 3})");
  EXPECT_EQ(statement.sql, R"(SELECT * FROM "people" WHERE json_extract("_extra", ?) = ? ORDER BY "id" ASC)");
  EXPECT_EQ(statement.values, values(R"(["$.\"anything\"", 3])"));
}

TEST_F(SqlCompilerTest, NotInOnAJsonFieldBindsThePathForEachUse) {
  Statement statement = select(R"({"anything": {"$nin": [1]}})");
  EXPECT_EQ(statement.sql, R"(SELECT * FROM "people" WHERE (json_extract("_extra", ?) IS NULL OR )"
                           R"(json_extract("_extra", ?) NOT IN (?)) ORDER BY "id" ASC)");
  EXPECT_EQ(statement.values, values(R"(["$.\"anything\"", "$.\"anything\"", 1])"));
}

TEST_F(SqlCompilerTest, ValuesNeverReachTheSqlText) {
  Statement statement = select(R"({"name": "x'); DROP TABLE people; --"})");
  EXPECT_EQ(statement.sql.find("DROP"), std::string::npos);
  EXPECT_EQ(statement.values, values(R"(["x'); DROP TABLE people; --"])"));
}

TEST_F(SqlCompilerTest, InsertWritesEveryColumnAndKeepsOtherFieldsAsJson) {
  Statement statement = compiler_.insert(
      j(R"({"name": "A", "active": true, "tags": ["x"], "nick": "N", "anything": 1})").as_object());
  EXPECT_EQ(statement.sql,
            R"(INSERT INTO "people" ("name", "age", "score", "active", "email", "tags", "_extra") )"
            R"(VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *)");
  ASSERT_EQ(statement.values.size(), 7u);
  EXPECT_EQ(statement.values[0], Json("A"));
  EXPECT_TRUE(statement.values[1].is_null());
  EXPECT_EQ(statement.values[3], Json(true));
  EXPECT_EQ(statement.values[5], Json(R"(["x"])"));
  EXPECT_EQ(j(statement.values[6].as_string()), j(R"({"nick": "N", "anything": 1})"));
}

TEST_F(SqlCompilerTest, InsertIncludesTheIdOnlyWhenGiven) {
  Statement statement = compiler_.insert(j(R"({"id": 9, "name": "A"})").as_object());
  EXPECT_EQ(statement.sql.rfind(R"(INSERT INTO "people" ("id", "name",)", 0), 0u) << statement.sql;
  EXPECT_EQ(statement.values.front(), Json(9));
  EXPECT_TRUE(statement.values.back().is_null());  // nothing outside the columns
}

TEST_F(SqlCompilerTest, ReplaceSetsEveryColumnWhereIdAndQueryMatch) {
  Statement statement =
      compiler_.replace(Json(4), j(R"({"name": "B"})").as_object(), parse(R"({"age": 3})").where);
  EXPECT_EQ(statement.sql,
            R"(UPDATE "people" SET "name" = ?, "age" = ?, "score" = ?, "active" = ?, "email" = ?, )"
            R"("tags" = ?, "_extra" = ? WHERE ("id" = ?) AND ("age" = ?) RETURNING *)");
  EXPECT_EQ(statement.values.size(), 9u);
  EXPECT_EQ(statement.values[7], Json(4));
  EXPECT_EQ(statement.values[8], Json(3));
}

TEST_F(SqlCompilerTest, RemoveDeletesMatchesReturningThem) {
  Statement statement = compiler_.remove(parse(R"({"active": false})").where);
  EXPECT_EQ(statement.sql, R"(DELETE FROM "people" WHERE "active" = ? RETURNING *)");
  EXPECT_EQ(statement.values, values("[false]"));
}

TEST_F(SqlCompilerTest, TableDdlFollowsTheSchema) {
  EXPECT_EQ(compiler_.create_table(),
            R"(CREATE TABLE IF NOT EXISTS "people" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT, )"
            R"("age" INTEGER, "score" REAL, "active" INTEGER, "email" TEXT, "tags" TEXT, "_extra" TEXT))");
  EXPECT_EQ(compiler_.create_unique_indexes(),
            std::vector<std::string>{
                R"(CREATE UNIQUE INDEX IF NOT EXISTS "people_email_unique" ON "people" ("email"))"});
  EXPECT_EQ(compiler_.add_column(*layout_.column("age")), R"(ALTER TABLE "people" ADD COLUMN "age" INTEGER)");

  Schema empty;
  TableLayout strings("notes", "_id", IdType::String, empty);
  EXPECT_EQ(SqlCompiler(SqlDialect::sqlite(), strings).create_table(),
            R"(CREATE TABLE IF NOT EXISTS "notes" ("_id" TEXT PRIMARY KEY, "_extra" TEXT))");
}

TEST_F(SqlCompilerTest, NewColumnsTakeTheirValuesFromTheJsonColumn) {
  Statement statement = compiler_.move_into_column(*layout_.column("age"));
  EXPECT_EQ(statement.sql,
            R"(UPDATE "people" SET "age" = json_extract("_extra", ?), "_extra" = json_remove("_extra", ?) )"
            R"(WHERE json_extract("_extra", ?) IS NOT NULL)");
  EXPECT_EQ(statement.values, values(R"(["$.\"age\"", "$.\"age\"", "$.\"age\""])"));
}

TEST_F(SqlCompilerTest, PostgresNumbersPlaceholdersAndUsesItsOperators) {
  SqlCompiler postgres(SqlDialect::postgres(), layout_);
  Query query = parse(R"({"name": {"$ilike": "a%"}, "age": {"$ne": 3}, "$sort": {"age": 1}, "$skip": 4})");
  Statement statement = postgres.select(query.where, query.sort, std::nullopt, query.skip);
  EXPECT_EQ(statement.sql,
            R"(SELECT * FROM "people" WHERE ("name" ILIKE $1) AND ("age" IS DISTINCT FROM $2) )"
            R"(ORDER BY "age" ASC NULLS FIRST, "id" ASC NULLS FIRST OFFSET $3)");
  EXPECT_EQ(statement.values, values(R"(["a%", 3, 4])"));
}

TEST_F(SqlCompilerTest, PostgresComparesJsonFieldsAsJsonbAndLikesThemAsText) {
  Schema empty;
  TableLayout notes("notes", "id", IdType::Integer, empty);
  SqlCompiler postgres(SqlDialect::postgres(), notes);
  QueryOptions options;
  options.operators = {"$like"};
  Query query = parse_query(j(R"({"rank": {"$gt": 9}, "label": {"$like": "r%"}})"), options);
  Statement statement = postgres.select(query.where, {}, std::nullopt, 0);
  EXPECT_EQ(statement.sql,
            R"(SELECT * FROM "notes" WHERE (nullif("_extra" -> $1::text, 'null'::jsonb) > $2::jsonb) AND )"
            R"((("_extra" ->> $3::text) LIKE $4) ORDER BY "id" ASC NULLS FIRST)");
  EXPECT_EQ(statement.values, values(R"(["rank", "9", "label", "r%"])"));
}

TEST_F(SqlCompilerTest, PostgresMergePatchesColumnsAndTheJsonColumnInOneUpdate) {
  SqlCompiler postgres(SqlDialect::postgres(), layout_);
  Query query = parse(R"({"age": 3})");
  Statement statement = postgres.merge(j(R"({"name": "N", "nick": "n"})").as_object(), query.where);
  EXPECT_EQ(statement.sql,
            R"(UPDATE "people" SET "name" = $1, "_extra" = coalesce("_extra", '{}'::jsonb) || )"
            R"($2::jsonb WHERE "age" = $3 RETURNING *)");
  EXPECT_EQ(statement.values, values(R"(["N", "{\"nick\":\"n\"}", 3])"));
}

TEST_F(SqlCompilerTest, DroppedBranchesBindNothing) {
  // The $nin [] branch is always true, so the whole $or is: neither it nor its sibling binds.
  Statement statement = select(R"({"$or": [{"name": "A"}, {"age": {"$nin": []}}], "score": 1})");
  EXPECT_EQ(statement.sql, R"(SELECT * FROM "people" WHERE "score" = ? ORDER BY "id" ASC)");
  EXPECT_EQ(statement.values, values("[1]"));
}

TEST(SqlIdentifiers, OnlyPlainNamesAreAccepted) {
  EXPECT_EQ(quote_identifier("user_id2"), R"("user_id2")");
  EXPECT_THROW(quote_identifier("bad name"), std::invalid_argument);
  EXPECT_THROW(quote_identifier("x\"; DROP"), std::invalid_argument);
  EXPECT_THROW(quote_identifier("1abc"), std::invalid_argument);
  EXPECT_THROW(quote_identifier(""), std::invalid_argument);
  Schema empty;
  EXPECT_THROW(TableLayout("people; --", "id", IdType::Integer, empty), std::invalid_argument);
  EXPECT_THROW(
      TableLayout("people", "id", IdType::Integer, Schema::from_json(j(R"({"a b": {"type": "string"}})"))),
      std::invalid_argument);
  EXPECT_THROW(
      TableLayout("people", "id", IdType::Integer, Schema::from_json(j(R"({"_extra": {"type": "string"}})"))),
      std::invalid_argument);
}

TEST(SqlIdentifiers, QueryFieldsWithoutASchemaMustBePlainNames) {
  Schema empty;
  TableLayout layout("notes", "id", IdType::Integer, empty);
  SqlCompiler compiler(SqlDialect::sqlite(), layout);
  Query query = parse_query(j(R"({"a\"b": 1})"));
  Error error = [&] {
    try {
      compiler.select(query.where, {}, std::nullopt, 0);
    } catch (const Error& error) {
      return error;
    }
    return general_error("no error");
  }();
  EXPECT_EQ(error.code(), ErrorCode::BadRequest);
  EXPECT_EQ(error.message(), "Invalid query field 'a\"b'");
}

TEST(TableLayoutTest, DecodesStoredValuesBackToJsonTypes) {
  Schema schema = people_schema();
  TableLayout layout("people", "id", IdType::Integer, schema);
  JsonObject record;
  layout.decode("id", Json(3), record);
  layout.decode("active", Json(1), record);
  layout.decode("score", Json(2.0), record);
  layout.decode("tags", Json(R"(["a",1])"), record);
  layout.decode("age", Json(nullptr), record);
  layout.decode("_extra", Json(R"({"nick":"N"})"), record);
  EXPECT_EQ(Json(record), j(R"({"id": 3, "active": true, "score": 2, "tags": ["a", 1], "nick": "N"})"));
  EXPECT_TRUE(record.at("score").is_int64());  // JavaScript has one number type
}

}  // namespace
}  // namespace plume::store::sql
