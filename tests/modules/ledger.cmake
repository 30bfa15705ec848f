# Tests of the ledger module.
mg_add_test(test-ledger SOURCES ${CMAKE_CURRENT_LIST_DIR}/../unit/test-ledger.c
  LABELS unit ledger TIMEOUT 120)
mg_add_test(test-ledger-store SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-store.c
  LABELS integration ledger TIMEOUT 300)
# kill -9 of a writer over ~2000 appends; bounded to about 25 s of work by the test itself
mg_add_test(test-ledger-crash SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-crash.c
  LABELS integration ledger TIMEOUT 300)
# interposes fsync/fdatasync; mounts a tiny tmpfs (root; skipped otherwise)
mg_add_test(test-ledger-durability
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-durability.c
  LABELS integration ledger TIMEOUT 300)
# runs the Go verifier (tests/data/ledger/goverify) when golang-go and golang-golang-x-mod-dev are in
mg_add_test(test-ledger-cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-cli.c
  LABELS integration ledger TIMEOUT 300)

# Fuzz targets: one libFuzzer entry point per parser of ledger text (notes, entries, checkpoints,
# proofs, keys). Every build replays the committed seed corpus (tests/data/ledger/corpus/<target>/)
# through them as a ctest; with -DMG_FUZZ=ON (CC=clang, and -DMG_SANITIZE=ON for the coverage
# runtime) each is also built as a libFuzzer binary: build/tests/fuzz-ledger-<target> CORPUS_DIR.
set(MG_LEDGER_FUZZ_TARGETS note entry checkpoint proof key)
foreach(t IN LISTS MG_LEDGER_FUZZ_TARGETS)
  mg_add_test(test-ledger-fuzz-${t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/../fuzz/ledger-fuzz-${t}.c
            ${CMAKE_CURRENT_LIST_DIR}/../fuzz/ledger-fuzz-replay.c
    LABELS unit ledger fuzz TIMEOUT 120)
  target_compile_definitions(test-ledger-fuzz-${t} PRIVATE
    LEDGER_CORPUS="${CMAKE_CURRENT_LIST_DIR}/../data/ledger/corpus/${t}")
  if(MG_FUZZ)
    add_executable(fuzz-ledger-${t} ${CMAKE_CURRENT_LIST_DIR}/../fuzz/ledger-fuzz-${t}.c)
    target_include_directories(fuzz-ledger-${t} PRIVATE ${PROJECT_SOURCE_DIR}/kiosk/src)
    target_compile_options(fuzz-ledger-${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz-ledger-${t} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz-ledger-${t} PRIVATE mediagate)
  endif()
endforeach()
