# Tests of the wipe module: the stream and sample plan (unit), and whole wipes on image files, loop
# devices, LUKS images and a fault shim (integration).
pkg_check_modules(WIPE_TEST_JSONC REQUIRED IMPORTED_TARGET json-c)

# LD_PRELOAD shim that makes an image file fail or wrap like a fake-capacity stick.
add_library(wipe-shim SHARED ${CMAKE_CURRENT_LIST_DIR}/../shim/wipe-shim.c)
target_link_libraries(wipe-shim PRIVATE ${CMAKE_DL_LIBS})
# No sanitizer in the preloaded shim: it must not bring its own runtime ahead of the program's.
target_compile_options(wipe-shim PRIVATE -fno-sanitize=all)
target_link_options(wipe-shim PRIVATE -fno-sanitize=all)

mg_add_test(test-wipe-stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/../unit/test-wipe-stream.c
  LABELS unit wipe TIMEOUT 60)
mg_add_test(test-wipe SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-wipe.c
  LIBS PkgConfig::WIPE_TEST_JSONC LABELS integration wipe TIMEOUT 240)
mg_add_test(test-wipe-cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-wipe-cli.c
  LIBS PkgConfig::WIPE_TEST_JSONC LABELS integration wipe TIMEOUT 240)
target_compile_definitions(test-wipe-cli PRIVATE WIPE_SHIM="$<TARGET_FILE:wipe-shim>")
add_dependencies(test-wipe-cli wipe-shim mediagate-cli)
mg_add_test(test-wipe-loop SOURCES ${CMAKE_CURRENT_LIST_DIR}/../integration/test-wipe-loop.c
  LIBS PkgConfig::WIPE_TEST_JSONC LABELS integration wipe root TIMEOUT 240)
add_dependencies(test-wipe-loop mediagate-cli)
