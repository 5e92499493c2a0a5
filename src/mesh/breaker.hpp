// Choosing a node for a remote call: a circuit breaker per (node, service) that stops routing to
// a node whose calls keep failing, and the balancing rule over the nodes still allowed.
// Time is passed in, so that the rules are tested with a clock the test moves.
#pragma once

#include <plume/core/json.hpp>
#include <plume/mesh/mesh.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace plume::mesh {

using SteadyTime = std::chrono::steady_clock::time_point;

// Moleculer's breaker: calls are counted in a window of `window`; once at least `min_requests`
// were made and the failed share reaches `threshold`, the breaker opens and no call goes to the
// node. After `half_open_after` one trial call goes through: success closes the breaker, failure
// opens it again.
class CircuitBreaker {
 public:
  enum class State { Closed, Open, HalfOpen };

  explicit CircuitBreaker(BreakerOptions options) : options_(options) {}

  // Whether a call may go to the node now. In half-open state exactly one trial call is let
  // through until its outcome is recorded.
  bool allow(SteadyTime now);
  // Whether allow() would let a call through now, without claiming the half-open trial.
  bool available(SteadyTime now) const;
  void record_success(SteadyTime now);
  // Returns true when this failure opened the breaker.
  bool record_failure(SteadyTime now);
  // A call that was allowed but never reached the node (nothing to judge): frees the trial slot.
  void release(SteadyTime now);

  State state(SteadyTime now) const;
  // {state, calls, failures} for mesh/nodes.
  Json to_json(SteadyTime now) const;

 private:
  void roll_window(SteadyTime now);

  BreakerOptions options_;
  State state_ = State::Closed;
  SteadyTime window_start_{};
  SteadyTime opened_at_{};
  std::size_t calls_ = 0;
  std::size_t failures_ = 0;
  bool trial_in_flight_ = false;
};

const char* to_string(CircuitBreaker::State state) noexcept;

// The index of the candidate a call goes to: round-robin advances `counter`; least-pending takes
// the candidate with the fewest calls waiting (ties broken round-robin, so equal nodes share
// the load). Null when there is no candidate.
std::optional<std::size_t> choose_candidate(Balance balance, std::span<const std::size_t> pending,
                                            std::uint64_t& counter) noexcept;

}  // namespace plume::mesh
