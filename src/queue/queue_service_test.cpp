#include "core/run_sync_for_test.hpp"
#include "queue/protocol.hpp"
#include "queue/queue_test_support.hpp"

namespace plume::queue::testing {
namespace {

using plume::testing::run_sync;
using ServiceTest = QueueTest;

struct SeenEvent {
  std::string event;
  Json data;
};

TEST_F(ServiceTest, CreateEnqueuesGetFollowsTheJobAndEventsReportEachStatus) {
  std::mutex mutex;
  std::vector<SeenEvent> events;
  app_.on_event([&](const ServiceEvent& event) {
    if (event.path != "queues/jobs") return;
    std::lock_guard lock(mutex);
    events.push_back({std::string(event.event), event.data});
  });
  Queue queue(app_, options());
  const Json created = run_sync(app_.create("queues/jobs", parse_json(R"({"image":"a.png"})")));
  const std::string id(created.at("id").as_string());
  EXPECT_EQ(created.at("status"), "queued");
  EXPECT_EQ(run_sync(app_.get("queues/jobs", Id(id))).at("status"), "queued");
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 1);

  queue.start();
  ASSERT_TRUE(wait_until([&] { return run_sync(app_.get("queues/jobs", Id(id))).at("status") == "done"; }));
  const Json record = run_sync(app_.get("queues/jobs", Id(id)));
  EXPECT_EQ(record.at("result"), parse_json(R"({"image":"a.png"})"));
  EXPECT_EQ(jobs_->calls().at(0), parse_json(R"({"image":"a.png"})"));

  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return events.size() >= 3;
  }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "created");
  EXPECT_EQ(events[0].data.at("status"), "queued");
  EXPECT_EQ(events[1].event, "patched");
  EXPECT_EQ(events[1].data.at("status"), "active");
  EXPECT_EQ(events[2].event, "patched");
  EXPECT_EQ(events[2].data.at("status"), "done");
  for (const auto& event : events) EXPECT_EQ(event.data.at("id"), Json(id));
}

TEST_F(ServiceTest, CreateKeepsAProducersEnvelopeAndId) {
  Queue queue(app_, options());
  const Json created = run_sync(app_.create("queues/jobs", parse_json(R"({"id":"mine","data":[1,2]})")));
  EXPECT_EQ(created.at("id"), "mine");
  const Json stored = parse_json(cli({"LINDEX", "jobs.queue", "0"}));
  EXPECT_EQ(stored.at("data"), parse_json("[1,2]"));
  EXPECT_EQ(stored.at("id"), "mine");
  EXPECT_TRUE(stored.at("queuedAt").is_string());
}

TEST_F(ServiceTest, FindListsJobsByStatusWithPagination) {
  Queue queue(app_, options());
  for (int i = 0; i < 3; ++i) run_sync(app_.create("queues/jobs", Json(i)));
  Params params;
  params.query = parse_json(R"({"status":"queued","$limit":2})");
  Json page = run_sync(app_.find("queues/jobs", params));
  EXPECT_EQ(page.at("total"), 3);
  ASSERT_EQ(page.at("data").as_array().size(), 2u);
  EXPECT_EQ(page.at("data").at(0).at("data"), 0);  // the next to run first
  EXPECT_EQ(page.at("data").at(1).at("data"), 1);
  params.query = parse_json(R"({"status":"queued","$limit":2,"$skip":2})");
  page = run_sync(app_.find("queues/jobs", params));
  ASSERT_EQ(page.at("data").as_array().size(), 1u);
  EXPECT_EQ(page.at("data").at(0).at("data"), 2);

  queue.start();
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 3; }));
  Params recent;
  page = run_sync(app_.find("queues/jobs", recent));
  EXPECT_EQ(page.at("total"), 3);
  EXPECT_EQ(page.at("data").at(0).at("result"), 2);  // newest first
  Params failed;
  failed.query = parse_json(R"({"status":"failed"})");
  EXPECT_EQ(run_sync(app_.find("queues/jobs", failed)).at("total"), 0);
}

TEST_F(ServiceTest, FindShowsActiveAndRetryingJobs) {
  std::atomic<bool> release{false};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    if (data == "fail") throw unavailable("later");
    while (!release.load()) co_await async_sleep(5ms);
    co_return data;
  });
  auto opts = options();
  opts.backoff = 60'000ms;
  opts.backoff_max = 60'000ms;
  Queue queue(app_, opts);
  run_sync(app_.create("queues/jobs", Json("fail")));
  run_sync(app_.create("queues/jobs", Json("slow")));
  queue.start();
  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 1; }));
  Params active;
  active.query = parse_json(R"({"status":"active"})");
  const Json running = run_sync(app_.find("queues/jobs", active));
  ASSERT_EQ(running.at("total"), 1);
  EXPECT_EQ(running.at("data").at(0).at("data"), "slow");
  Params retrying;
  retrying.query = parse_json(R"({"status":"retrying"})");
  const Json waiting = run_sync(app_.find("queues/jobs", retrying));
  ASSERT_EQ(waiting.at("total"), 1);
  EXPECT_EQ(waiting.at("data").at(0).at("data"), "fail");
  EXPECT_EQ(waiting.at("data").at(0).at("error").at("message"), "later");
  EXPECT_TRUE(waiting.at("data").at(0).at("retryAt").is_string());
  release = true;
}

TEST_F(ServiceTest, GetOfAnUnknownJobIsNotFoundAndABadStatusIsABadRequest) {
  Queue queue(app_, options());
  try {
    run_sync(app_.get("queues/jobs", Id("nope")));
    FAIL() << "found a job that was never queued";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::NotFound);
  }
  Params params;
  params.query = parse_json(R"({"status":"lost"})");
  try {
    run_sync(app_.find("queues/jobs", params));
    FAIL() << "accepted an unknown status";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::BadRequest);
  }
}

TEST_F(ServiceTest, DestroyingTheQueueRemovesItsService) {
  {
    Queue queue(app_, options());
    EXPECT_NE(app_.find_service("queues/jobs"), nullptr);
  }
  EXPECT_EQ(app_.find_service("queues/jobs"), nullptr);
}

TEST(QueueProtocol, RetryDelayDoublesFromBackoffUpToTheCap) {
  using detail::retry_delay;
  EXPECT_EQ(retry_delay(1, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000)).count(), 100);
  EXPECT_EQ(retry_delay(2, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000)).count(), 200);
  EXPECT_EQ(retry_delay(4, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000)).count(), 800);
  EXPECT_EQ(retry_delay(5, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000)).count(), 1'000);
  EXPECT_EQ(retry_delay(60, std::chrono::milliseconds(100), std::chrono::milliseconds(1'000)).count(), 1'000);
}

TEST(QueueProtocol, EnvelopeIsKeptAndABarePayloadIsWrapped) {
  const JsonObject wrapped = detail::make_envelope(parse_json(R"({"n":1})"), "gen", "t");
  EXPECT_EQ(wrapped.at("data"), parse_json(R"({"n":1})"));
  EXPECT_EQ(wrapped.at("id"), "gen");
  const JsonObject kept = detail::make_envelope(parse_json(R"({"id":5,"data":null,"x":1})"), "gen", "t");
  EXPECT_EQ(kept.at("id"), 5);
  EXPECT_EQ(kept.at("x"), 1);
  EXPECT_THROW(detail::make_envelope(parse_json(R"({"id":[1],"data":1})"), "gen", "t"), Error);
}

TEST(QueueProtocol, Iso8601TimestampsParseToMilliseconds) {
  EXPECT_EQ(detail::parse_iso8601_ms("1970-01-01T00:00:01.250Z"), 1'250);
  EXPECT_FALSE(detail::parse_iso8601_ms("yesterday").has_value());
  const std::int64_t now = detail::now_ms();
  const auto parsed = detail::parse_iso8601_ms(now_iso8601());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_LE(std::llabs(*parsed - now), 5'000);
}

}  // namespace
}  // namespace plume::queue::testing
