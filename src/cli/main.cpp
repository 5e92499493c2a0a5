// The `plume` command: `plume serve` runs a node from its configuration, `plume check`
// validates a configuration and prints it resolved with secrets masked.
// Exit status: 0 success, 1 configuration (or start-up) error, 2 usage error.
#include <plume/config/config.hpp>
#include <plume/config/logging.hpp>
#include <plume/config/node.hpp>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace {

constexpr int kConfigError = 1;
constexpr int kUsageError = 2;

// SIGINT and SIGTERM are blocked in every thread (threads inherit the mask of the thread that
// creates them) and taken by sigwait on the main thread, so no handler runs inside an I/O thread.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int serve(const std::string& path, const sigset_t& stop_signals) {
  plume::config::Config config = plume::config::load_config(path);
  plume::config::setup_logging(config.logging);
  std::string files;
  for (const auto& file : config.files) files += (files.empty() ? "" : ",") + file.string();
  spdlog::info("starting name={} version={} config={}", plume::config::log_value(config.name), PLUME_VERSION,
               plume::config::log_value(files));
  plume::config::Node node(std::move(config));
  node.start();
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("shutting down signal={}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  node.stop();
  spdlog::default_logger()->flush();
  return 0;
}

int check(const std::string& path, const std::string& format) {
  const plume::config::Config config = plume::config::load_config(path);
  plume::config::check_supported(config);
  const plume::Json masked = plume::config::mask_secrets(config.resolved);
  std::cout << (format == "json" ? plume::config::to_pretty_json(masked) : plume::config::to_yaml(masked));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const sigset_t stop_signals = block_stop_signals();

  CLI::App app{"Plume: Feathers services in one native binary"};
  app.name("plume");
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");

  std::string config_path = "config";
  auto* serve_command = app.add_subcommand("serve", "Run a node from its configuration");
  serve_command->add_option("-c,--config", config_path, "Configuration directory or file")
      ->capture_default_str();

  std::string format = "yaml";
  auto* check_command = app.add_subcommand("check", "Validate a configuration and print it, secrets masked");
  check_command->add_option("-c,--config", config_path, "Configuration directory or file")
      ->capture_default_str();
  check_command->add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->capture_default_str();
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : kUsageError;
  }

  if (version) {
    std::cout << "plume " << PLUME_VERSION << "\n";
    return 0;
  }
  try {
    if (serve_command->parsed()) return serve(config_path, stop_signals);
    if (check_command->parsed()) return check(config_path, format);
  } catch (const plume::config::ConfigError& error) {
    std::cerr << "plume: config error: " << error.what() << "\n";
    return kConfigError;
  } catch (const std::exception& error) {
    // Start-up failures outside the files themselves (an address in use, a store that fails).
    std::cerr << "plume: " << error.what() << "\n";
    return kConfigError;
  }
  std::cerr << app.help();
  return kUsageError;
}
