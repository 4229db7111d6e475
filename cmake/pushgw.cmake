# Helpers that keep every module's CMakeLists.txt to a line or two.

# pushgw_module(NAME <m> [DEPS <targets...>] [ASIO])
# Declares the static library pushgw_<m> from every src/<m>/*.cpp. ASIO marks a module that
# does I/O: it gets the Asio definitions and reuses one precompiled header of Asio/Beast/SSL,
# because those headers cost ~30 s per translation unit.
function(pushgw_module)
  cmake_parse_arguments(M "ASIO" "NAME" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${M_NAME}/*.cpp)
  if(NOT sources)
    return()  # a module folder that has no code yet
  endif()
  add_library(pushgw_${M_NAME} STATIC ${sources})
  target_include_directories(pushgw_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(pushgw_${M_NAME} PUBLIC ${M_DEPS} PRIVATE pushgw_warnings)
  if(M_ASIO)
    target_link_libraries(pushgw_${M_NAME} PUBLIC pushgw_asio)
    target_precompile_headers(pushgw_${M_NAME} REUSE_FROM pushgw_pch)
  endif()
endfunction()

# pushgw_test(NAME <m> DEPS <targets...> [ASIO])
# One GoogleTest executable per module from every tests/<m>/*_test.cpp, each mirroring
# src/<m>/<file>.cpp. Tests find the build and source trees via PUSHGW_BUILD_DIR and
# PUSHGW_SOURCE_DIR.
function(pushgw_test)
  cmake_parse_arguments(T "ASIO" "NAME" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${T_NAME}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(pushgw_${T_NAME}_tests ${sources})
  target_link_libraries(pushgw_${T_NAME}_tests PRIVATE ${T_DEPS} pushgw_warnings GTest::gtest_main GTest::gmock)
  target_include_directories(pushgw_${T_NAME}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  if(T_ASIO)
    target_link_libraries(pushgw_${T_NAME}_tests PRIVATE pushgw_asio)
    target_precompile_headers(pushgw_${T_NAME}_tests REUSE_FROM pushgw_pch)
  endif()
  gtest_discover_tests(pushgw_${T_NAME}_tests
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    PROPERTIES ENVIRONMENT "PUSHGW_BUILD_DIR=${PROJECT_BINARY_DIR};PUSHGW_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
