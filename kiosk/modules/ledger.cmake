# The ledger module: signed, append-only audit ledger (SQLite, libsodium).
option(MG_FUZZ "Build libFuzzer targets (needs clang)" OFF)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
target_sources(mediagate PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src/ledger-note.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/ledger-merkle.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/ledger-entry.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/ledger-store.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/ledger-verify.c)
target_link_libraries(mediagate PUBLIC PkgConfig::SODIUM PkgConfig::SQLITE3)
if(MG_FUZZ)
  # Coverage instrumentation for the library; the fuzzers link with -fsanitize=fuzzer.
  target_compile_options(mediagate PRIVATE -fsanitize=fuzzer-no-link)
endif()
target_sources(mediagate-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../cli/cli-ledger.c)

# Benchmark driver (bench/ledger-bench.sh runs it).
add_executable(mediagate-ledger-bench ${CMAKE_CURRENT_LIST_DIR}/../../bench/ledger-bench.c)
target_include_directories(mediagate-ledger-bench PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../src)
target_link_libraries(mediagate-ledger-bench PRIVATE mediagate)
