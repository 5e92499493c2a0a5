#include <plume/core/app.hpp>
#include <plume/core/error.hpp>

#include <gtest/gtest.h>

namespace plume {
namespace {

class Nothing final : public Service {};

// A service whose setup registers a companion service, as plugins do.
class WithCompanion final : public Service {
 public:
  void setup(App& app, std::string_view path) override {
    app.use(std::string(path) + "/companion", std::make_unique<Nothing>());
  }
};

struct Fixture {
  Fixture() {
    for (const char* path : {"messages", "api/messages", "queues/thumbnails", "users",
                             "users/:userId/messages", "users/admins"}) {
      app.use(path, std::make_unique<Nothing>());
    }
  }
  std::string path_of(std::string_view url) {
    const auto match = app.lookup(url);
    return match ? match->entry->path() : "<none>";
  }
  App app{AppOptions{.worker_threads = 1}};
};

TEST(AppRouting, ServicePathWithoutId) {
  Fixture f;
  const auto match = f.app.lookup("/messages");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->entry->path(), "messages");
  EXPECT_FALSE(match->id.has_value());
  EXPECT_TRUE(match->route.empty());
}

TEST(AppRouting, OneExtraSegmentIsTheId) {
  Fixture f;
  const auto match = f.app.lookup("messages/42");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->entry->path(), "messages");
  EXPECT_EQ(match->id, "42");
}

TEST(AppRouting, MoreThanOneExtraSegmentMatchesNothing) {
  Fixture f;
  EXPECT_FALSE(f.app.lookup("messages/42/extra").has_value());
}

TEST(AppRouting, NestedPathsMatchWholeSegments) {
  Fixture f;
  EXPECT_EQ(f.path_of("api/messages"), "api/messages");
  const auto match = f.app.lookup("queues/thumbnails/job-1");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->entry->path(), "queues/thumbnails");
  EXPECT_EQ(match->id, "job-1");
  EXPECT_EQ(f.path_of("api/messagesX"), "<none>");
}

TEST(AppRouting, PlaceholdersFillRouteValues) {
  Fixture f;
  const auto match = f.app.lookup("users/7/messages/3");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->entry->path(), "users/:userId/messages");
  EXPECT_EQ(match->id, "3");
  EXPECT_EQ(match->route, (JsonObject{{"userId", "7"}}));

  const auto list = f.app.lookup("users/7/messages");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->entry->path(), "users/:userId/messages");
  EXPECT_FALSE(list->id.has_value());
}

TEST(AppRouting, LiteralSegmentWinsOverId) {
  Fixture f;
  EXPECT_EQ(f.path_of("users/admins"), "users/admins");
  const auto user = f.app.lookup("users/ann");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->entry->path(), "users");
  EXPECT_EQ(user->id, "ann");
}

TEST(AppRouting, LiteralBeforePlaceholderAtTheFirstDifference) {
  App app{AppOptions{.worker_threads = 1}};
  app.use("teams/:teamId/members", std::make_unique<Nothing>());
  app.use("teams/current/members", std::make_unique<Nothing>());
  EXPECT_EQ(app.lookup("teams/current/members")->entry->path(), "teams/current/members");
  EXPECT_EQ(app.lookup("teams/9/members")->entry->path(), "teams/:teamId/members");
}

TEST(AppRouting, UnknownPathMatchesNothing) {
  Fixture f;
  EXPECT_FALSE(f.app.lookup("nope").has_value());
  EXPECT_FALSE(f.app.lookup("api").has_value());
  EXPECT_FALSE(f.app.lookup("users/7/comments").has_value());
}

TEST(AppRouting, UseStripsSlashesAndRejectsDuplicates) {
  Fixture f;
  EXPECT_NE(f.app.find_service("/api/messages/"), nullptr);
  EXPECT_THROW(f.app.use("/messages/", std::make_unique<Nothing>()), Error);
}

TEST(AppRouting, ServiceOfUnknownPathIsNotFound) {
  Fixture f;
  try {
    f.app.service("ghosts");
    FAIL() << "expected NotFound";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_EQ(e.message(), "Can not find service 'ghosts'");
  }
}

TEST(AppRouting, UnuseRemovesTheServiceAndReturnsIt) {
  Fixture f;
  auto removed = f.app.unuse("/users/");
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->path(), "users");
  EXPECT_EQ(f.app.find_service("users"), nullptr);
  EXPECT_EQ(f.path_of("users/7"), "<none>");
  // The others stay, placeholders included.
  EXPECT_EQ(f.path_of("users/7/messages"), "users/:userId/messages");
  EXPECT_EQ(f.app.unuse("users"), nullptr);
  // The path can be registered again.
  f.app.use("users", std::make_unique<Nothing>());
  EXPECT_EQ(f.path_of("users/7"), "users");
}

TEST(AppRouting, ResolvedServiceOutlivesItsRemoval) {
  Fixture f;
  auto match = f.app.lookup("messages/1");
  ASSERT_TRUE(match.has_value());
  f.app.unuse("messages");
  // A call that resolved the service before it went keeps a usable entry.
  EXPECT_EQ(match->entry->path(), "messages");
  EXPECT_EQ(match->entry->service().path(), "messages");
}

TEST(AppRouting, SetupMayRegisterOtherServices) {
  Fixture f;
  f.app.use("plugin", std::make_unique<WithCompanion>());
  EXPECT_NE(f.app.find_service("plugin"), nullptr);
  EXPECT_NE(f.app.find_service("plugin/companion"), nullptr);
}

TEST(AppRouting, PrepareRunsBeforeTheServiceIsVisible) {
  Fixture f;
  bool visible_during_prepare = true;
  f.app.use("late", std::make_unique<Nothing>(), {}, [&](ServiceEntry& entry) {
    visible_during_prepare = f.app.find_service("late") != nullptr;
    entry.hooks(Hooks{});
  });
  EXPECT_FALSE(visible_during_prepare);
  EXPECT_NE(f.app.find_service("late"), nullptr);
}

}  // namespace
}  // namespace plume
