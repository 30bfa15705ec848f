# Scan engine tests: real media built at test time (tests/media/mkmedia.sh), one ctest per case.
add_library(mgscantest STATIC ${CMAKE_CURRENT_LIST_DIR}/../integration/scan-util.c)
target_link_libraries(mgscantest PUBLIC mgtest)
target_include_directories(mgscantest PUBLIC ${CMAKE_CURRENT_LIST_DIR}/../integration)

mg_add_test(test-scan-unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-scan-unit.c
  LIBS mgscantest LABELS scan TIMEOUT 300)
add_dependencies(test-scan-unit sigdb)
# LD_PRELOAD shim: read errors in a range of an image file (bad sectors)
add_library(scan-shim SHARED ${CMAKE_CURRENT_LIST_DIR}/../shim/scan-shim.c)
target_link_libraries(scan-shim PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(scan-shim PRIVATE -fno-sanitize=all)
target_link_options(scan-shim PRIVATE -fno-sanitize=all)
target_compile_definitions(test-scan-unit PRIVATE SCAN_SHIM="$<TARGET_FILE:scan-shim>")
add_dependencies(test-scan-unit scan-shim mediagate-cli)

add_executable(test-scan-media ${CMAKE_CURRENT_LIST_DIR}/../integration/test-scan-media.c)
target_link_libraries(test-scan-media PRIVATE mgscantest)
add_dependencies(test-scan-media sigdb)
add_executable(test-scan-corrupt ${CMAKE_CURRENT_LIST_DIR}/../integration/test-scan-corrupt.c)
target_link_libraries(test-scan-corrupt PRIVATE mgscantest)

set(MG_CASES_TSV ${PROJECT_SOURCE_DIR}/tests/media/cases.tsv)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${MG_CASES_TSV})
if(EXISTS ${MG_CASES_TSV})
  # the cases mkmedia.sh builds; each must have its line in cases.tsv (the test checks)
  execute_process(COMMAND bash ${PROJECT_SOURCE_DIR}/tests/media/mkmedia.sh --list
    OUTPUT_VARIABLE MG_CASE_LIST OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tests/media/mkmedia.sh --list failed")
  endif()
  string(REGEX REPLACE "[ \t\r\n]+" ";" MG_CASE_LIST "${MG_CASE_LIST}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/tests/media/mkmedia.sh)
  foreach(case IN LISTS MG_CASE_LIST)
    add_test(NAME scan-media-${case} COMMAND test-scan-media ${case})
    set_tests_properties(scan-media-${case} PROPERTIES ENVIRONMENT "${MG_TEST_ENV}"
      TIMEOUT 900 LABELS "scan;media" SKIP_RETURN_CODE 77)
  endforeach()
endif()

# corrupted variants of the media with the most complex metadata
foreach(case fat32-mbr mbr-extended gpt exfat ntfs-ads ext4 iso9660 hfsplus)
  add_test(NAME scan-corrupt-${case} COMMAND test-scan-corrupt ${case} 10)
  set_tests_properties(scan-corrupt-${case} PROPERTIES ENVIRONMENT "${MG_TEST_ENV}"
    TIMEOUT 900 LABELS "scan;corrupt")
endforeach()

mg_add_test(test-scan-memory SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-scan-memory.c
  LIBS mgscantest LABELS scan TIMEOUT 600)
add_dependencies(test-scan-memory sigdb)

# The manifest itself, checked without mediagate: The Sleuth Kit's tools and clamscan must agree
# with every line of tests/media/cases.tsv (so no scan test passes against a wrong expectation).
include(${PROJECT_SOURCE_DIR}/tests/media/media.cmake)
