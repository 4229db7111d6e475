// JobStore's scripts and pipelines against a real redis-server.
#include "pushgw/queue/job_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include <boost/asio.hpp>

#include "pushgw/job/codec.hpp"
#include "pushgw/queue/element.hpp"
#include "pushgw/queue/scripts.hpp"
#include "support/redis_server.hpp"

namespace pushgw::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using test::SyncRedis;

const std::string kToken(64, 'a');
std::string producer_job(const std::string& title) {
  return R"({"platform":"ios","tokens":[")" + kToken + R"("],"title":")" + title + R"("})";
}

class JobStoreTest : public ::testing::Test {
 protected:
  JobStoreTest() : sync_(server_) {
    redis::ClientConfig config;
    config.endpoint.host = server_.host();
    config.endpoint.port = server_.port();
    config.command_timeout = 5s;
    config.reconnect_min = 20ms;
    config.reconnect_max = 200ms;
    client_ = std::make_unique<redis::Client>(io_.get_executor(), config);
    config.command_timeout = 10s;
    blocking_ = std::make_unique<redis::Client>(io_.get_executor(), config);
    client_->start();
    blocking_->start();
    store_ = std::make_unique<JobStore>(*client_, keys_, "pod-1");
  }

  // Runs `body` until it finishes (the limit turns a hang into a failure, not a timing check).
  void run(std::function<asio::awaitable<void>()> body) {
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      while (!client_->connected() || !blocking_->connected()) {
        asio::steady_timer t(io_, 10ms);
        co_await t.async_wait(asio::use_awaitable);
      }
      co_await body();
    }, [&](std::exception_ptr e) {
      finished = true;
      failure = e;
      io_.stop();
    });
    io_.restart();
    io_.run_for(60s);
    ASSERT_TRUE(finished);
    if (failure) std::rethrow_exception(failure);
  }

  RedisServer server_;
  SyncRedis sync_;
  asio::io_context io_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<redis::Client> blocking_;
  Keys keys_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, TakeNowMovesUpToMaxFromTheConsumerEndIntoProcessing) {
  sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, "a", "b", "c"});  // "a" was pushed first
  run([&]() -> asio::awaitable<void> {
    Taken taken = co_await store_->take_now(Lane::default_lane(), 2);
    EXPECT_FALSE(taken.ec);
    EXPECT_EQ(taken.elements, (std::vector<std::string>{"a", "b"}));
    taken = co_await store_->take_now(Lane::default_lane(), 5);
    EXPECT_EQ(taken.elements, std::vector<std::string>{"c"});
    taken = co_await store_->take_now(Lane::default_lane(), 5);
    EXPECT_FALSE(taken.ec);
    EXPECT_TRUE(taken.elements.empty());
  });
  EXPECT_EQ(sync_.llen(keys_.lane(Lane::default_lane()).queue), 0);
  EXPECT_EQ(sync_.lrange(keys_.processing(Lane::default_lane(), "pod-1")), (std::vector<std::string>{"c", "b", "a"}));
}

TEST_F(JobStoreTest, TheTakeScriptAskedForNoJobsTakesNone) {
  // take_now(lane, 0) does not call it; the script guards itself too (LRANGE from -0 is the
  // whole list).
  sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, "a", "b"});
  const std::string text(take_script().text);
  for (const char* want : {"0", "-3", "many"}) {
    auto reply = sync_.command({"EVAL", text, "2", keys_.lane(Lane::default_lane()).queue, keys_.processing(Lane::default_lane(), "pod-1"), want});
    ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY) << want;
    EXPECT_EQ(reply->elements, 0u) << want;
  }
  EXPECT_EQ(sync_.llen(keys_.lane(Lane::default_lane()).queue), 2);
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::default_lane(), "pod-1")), 0);
}

TEST_F(JobStoreTest, ABigTakeLeavesBothListsAsThatManyLmovesWould) {
  // 2500 jobs, taken 2100 at once (more than one LPUSH of the script's chunks) while two are
  // already in processing: the same lists as 2100 single LMOVEs on a copy.
  const std::string processing = keys_.processing(Lane::default_lane(), "pod-1");
  for (int i = 0; i < 2500; ++i) {
    const std::string job = "job-" + std::to_string(i);
    sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, job});
    sync_.command({"LPUSH", "copy:queue", job});
  }
  sync_.command({"LPUSH", processing, "older-1", "older-2"});
  sync_.command({"LPUSH", "copy:processing", "older-1", "older-2"});
  std::vector<std::string> expected_reply;
  for (int i = 0; i < 2100; ++i) {
    auto moved = sync_.command({"LMOVE", "copy:queue", "copy:processing", "RIGHT", "LEFT"});
    expected_reply.emplace_back(moved->str, moved->len);
  }
  run([&]() -> asio::awaitable<void> {
    Taken taken = co_await store_->take_now(Lane::default_lane(), 2100);
    EXPECT_FALSE(taken.ec);
    EXPECT_EQ(taken.elements, expected_reply);
  });
  EXPECT_EQ(expected_reply.front(), "job-0");  // the oldest first
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::default_lane()).queue), sync_.lrange("copy:queue"));
  EXPECT_EQ(sync_.lrange(processing), sync_.lrange("copy:processing"));
}

TEST_F(JobStoreTest, TakeBlockingWaitsForOneJobOrReturnsEmpty) {
  run([&]() -> asio::awaitable<void> {
    Taken taken = co_await store_->take_blocking(*blocking_, Lane::high(), 100ms);
    EXPECT_FALSE(taken.ec);
    EXPECT_TRUE(taken.elements.empty());
  });
  sync_.command({"LPUSH", keys_.lane(Lane::high()).queue, "x"});
  run([&]() -> asio::awaitable<void> {
    Taken taken = co_await store_->take_blocking(*blocking_, Lane::high(), 1s);
    EXPECT_EQ(taken.elements, std::vector<std::string>{"x"});
  });
  EXPECT_EQ(sync_.lrange(keys_.processing(Lane::high(), "pod-1")), std::vector<std::string>{"x"});
}

TEST_F(JobStoreTest, AckRemovesTheJobAndWritesRetriesAndDeadLettersOnlyOnce) {
  sync_.command({"LPUSH", keys_.processing(Lane::bulk(), "pod-1"), "job"});
  AckPlan plan;
  plan.retry.emplace_back(5000, "retry-1");
  plan.dead.push_back("dead-1");
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await store_->ack(Lane::bulk(), "job", plan));
    EXPECT_FALSE(co_await store_->ack(Lane::bulk(), "job", plan));  // again: already acked, nothing written
  });
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::bulk(), "pod-1")), 0);
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::bulk()).retry), 1);
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::bulk()).dead), std::vector<std::string>{"dead-1"});
}

TEST_F(JobStoreTest, ReplaceSwapsTheElementAndWritesItsPlanOnlyOnce) {
  const std::string processing = keys_.processing(Lane::bulk(), "pod-1");
  sync_.command({"LPUSH", processing, "other", "job-3-tokens"});
  AckPlan plan;
  plan.retry.emplace_back(5000, "retry-1");
  plan.dead.push_back("dead-1");
  plan.dead.push_back("dead-2");
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await store_->replace(Lane::bulk(), "job-3-tokens", "job-1-token", plan));
    // Again (an unknown result retried): the element is gone, so nothing is written twice.
    EXPECT_FALSE(co_await store_->replace(Lane::bulk(), "job-3-tokens", "job-1-token", plan));
  });
  auto held = sync_.lrange(processing);
  std::sort(held.begin(), held.end());
  EXPECT_EQ(held, (std::vector<std::string>{"job-1-token", "other"}));
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::bulk()).retry), 1);
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::bulk()).dead), (std::vector<std::string>{"dead-2", "dead-1"}));
  // The replacement is what this instance holds now: not stranded, so not returned.
  run([&]() -> asio::awaitable<void> {
    for (int pass = 0; pass < 2; ++pass) {
      const Requeued r = co_await store_->requeue_stranded(Lane::bulk());
      EXPECT_FALSE(r.ec);
      EXPECT_EQ(r.requeued, pass == 0 ? 0u : 1u);  // "other" was pushed behind the store's back
    }
  });
}

TEST_F(JobStoreTest, ConcurrentAcksGoTogetherAndEachWritesOnlyItsOwnRetriesAndDeadLetters) {
  // 300 jobs in progress and acked at once (more than kMaxAcksPerCall), plus one ack of an
  // element that is not in processing any more: its retry must not be written.
  const std::string processing = keys_.processing(Lane::default_lane(), "pod-1");
  constexpr int kJobs = 300;
  std::vector<std::string> elements;
  std::vector<AckPlan> plans(kJobs + 1);
  for (int i = 0; i < kJobs; ++i) {
    elements.push_back("job-" + std::to_string(i));
    sync_.command({"LPUSH", processing, elements.back()});
    if (i % 3 == 1) plans[i].retry.emplace_back(1000 + i, "retry-" + std::to_string(i));
    if (i % 3 == 2) plans[i].dead.push_back("dead-" + std::to_string(i));
  }
  elements.push_back("gone");
  plans[kJobs].retry.emplace_back(1, "retry-of-gone");
  sync_.command({"CONFIG", "RESETSTAT"});

  int finished = 0;
  std::vector<boost::system::error_code> results(kJobs + 1);
  run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i <= kJobs; ++i) {
      asio::co_spawn(ex, [&, i]() -> asio::awaitable<void> {
        results[i] = co_await store_->ack(Lane::default_lane(), elements[i], plans[i]);
        ++finished;
      }, asio::detached);
    }
    while (finished <= kJobs) {
      asio::steady_timer t(ex, 5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  });
  for (const auto& ec : results) EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(sync_.llen(processing), 0);
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::default_lane()).retry), kJobs / 3);
  EXPECT_EQ(sync_.llen(keys_.lane(Lane::default_lane()).dead), kJobs / 3);
  auto retried = sync_.command({"ZRANGE", keys_.lane(Lane::default_lane()).retry, "0", "-1"});
  for (std::size_t i = 0; i < retried->elements; ++i) {
    EXPECT_NE(std::string(retried->element[i]->str), "retry-of-gone");
  }
  // Batched: far fewer script calls than acks (the first alone, then the rest in calls of up
  // to kMaxAcksPerCall; one more EVAL if Redis had not seen the script yet).
  const auto info = sync_.command({"INFO", "commandstats"});
  const std::string stats(info->str, info->len);
  auto calls = [&](const std::string& command) {
    const auto at = stats.find("cmdstat_" + command + ":calls=");
    return at == std::string::npos ? 0 : std::stoi(stats.substr(at + 15 + command.size()));
  };
  // The first ack (plain: LREM) goes alone; the other 300 in script calls of at most
  // kMaxAcksPerCall (one more EVAL if Redis had not seen the script yet).
  const int per_call = static_cast<int>(JobStore::kMaxAcksPerCall);
  const int at_least = (kJobs + per_call - 1) / per_call;  // the cap holds
  EXPECT_GE(calls("evalsha") + calls("eval"), at_least) << stats;
  EXPECT_LE(calls("evalsha") + calls("eval"), at_least + 3) << stats;
}

TEST_F(JobStoreTest, AcksThatWriteNothingArePlainLremsAndStillAckOnlyTheirOwnElement) {
  const std::string processing = keys_.processing(Lane::default_lane(), "pod-1");
  constexpr int kJobs = 200;
  std::vector<std::string> elements;
  for (int i = 0; i < kJobs; ++i) {
    elements.push_back("job-" + std::to_string(i % 100));  // each element twice: two copies held
    sync_.command({"LPUSH", processing, elements.back()});
  }
  sync_.command({"LPUSH", processing, "still-running"});
  sync_.command({"CONFIG", "RESETSTAT"});
  const AckPlan nothing;
  int finished = 0;
  run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < kJobs; ++i) {
      asio::co_spawn(ex, [&, i]() -> asio::awaitable<void> {
        EXPECT_FALSE(co_await store_->ack(Lane::default_lane(), elements[i], nothing));
        ++finished;
      }, asio::detached);
    }
    while (finished < kJobs) {
      asio::steady_timer t(ex, 5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  });
  // One copy removed per ack; the job still running stays.
  EXPECT_EQ(sync_.lrange(processing), std::vector<std::string>{"still-running"});
  const auto info = sync_.command({"INFO", "commandstats"});
  const std::string stats(info->str, info->len);
  EXPECT_EQ(stats.find("cmdstat_evalsha"), std::string::npos) << stats;
  EXPECT_NE(stats.find("cmdstat_lrem:calls=200,"), std::string::npos) << stats;
}

TEST_F(JobStoreTest, MoveDueTakesOnlyDueMembersToTheHeadOfTheQueue) {
  sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, "waiting"});
  sync_.command({"ZADD", keys_.lane(Lane::default_lane()).retry, "100", "due-1", "200", "due-2", "900", "later"});
  run([&]() -> asio::awaitable<void> {
    auto [ec, moved] = co_await store_->move_due(Lane::default_lane(), 500, 10);
    EXPECT_FALSE(ec);
    EXPECT_EQ(moved, 2u);
  });
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::default_lane()).queue), (std::vector<std::string>{"waiting", "due-1", "due-2"}));
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::default_lane()).retry), 1);
}

TEST_F(JobStoreTest, ClaimLetsTheSameJobThroughAndStopsAnother) {
  run([&]() -> asio::awaitable<void> {
    auto [ec1, first] = co_await store_->claim("demo", "order-1", "job-a", 60s);
    EXPECT_FALSE(ec1);
    EXPECT_TRUE(first);
    auto [ec2, again] = co_await store_->claim("demo", "order-1", "job-a", 60s);  // its own retry
    EXPECT_TRUE(again);
    auto [ec3, other] = co_await store_->claim("demo", "order-1", "job-b", 60s);  // a duplicate
    EXPECT_FALSE(other);
    auto [ec4, other_app] = co_await store_->claim("other", "order-1", "job-b", 60s);
    EXPECT_TRUE(other_app);
  });
  EXPECT_EQ(sync_.get(keys_.idempotency("demo", "order-1")), "job-a");
}

TEST_F(JobStoreTest, EvalReloadsAScriptRedisForgot) {
  sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, "a"});
  run([&]() -> asio::awaitable<void> {
    (void)co_await store_->take_now(Lane::default_lane(), 1);
  });
  sync_.command({"SCRIPT", "FLUSH"});
  sync_.command({"LPUSH", keys_.lane(Lane::default_lane()).queue, "b"});
  run([&]() -> asio::awaitable<void> {
    Taken taken = co_await store_->take_now(Lane::default_lane(), 1);
    EXPECT_FALSE(taken.ec) << taken.ec.message();
    EXPECT_EQ(taken.elements, std::vector<std::string>{"b"});
  });
}

TEST_F(JobStoreTest, RequeueMarksRedeliveriesAndDeadLettersPastTheLimit) {
  const std::string job = producer_job("one");
  sync_.command({"LPUSH", keys_.processing(Lane::default_lane(), "pod-2"), job, "{broken"});
  run([&]() -> asio::awaitable<void> {
    Requeued r = co_await store_->requeue_processing("pod-2", Lane::default_lane(), 1, false, 42);
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.requeued, 2u);
    EXPECT_EQ(r.dead, 0u);
  });
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::default_lane(), "pod-2")), 0);
  auto queued = sync_.lrange(keys_.lane(Lane::default_lane()).queue);
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_NE(std::find(queued.begin(), queued.end(), "{broken"), queued.end());  // unchanged
  const std::string marked = queued[0] == "{broken" ? queued[1] : queued[0];
  const auto n = std::get<std::vector<job::Notification>>(job::decode_job_string(marked)).at(0);
  EXPECT_EQ(n.job->redeliveries, 1);
  EXPECT_EQ(n.job->id, element_job_id(job));

  // A second death while holding it goes past max_redeliveries = 1: dead-lettered.
  sync_.command({"DEL", keys_.lane(Lane::default_lane()).queue});
  sync_.command({"LPUSH", keys_.processing(Lane::default_lane(), "pod-2"), marked});
  run([&]() -> asio::awaitable<void> {
    Requeued r = co_await store_->requeue_processing("pod-2", Lane::default_lane(), 1, false, 42);
    EXPECT_EQ(r.requeued, 0u);
    EXPECT_EQ(r.dead, 1u);
  });
  const auto dead = sync_.lrange(keys_.lane(Lane::default_lane()).dead);
  ASSERT_EQ(dead.size(), 1u);
  const auto entry = nlohmann::json::parse(dead[0]);
  EXPECT_EQ(entry["reason"], "redelivered");
  EXPECT_EQ(entry["instance"], "pod-2");
  EXPECT_EQ(entry["job"]["title"], "one");
}

TEST_F(JobStoreTest, RequeueAsNewPutsJobsBackUnchanged) {
  const std::string job = producer_job("two");
  sync_.command({"LPUSH", keys_.processing(Lane::high(), "pod-1"), job});
  run([&]() -> asio::awaitable<void> {
    Requeued r = co_await store_->requeue_processing("pod-1", Lane::high(), 5, true, 42);
    EXPECT_EQ(r.requeued, 1u);
  });
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::high()).queue), std::vector<std::string>{job});
}

TEST_F(JobStoreTest, DepthsAreByLaneIndex) {
  sync_.command({"LPUSH", keys_.lane(Lane::bulk()).queue, "a", "b"});
  sync_.command({"LPUSH", keys_.processing(Lane::bulk(), "pod-1"), "c"});
  sync_.command({"ZADD", keys_.lane(Lane::high()).retry, "1", "d"});
  run([&]() -> asio::awaitable<void> {
    auto [ec, depths] = co_await store_->depths();
    EXPECT_FALSE(ec);
    const auto& bulk = depths[Lane::bulk().index()];
    EXPECT_EQ(bulk.queue, 2);
    EXPECT_EQ(bulk.processing, 1);
    EXPECT_EQ(bulk.retry, 0);
    EXPECT_EQ(depths[Lane::high().index()].retry, 1);
    EXPECT_EQ(depths[Lane::default_lane().index()].queue, 0);
  });
}

}  // namespace
}  // namespace pushgw::queue
