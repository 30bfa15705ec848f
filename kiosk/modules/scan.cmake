# The scan module: libtsk walks the medium, libclamav judges the bytes.
pkg_check_modules(CLAMAV REQUIRED IMPORTED_TARGET libclamav)
pkg_check_modules(TSK REQUIRED IMPORTED_TARGET tsk)
target_sources(mediagate PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-clam.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-img.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-pool.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-walk.c)
target_link_libraries(mediagate PUBLIC PkgConfig::CLAMAV PkgConfig::TSK)
target_sources(mediagate-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../cli/cli-scan.c)

# The test signature database, built at build time with sigtool (EICAR and ClamAV's test
# files from Debian's clamav-testfiles); the demo and the tests use it.
set(MG_SIGDB_DIR ${PROJECT_BINARY_DIR}/sigdb)
add_custom_command(
  OUTPUT ${MG_SIGDB_DIR}/mgtest.hdb
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/media/sigdb.sh ${MG_SIGDB_DIR}
  DEPENDS ${PROJECT_SOURCE_DIR}/tests/media/sigdb.sh
  COMMENT "Building the test signature database with sigtool")
add_custom_target(sigdb ALL DEPENDS ${MG_SIGDB_DIR}/mgtest.hdb)

# The quick-start demo: build a sample stick with EICAR on it and scan it.
add_custom_target(demo
  COMMAND bash ${PROJECT_SOURCE_DIR}/kiosk/demo.sh $<TARGET_FILE:mediagate-cli> ${MG_SIGDB_DIR}
          ${PROJECT_BINARY_DIR}/demo
  DEPENDS mediagate-cli sigdb
  USES_TERMINAL)
