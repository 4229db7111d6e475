// The Dispatcher against a real redis-server, with the provider's send replaced by a function
// that answers by token (the provider itself is tested against pushgw-sim in tests/apns and
// tests/fcm, and the whole pipeline in tests/app/pipeline_test.cpp).
#include "pushgw/dispatch/dispatcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "pushgw/metrics/metrics.hpp"
#include "pushgw/queue/lane_scheduler.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

namespace pushgw::dispatch {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

std::string token(char c) { return std::string(64, c); }

// A provider for the dispatcher alone: prepare() calls `on_prepare`, each send `answer`.
class FakeProvider final : public provider::Provider {
 public:
  using Answer = std::function<void(const std::string& token, provider::SendHandler done)>;
  FakeProvider(asio::any_io_executor executor, std::string app, std::function<void()> on_prepare, Answer answer)
      : provider::Provider(executor, job::Platform::ios, "fake", std::move(app)),
        permits_(std::move(executor), 10),
        on_prepare_(std::move(on_prepare)),
        answer_(std::move(answer)) {}

  bool start(std::string*) override { return true; }
  asio::awaitable<void> stop(std::chrono::milliseconds) override { co_return; }
  std::shared_ptr<const provider::Prepared> prepare(const job::Notification&) const override {
    on_prepare_();
    return std::make_shared<provider::Prepared>();
  }
  provider::Health health() const override { return {}; }
  common::Semaphore* send_permits() override { return &permits_; }
  h2::PoolStats pool_stats() const override { return {}; }
  std::size_t permits_in_use() const { return permits_.in_use(); }

 protected:
  // Holds the send's permit until the answer, as a pool does.
  void send(common::Permit permit, std::shared_ptr<const provider::Prepared>, const std::string& token,
            provider::SendHandler done) override {
    EXPECT_TRUE(permit.of(permits_)) << "the dispatcher sends with one of the provider's permits";
    auto held = std::make_shared<common::Permit>(std::move(permit));
    answer_(token, [held, done = std::move(done)](job::SendOutcome outcome) {
      held->reset();
      done(std::move(outcome));
    });
  }

 private:
  common::Semaphore permits_;
  std::function<void()> on_prepare_;
  Answer answer_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : sync_(server_), metrics_(registry_) {
    redis::ClientConfig c;
    c.endpoint.host = server_.host();
    c.endpoint.port = server_.port();
    client_ = std::make_unique<redis::Client>(io_.get_executor(), c);
    client_->start();
    store_ = std::make_unique<queue::JobStore>(*client_, keys_, "pod-1");
    inactive_ = std::make_unique<feedback::InactiveTokens>(*client_, keys_.feedback(), config::FeedbackConfig{});
    config::Config cfg;
    cfg.apps["demo"].apns.emplace();
    cfg.apps["demo"].fcm.emplace();  // validation passes for android; no provider runs for it
    cfg.retries.max_attempts = 3;
    dispatcher_ = std::make_unique<Dispatcher>(io_.get_executor(), *store_, *inactive_, metrics_,
                                               DispatcherConfig::from_config(cfg, "pod-1"));
    provider_ = make_provider(io_.get_executor());
    dispatcher_->add_provider(*provider_);
  }

  // A provider whose sends run on `executor`: 'a…' delivered, 'b…' dead, 'c…' retry with
  // Retry-After 30 s, 'd…' rejected.
  std::unique_ptr<FakeProvider> make_provider(asio::any_io_executor executor, std::string app = "demo") {
    return std::make_unique<FakeProvider>(
        executor, std::move(app), [this] { ++prepared_; },
        [this](const std::string& t, provider::SendHandler done) {
          {
            std::lock_guard lock(sent_mutex_);
            sent_.push_back(t);
            send_threads_.insert(std::this_thread::get_id());
          }
          job::SendOutcome o;
          switch (t[0]) {
            case 'b': o.kind = job::OutcomeKind::token_dead; o.status = 410; o.reason = "Unregistered"; break;
            case 'c': o.kind = job::OutcomeKind::retry; o.status = 429; o.retry_after = 30s; break;
            case 'd': o.kind = job::OutcomeKind::rejected; o.status = 400; o.reason = "BadTopic"; break;
            default: o.status = 200;
          }
          done(std::move(o));
        });
  }

  // Takes `element` into the processing list as the consumer would, then handles it.
  void handle(const std::string& element, queue::Lane lane = queue::Lane::default_lane(),
              Dispatcher* dispatcher = nullptr) {
    if (dispatcher == nullptr) dispatcher = dispatcher_.get();
    sync_.command({"LPUSH", keys_.processing(lane, "pod-1"), element});
    bool done = false;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      while (!client_->connected()) {
        asio::steady_timer t(io_, 5ms);
        co_await t.async_wait(asio::use_awaitable);
      }
      co_await dispatcher->handle(lane, element);
      done = true;
    }, asio::detached);
    ASSERT_TRUE(test::run_until(io_, [&] { return done; }));
  }

  json dead_letter(std::size_t i, queue::Lane lane = queue::Lane::default_lane()) {
    const auto dead = sync_.lrange(keys_.lane(lane).dead);
    return i < dead.size() ? json::parse(dead[dead.size() - 1 - i]) : json();  // oldest first
  }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  metrics::Registry registry_;
  metrics::PushgwMetrics metrics_;
  queue::Keys keys_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<queue::JobStore> store_;
  std::unique_ptr<feedback::InactiveTokens> inactive_;
  std::unique_ptr<FakeProvider> provider_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::mutex sent_mutex_;
  std::vector<std::string> sent_;
  std::set<std::thread::id> send_threads_;
  std::atomic<int> prepared_{0};
};

TEST_F(DispatcherTest, EachTokenOutcomeEndsInItsPlaceAndTheJobIsAcked) {
  const json n = {{"platform", "ios"}, {"title", "t"}, {"tokens", {token('a'), token('b'), token('c'), token('d')}}};
  handle(n.dump());
  EXPECT_EQ(sent_.size(), 4u);
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
  // retry: only the 'c' token, attempt 1, due no sooner than Retry-After
  auto retry = sync_.command({"ZRANGE", keys_.lane(queue::Lane::default_lane()).retry, "0", "-1", "WITHSCORES"});
  ASSERT_EQ(retry->elements, 2u);
  const auto retried = json::parse(retry->element[0]->str);
  EXPECT_EQ(retried["tokens"], json::array({token('c')}));
  EXPECT_EQ(retried["job"]["attempt"], 1);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GE(std::stoll(retry->element[1]->str), now_ms + 29000);
  // dead token: marked and reported
  EXPECT_EQ(sync_.llen(keys_.feedback().events()), 1);
  EXPECT_EQ(sync_.command({"HEXISTS", keys_.feedback().inactive("demo", "ios"), token('b')})->integer, 1);
  // rejected: dead-lettered with the reason
  const auto dead = sync_.lrange(keys_.lane(queue::Lane::default_lane()).dead);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(json::parse(dead[0])["reason"], "rejected");
  EXPECT_EQ(json::parse(dead[0])["job"]["tokens"], json::array({token('d')}));
}

TEST_F(DispatcherTest, InactiveTokensAreSkippedAndDuplicateIdsAreNotSent) {
  sync_.command({"HSET", keys_.feedback().inactive("demo", "ios"), token('a'), "{}"});
  handle(json({{"platform", "ios"}, {"tokens", {token('a'), token('e')}}, {"id", "x"}}).dump());
  EXPECT_EQ(sent_, std::vector<std::string>{token('e')});
  handle(json({{"platform", "ios"}, {"tokens", {token('f')}}, {"id", "x"}}).dump());  // same id, another job
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
}

TEST_F(DispatcherTest, MalformedInvalidAndScheduledElementsAreNotSent) {
  handle("[1,2");
  handle(json({{"platform", "ios"}, {"tokens", {"zz"}}}).dump());
  handle(json({{"platform", "ios"}, {"tokens", {token('a')}}, {"send_at", 4102444800}}).dump());  // 2100
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(sync_.llen(keys_.lane(queue::Lane::default_lane()).dead), 2);
  auto scheduled = sync_.command({"ZRANGE", keys_.lane(queue::Lane::default_lane()).retry, "0", "-1", "WITHSCORES"});
  ASSERT_EQ(scheduled->elements, 2u);
  EXPECT_EQ(std::string(scheduled->element[1]->str), "4102444800000");
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
}

TEST_F(DispatcherTest, SendsRunOnTheProvidersExecutorAndEachNotificationIsPreparedOnce) {
  // The provider's connections on a thread of their own (queue.send_threads).
  asio::io_context provider_io;
  auto guard = asio::make_work_guard(provider_io);
  std::thread provider_thread([&] { provider_io.run(); });
  const auto provider_thread_id = provider_thread.get_id();
  config::Config cfg;
  cfg.apps["other"].apns.emplace();
  Dispatcher dispatcher(io_.get_executor(), *store_, *inactive_, metrics_, DispatcherConfig::from_config(cfg, "pod-1"));
  auto other = make_provider(provider_io.get_executor(), "other");
  dispatcher.add_provider(*other);

  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    std::string t = token('a');  // 'a…': delivered; distinct tokens
    const std::string digits = std::to_string(i);
    tokens.push_back(t.replace(t.size() - digits.size(), digits.size(), digits));
  }
  tokens.push_back(token('c'));
  const json element = {{"notifications",
                         {{{"platform", "ios"}, {"app", "other"}, {"title", "t"}, {"tokens", tokens}},
                          {{"platform", "ios"}, {"app", "other"}, {"title", "u"}, {"tokens", {token('a')}}}}}};
  sync_.command({"LPUSH", keys_.processing(queue::Lane::default_lane(), "pod-1"), element.dump()});
  bool done = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    while (!client_->connected()) {
      asio::steady_timer t(io_, 5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_await dispatcher.handle(queue::Lane::default_lane(), element.dump());
    done = true;
  }, asio::detached);
  const bool finished = test::run_until(io_, [&] { return done; });
  guard.reset();
  provider_thread.join();
  ASSERT_TRUE(finished);

  EXPECT_EQ(prepared_.load(), 2);  // once per notification, not per token
  EXPECT_EQ(sent_.size(), 52u);
  ASSERT_EQ(send_threads_.size(), 1u);
  EXPECT_EQ(*send_threads_.begin(), provider_thread_id);
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
  // The one retried token made it back with its own notification's text.
  auto retry = sync_.command({"ZRANGE", keys_.lane(queue::Lane::default_lane()).retry, "0", "-1"});
  ASSERT_EQ(retry->elements, 1u);
  EXPECT_EQ(json::parse(retry->element[0]->str)["tokens"], json::array({token('c')}));
  EXPECT_EQ(json::parse(retry->element[0]->str)["title"], "t");
}

// Issue 14: the provider's permits (its pool's max_inflight) are the one bound on its sends;
// a job with more tokens than permits waits for them and sends the rest as answers come back.
TEST_F(DispatcherTest, SendsHoldTheProvidersPermitsAndWaitForThemBeyondItsMaxInflight) {
  config::Config cfg;
  cfg.apps["held"].apns.emplace();
  Dispatcher dispatcher(io_.get_executor(), *store_, *inactive_, metrics_, DispatcherConfig::from_config(cfg, "pod-1"));
  std::vector<provider::SendHandler> unanswered;
  FakeProvider held(io_.get_executor(), "held", [] {}, [&](const std::string&, provider::SendHandler done) {
    unanswered.push_back(std::move(done));  // answered by the test
  });
  dispatcher.add_provider(held);

  std::vector<std::string> tokens;
  for (int i = 0; i < 25; ++i) tokens.push_back(std::string(60, 'a') + std::to_string(1000 + i));
  const json element = {{"platform", "ios"}, {"app", "held"}, {"title", "t"}, {"tokens", tokens}};
  sync_.command({"LPUSH", keys_.processing(queue::Lane::default_lane(), "pod-1"), element.dump()});
  bool done = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    co_await dispatcher.handle(queue::Lane::default_lane(), element.dump());
    done = true;
  }, asio::detached);

  std::size_t answered = 0;
  // The FakeProvider has 10 permits: each round, 10 sends wait for their answers, no more.
  for (const std::size_t expected : {10u, 10u, 5u}) {
    ASSERT_TRUE(test::run_until(io_, [&] { return unanswered.size() == expected; })) << unanswered.size();
    io_.poll();  // anything else runnable now runs: no 11th send may start
    EXPECT_EQ(unanswered.size(), expected);
    EXPECT_EQ(held.permits_in_use(), expected);
    auto batch = std::move(unanswered);
    unanswered.clear();
    for (auto& answer : batch) {
      job::SendOutcome ok;
      ok.status = 200;
      answer(std::move(ok));
      ++answered;
    }
  }
  ASSERT_TRUE(test::run_until(io_, [&] { return done; }));
  EXPECT_EQ(answered, 25u);
  EXPECT_EQ(held.permits_in_use(), 0u);
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
}

// Checkpoints (issue 18): while a job's sends go on, its processing element is replaced by the
// tokens that have no outcome yet, and what the answered ones planned (a retry, a dead token)
// is written with it, once: a crash re-sends only what has no recorded outcome.
class CheckpointTest : public DispatcherTest {
 protected:
  // The held provider's sends wait for the test; answer_round() answers those waiting.
  void start_job(std::chrono::milliseconds interval) {
    config::Config cfg;
    cfg.apps["held"].apns.emplace();
    cfg.queue.checkpoint_interval = interval;
    dispatcher_held_ = std::make_unique<Dispatcher>(io_.get_executor(), *store_, *inactive_, metrics_,
                                                    DispatcherConfig::from_config(cfg, "pod-1"));
    held_ = std::make_unique<FakeProvider>(io_.get_executor(), "held", [] {},
                                           [this](const std::string& t, provider::SendHandler done) {
                                             unanswered_.emplace_back(t, std::move(done));
                                           });
    dispatcher_held_->add_provider(*held_);
    for (int i = 0; i < 22; ++i) tokens_.push_back(std::string(60, 'a') + std::to_string(1000 + i));
    tokens_[3] = token('c');  // retry, Retry-After 30 s
    tokens_[5] = token('b');  // dead
    element_ = json{{"platform", "ios"}, {"app", "held"}, {"title", "t"}, {"tokens", tokens_},
                    {"job", {{"id", "job-7"}, {"enqueued_ms", 1}}}}.dump();
    sync_.command({"LPUSH", processing(), element_});
    asio::co_spawn(io_, [this]() -> asio::awaitable<void> {
      co_await dispatcher_held_->handle(queue::Lane::default_lane(), element_);
      done_ = true;
    }, asio::detached);
  }

  // Answers the oldest send waiting, once the checkpoint interval has passed since the previous
  // answer (a report goes at most once per interval: here each answer reports itself).
  void answer_oldest() {
    ASSERT_TRUE(test::run_until(io_, [&] { return !unanswered_.empty(); }));
    const auto due = last_answer_ + 3ms;
    while (std::chrono::steady_clock::now() < due) io_.poll();
    last_answer_ = std::chrono::steady_clock::now();
    auto [t, answer] = std::move(unanswered_.front());
    unanswered_.erase(unanswered_.begin());
    job::SendOutcome o;
    o.status = 200;
    if (t[0] == 'c') { o.kind = job::OutcomeKind::retry; o.status = 429; o.retry_after = 30s; }
    if (t[0] == 'b') { o.kind = job::OutcomeKind::token_dead; o.status = 410; o.reason = "Unregistered"; }
    answer(std::move(o));
  }
  void answer_oldest(int n) {
    for (int i = 0; i < n; ++i) answer_oldest();
  }

  std::string processing() { return keys_.processing(queue::Lane::default_lane(), "pod-1"); }
  // The tokens of the one element in the processing list.
  json held_tokens() {
    const auto held = sync_.lrange(processing());
    return held.size() == 1 ? json::parse(held[0])["tokens"] : json();
  }
  json tokens_from(std::size_t first) { return json(std::vector<std::string>(tokens_.begin() + first, tokens_.end())); }

  std::unique_ptr<Dispatcher> dispatcher_held_;
  std::unique_ptr<FakeProvider> held_;
  std::vector<std::pair<std::string, provider::SendHandler>> unanswered_;
  std::vector<std::string> tokens_;
  std::string element_;
  bool done_ = false;
  std::chrono::steady_clock::time_point last_answer_ = std::chrono::steady_clock::now();
};

TEST_F(CheckpointTest, TheElementKeepsOnlyTheTokensWithoutAnOutcomeAndEachOutcomeIsWrittenOnce) {
  start_job(1ms);
  const std::string retry_key = keys_.lane(queue::Lane::default_lane()).retry;
  answer_oldest(20);  // tokens 0-19, the retry and the dead token among them; 20 and 21 in flight
  ASSERT_TRUE(test::run_until(io_, [&] { return held_tokens().size() == 2; })) << held_tokens().dump();
  EXPECT_EQ(held_tokens(), tokens_from(20));
  const auto kept = json::parse(sync_.lrange(processing())[0]);
  EXPECT_EQ(kept["job"]["id"], "job-7");  // the same job: its recovery keeps its id
  EXPECT_EQ(kept["app"], "held");
  // The retry and the dead token were written by a checkpoint, before the job's end.
  auto retry = sync_.command({"ZRANGE", retry_key, "0", "-1"});
  ASSERT_EQ(retry->elements, 1u);
  EXPECT_EQ(json::parse(retry->element[0]->str)["tokens"], json::array({token('c')}));
  EXPECT_EQ(sync_.command({"HEXISTS", keys_.feedback().inactive("held", "ios"), token('b')})->integer, 1);

  answer_oldest(2);
  ASSERT_TRUE(test::run_until(io_, [&] { return done_; }));
  EXPECT_EQ(sync_.llen(processing()), 0);
  EXPECT_EQ(sync_.zcard(retry_key), 1);  // not written again by the ack
  EXPECT_EQ(sync_.llen(keys_.feedback().events()), 1);
  const std::string scrape = registry_.render();
  EXPECT_NE(scrape.find("pushgw_jobs_total{outcome=\"retried\"} 1"), std::string::npos) << scrape;
  EXPECT_EQ(scrape.find("pushgw_jobs_total{outcome=\"completed\"} 1"), std::string::npos) << scrape;
}

TEST_F(CheckpointTest, WithTheIntervalZeroTheElementIsLeftWholeUntilTheAck) {
  start_job(0ms);
  answer_oldest(20);
  io_.poll();
  EXPECT_EQ(sync_.lrange(processing()), std::vector<std::string>{element_});
  EXPECT_EQ(sync_.zcard(keys_.lane(queue::Lane::default_lane()).retry), 0);
  answer_oldest(2);
  ASSERT_TRUE(test::run_until(io_, [&] { return done_; }));
  EXPECT_EQ(sync_.llen(processing()), 0);
  EXPECT_EQ(sync_.zcard(keys_.lane(queue::Lane::default_lane()).retry), 1);
}

// Issue 13, class 1: an element that cannot be decoded, for any reason, is dead-lettered as
// malformed with the error, and leaves the processing list.
TEST_F(DispatcherTest, ElementsThatCannotBeDecodedForAnyReasonAreDeadLetteredAsMalformed) {
  const std::string valid = json({{"platform", "ios"}, {"tokens", {token('a')}}}).dump();
  const std::vector<std::string> poison = {
      R"({"platform":"ios","tokens":[")" + token('a') + R"("],"badge":1e400})",
      R"({"platform":"ios","tokens":[")" + token('a') + R"("],"title":"bad )" + std::string("\xff") + R"("})",
      valid + std::string(1, '\0') + "garbage",
      R"({"platform":"ios","tokens":[")" + token('a') + R"("],"badge":)" + std::string(100000, '9') + "e999}",
  };
  for (const auto& element : poison) handle(element);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
  ASSERT_EQ(sync_.llen(keys_.lane(queue::Lane::default_lane()).dead), static_cast<long long>(poison.size()));
  for (std::size_t i = 0; i < poison.size(); ++i) {
    const json letter = dead_letter(i);
    EXPECT_EQ(letter["reason"], "malformed") << letter.dump().substr(0, 300);
    EXPECT_THAT(letter["error"].get<std::string>(), ::testing::HasSubstr("invalid JSON"));
    EXPECT_LT(letter["error"].get<std::string>().size(), 400u);
  }
  handle(valid);  // the worker goes on
  EXPECT_EQ(sent_.size(), 1u);
}

// Issue 13, class 1: an unexpected failure while handling a job counts against the job (tried
// again later, dead-lettered after max_failures), never leaves it stranded.
TEST_F(DispatcherTest, AnUnexpectedFailureIsRetriedThenDeadLetteredNeverLeftInProcessing) {
  config::Config cfg;
  cfg.apps["demo"].apns.emplace();
  cfg.queue.max_redeliveries = 2;
  Dispatcher failing(io_.get_executor(), *store_, *inactive_, metrics_, DispatcherConfig::from_config(cfg, "pod-1"));
  FakeProvider broken(io_.get_executor(), "demo", [] { throw std::logic_error("a bug in prepare"); },
                      [](const std::string&, provider::SendHandler) {});
  failing.add_provider(broken);

  std::string element = json({{"platform", "ios"}, {"tokens", {token('a')}}, {"title", "t"}}).dump();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    handle(element, queue::Lane::default_lane(), &failing);
    EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
    auto retry = sync_.command({"ZRANGE", keys_.lane(queue::Lane::default_lane()).retry, "0", "-1"});
    ASSERT_EQ(retry->elements, 1u) << "attempt " << attempt;
    element = retry->element[0]->str;
    EXPECT_EQ(json::parse(element)["job"]["redeliveries"], attempt);
    sync_.command({"DEL", keys_.lane(queue::Lane::default_lane()).retry});
  }
  EXPECT_EQ(sync_.llen(keys_.lane(queue::Lane::default_lane()).dead), 0);
  handle(element, queue::Lane::default_lane(), &failing);  // the third failure: past max_redeliveries = 2
  EXPECT_EQ(sync_.llen(keys_.processing(queue::Lane::default_lane(), "pod-1")), 0);
  EXPECT_EQ(sync_.zcard(keys_.lane(queue::Lane::default_lane()).retry), 0);
  const json letter = dead_letter(0);
  EXPECT_EQ(letter["reason"], "redelivered");
  EXPECT_THAT(letter["error"].get<std::string>(), ::testing::HasSubstr("a bug in prepare"));
}

// Issue 13, class 9: a producer's job over a provider's payload limit is dead-lettered as
// invalid before anything is sent.
// Issue 14: stopping is a per-job cancellation, not an exception. A job retrying a Redis step
// (here the inactive-token lookup, which fails for as long as its key has the wrong type)
// returns on its own stop signal, sends nothing and writes no ack: its element stays in the
// processing list, for the consumer to put back.
TEST_F(DispatcherTest, AJobRetryingARedisStepReturnsOnItsStopSignalWithoutSendingOrAcking) {
  const queue::Lane lane = queue::Lane::default_lane();
  const std::string element = json({{"platform", "ios"}, {"tokens", {token('a')}}, {"title", "t"}}).dump();
  sync_.command({"SET", keys_.feedback().inactive("demo", "ios"), "not a hash"});
  sync_.command({"LPUSH", keys_.processing(lane, "pod-1"), element});
  asio::cancellation_signal stop;
  bool done = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    co_await dispatcher_->handle(lane, element, stop.slot());
    done = true;
  }, asio::detached);
  // Listening once its coroutine runs; retrying once the lookup failed (counted by Redis).
  ASSERT_TRUE(test::run_until(io_, [&] {
    return stop.slot().has_handler() &&
           std::string(sync_.command({"INFO", "errorstats"})->str).find("errorstat_WRONGTYPE") != std::string::npos;
  }));
  EXPECT_FALSE(done);
  stop.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(test::run_until(io_, [&] { return done; }));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(sync_.lrange(keys_.processing(lane, "pod-1")), std::vector<std::string>{element});
  EXPECT_EQ(sync_.zcard(keys_.lane(lane).retry), 0);
  EXPECT_EQ(sync_.llen(keys_.lane(lane).dead), 0);
  for (const char* outcome : {"completed", "retried", "dead_lettered"}) {
    EXPECT_EQ(metrics_.jobs.with({outcome}).value(), 0) << outcome;
  }
}

// Issue 16: a job's Redis commands, those its scripts make included, do not grow with its
// tokens or its dead tokens (the lookup, the marks, their events and the ack are batched).
TEST_F(DispatcherTest, AJobsRedisCommandsDoNotGrowWithItsTokens) {
  const queue::Lane lane = queue::Lane::default_lane();
  // Tokens 'a…' are delivered, 'b…' dead; each job's tokens are new.
  const auto job_of = [](int n, int first) {
    json tokens = json::array();
    for (int i = first; i < first + n; ++i) {
      char hex[65];
      std::snprintf(hex, sizeof hex, "%064x", i);
      std::string t(hex);
      t[0] = i % 10 < 3 ? 'b' : 'a';
      tokens.push_back(t);
    }
    return json({{"platform", "ios"}, {"tokens", tokens}, {"title", "t"}}).dump();
  };
  const auto commands = [&] {
    const auto info = sync_.command({"INFO", "commandstats"});
    const std::string stats(info->str, info->len);
    long long total = 0;
    for (std::size_t at = stats.find(":calls="); at != std::string::npos; at = stats.find(":calls=", at + 1)) {
      if (stats.compare(stats.rfind('\n', at) + 1, 13, "cmdstat_info:") == 0) continue;
      total += std::stoll(stats.substr(at + 7));
    }
    return total;
  };
  handle(job_of(10, 0));  // loads the scripts
  std::vector<long long> counts;
  for (auto [n, first] : {std::pair{10, 1000}, std::pair{400, 2000}}) {
    const std::string element = job_of(n, first);
    sync_.command({"LPUSH", keys_.processing(lane, "pod-1"), element});
    sync_.command({"CONFIG", "RESETSTAT"});
    bool done = false;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      co_await dispatcher_->handle(lane, element);
      done = true;
    }, asio::detached);
    ASSERT_TRUE(test::run_until(io_, [&] { return done; }));
    counts.push_back(commands());
  }
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(sync_.command({"HLEN", keys_.feedback().inactive("demo", "ios")})->integer, 3 + 3 + 120);
  EXPECT_EQ(sync_.llen(keys_.processing(lane, "pod-1")), 0);
}

TEST_F(DispatcherTest, PayloadsOverTheProvidersLimitAreDeadLetteredAsInvalidUnsent) {
  handle(json({{"platform", "ios"}, {"tokens", {token('a')}}, {"title", std::string(10 * 1024 * 1024, 't')}}).dump());
  handle(json({{"platform", "android"}, {"tokens", {"fcm-1"}}, {"title", std::string(5000, 't')}}).dump());
  handle(json({{"platform", "ios"}, {"tokens", {token('a')}}, {"title", std::string(3000, 't')}}).dump());  // fits
  EXPECT_EQ(sent_.size(), 1u);
  ASSERT_EQ(sync_.llen(keys_.lane(queue::Lane::default_lane()).dead), 2);
  EXPECT_EQ(dead_letter(0)["reason"], "invalid");
  EXPECT_THAT(dead_letter(0)["error"].get<std::string>(), ::testing::HasSubstr("APNs payload is"));
  EXPECT_EQ(dead_letter(1)["reason"], "invalid");
  EXPECT_THAT(dead_letter(1)["error"].get<std::string>(), ::testing::HasSubstr("FCM payload"));
}

}  // namespace
}  // namespace pushgw::dispatch
