// Boost's assertion handler in a fuzz build (BOOST_ENABLE_ASSERT_HANDLER): a failed BOOST_ASSERT
// aborts with its place, as assert() does, except for upstream assertions known to be wrong,
// which the fuzzers would otherwise stop at on every run.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Beast 1.81's chunk parser asserts n >= 5 where 3 bytes ("0\r\n" then "\r" ...) are a valid
// state that returns need_more: boostorg/beast#2861, fixed in Boost 1.86. Release builds, which
// have no assertions, parse such input correctly.
bool known_wrong(std::string_view expression, std::string_view file) {
  return expression == "n >= 5" && file.ends_with("beast/http/impl/basic_parser.ipp");
}

}  // namespace

namespace boost {

void assertion_failed_msg(char const* expression, char const* message, char const* function, char const* file,
                          long line) {
  if (known_wrong(expression, file)) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expression,
               message != nullptr ? ": " : "", message != nullptr ? message : "");
  std::abort();
}

void assertion_failed(char const* expression, char const* function, char const* file, long line) {
  assertion_failed_msg(expression, nullptr, function, file, line);
}

}  // namespace boost
