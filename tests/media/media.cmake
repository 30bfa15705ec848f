# Self-check of the test media and their manifest with The Sleuth Kit's tools and clamscan
# (no mediagate code involved): builds every image with mkmedia.sh and checks cases.tsv.
# Not included by default: add `include(${PROJECT_SOURCE_DIR}/tests/media/media.cmake)` to a
# tests/modules/*.cmake file to run it with ctest (label "media", about 1 minute, root for
# the exFAT case, exit 77 = skipped).
find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_test(NAME media-manifest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/check-cases.py --build --clean
          ${PROJECT_BINARY_DIR}/media-manifest)
set_tests_properties(media-manifest PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "media")
