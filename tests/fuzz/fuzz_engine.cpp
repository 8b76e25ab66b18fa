// An engine file from hostile bytes. The checksum only guards against accidents (anyone can
// recompute it), so it is recomputed here, as is the header's payload size: a mutated file
// then reaches the parser and the graph's validation instead of stopping at the checksum.
// A loaded engine is computed and exported (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/engine_format.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cppnn;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto* p = reinterpret_cast<uint8_t*>(bytes.data());
  if (size >= detail::kEngineHeaderBytes) {
    uint64_t header = detail::get_le32(p + 12);
    if (header >= detail::kEngineHeaderBytes && header <= size) {
      detail::put_le64(p + 16, size - header);
      detail::put_le64(p + 24, detail::engine_payload_hash(p + header, size - header));
    }
  }
  Engine engine;
  if (!fuzz::guarded("Engine::from_bytes", [&] { engine = Engine::from_bytes(bytes); })) return 0;
  fuzz::compute_and_export(engine);
  // A loaded graph goes through the optimizer again, and the engine it gives must load.
  fuzz::run_graph(engine.graph(), engine.options().precision, /*compute=*/false);
  return 0;
}
