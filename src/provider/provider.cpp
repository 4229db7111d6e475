#include "pushgw/provider/provider.hpp"

namespace pushgw::provider {

std::shared_ptr<h2::Pool> Provider::start_pool(h2::PoolConfig config, std::string* error) {
  auto pool = std::make_shared<h2::Pool>(executor_, std::move(config));
  if (!pool->start(error)) return nullptr;
  pool_ = pool;
  return pool;
}

boost::asio::awaitable<void> Provider::stop(std::chrono::milliseconds deadline) {
  auto pool = pool_;  // held across the wait
  if (pool) co_await pool->stop(deadline);
}

}  // namespace pushgw::provider
