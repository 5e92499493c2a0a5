-- wrk report: one machine-readable line after the run, read by bench/run.sh:
--   RESULT <requests/s> <p50 ms> <p99 ms> <errors> <requests>
-- errors counts socket errors, timeouts and HTTP statuses above 399.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.requests))
end
