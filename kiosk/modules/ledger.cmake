# The ledger module (placeholder).
target_sources(mediagate-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../cli/cli-ledger.c)
