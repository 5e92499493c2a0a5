// Child processes for test fixtures that run real servers (redis-server, postgres) and their
// command-line clients: a free loopback port to give a server, starting a child with a log file,
// stopping it with a deadline, running a client to completion for its output, and the tail of a
// log for error messages.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace plume::testing {

// A user and group for the child to switch to after fork (only possible when running as root):
// PostgreSQL refuses to run as root.
using RunAs = std::optional<std::pair<uid_t, gid_t>>;

// A port nothing listens on right now. It is only free until someone else takes it, so a server
// that fails to bind it should be retried on another.
inline std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket failed: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// The end of a log file (at most `max_bytes`), to put in the message of a server that failed.
inline std::string read_file_tail(const std::string& path, std::size_t max_bytes = 2'000) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

// Starts `args` (args[0] an absolute path) with stdin on /dev/null. `log_path` receives stdout
// and stderr (empty: inherit the test's); `stdout_fd` and `stderr_fd` >= 0 then replace them.
// Returns the pid.
//
// fork/exec rather than posix_spawn so that the child closes every inherited descriptor: a
// server holding a copy of a test's client socket would keep that connection open after the
// test closed it. With `run_as`, the child drops to that user and group before exec.
inline pid_t spawn_process(const std::vector<std::string>& args, const std::string& log_path, int stdout_fd,
                           int stderr_fd, const RunAs& run_as = std::nullopt) {
  if (args.empty()) throw std::invalid_argument("spawn_process needs a program to run");
  // Everything the child needs is prepared here: after fork it may not allocate.
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int log_fd = -1;
  if (!log_path.empty()) {
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
  }
  const bool drop = run_as.has_value();
  const uid_t uid = drop ? run_as->first : 0;
  const gid_t gid = drop ? run_as->second : 0;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int fork_errno = errno;
    if (log_fd >= 0) ::close(log_fd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(fork_errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the test process may have other
    // threads (io_context runners), and a lock one of them held at fork stays held here.
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    if (stderr_fd >= 0) ::dup2(stderr_fd, 2);
    ::close_range(3, ~0U, 0);
    if (drop) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
      // The test's working directory (say under /root) may be closed to that user, and
      // PostgreSQL's programs fail at start when they cannot resolve the current directory.
      if (::chdir("/") != 0) ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  return pid;
}

// Runs a command to completion and returns its standard output. Throws when it does not exit
// with status 0, with what it wrote to stderr (psql's and initdb's errors go there) and stdout.
// On success its stderr (notices, warnings) is passed on to the test's.
inline std::string run_command(const std::vector<std::string>& args, const RunAs& run_as = std::nullopt) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int pipe_errno = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(pipe_errno));
  }
  pid_t child = -1;
  try {
    child = spawn_process(args, "", out_pipe[1], err_pipe[1], run_as);
  } catch (...) {
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  // With the parent's copies of the write ends closed, each pipe reads end of file once the
  // child (and anything it left running on that descriptor) has exited. Both are drained
  // together: a child blocked writing a full stderr pipe would never close its stdout.
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  std::string output;
  std::string errors;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&output, &errors};
  int open_pipes = 2;
  char buffer[4096];
  while (open_pipes > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll() ignores negative descriptors
        --open_pipes;
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(args.front() + " failed (status " + std::to_string(status) + "): " + errors +
                             (output.empty() ? "" : "output: " + output));
  }
  if (!errors.empty()) std::cerr << errors << std::flush;
  return output;
}

// A long-running child (a server) that the owner starts, checks on and stops. Destroying it
// while the child still runs kills the child: a failed test must not leave servers behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { signal_and_wait(SIGKILL, std::chrono::seconds(30)); }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // spawn_process() for a server; `log_path` receives its stdout and stderr.
  void start(const std::vector<std::string>& args, const std::string& log_path,
             const RunAs& run_as = std::nullopt) {
    if (pid_ > 0) throw std::logic_error("ChildProcess::start while " + args.front() + " still runs");
    pid_ = spawn_process(args, log_path, -1, -1, run_as);
  }

  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }

  // True when the child has exited on its own (reaped, running() is false after): a server that
  // failed at start, whose log then says why.
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }

  // Sends `signal_number` and waits for the child to exit. A clean shutdown is quick; past
  // `deadline` something is wrong, and a test must not hang on it: SIGKILL then.
  void signal_and_wait(int signal_number, std::chrono::steady_clock::duration deadline) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal_number);
    const auto give_up = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) break;
      if (std::chrono::steady_clock::now() > give_up) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace plume::testing
