# Tests of the ledger module.
mg_add_test(test-ledger SOURCES ${CMAKE_CURRENT_LIST_DIR}/../unit/test-ledger.c
  LABELS unit ledger TIMEOUT 120)
# (sources added one by one as they land; a missing file would break everyone's configure)
foreach(src store crash durability cli)
  if(NOT EXISTS ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-${src}.c)
    message(WARNING "ledger: test-ledger-${src}.c missing")
  endif()
endforeach()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-store.c)
mg_add_test(test-ledger-store SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-store.c
  LABELS integration ledger TIMEOUT 300)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-crash.c)
mg_add_test(test-ledger-crash SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-crash.c
  LABELS integration ledger TIMEOUT 300)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-durability.c)
mg_add_test(test-ledger-durability
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-durability.c
  LIBS ${CMAKE_DL_LIBS} LABELS integration ledger TIMEOUT 300)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-cli.c)
mg_add_test(test-ledger-cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-ledger-cli.c
  LABELS integration ledger TIMEOUT 300)
endif()

# Fuzz targets: one libFuzzer entry point per parser of ledger text. In every build a replay
# test runs each target over the committed seed corpus (tests/data/ledger/corpus/<target>/);
# with -DMG_FUZZ=ON (and CC=clang) each target is also built as a real libFuzzer binary.
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
