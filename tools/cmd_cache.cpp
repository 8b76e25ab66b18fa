// cppnn cache path|list|clear: the runtime cache's folder (docs/runtime-cache.md), what it
// holds, and removing it. clear removes only the files the cache itself writes
// (clear_runtime_cache), so a CPPNN_CACHE_DIR pointed at a folder with other files in it
// loses none of them.
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "cppnn/runtime_cache.h"

namespace cppnn::cli {

namespace {

std::string folder_or_fail() {
  std::string folder = default_runtime_cache_folder();
  if (folder.empty())
    fail(ErrorKind::NotSupportedError,
         "the runtime cache has no folder: set CPPNN_CACHE_DIR (or XDG_CACHE_HOME or HOME)");
  return folder;
}

int cache_path() {
  std::printf("%s\n", folder_or_fail().c_str());
  return kExitOk;
}

int cache_list(bool as_json) {
  std::string folder = folder_or_fail();
  std::vector<RuntimeCacheFile> files = list_runtime_cache(folder);
  uint64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  if (as_json) {
    nlohmann::json j = {{"folder", folder}, {"bytes", total}, {"files", nlohmann::json::array()}};
    for (const auto& f : files)
      j["files"].push_back({{"path", f.path},
                            {"bytes", f.bytes},
                            {"modified", f.modified},
                            {"temporary", f.temporary},
                            {"engine_hash", f.engine_hash},
                            {"device_arch", f.device_arch},
                            {"driver_version", f.driver_version},
                            {"libraries", f.library_versions},
                            {"cppnn_build", f.cppnn_build}});
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("folder   %s\n", folder.c_str());
  for (const auto& f : files) {
    char when[32] = "?";
    std::time_t t = std::time_t(f.modified);
    if (std::tm tm{}; ::gmtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    if (f.temporary)
      std::printf("%-10s %s  (a writer's temporary file)  %s\n", human_bytes(f.bytes).c_str(), when,
                  f.path.c_str());
    else
      std::printf("%-10s %s  engine %s  %s  driver %s  %s\n", human_bytes(f.bytes).c_str(), when,
                  f.engine_hash.empty() ? "?" : f.engine_hash.c_str(),
                  f.device_arch.empty() ? "?" : f.device_arch.c_str(),
                  f.driver_version.empty() ? "?" : f.driver_version.c_str(), f.path.c_str());
  }
  std::printf("total    %zu file%s, %s\n", files.size(), files.size() == 1 ? "" : "s",
              human_bytes(total).c_str());
  return kExitOk;
}

int cache_clear() {
  std::string folder = folder_or_fail();
  RuntimeCacheClearResult r = clear_runtime_cache(folder);
  std::printf("removed  %zu file%s, %s from %s\n", r.files, r.files == 1 ? "" : "s",
              human_bytes(r.bytes).c_str(), folder.c_str());
  for (const auto& f : r.failures) std::fprintf(stderr, "cppnn: cannot remove %s\n", f.c_str());
  return r.failures.empty() ? kExitOk : kExitError;
}

}  // namespace

Command add_cache(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "cache",
      "the runtime cache of compiled GPU kernels and choices: its folder ($CPPNN_CACHE_DIR, else "
      "$XDG_CACHE_HOME/cppnn, else ~/.cache/cppnn), its files, clearing them");
  cmd->require_subcommand(1);
  CLI::App* path = cmd->add_subcommand("path", "print the cache's folder");
  auto as_json = std::make_shared<bool>(false);
  CLI::App* list =
      cmd->add_subcommand("list", "list cppnn's cache files: size, date, engine hash, device");
  list->add_flag("--json", *as_json, "print JSON instead of text");
  CLI::App* clear = cmd->add_subcommand(
      "clear",
      "remove cppnn's cache files (and engine folders left empty); nothing else in the folder");
  return {cmd, [=] {
            if (*path) return cache_path();
            if (*list) return cache_list(*as_json);
            if (*clear) return cache_clear();
            return kExitUsage;
          }};
}

}  // namespace cppnn::cli
