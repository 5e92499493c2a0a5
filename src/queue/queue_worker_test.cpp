#include "queue/queue_test_support.hpp"

#include <set>

namespace plume::queue::testing {
namespace {

using WorkerTest = QueueTest;

TEST_F(WorkerTest, JobsPushedWithRedisCliAreProcessedInOrderAndReportedInDone) {
  cli({"LPUSH", "jobs.queue", R"({"n":1})"});
  cli({"LPUSH", "jobs.queue", R"({"id":"second","data":{"n":2}})"});
  cli({"LPUSH", "jobs.queue", "3"});
  Queue queue(app_, options());
  queue.start();

  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 3; }));
  const auto calls = jobs_->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], parse_json(R"({"n":1})"));
  EXPECT_EQ(calls[1], parse_json(R"({"n":2})"));
  EXPECT_EQ(calls[2], Json(3));

  const auto done = list("jobs.done");  // newest first
  std::set<std::string> ids;
  for (const auto& record : done) {
    const auto& object = record.as_object();
    EXPECT_EQ(object.at("status"), "done");
    EXPECT_EQ(object.at("attempts"), 1);
    for (const char* field : {"queuedAt", "startedAt", "finishedAt"}) {
      EXPECT_TRUE(object.at(field).is_string()) << field;
    }
    ids.insert(std::string(object.at("id").as_string()));
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_TRUE(ids.count("second"));
  EXPECT_EQ(done[1].at("result"), parse_json(R"({"n":2})"));
  EXPECT_EQ(done[0].at("result"), Json(3));
  // The worker hands the job's id and attempt to the service.
  EXPECT_EQ(jobs_->job_params()[1].at("id"), "second");
  EXPECT_EQ(jobs_->job_params()[1].at("attempts"), 1);

  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 0);
  EXPECT_EQ(jobs_in_processing(), 0);
  EXPECT_EQ(cli_number({"LLEN", "jobs.dead"}), 0);
}

TEST_F(WorkerTest, DoneListIsTrimmedToDoneLength) {
  auto opts = options();
  opts.done_length = 3;
  for (int i = 0; i < 8; ++i) cli({"LPUSH", "jobs.queue", std::to_string(i)});
  Queue queue(app_, opts);
  queue.start();
  ASSERT_TRUE(wait_until([&] {
    return jobs_->call_count() == 8 && cli_number({"LLEN", "jobs.queue"}) == 0;
  }));
  ASSERT_TRUE(wait_until([&] { return jobs_in_processing() == 0; }));
  const auto done = list("jobs.done");
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].at("result"), Json(7));
}

TEST_F(WorkerTest, ConcurrencyNRunsNJobsAtOnceAndNoMore) {
  std::atomic<bool> release{false};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    while (!release.load()) co_await async_sleep(5ms);
    co_return data;
  });
  auto opts = options();
  opts.concurrency = 3;
  for (int i = 0; i < 7; ++i) cli({"LPUSH", "jobs.queue", std::to_string(i)});
  Queue queue(app_, opts);
  queue.start();

  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 3; }));
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 4);  // the others wait in Redis, not in a worker
  release = true;
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 7; }));
  EXPECT_EQ(jobs_->max_running(), 3);
}

TEST_F(WorkerTest, FailingJobIsRetriedWithGrowingDelaysThenMovedToDeadWithItsError) {
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> attempts;
  jobs_->behave([&](const Json&, const Params&) -> Task<Json> {
    {
      std::lock_guard lock(mutex);
      attempts.push_back(std::chrono::steady_clock::now());
    }
    throw bad_gateway("the image store is down");
    co_return nullptr;
  });
  auto opts = options();
  opts.max_attempts = 4;
  opts.backoff = 100ms;
  cli({"LPUSH", "jobs.queue", R"({"id":"resize-1","data":{"image":"a.png"}})"});
  Queue queue(app_, opts);
  queue.start();

  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.dead"}) == 1; }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(attempts.size(), 4u);
  // backoff, then doubled: 100, 200, 400 ms at least between attempts.
  EXPECT_GE(attempts[1] - attempts[0], 100ms);
  EXPECT_GE(attempts[2] - attempts[1], 200ms);
  EXPECT_GE(attempts[3] - attempts[2], 400ms);
  const auto params = jobs_->job_params();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(params[i].at("attempts"), i + 1);

  const Json dead = list("jobs.dead").at(0);
  EXPECT_EQ(dead.at("id"), "resize-1");
  EXPECT_EQ(dead.at("status"), "dead");
  EXPECT_EQ(dead.at("attempts"), 4);
  EXPECT_EQ(dead.at("error").at("name"), "BadGateway");
  EXPECT_EQ(dead.at("error").at("message"), "the image store is down");
  EXPECT_EQ(dead.at("job").at("data"), parse_json(R"({"image":"a.png"})"));
  const Json failed = list("jobs.done").at(0);
  EXPECT_EQ(failed.at("status"), "failed");
  EXPECT_EQ(failed.at("error").at("message"), "the image store is down");
  EXPECT_EQ(cli_number({"ZCARD", "jobs.delayed"}), 0);
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 0);
  EXPECT_EQ(jobs_in_processing(), 0);
}

TEST_F(WorkerTest, JobThatSucceedsOnARetryIsDoneWithItsAttemptCount) {
  std::atomic<int> calls{0};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    if (++calls < 3) throw unavailable("try later");
    co_return data;
  });
  cli({"LPUSH", "jobs.queue", R"({"id":"flaky","data":"x"})"});
  Queue queue(app_, options());
  queue.start();
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 1; }));
  const Json done = list("jobs.done").at(0);
  EXPECT_EQ(done.at("status"), "done");
  EXPECT_EQ(done.at("attempts"), 3);
  EXPECT_EQ(done.at("result"), "x");
  EXPECT_EQ(cli_number({"LLEN", "jobs.dead"}), 0);
}

TEST_F(WorkerTest, JobThatIsNotJsonGoesToDeadAtOnceAndTheNextJobRuns) {
  cli({"LPUSH", "jobs.queue", "this is not json"});
  cli({"LPUSH", "jobs.queue", R"({"id":7,"data":{"ok":true}})"});
  cli({"LPUSH", "jobs.queue", R"({"id":{"no":1},"data":1})"});
  Queue queue(app_, options());
  queue.start();

  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 3; }));
  ASSERT_EQ(jobs_->call_count(), 1u);
  EXPECT_EQ(jobs_->calls()[0], parse_json(R"({"ok":true})"));
  const auto dead = list("jobs.dead");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[1].at("job"), "this is not json");
  EXPECT_EQ(dead[1].at("error").at("name"), "BadRequest");
  EXPECT_NE(std::string(dead[1].at("error").at("message").as_string()).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(std::string(dead[0].at("error").at("message").as_string()).find("id must be"), std::string::npos);
  const auto done = list("jobs.done");
  EXPECT_EQ(done[2].at("status"), "failed");
  EXPECT_EQ(done[1].at("status"), "done");
  EXPECT_EQ(done[1].at("id"), 7);
  EXPECT_EQ(jobs_in_processing(), 0);
}

TEST_F(WorkerTest, CustomMethodReceivesTheJobData) {
  class Mailer final : public Service {
   public:
    std::vector<std::string> default_methods() const override { return {"send"}; }
    Task<Json> call_custom(std::string_view method, Json data, Params&) override {
      co_return JsonObject{{"method", method}, {"sent", data}};
    }
  };
  app_.use("mailer", std::make_unique<Mailer>());
  auto opts = options("mail");
  opts.service = "mailer";
  opts.method = "send";
  cli({"LPUSH", "mail.queue", R"({"to":"a@b.c"})"});
  Queue queue(app_, opts);
  queue.start();
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "mail.done"}) == 1; }));
  EXPECT_EQ(list("mail.done").at(0).at("result"), parse_json(R"({"method":"send","sent":{"to":"a@b.c"}})"));
}

TEST_F(WorkerTest, StopFinishesTheRunningJobAndLeavesTheRestQueued) {
  std::atomic<bool> release{false};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    while (!release.load()) co_await async_sleep(5ms);
    co_return data;
  });
  for (int i = 0; i < 5; ++i) cli({"LPUSH", "jobs.queue", std::to_string(i)});
  Queue queue(app_, options());
  queue.start();
  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 1; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(200ms);
    release = true;
  });
  queue.stop();
  releaser.join();

  EXPECT_EQ(cli_number({"LLEN", "jobs.done"}), 1);
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 4);
  EXPECT_EQ(jobs_in_processing(), 0);
  EXPECT_EQ(cli_number({"SCARD", "jobs.workers"}), 0);
  EXPECT_EQ(cli({"RPOP", "jobs.queue"}), "1");  // the next job is still next
}

TEST_F(WorkerTest, StopReturnsAJobThatOutlivesTheStopTimeoutToTheQueue) {
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    for (;;) co_await async_sleep(10ms);
  });
  auto opts = options();
  opts.stop_timeout = 200ms;
  cli({"LPUSH", "jobs.queue", R"({"id":"long","data":1})"});
  Queue queue(app_, opts);
  queue.start();
  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 1; }));
  queue.stop();
  EXPECT_EQ(cli_number({"LLEN", "jobs.done"}), 0);
  EXPECT_EQ(jobs_in_processing(), 0);
  ASSERT_EQ(cli_number({"LLEN", "jobs.queue"}), 1);
  EXPECT_EQ(parse_json(cli({"LINDEX", "jobs.queue", "0"})).at("id"), "long");
}

TEST_F(WorkerTest, BadOptionsAreRejectedWithTheOptionNamed) {
  auto opts = options();
  opts.method = "patch";
  try {
    Queue queue(app_, opts);
    FAIL() << "a queue calling patch was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::BadRequest);
    EXPECT_NE(error.message().find("method"), std::string::npos) << error.message();
  }
  opts = options();
  opts.worker_timeout = opts.heartbeat;
  EXPECT_THROW(Queue(app_, opts), Error);
}

}  // namespace
}  // namespace plume::queue::testing
