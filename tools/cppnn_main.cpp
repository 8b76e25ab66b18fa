// cppnn: the command-line tool. Each subcommand is in its own tools/cmd_*.cpp (tools/cli.h
// lists them): run, info, build, inspect, bench, compare, cache.
#include <cstdio>

#include "cli.h"

int main(int argc, char** argv) {
  using namespace cppnn::cli;
  CLI::App app{"cppnn: run WebNN graphs and ONNX models on the CPU or an NVIDIA GPU"};
  app.footer(
      "exit codes: 0 done; 1 a model, file or runtime error (including a device that is not "
      "there and `compare` past its tolerance); 2 a usage error (bad or missing arguments, "
      "found before any work)");
  app.require_subcommand(1);
  app.set_version_flag("--version", "cppnn " CPPNN_VERSION_STRING);

  std::vector<Command> commands = {add_run(app),     add_info(app),  add_build(app),
                                   add_inspect(app), add_bench(app), add_compare(app),
                                   add_cache(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error: 2.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (const Command& c : commands)
      if (*c.app) return c.run();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "cppnn: usage: %s\nRun with --help for more information.\n", e.what());
    return kExitUsage;
  } catch (const cppnn::Error& e) {
    std::fprintf(stderr, "cppnn: %s: %s\n", to_string(e.kind()), e.what());
    return kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cppnn: %s\n", e.what());
    return kExitError;
  }
  return kExitOk;
}
