# The wipe module: verified overwrite, fake-capacity detection, crypto-erase, certificates.
pkg_check_modules(WIPE_DEPS REQUIRED IMPORTED_TARGET libcrypto libcryptsetup libqrencode)
find_library(WIPE_HPDF_LIB NAMES hpdf REQUIRED)
find_path(WIPE_HPDF_INCLUDE hpdf.h REQUIRED)
find_library(WIPE_M_LIB m)
target_sources(mediagate PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe-stream.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe-io.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe-target.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe-cert.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/wipe-ledger.c)
target_include_directories(mediagate PRIVATE ${WIPE_HPDF_INCLUDE})
# The WIPE ledger entry: wired in when the ledger module is part of the library (its module file is
# included before this one).
get_target_property(WIPE_LIB_SOURCES mediagate SOURCES)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../include/mediagate/ledger.h AND WIPE_LIB_SOURCES MATCHES "ledger-")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/../src/wipe-ledger.c
    PROPERTIES COMPILE_DEFINITIONS MG_WIPE_HAVE_LEDGER=1)
endif()
target_link_libraries(mediagate PUBLIC PkgConfig::WIPE_DEPS ${WIPE_HPDF_LIB} ${WIPE_M_LIB})
target_sources(mediagate-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../cli/cli-wipe.c)

# Pattern generation speed on one core (bench/wipe-bench.sh runs it).
add_executable(wipe-stream-bench ${CMAKE_CURRENT_LIST_DIR}/../../bench/wipe-stream-bench.c)
target_include_directories(wipe-stream-bench PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../src)
target_link_libraries(wipe-stream-bench PRIVATE mediagate)
