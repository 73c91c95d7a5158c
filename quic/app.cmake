# scone_app: application-facing helpers (stats, NetworkInformation view,
# CMCD/CMSD, qlog). Included from quic/CMakeLists.txt.
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)

file(GLOB SCONE_APP_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/app_*.c)
add_library(scone_app STATIC ${SCONE_APP_SOURCES})
target_link_libraries(scone_app PUBLIC scone PRIVATE PkgConfig::JANSSON m)
set_target_properties(scone_app PROPERTIES POSITION_INDEPENDENT_CODE ON)

add_subdirectory(${SCONE_SOURCE_DIR}/tests/app
                 ${CMAKE_CURRENT_BINARY_DIR}/app-tests)
