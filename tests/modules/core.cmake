mg_add_test(test-escape SOURCES ${CMAKE_CURRENT_LIST_DIR}/../unit/test-escape.c LABELS unit)
