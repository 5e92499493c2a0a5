#include "mesh/breaker.hpp"

namespace plume::mesh {

void CircuitBreaker::roll_window(SteadyTime now) {
  if (window_start_ == SteadyTime{} || now - window_start_ >= options_.window) {
    window_start_ = now;
    calls_ = 0;
    failures_ = 0;
  }
}

bool CircuitBreaker::allow(SteadyTime now) {
  if (!options_.enabled) return true;
  switch (state_) {
    case State::Closed:
      return true;
    case State::Open:
      if (now - opened_at_ < options_.half_open_after) return false;
      state_ = State::HalfOpen;
      trial_in_flight_ = true;
      return true;
    case State::HalfOpen:
      if (trial_in_flight_) return false;
      trial_in_flight_ = true;
      return true;
  }
  return true;
}

bool CircuitBreaker::available(SteadyTime now) const {
  if (!options_.enabled) return true;
  switch (state_) {
    case State::Closed:
      return true;
    case State::Open:
      return now - opened_at_ >= options_.half_open_after;
    case State::HalfOpen:
      return !trial_in_flight_;
  }
  return true;
}

void CircuitBreaker::record_success(SteadyTime now) {
  if (!options_.enabled) return;
  if (state_ == State::HalfOpen) {
    state_ = State::Closed;
    trial_in_flight_ = false;
    window_start_ = now;
    calls_ = 0;
    failures_ = 0;
  }
  roll_window(now);
  ++calls_;
}

bool CircuitBreaker::record_failure(SteadyTime now) {
  if (!options_.enabled) return false;
  if (state_ == State::HalfOpen) {
    state_ = State::Open;
    opened_at_ = now;
    trial_in_flight_ = false;
    return true;
  }
  if (state_ == State::Open) return false;
  roll_window(now);
  ++calls_;
  ++failures_;
  if (calls_ >= options_.min_requests &&
      static_cast<double>(failures_) >= options_.threshold * static_cast<double>(calls_)) {
    state_ = State::Open;
    opened_at_ = now;
    return true;
  }
  return false;
}

void CircuitBreaker::release(SteadyTime) {
  if (state_ == State::HalfOpen) trial_in_flight_ = false;
}

CircuitBreaker::State CircuitBreaker::state(SteadyTime now) const {
  if (state_ == State::Open && now - opened_at_ >= options_.half_open_after) return State::HalfOpen;
  return state_;
}

Json CircuitBreaker::to_json(SteadyTime now) const {
  return JsonObject{{"state", to_string(state(now))}, {"calls", calls_}, {"failures", failures_}};
}

const char* to_string(CircuitBreaker::State state) noexcept {
  switch (state) {
    case CircuitBreaker::State::Closed:
      return "closed";
    case CircuitBreaker::State::Open:
      return "open";
    case CircuitBreaker::State::HalfOpen:
      return "half-open";
  }
  return "closed";
}

std::optional<std::size_t> choose_candidate(Balance balance, std::span<const std::size_t> pending,
                                            std::uint64_t& counter) noexcept {
  if (pending.empty()) return std::nullopt;
  const std::size_t start = static_cast<std::size_t>(counter++ % pending.size());
  if (balance == Balance::RoundRobin) return start;
  std::size_t best = start;
  for (std::size_t step = 1; step < pending.size(); ++step) {
    const std::size_t i = (start + step) % pending.size();
    if (pending[i] < pending[best]) best = i;
  }
  return best;
}

}  // namespace plume::mesh
