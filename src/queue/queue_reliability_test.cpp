#include "queue/queue_test_support.hpp"

#include <set>

namespace plume::queue::testing {
namespace {

using ReliabilityTest = QueueTest;

TEST_F(ReliabilityTest, JobOfAWorkerThatDiedMidJobIsReturnedByTheReaperAndCompletedByAnother) {
  std::atomic<int> calls{0};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    if (++calls == 1) {
      for (;;) co_await async_sleep(10ms);  // the first worker never finishes: it "dies" in here
    }
    co_return data;
  });
  cli({"LPUSH", "jobs.queue", R"({"n":1})"});
  auto doomed = std::make_unique<detail::QueueRuntime>(app_, options());
  doomed->start();
  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 1; }));
  const Json active_id = jobs_->job_params().at(0).at("id");
  doomed->freeze();  // no heartbeat, no report: as if the process had been killed
  EXPECT_EQ(jobs_in_processing(), 1);

  detail::QueueRuntime survivor(app_, options());
  survivor.start();
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 1; }));
  const Json done = list("jobs.done").at(0);
  EXPECT_EQ(done.at("status"), "done");
  EXPECT_EQ(done.at("id"), active_id);  // the same job, its id kept across deliveries
  EXPECT_EQ(done.at("result"), parse_json(R"({"n":1})"));
  EXPECT_EQ(jobs_->call_count(), 2u);
  EXPECT_EQ(jobs_in_processing(), 0);
  // The dead worker is forgotten; the survivor is registered.
  EXPECT_EQ(cli_number({"SCARD", "jobs.workers"}), 1);
  doomed.reset();
}

TEST_F(ReliabilityTest, ReaperLeavesTheJobsOfLiveWorkersAlone) {
  std::atomic<bool> release{false};
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    while (!release.load()) co_await async_sleep(5ms);
    co_return data;
  });
  auto opts = options();
  opts.worker_timeout = 500ms;
  cli({"LPUSH", "jobs.queue", R"({"slow":true})"});
  detail::QueueRuntime busy(app_, opts);
  busy.start();
  ASSERT_TRUE(wait_until([&] { return jobs_->running() == 1; }));
  detail::QueueRuntime other(app_, opts);  // its reaper runs every heartbeat
  other.start();
  // Several worker timeouts pass while the job runs: its heartbeat keeps it with its worker.
  std::this_thread::sleep_for(1'500ms);
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 0);
  EXPECT_EQ(jobs_->call_count(), 1u);
  release = true;
  ASSERT_TRUE(wait_until([&] { return cli_number({"LLEN", "jobs.done"}) == 1; }));
  EXPECT_EQ(jobs_->call_count(), 1u);
}

class RedisRestartTest : public QueueTest {
 protected:
  RedisRestartTest() : QueueTest(plume::testing::RedisServerOptions{.append_only = true}) {}
};

TEST_F(RedisRestartTest, RedisKilledAndRestartedDuringProcessingLosesNoJob) {
  jobs_->behave([&](const Json& data, const Params&) -> Task<Json> {
    co_await async_sleep(3ms);
    co_return data;
  });
  constexpr int kJobs = 300;
  std::vector<std::string> push = {"LPUSH", "jobs.queue"};
  for (int i = 0; i < kJobs; ++i) push.push_back("{\"n\":" + std::to_string(i) + "}");
  cli(push);
  auto opts = options();
  opts.concurrency = 2;
  Queue queue(app_, opts);
  queue.start();

  ASSERT_TRUE(wait_until([&] { return jobs_->call_count() >= 30; }));
  ASSERT_GT(cli_number({"LLEN", "jobs.queue"}), 0) << "the crash must come while jobs are waiting";
  redis_.kill();  // a crash: only what Redis had written to its append-only file survives
  std::this_thread::sleep_for(300ms);
  redis_.start();

  const auto finished = [&] {
    std::set<long long> seen;
    for (const auto& record : list("jobs.done")) {
      if (record.at("status") == "done") seen.insert(record.at("result").at("n").as_int64());
    }
    return seen.size() == static_cast<std::size_t>(kJobs);
  };
  ASSERT_TRUE(wait_until(finished, 60s)) << "outcomes: " << cli_number({"LLEN", "jobs.done"});
  EXPECT_EQ(cli_number({"LLEN", "jobs.queue"}), 0);
  EXPECT_EQ(jobs_in_processing(), 0);
  EXPECT_EQ(cli_number({"LLEN", "jobs.dead"}), 0);
  EXPECT_TRUE(queue.readiness().empty()) << queue.readiness();
}

TEST_F(RedisRestartTest, ReadinessReportsRedisDown) {
  Queue queue(app_, options());
  ASSERT_TRUE(wait_until([&] { return queue.readiness().empty(); }));
  redis_.stop();
  ASSERT_TRUE(wait_until([&] { return !queue.readiness().empty(); }));
  EXPECT_NE(queue.readiness().find("unavailable"), std::string::npos) << queue.readiness();
  redis_.start();
  EXPECT_TRUE(wait_until([&] { return queue.readiness().empty(); }));
}

}  // namespace
}  // namespace plume::queue::testing
