# Core: buffers, JSON writer, escaping of untrusted strings, version.
target_sources(mediagate PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/../src/buf.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/json.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/escape.c
  ${CMAKE_CURRENT_LIST_DIR}/../src/mediagate.c)
