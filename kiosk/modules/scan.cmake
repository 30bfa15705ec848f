# The scan module: libtsk walks the medium, libclamav judges the bytes.
pkg_check_modules(CLAMAV REQUIRED IMPORTED_TARGET libclamav)
pkg_check_modules(TSK REQUIRED IMPORTED_TARGET tsk)
target_sources(mediagate PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-clam.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-pool.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/scan-walk.c)
target_link_libraries(mediagate PUBLIC PkgConfig::CLAMAV PkgConfig::TSK)
target_sources(mediagate-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../cli/cli-scan.c)
