#include "store/postgres/postgres_connection.hpp"

#include <plume/core/error.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>

namespace plume::store::postgres {
namespace asio = boost::asio;
using asio::posix::descriptor_base;

namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kJsonOid = 114;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;
constexpr Oid kJsonbOid = 3802;

// Past this many statements a connection stops preparing new ones (queries with $in lists of
// many lengths make many texts) and sends the rest unnamed.
constexpr std::size_t kMaxPreparedStatements = 256;

// libpq's messages end in a newline and may span lines ("...refused\n\tIs the server running");
// logs and error messages keep one line.
std::string trimmed(const char* text) {
  std::string value;
  for (const char* c = text ? text : ""; *c; ++c) {
    if (*c == '\n' || *c == '\t') {
      if (!value.empty() && value.back() != ' ') value.push_back(' ');
    } else {
      value.push_back(*c);
    }
  }
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

// A statement's values as libpq text parameters. Numbers and booleans are typed so that the
// server compares them as such; text is left untyped ("unknown") so that the server takes it as
// the column's type (a date, JSON for a jsonb column).
struct BoundValues {
  std::vector<std::string> texts;
  std::vector<const char*> pointers;
  std::vector<Oid> types;
  std::string key;  // SQL text and parameter types: what a prepared statement is cached by

  explicit BoundValues(const sql::Statement& statement) {
    const std::size_t count = statement.values.size();
    texts.resize(count);
    pointers.resize(count, nullptr);
    types.resize(count, 0);
    key = statement.sql;
    key.push_back('\0');
    for (std::size_t i = 0; i < count; ++i) {
      const Json& value = statement.values[i];
      switch (value.kind()) {
        case boost::json::kind::null:
          break;
        case boost::json::kind::bool_:
          texts[i] = value.as_bool() ? "true" : "false";
          types[i] = kBoolOid;
          break;
        case boost::json::kind::int64:
          texts[i] = std::to_string(value.as_int64());
          types[i] = kInt8Oid;
          break;
        case boost::json::kind::uint64:
          texts[i] = std::to_string(value.as_uint64());
          types[i] = kNumericOid;
          break;
        case boost::json::kind::double_:
          texts[i] = to_json_text(value);  // shortest text that reads back as the same double
          types[i] = kFloat8Oid;
          break;
        case boost::json::kind::string:
          texts[i] = std::string(value.as_string());
          break;
        default:
          texts[i] = to_json_text(value);
      }
      if (!value.is_null()) pointers[i] = texts[i].c_str();
      key += std::to_string(types[i]);
      key.push_back(',');
    }
  }
};

Json field_value(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return nullptr;
  const char* text = PQgetvalue(result, row, column);
  const std::size_t length = static_cast<std::size_t>(PQgetlength(result, row, column));
  switch (PQftype(result, column)) {
    case kBoolOid:
      return Json(text[0] == 't');
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      std::int64_t number = 0;
      auto [end, error] = std::from_chars(text, text + length, number);
      if (error == std::errc()) return Json(number);
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double number = 0;
      auto [end, error] = std::from_chars(text, text + length, number);
      if (error == std::errc() && end == text + length) return Json(number);
      break;
    }
    case kJsonOid:
    case kJsonbOid: {
      boost::system::error_code error;
      Json parsed = boost::json::parse(std::string_view(text, length), error);
      if (!error) return parsed;
      break;
    }
    default:
      break;
  }
  return Json(std::string_view(text, length));
}

Rows rows_of(const PGresult* result) {
  Rows rows;
  const int columns = PQnfields(result);
  const int count = PQntuples(result);
  rows.columns.reserve(static_cast<std::size_t>(columns));
  for (int c = 0; c < columns; ++c) rows.columns.emplace_back(PQfname(result, c));
  rows.rows.reserve(static_cast<std::size_t>(count));
  for (int r = 0; r < count; ++r) {
    std::vector<Json> row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) row.push_back(field_value(result, r, c));
    rows.rows.push_back(std::move(row));
  }
  return rows;
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

ServerError server_error(const PGresult* result) {
  auto field = [&](int code) {
    const char* value = PQresultErrorField(result, code);
    return std::string(value ? value : "");
  };
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = trimmed(PQresultErrorMessage(result));
  if (std::string detail = field(PG_DIAG_MESSAGE_DETAIL); !detail.empty()) message += " (" + detail + ")";
  return ServerError(field(PG_DIAG_SQLSTATE), field(PG_DIAG_CONSTRAINT_NAME), message);
}

// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, the
// database not accepting connections yet): the server is going away, not refusing the statement.
bool means_unavailable(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

}  // namespace

ConnectionSettings parse_settings(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string reason = error ? trimmed(error) : "out of memory";
    if (error) PQfreemem(error);
    throw std::invalid_argument("invalid PostgreSQL URL: " + reason);
  }
  ConnectionSettings settings;
  std::string user, host, port, dbname;
  for (PQconninfoOption* option = options; option->keyword; ++option) {
    if (!option->val) continue;
    std::string keyword = option->keyword;
    std::string value = option->val;
    if (keyword == "host") host = value;
    if (keyword == "port") port = value;
    if (keyword == "user") user = value;
    if (keyword == "dbname") dbname = value;
    settings.parameters.emplace_back(std::move(keyword), std::move(value));
  }
  PQconninfoFree(options);
  settings.host = host;
  settings.display = "postgres://" + (user.empty() ? "" : user + "@") + host +
                     (port.empty() ? "" : ":" + port) + "/" + dbname;
  return settings;
}

class PostgresConnection::Deadline {
 public:
  Deadline(PostgresConnection& connection, std::chrono::milliseconds timeout) : connection_(connection) {
    connection.timed_out_ = false;
    const std::uint64_t generation = ++connection.generation_;
    connection.timer_.expires_after(timeout);
    // A handler already queued when the timer was cancelled may run after the connection is
    // gone: `alive` tells.
    connection.timer_.async_wait([&connection, alive = std::weak_ptr<int>(connection.alive_),
                                  generation](boost::system::error_code error) {
      if (error || alive.expired() || connection.generation_ != generation) return;
      connection.timed_out_ = true;
      boost::system::error_code ignored;
      connection.socket_.cancel(ignored);
    });
  }
  ~Deadline() {
    ++connection_.generation_;
    connection_.timer_.cancel();
  }

 private:
  PostgresConnection& connection_;
};

PostgresConnection::PostgresConnection(asio::any_io_executor executor, PGconn* connection)
    : executor_(executor), connection_(connection), socket_(executor), timer_(executor) {}

PostgresConnection::~PostgresConnection() {
  // libpq owns the socket: the descriptor is released, never closed, before PQfinish closes it.
  if (socket_.is_open()) socket_.release();
  // Non-blocking: PQfinish's Terminate message is sent if the socket takes it, else dropped.
  PQfinish(connection_);
}

std::string PostgresConnection::libpq_error() const { return trimmed(PQerrorMessage(connection_)); }

void PostgresConnection::lost(const std::string& what) {
  broken_ = true;
  throw unavailable("Lost the connection to PostgreSQL: " + what);
}

bool PostgresConnection::in_transaction() const noexcept {
  return PQtransactionStatus(connection_) != PQTRANS_IDLE;
}

void PostgresConnection::track_socket() {
  const int fd = PQsocket(connection_);
  if (fd == socket_fd_) return;
  // libpq closed the previous socket itself (it moved on to the next address).
  if (socket_.is_open()) socket_.release();
  socket_fd_ = fd;
  if (fd >= 0) socket_.assign(fd);
}

Task<std::unique_ptr<PostgresConnection>> PostgresConnection::connect(asio::any_io_executor executor,
                                                                      const ConnectionSettings& settings,
                                                                      std::chrono::milliseconds timeout) {
  std::vector<std::pair<std::string, std::string>> parameters = settings.parameters;
  auto has = [&](std::string_view keyword) {
    for (const auto& [key, value] : parameters) {
      if (key == keyword) return true;
    }
    return false;
  };
  // libpq resolves host names inside PQconnectPoll with a blocking getaddrinfo; Asio resolves
  // them here (on its resolver thread) and libpq gets the addresses.
  const std::string& host = settings.host;
  if (!host.empty() && host.front() != '/' && host.find(',') == std::string::npos && !has("hostaddr") &&
      !is_ip_literal(host)) {
    asio::ip::tcp::resolver resolver(executor);
    boost::system::error_code error;
    auto found = co_await resolver.async_resolve(host, "", asio::redirect_error(asio::use_awaitable, error));
    if (error) throw unavailable("Cannot resolve the PostgreSQL host " + host + ": " + error.message());
    std::string addresses, hosts;
    for (const auto& entry : found) {
      if (!addresses.empty()) {
        addresses += ",";
        hosts += ",";
      }
      addresses += entry.endpoint().address().to_string();
      hosts += host;
    }
    for (auto& [key, value] : parameters) {
      if (key == "host") value = hosts;
    }
    parameters.emplace_back("hostaddr", addresses);
  }
  if (!has("fallback_application_name")) parameters.emplace_back("fallback_application_name", "plume");
  std::vector<const char*> keywords, values;
  for (const auto& [key, value] : parameters) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* raw = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (!raw) throw unavailable("Cannot connect to PostgreSQL: out of memory");
  std::unique_ptr<PostgresConnection> connection(new PostgresConnection(executor, raw));
  auto refused = [&](const std::string& reason) {
    return unavailable("Cannot connect to PostgreSQL at " + settings.display + ": " + reason);
  };
  if (PQstatus(raw) == CONNECTION_BAD) throw refused(connection->libpq_error());
  // Notices ("relation already exists, skipping") go to the log, not to stderr.
  PQsetNoticeProcessor(
      raw,
      [](void*, const char* message) {
        spdlog::debug("event=postgres_notice message=\"{}\"", trimmed(message));
      },
      nullptr);

  {
    Deadline deadline(*connection, timeout);
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK) {
      if (status == PGRES_POLLING_FAILED) throw refused(connection->libpq_error());
      connection->track_socket();
      if (!connection->socket_.is_open()) throw refused("no socket");
      boost::system::error_code error;
      co_await connection->socket_.async_wait(
          status == PGRES_POLLING_READING ? descriptor_base::wait_read : descriptor_base::wait_write,
          asio::redirect_error(asio::use_awaitable, error));
      if (connection->timed_out_) {
        throw refused("no answer within " + std::to_string(timeout.count()) + " ms (connect_timeout)");
      }
      if (error) throw refused(error.message());
      status = PQconnectPoll(raw);
    }
  }
  connection->track_socket();
  if (PQsetnonblocking(raw, 1) != 0 || PQenterPipelineMode(raw) != 1)
    throw refused(connection->libpq_error());
  co_return connection;
}

Task<void> PostgresConnection::wait_readable(Deadline&) {
  boost::system::error_code error;
  co_await socket_.async_wait(descriptor_base::wait_read, asio::redirect_error(asio::use_awaitable, error));
  if (timed_out_) {
    broken_ = true;
    throw unavailable("PostgreSQL did not answer in time; the connection was closed. Retry later");
  }
  if (error) lost(error.message());
  if (!PQconsumeInput(connection_)) lost(libpq_error());
}

Task<void> PostgresConnection::flush(Deadline&) {
  using namespace asio::experimental::awaitable_operators;
  for (;;) {
    const int pending = PQflush(connection_);
    if (pending == 0) co_return;
    if (pending < 0) lost(libpq_error());
    // libpq: wait until the socket is writable or readable; reading the server's answers
    // meanwhile keeps both sides from blocking on full buffers.
    boost::system::error_code write_error, read_error;
    co_await (socket_.async_wait(descriptor_base::wait_write,
                                 asio::redirect_error(asio::use_awaitable, write_error)) ||
              socket_.async_wait(descriptor_base::wait_read,
                                 asio::redirect_error(asio::use_awaitable, read_error)));
    if (timed_out_) {
      broken_ = true;
      throw unavailable(
          "PostgreSQL did not take the request in time; the connection was closed. Retry later");
    }
    if (!PQconsumeInput(connection_)) lost(libpq_error());
  }
}

Task<std::vector<Rows>> PostgresConnection::execute(std::span<const sql::Statement> statements,
                                                    std::chrono::milliseconds timeout) {
  if (broken_) lost("the connection is closed");
  struct Expected {
    bool prepare;
    std::size_t statement;
    std::string key;
    std::string name;
  };
  std::vector<Expected> expected;
  expected.reserve(statements.size() * 2);
  std::unordered_map<std::string, std::string> preparing;  // prepared by this pipeline

  for (std::size_t i = 0; i < statements.size(); ++i) {
    BoundValues bound(statements[i]);
    const int count = static_cast<int>(bound.pointers.size());
    const std::string& sql = statements[i].sql;
    std::string name;
    if (auto it = prepared_.find(bound.key); it != prepared_.end()) {
      name = it->second;
    } else if (auto again = preparing.find(bound.key); again != preparing.end()) {
      name = again->second;
    } else if (count > 0 && prepared_.size() + preparing.size() < kMaxPreparedStatements) {
      // Statements without values (DDL, transaction control) are not worth preparing.
      name = "plume_" + std::to_string(prepared_.size() + preparing.size());
      if (!PQsendPrepare(connection_, name.c_str(), sql.c_str(), count, bound.types.data()))
        lost(libpq_error());
      preparing.emplace(bound.key, name);
      expected.push_back({true, i, bound.key, name});
    }
    const int sent = name.empty() ? PQsendQueryParams(connection_, sql.c_str(), count, bound.types.data(),
                                                      bound.pointers.data(), nullptr, nullptr, 0)
                                  : PQsendQueryPrepared(connection_, name.c_str(), count,
                                                        bound.pointers.data(), nullptr, nullptr, 0);
    if (!sent) lost(libpq_error());
    expected.push_back({false, i, {}, {}});
  }
  if (!PQpipelineSync(connection_)) lost(libpq_error());

  Deadline deadline(*this, timeout);
  co_await flush(deadline);

  std::vector<Rows> results(statements.size());
  std::optional<ServerError> failure;
  std::size_t next = 0;
  bool after_end = false;  // PQgetResult gave NULL: the end of one statement's results
  for (;;) {
    while (PQisBusy(connection_)) co_await wait_readable(deadline);
    Result result(PQgetResult(connection_));
    if (!result) {
      if (PQstatus(connection_) == CONNECTION_BAD) lost(libpq_error());
      // Two ends in a row: the next result has not arrived yet.
      if (after_end) co_await wait_readable(deadline);
      after_end = true;
      continue;
    }
    after_end = false;
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_PIPELINE_SYNC) break;
    if (next >= expected.size()) lost("more results than statements");
    const Expected& entry = expected[next++];
    switch (status) {
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        if (entry.prepare) {
          prepared_.emplace(entry.key, entry.name);
        } else {
          results[entry.statement] = rows_of(result.get());
        }
        break;
      case PGRES_PIPELINE_ABORTED:
        break;
      case PGRES_FATAL_ERROR: {
        ServerError error = server_error(result.get());
        if (PQstatus(connection_) == CONNECTION_BAD || means_unavailable(error.sqlstate()))
          lost(error.what());
        if (!failure) failure = std::move(error);
        break;
      }
      default:
        if (!failure) failure = ServerError("", "", std::string("unexpected result ") + PQresStatus(status));
    }
  }
  if (failure) throw *failure;
  co_return results;
}

void PostgresConnection::watch_idle(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  watching_ = true;
  const std::uint64_t generation = ++generation_;
  socket_.async_wait(descriptor_base::wait_read,
                     [this, alive = std::weak_ptr<int>(alive_), generation](boost::system::error_code error) {
                       // A cancelled or outdated wait: the connection may be in use, or gone.
                       if (error || alive.expired() || generation != generation_ || !watching_) return;
                       if (!PQconsumeInput(connection_) || PQstatus(connection_) == CONNECTION_BAD) {
                         broken_ = true;
                         watching_ = false;
                         auto notify = std::move(on_closed_);
                         notify();  // may destroy this connection
                         return;
                       }
                       // A notice (libpq's notice processor took it): keep watching.
                       watch_idle(std::move(on_closed_));
                     });
}

void PostgresConnection::stop_watching() {
  if (!watching_) return;
  watching_ = false;
  ++generation_;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

}  // namespace plume::store::postgres
