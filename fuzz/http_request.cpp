// Fuzzes the HTTP request path: bytes a client sends to http::Server over loopback TCP, through
// Beast's parser, pushgw's framing rules and limits, routing and API-key checks, to handlers
// that do what the front door does before Redis: POST /push (api::parse_push_request,
// make_jobs, each job's Redis element decoded back), POST /api/push (the gorush mapping),
// GET/DELETE /tokens/... (api::parse_token_request). The client sends the input, half-closes
// and reads until the server closes. Traps when
//   - a handler throws (the server answers 500): the decoders must answer any input with a 400;
//   - what the server wrote is not a sequence of well-formed HTTP/1.1 responses;
//   - a stored job's element does not decode to that job, or the jobs lose or add tokens.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "loopback.hpp"
#include "pushgw/api/gorush.hpp"
#include "pushgw/api/push_request.hpp"
#include "pushgw/api/token_request.hpp"
#include "pushgw/http/server.hpp"
#include "pushgw/job/codec.hpp"
#include "validation_context.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace pushgw;
using http::Request;
using http::Response;
using tcp = asio::ip::tcp;

constexpr std::string_view kApiKey = "fuzz-key";  // the seeds' Authorization header carries it

const job::ValidationContext& context() {
  static const job::ValidationContext value = fuzz::validation_context();
  return value;
}

// The jobs as the dispatcher will read them back from Redis.
std::vector<job::Notification> stored_jobs(const api::ParsedPush& push) {
  std::size_t next_id = 0;
  const job::JobIdSource ids = [&next_id] { return "job-" + std::to_string(next_id++); };
  auto jobs = api::make_jobs(push, context().limits.job_split_size, ids, 1'700'000'000'000);
  std::size_t tokens = 0;
  for (const auto& n : jobs) {
    tokens += n.tokens.size();
    const auto element = job::decode_job_string(job::encode_job_string(n));
    const auto* decoded = std::get_if<std::vector<job::Notification>>(&element);
    if (!decoded || decoded->size() != 1 || decoded->front() != n) __builtin_trap();
  }
  if (tokens != push.token_count) __builtin_trap();
  return jobs;
}

Response push(const Request& request) {
  auto parsed = api::parse_push_request(request.body, context());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    return Response::json(error->status, job::dump_compact(error->to_json()));
  }
  const auto& accepted = std::get<api::ParsedPush>(parsed);
  return Response::json(202, job::dump_compact(api::accepted_response(accepted, stored_jobs(accepted))));
}

Response gorush_push(const Request& request) {
  auto parsed = api::parse_gorush_request(request.body, context());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    return Response::json(error->status, job::dump_compact(api::gorush_error_response(*error)));
  }
  const auto& accepted = std::get<api::ParsedPush>(parsed);
  stored_jobs(accepted);
  return Response::json(api::kGorushSuccessStatus, job::dump_compact(api::gorush_success_response(accepted)));
}

Response token(const Request& request) {
  auto parsed = api::parse_token_request(request.target, context());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    return Response::json(error->status, job::dump_compact(error->to_json()));
  }
  return Response::json(200, R"({"active":true})");
}

http::Handler answer_with(Response (*handler)(const Request&)) {
  return [handler](const Request& request) -> asio::awaitable<Response> { co_return handler(request); };
}

std::vector<http::Route> routes() {
  return {
      {"POST", "/push", true, answer_with(&push)},
      {"POST", "/api/push", false, answer_with(&gorush_push)},
      {"GET", std::string(api::kTokensRoute), true, answer_with(&token)},
      {"DELETE", std::string(api::kTokensRoute), false, answer_with(&token)},
      {"GET", "/healthz", false, answer_with([](const Request&) { return Response::json(200, R"({"status":"ok"})"); })},
  };
}

// Small limits, so that the fuzzer reaches each of them within its input size.
http::ServerConfig server_config() {
  http::ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.max_body_bytes = 4096;
  config.max_header_bytes = 2048;
  config.max_pending_body_bytes = 8192;
  config.api_keys = {std::string(kApiKey)};
  return config;
}

asio::awaitable<void> exchange(tcp::endpoint server, std::string_view request, std::string& answer) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, asio::use_awaitable);
  const auto tuple = asio::as_tuple(asio::use_awaitable);
  // The server may answer and close before it has read everything (a refusal): not an error.
  co_await asio::async_write(socket, asio::buffer(request.data(), request.size()), tuple);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  co_await asio::async_read(socket, asio::dynamic_buffer(answer), tuple);  // until the server closes
  fuzz::close_abortively(socket);
}

// Every byte the server wrote belongs to a complete, well-formed response; none is a 500.
void check_answer(std::string_view answer) {
  while (!answer.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used = parser.put(asio::buffer(answer.data(), answer.size()), ec);
    if (ec || !parser.is_done()) __builtin_trap();
    if (parser.get().result_int() == 500) __builtin_trap();
    answer.remove_prefix(used);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // refused requests log warnings by design
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  asio::io_context io;
  std::optional<http::Server> server;
  server.emplace(io.get_executor(), server_config(), routes());
  server->start();
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server->port());
  std::string answer;
  asio::co_spawn(io, exchange(endpoint, request, answer), [&](std::exception_ptr e) {
    fuzz::fail_on_exception(e);
    server.reset();  // stops accepting; the session has ended, so the run below returns
  });
  io.run();
  check_answer(answer);
  return 0;
}
